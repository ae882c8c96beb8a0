<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * The equipment kinds' vocabulary: the kind an equipment's description gives, its name (singular, plural), its
 * group on the plugin page, and the kinds the Dashboard shows when Synchronize creates them.
 */
class enphaseKinds {
	/**
	 * Kinds shown on the Dashboard when Synchronize creates them: the gateway (its energy flow), batteries,
	 * meters and what the user drives. Microinverters (12 on a house, 600 on a site) are created enabled,
	 * historized and in their room, but not shown: a wall of tiles buries the rest; the user shows the ones he
	 * wants (docs: "Ce que Synchroniser crée").
	 */
	const DASHBOARD = array('gateway', 'ac_battery', 'encharge', 'meter', 'enpower', 'dry_contact', 'generator');

	/** How the equipment page groups the kinds: group => (label, Font Awesome icon, kinds). */
	public static function groups() {
		return array(
			'gateway' => array(__('Passerelles', __FILE__), 'fas fa-broadcast-tower', array('gateway')),
			'inverter' => array(__('Micro-onduleurs', __FILE__), 'fas fa-solar-panel', array('inverter')),
			'battery' => array(__('Batteries', __FILE__), 'fas fa-car-battery', array('ac_battery', 'encharge')),
			'meter' => array(__('Compteurs', __FILE__), 'fas fa-tachometer-alt', array('meter')),
			'backup' => array(__('Secours et réseau', __FILE__), 'fas fa-house-damage', array('enpower', 'collar', 'qrelay', 'dry_contact', 'generator')),
			'other' => array(__('Autres équipements', __FILE__), 'fas fa-plug', array()),
		);
	}

	/** The group of an equipment kind on the equipment page. */
	public static function group($_kind) {
		foreach (self::groups() as $group => $definition) {
			if (in_array($_kind, $definition[2])) {
				return $group;
			}
		}
		return 'other';
	}

	/** The name of an equipment kind, plural for counts ("Micro-onduleurs : 24"), singular for one equipment. */
	public static function label($_kind, $_plural = true) {
		$labels = array(
			'gateway' => array(__('Passerelle', __FILE__), __('Passerelles', __FILE__)),
			'inverter' => array(__('Micro-onduleur', __FILE__), __('Micro-onduleurs', __FILE__)),
			'ac_battery' => array(__('Batterie AC', __FILE__), __('Batteries AC', __FILE__)),
			'encharge' => array(__('Batterie IQ', __FILE__), __('Batteries IQ', __FILE__)),
			'meter' => array(__('Compteur', __FILE__), __('Compteurs', __FILE__)),
			'enpower' => array(__('Contrôleur système IQ', __FILE__), __('Contrôleurs système IQ', __FILE__)),
			'qrelay' => array(__('Relais Q', __FILE__), __('Relais Q', __FILE__)),
			'collar' => array(__('Collier compteur IQ', __FILE__), __('Colliers compteur IQ', __FILE__)),
			'dry_contact' => array(__('Contact sec', __FILE__), __('Contacts secs', __FILE__)),
			'generator' => array(__('Générateur', __FILE__), __('Générateurs', __FILE__)),
		);
		if (!isset($labels[$_kind])) {
			return $_plural ? __('Autres équipements', __FILE__) : __('Autre équipement', __FILE__);
		}
		return $labels[$_kind][$_plural ? 1 : 0];
	}

	/** The kind an equipment's description gives, when it is one (it names a picture file, among others). */
	public static function of(array $_equipment) {
		return (isset($_equipment['kind']) && is_string($_equipment['kind']) && preg_match('/^[a-z0-9_]+$/', $_equipment['kind'])) ? $_equipment['kind'] : 'other';
	}
}
