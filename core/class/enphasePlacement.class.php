<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Where a gateway's equipment go: new ones in the gateway's object, else the plugin configuration's default;
 * those still with the gateway follow it when it moves.
 */
class enphasePlacement {
	/**
	 * The object (room) where a gateway's new equipment go: the gateway's own, else the plugin configuration's
	 * default; null when neither names an existing object.
	 */
	public static function parentObject($_gateway) {
		$candidates = array(is_object($_gateway) ? $_gateway->getObject_id() : null, config::byKey('default_object_id', 'enphase', ''));
		foreach ($candidates as $id) {
			if ($id !== null && $id !== '' && is_object(jeeObject::byId($id))) {
				return (int) $id;
			}
		}
		return null;
	}

	/**
	 * The gateway moved from the object $_from: its equipment that were still with it follow; those the user put
	 * elsewhere stay where they are.
	 */
	public static function followGateway($_gateway, $_from) {
		$to = $_gateway->getObject_id();
		foreach (enphaseGateway::devices($_gateway) as $device) {
			if ((string) $device->getObject_id() !== (string) $_from) {
				continue;
			}
			$device->setObject_id(($to === '' || $to === null) ? null : (int) $to);
			try {
				$device->save(true);
			} catch (Exception $e) {
				// The core's names are unique per object: one of that name is already there.
				log::add('enphase', 'warning', sprintf(__('%s reste dans son objet : %s', __FILE__), $device->getName(), $e->getMessage()));
			}
		}
	}

	/** Whether a gateway synchronized (every gateway when $_gatewayId is '') has no object for its equipment. */
	public static function unplaced($_gatewayId) {
		foreach (enphaseGateway::all() as $id => $gateway) {
			if (($_gatewayId === '' || (string) $id === $_gatewayId) && self::parentObject($gateway) === null) {
				return true;
			}
		}
		return false;
	}
}
