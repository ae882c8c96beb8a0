<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * An INVENTORY (docs/protocol.md) applied: the equipment the daemon describes become Jeedom's, found by
 * logicalId or created once, completed when something is missing, never renamed, moved or deleted; each one's
 * commands through enphaseCommands. One process at a time (a lock file).
 */
class enphaseInventory {
	/** Equipment configuration keys that belong to the plugin, never overwritten by the daemon's description. */
	const RESERVED_CONFIGURATION = array('kind', 'gateway_id', 'gateway_serial', 'status', 'createtime', 'updatetime',
		'host', 'auth_method', 'installer', 'demo_hour', 'enlighten_username', 'serial', 'general_s', 'devices_s', 'password', 'token', 'enlighten_password', 'widget');
	/** The plugin's configuration key (followed by the gateway's id) of the kinds the daemon described. */
	const KINDS_KEY = 'kinds::';

	/**
	 * Creates or completes the equipment and commands an INVENTORY describes. Never duplicates (equipment are
	 * found by logicalId, commands by logicalId within their equipment), never renames, moves, hides or deletes
	 * anything: what the user changed stays; only what is missing is added.
	 */
	public static function apply(array $_inventory) {
		$report = array('kinds' => array(), 'commands_created' => 0);
		$gatewayId = (isset($_inventory['gateway']) && is_scalar($_inventory['gateway'])) ? (string) $_inventory['gateway'] : '';
		$gatewaySerial = (isset($_inventory['serial']) && is_scalar($_inventory['serial'])) ? (string) $_inventory['serial'] : '';
		$gateway = enphaseGateway::equipment($gatewayId, $gatewaySerial);
		if (!is_object($gateway)) {
			// Its equipment was removed while the daemon still read it: nothing of it is created again.
			log::add('enphase', 'warning', __('Inventaire d\'une passerelle inconnue ignoré :', __FILE__) . ' ' . substr($gatewayId, 0, 40));
			return $report;
		}
		$parent = enphasePlacement::parentObject($gateway);
		$stale = enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($gateway));
		$equipments = (isset($_inventory['equipments']) && is_array($_inventory['equipments'])) ? $_inventory['equipments'] : array();
		$kinds = self::kinds($gatewayId, $_inventory);
		if (isset($_inventory['kinds']) && is_array($_inventory['kinds']) && count($_inventory['kinds']) > 0) {
			config::save(self::KINDS_KEY . $gatewayId, $kinds, 'enphase');
		}
		foreach ($equipments as $i => $equipment) {
			$equipments[$i] = self::withCommands($equipment, $kinds);
		}
		// Lookup, create, save: one process at a time, or two of them (a callback, a retried one, a page) both find
		// nothing and both create.
		$lock = self::lock();
		self::$takenNames = null;
		try {
			self::applyEquipments($equipments, $gateway, $gatewayId, $gatewaySerial, $parent, $stale, $report);
		} finally {
			self::$takenNames = null;
			flock($lock, LOCK_UN);
			fclose($lock);
		}
		enphaseSyncJob::counted($gatewayId, $report, isset($_inventory['count']) && is_int($_inventory['count']) ? $_inventory['count'] : 0);
		return $report;
	}

	/**
	 * The kinds an inventory event's equipment can take their commands from: those it describes, and those an
	 * earlier POST of the same inventory described. The daemon describes each kind once per inventory, in the
	 * first POST carrying its equipment (docs/protocol.md); Jeedom keeps them in the plugin's configuration.
	 */
	private static function kinds($_gatewayId, array $_inventory) {
		$kept = config::byKey(self::KINDS_KEY . $_gatewayId, 'enphase', array());
		$described = (isset($_inventory['kinds']) && is_array($_inventory['kinds'])) ? $_inventory['kinds'] : array();
		return array_replace(is_array($kept) ? $kept : array(), $described);
	}

	/**
	 * The kinds an inventory event's equipment need and that neither the event nor an earlier POST described:
	 * Jeedom lost them (a restored configuration). The callback then applies nothing of the event and asks the
	 * daemon to describe them again (HTTP 409).
	 */
	public static function missingKinds(array $_inventory) {
		$gatewayId = (isset($_inventory['gateway']) && is_scalar($_inventory['gateway'])) ? (string) $_inventory['gateway'] : '';
		$kinds = self::kinds($gatewayId, $_inventory);
		$missing = array();
		$equipments = (isset($_inventory['equipments']) && is_array($_inventory['equipments'])) ? $_inventory['equipments'] : array();
		foreach ($equipments as $equipment) {
			if (!is_array($equipment) || !isset($equipment['kind']) || !is_string($equipment['kind']) || isset($kinds[$equipment['kind']]['commands'])) {
				continue;
			}
			$named = (isset($equipment['commands']) && is_array($equipment['commands'])) ? $equipment['commands'] : null;
			if ($named === null || count(array_filter($named, 'is_string')) > 0) {
				$missing[$equipment['kind']] = true;
			}
		}
		return array_keys($missing);
	}

	/** What Jeedom keeps of a removed gateway's inventories goes with it. */
	public static function forget($_gatewayId) {
		config::remove(self::KINDS_KEY . $_gatewayId, 'enphase');
	}

	/**
	 * An equipment of an inventory with its commands' descriptions: each kind's commands are described once, in
	 * the inventory's "kinds"; an equipment names those it has ("commands": logicalIds), or has them all. A
	 * description in place of a logicalId (the form of earlier versions, from a daemon not restarted yet) is taken.
	 */
	private static function withCommands($_equipment, array $_kinds) {
		if (!is_array($_equipment)) {
			return $_equipment;
		}
		$kind = (isset($_equipment['kind']) && is_string($_equipment['kind']) && isset($_kinds[$_equipment['kind']]['commands'])
			&& is_array($_kinds[$_equipment['kind']]['commands'])) ? $_kinds[$_equipment['kind']]['commands'] : array();
		$described = array();
		foreach ($kind as $description) {
			if (is_array($description) && isset($description['logicalId']) && is_string($description['logicalId'])) {
				$described[$description['logicalId']] = $description;
			}
		}
		if (!isset($_equipment['commands']) || !is_array($_equipment['commands'])) {
			$_equipment['commands'] = array_values($described);
			return $_equipment;
		}
		$commands = array();
		foreach ($_equipment['commands'] as $command) {
			if (is_array($command)) {
				$commands[] = $command;
			} elseif (is_string($command) && isset($described[$command])) {
				$commands[] = $described[$command];
			}
		}
		$_equipment['commands'] = $commands;
		return $_equipment;
	}

	/** The inventory's lock, taken (blocking): a file in Jeedom's tmp folder, released by the system if PHP dies. */
	private static function lock() {
		$lock = fopen(jeedom::getTmpFolder('enphase') . '/inventory.lock', 'c');
		if ($lock === false || !flock($lock, LOCK_EX)) {
			throw new Exception(__('Verrou de l’inventaire impossible à prendre dans le dossier temporaire de Jeedom', __FILE__));
		}
		return $lock;
	}

	private static function applyEquipments(array $_equipments, $_gateway, $_gatewayId, $_gatewaySerial, $_parent, $_stale, array &$_report) {
		foreach ($_equipments as $equipment) {
			if (!is_array($equipment) || !isset($equipment['logicalId']) || !is_scalar($equipment['logicalId']) || trim((string) $equipment['logicalId']) == '') {
				log::add('enphase', 'warning', __('Équipement sans identifiant ignoré dans l\'inventaire', __FILE__));
				continue;
			}
			if (!enphaseText::isIdentifier((string) $equipment['logicalId'])) {
				// The daemon sends none such (docs/protocol.md, "Strings"): whoever sent it is not to be shown.
				log::add('enphase', 'warning', __('Équipement à l\'identifiant invalide ignoré dans l\'inventaire :', __FILE__) . ' ' . enphaseText::plain($equipment['logicalId'], 40));
				continue;
			}
			try {
				$created = false;
				$eqLogic = self::applyEquipment($equipment, $_gateway, $_gatewayId, $_gatewaySerial, $_parent, $_stale, $created);
				$kind = $eqLogic->getConfiguration('kind');
				if (!isset($_report['kinds'][$kind])) {
					$_report['kinds'][$kind] = array('found' => 0, 'created' => 0);
				}
				$_report['kinds'][$kind]['found']++;
				$_report['kinds'][$kind]['created'] += $created ? 1 : 0;
				$commands = (isset($equipment['commands']) && is_array($equipment['commands'])) ? $equipment['commands'] : array();
				$_report['commands_created'] += enphaseCommands::apply($eqLogic, $commands);
			} catch (Throwable $e) {
				log::add('enphase', 'error', __('Équipement non créé', __FILE__) . ' ' . $equipment['logicalId'] . ' : ' . $e->getMessage());
			}
		}
	}

	private static function applyEquipment(array $_equipment, $_gateway, $_gatewayId, $_gatewaySerial, $_parent, $_stale, &$_created) {
		$logicalId = (string) $_equipment['logicalId'];
		$kind = enphaseKinds::of($_equipment);
		$eqLogic = eqLogic::byLogicalId($logicalId, 'enphase');
		$adopted = false;
		if (!is_object($eqLogic) && $kind == 'gateway') {
			// A gateway added by hand learns its serial from its first inventory.
			$byHand = enphaseGateway::equipment($_gatewayId);
			if (is_object($byHand) && $byHand->getLogicalId() == '') {
				$byHand->setLogicalId($logicalId);
				if ($byHand->getObject_id() === null || $byHand->getObject_id() === '') {
					// Its first inventory: a gateway left without a room goes where the plugin configuration says.
					$byHand->setObject_id($_parent);
				}
				$eqLogic = $byHand;
				$adopted = true;
			}
		}
		$_created = !is_object($eqLogic);
		if ($_created) {
			$eqLogic = new enphase();
			$eqLogic->setEqType_name('enphase');
			$eqLogic->setLogicalId($logicalId);
			$eqLogic->setObject_id($_parent);
			$name = enphaseText::plain(enphaseText::localized(isset($_equipment['name']) ? $_equipment['name'] : null, ''), 120);
			$eqLogic->setName(self::freeEquipmentName($name != '' ? $name : enphaseKinds::label($kind, false) . ' ' . $logicalId, $_parent, $logicalId, $_gateway->getName()));
			$eqLogic->setIsEnable(1);
			$eqLogic->setIsVisible(in_array($kind, enphaseKinds::DASHBOARD) ? 1 : 0);
			$eqLogic->setCategory('energy', 1);
			log::add('enphase', 'info', __('Nouvel équipement', __FILE__) . ' ' . $eqLogic->getName());
		}
		$before = json_encode($eqLogic->getConfiguration());
		$eqLogic->setConfiguration('kind', $kind);
		$eqLogic->setConfiguration('gateway_id', $_gatewayId);
		$eqLogic->setConfiguration('gateway_serial', $_gatewaySerial);
		if (isset($_equipment['configuration']) && is_array($_equipment['configuration'])) {
			// Facts read from the gateway (firmware, part number...): the daemon knows them better than the page.
			foreach ($_equipment['configuration'] as $key => $value) {
				// Shown on the page: plain values only, text without markup.
				if (!in_array($key, self::RESERVED_CONFIGURATION) && enphaseText::isIdentifier((string) $key) && is_scalar($value)) {
					$eqLogic->setConfiguration($key, is_string($value) ? enphaseText::plain($value) : $value);
				}
			}
		}
		if ($eqLogic->getConfiguration('battery::disable', '') === '') {
			// A home battery's charge is not the equipment's own battery: the core would raise "battery low"
			// alerts and list it among worn-out sensor batteries (generic type BATTERY with a %).
			$eqLogic->setConfiguration('battery::disable', 1);
		}
		if ((int) $eqLogic->getTimeout() < 1) {
			// Jeedom marks the equipment stale (red) after this long without news: the gateway or the daemon is gone.
			$eqLogic->setTimeout($_stale);
			$adopted = true;
		}
		if ($_created || json_encode($eqLogic->getConfiguration()) !== $before || $adopted) {
			$eqLogic->save();
		}
		return $eqLogic;
	}

	/** @var array|null while apply() runs: the names of the plugin's equipment, by object (loaded once, not per creation) */
	private static $takenNames = null;

	/**
	 * An equipment name free in this object (the core's unique index is object + name): its own, else with its
	 * gateway's name (two gateways' CTs in one room), else with its logicalId; now taken.
	 */
	private static function freeEquipmentName($_name, $_objectId, $_logicalId, $_gatewayName) {
		if (self::$takenNames === null) {
			self::$takenNames = array();
			foreach (eqLogic::byType('enphase') as $eqLogic) {
				self::$takenNames[(string) $eqLogic->getObject_id()][$eqLogic->getName()] = true;
			}
		}
		$taken = isset(self::$takenNames[(string) $_objectId]) ? self::$takenNames[(string) $_objectId] : array();
		$name = $_name . ' ' . uniqid();
		foreach (array($_name, $_name . ' – ' . $_gatewayName, $_name . ' (' . $_logicalId . ')') as $candidate) {
			if ($_objectId === null || !isset($taken[$candidate])) {
				$name = $candidate;
				break;
			}
		}
		self::$takenNames[(string) $_objectId][$name] = true;
		return $name;
	}
}
