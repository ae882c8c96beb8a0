<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Synchronize and the INVENTORY (docs/protocol.md): the equipment and commands the daemon describes become
 * Jeedom's, created once, completed when something is missing, never renamed, moved or deleted. Also the
 * vocabulary of equipment kinds that the pages and the sync report use.
 */
class enphaseInventory {
	/** Decimals of numeric values (core "historizeRound": rounding of the value and of its scaled display). */
	const DISPLAY_DECIMALS = 2;
	/** Equipment configuration keys that belong to the plugin, never overwritten by the daemon's description. */
	const RESERVED_CONFIGURATION = array('kind', 'gateway_id', 'gateway_serial', 'status', 'createtime', 'updatetime',
		'host', 'auth_method', 'installer', 'demo_hour', 'enlighten_username', 'serial', 'general_s', 'devices_s', 'password', 'token', 'enlighten_password', 'widget');

	/**
	 * Kinds shown on the Dashboard when Synchronize creates them: the gateway (its energy flow), batteries,
	 * meters and what the user drives. Microinverters (12 on a house, 600 on a site) are created enabled,
	 * historized and in their room, but not shown: a wall of tiles buries the rest; the user shows the ones he
	 * wants (docs: "Ce que Synchroniser crée").
	 */
	const DASHBOARD_KINDS = array('gateway', 'ac_battery', 'encharge', 'meter', 'enpower', 'dry_contact', 'generator');

	/** The daemon, asked by sync() (tests stand in for the callback that comes before its answer). */
	protected static function request(array $_message) {
		return enphaseDaemon::request($_message);
	}

	/** How the equipment page groups the kinds: group => (label, Font Awesome icon, kinds). */
	public static function kindGroups() {
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
	public static function kindGroup($_kind) {
		foreach (self::kindGroups() as $group => $definition) {
			if (in_array($_kind, $definition[2])) {
				return $group;
			}
		}
		return 'other';
	}

	/** The name of an equipment kind, plural for counts ("Micro-onduleurs : 24"), singular for one equipment. */
	public static function kindLabel($_kind, $_plural = true) {
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

	/**
	 * Asks the daemon to probe every gateway, or the one of $_gatewayId, and says what it found and what was
	 * created. Returns array('ok' => bool, 'message' => sentence for the user, 'kinds' => counts per kind).
	 */
	public static function sync($_gatewayId = '') {
		$_gatewayId = (string) $_gatewayId;
		$problem = self::syncProblem($_gatewayId);
		if ($problem != '') {
			return array('ok' => false, 'message' => $problem, 'kinds' => array());
		}
		// The daemon delivers the inventory by callback (jeeEnphase.php applies it, once) before it answers with
		// the same list: what this sync created is what did not exist before the request.
		$before = self::commandCounts();
		$request = array('action' => 'sync');
		if ($_gatewayId !== '') {
			$request['gateway'] = $_gatewayId;
		}
		try {
			// Probing reads slow endpoints (some firmware take tens of seconds).
			$answer = static::request($request);
		} catch (enphaseDaemonError $e) {
			$all = enphaseGateway::all();
			$gateway = ($_gatewayId !== '') ? enphaseGateway::equipment($_gatewayId) : ((count($all) == 1) ? reset($all) : null);
			$access = is_object($gateway) ? enphaseGateway::access(enphaseGateway::settingsOf($gateway)) : '';
			$message = enphaseDaemonError::sentence($e->getReason(), $e->getCause(), $access);
			log::add('enphase', 'warning', __('Synchronisation impossible :', __FILE__) . ' ' . $message);
			return array('ok' => false, 'message' => $message, 'kinds' => array(), 'reason' => $e->getReason());
		}
		$inventories = (isset($answer['inventory']) && is_array($answer['inventory'])) ? $answer['inventory'] : array();
		$report = self::emptyReport();
		$pending = 0;
		foreach ($inventories as $inventory) {
			$equipments = (is_array($inventory) && isset($inventory['equipments']) && is_array($inventory['equipments'])) ? $inventory['equipments'] : array();
			foreach ($equipments as $equipment) {
				if (!is_array($equipment) || !isset($equipment['logicalId']) || !is_scalar($equipment['logicalId'])) {
					continue;
				}
				$eqLogic = eqLogic::byLogicalId((string) $equipment['logicalId'], 'enphase');
				$kind = is_object($eqLogic) ? $eqLogic->getConfiguration('kind') : self::kindOf($equipment);
				if (!isset($report['kinds'][$kind])) {
					$report['kinds'][$kind] = array('found' => 0, 'created' => 0);
				}
				$report['kinds'][$kind]['found']++;
				if (!is_object($eqLogic)) {
					// The callback did not get through: the daemon keeps its events and sends them again.
					$pending++;
				} elseif (!isset($before[$eqLogic->getId()])) {
					$report['kinds'][$kind]['created']++;
				}
			}
		}
		foreach (self::commandCounts() as $id => $count) {
			$report['commands_created'] += $count - (isset($before[$id]) ? $before[$id] : 0);
		}
		$message = self::describeReport($report);
		if ($pending > 0) {
			$message .= ' ' . sprintf(__('%d équipement(s) pas encore créé(s) : ils le seront dès que le démon aura transmis l\'inventaire à Jeedom (consultez le log enphase_daemon s\'ils tardent)', __FILE__), $pending);
		}
		if (array_sum(array_column($report['kinds'], 'created')) > 0 && self::unplacedGateway($_gatewayId)) {
			$message .= ' ' . __('Ces équipements n’ont pas d’objet parent et n’apparaissent donc pas sur le Dashboard : choisissez l’objet parent de la passerelle (ses équipements la suivent) ou un objet par défaut dans la configuration du plugin', __FILE__);
		}
		// Several gateways: those that failed say why beside the others' report.
		$errors = (isset($answer['errors']) && is_array($answer['errors'])) ? $answer['errors'] : array();
		foreach ($errors as $error) {
			if (!is_array($error)) {
				continue;
			}
			$gatewayId = isset($error['gateway']) ? (string) $error['gateway'] : '';
			$gateway = enphaseGateway::equipment($gatewayId);
			$message .= ' ' . enphaseGateway::label($gatewayId, $gateway) . ' : ' . enphaseDaemonError::sentence(
				isset($error['code']) ? (string) $error['code'] : '', isset($error['reason']) ? (string) $error['reason'] : '',
				is_object($gateway) ? enphaseGateway::access(enphaseGateway::settingsOf($gateway)) : '');
		}
		log::add('enphase', 'info', $message);
		return array('ok' => true, 'message' => $message, 'kinds' => $report['kinds']);
	}

	/** Why the gateway of $_gatewayId (every gateway: '') cannot be synchronized now, in words the user can act on; '' when it can. */
	public static function syncProblem($_gatewayId) {
		if ((string) $_gatewayId === '') {
			return enphaseGateway::firstProblem();
		}
		$settings = enphaseGateway::settings($_gatewayId);
		if ($settings === null) {
			return __('Renseignez l\'adresse IP ou le nom de la passerelle dans son onglet Équipement, activez-la et sauvegardez', __FILE__);
		}
		return enphaseGateway::problem($settings);
	}

	/** Whether a gateway synchronized (every gateway when $_gatewayId is '') has no object for its equipment. */
	private static function unplacedGateway($_gatewayId) {
		foreach (enphaseGateway::all() as $id => $gateway) {
			if (($_gatewayId === '' || (string) $id === $_gatewayId) && self::parentObject($gateway) === null) {
				return true;
			}
		}
		return false;
	}

	/** Number of commands of each equipment of the plugin, by equipment id. */
	private static function commandCounts() {
		$counts = array();
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			$counts[$eqLogic->getId()] = 0;
		}
		// Every command of the plugin in one query, not one per equipment.
		foreach (count($counts) > 0 ? cmd::byEqLogicId(array_keys($counts)) : array() as $cmd) {
			$counts[$cmd->getEqLogic_id()]++;
		}
		return $counts;
	}

	private static function emptyReport() {
		return array('kinds' => array(), 'commands_created' => 0);
	}

	public static function describeReport(array $_report) {
		if (count($_report['kinds']) == 0) {
			return __('Synchronisation terminée : le démon n\'a trouvé aucun équipement', __FILE__);
		}
		$parts = array();
		foreach ($_report['kinds'] as $kind => $counts) {
			$parts[] = sprintf(__('%s : %d trouvé(s), %d créé(s)', __FILE__), self::kindLabel($kind), $counts['found'], $counts['created']);
		}
		return __('Synchronisation terminée', __FILE__) . ' : ' . implode(', ', $parts) . '. '
			. sprintf(__('%d commande(s) créée(s)', __FILE__), $_report['commands_created']);
	}

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

	/**
	 * The user turned the detail off (for the plugin or on equipment): the detail commands of the equipment that
	 * no longer want it are removed, with their history; the daemon stops sending them (enphaseGateway::detailOf).
	 * Returns how many were removed.
	 */
	public static function dropUnwantedDetail($_eqLogics = null) {
		$removed = 0;
		foreach (($_eqLogics === null) ? eqLogic::byType('enphase') : $_eqLogics as $eqLogic) {
			if ($eqLogic->getConfiguration('kind') == 'gateway' || enphaseGateway::wantsDetail($eqLogic)) {
				continue;
			}
			foreach ($eqLogic->getCmd('info') as $cmd) {
				if ($cmd->getConfiguration('detail') == 1) {
					$cmd->remove();
					$removed++;
				}
			}
		}
		if ($removed > 0) {
			log::add('enphase', 'info', sprintf(__('%d commande(s) de détail supprimée(s) : le détail n’est plus demandé', __FILE__), $removed));
		}
		return $removed;
	}

	/** The name in the language of this Jeedom, from a {"fr_FR": ..., "en_US": ...} description. */
	public static function localized($_names, $_fallback = '') {
		if (is_string($_names) && $_names != '') {
			return $_names;
		}
		if (!is_array($_names) || count($_names) == 0) {
			return $_fallback;
		}
		$language = config::byKey('language', 'core', 'fr_FR');
		foreach (array($language, 'fr_FR', 'en_US') as $candidate) {
			if (isset($_names[$candidate]) && $_names[$candidate] != '') {
				return $_names[$candidate];
			}
		}
		return (string) reset($_names);
	}

	/**
	 * Creates or completes the equipment and commands an INVENTORY describes. Never duplicates (equipment are
	 * found by logicalId, commands by logicalId within their equipment), never renames, moves, hides or deletes
	 * anything: what the user changed stays; only what is missing is added.
	 */
	public static function apply(array $_inventory) {
		$report = self::emptyReport();
		$gatewayId = (isset($_inventory['gateway']) && is_scalar($_inventory['gateway'])) ? (string) $_inventory['gateway'] : '';
		$gatewaySerial = (isset($_inventory['serial']) && is_scalar($_inventory['serial'])) ? (string) $_inventory['serial'] : '';
		$gateway = enphaseGateway::equipment($gatewayId, $gatewaySerial);
		if (!is_object($gateway)) {
			// Its equipment was removed while the daemon still read it: nothing of it is created again.
			log::add('enphase', 'warning', __('Inventaire d\'une passerelle inconnue ignoré :', __FILE__) . ' ' . substr($gatewayId, 0, 40));
			return $report;
		}
		$parent = self::parentObject($gateway);
		$stale = enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($gateway));
		$equipments = (isset($_inventory['equipments']) && is_array($_inventory['equipments'])) ? $_inventory['equipments'] : array();
		$kinds = (isset($_inventory['kinds']) && is_array($_inventory['kinds'])) ? $_inventory['kinds'] : array();
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
				$_report['commands_created'] += self::applyCommands($eqLogic, $commands);
			} catch (Throwable $e) {
				log::add('enphase', 'error', __('Équipement non créé', __FILE__) . ' ' . $equipment['logicalId'] . ' : ' . $e->getMessage());
			}
		}
	}

	/** The kind an equipment's description gives, when it is one (it names a picture file, among others). */
	private static function kindOf(array $_equipment) {
		return (isset($_equipment['kind']) && is_string($_equipment['kind']) && preg_match('/^[a-z0-9_]+$/', $_equipment['kind'])) ? $_equipment['kind'] : 'other';
	}

	private static function applyEquipment(array $_equipment, $_gateway, $_gatewayId, $_gatewaySerial, $_parent, $_stale, &$_created) {
		$logicalId = (string) $_equipment['logicalId'];
		$kind = self::kindOf($_equipment);
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
			$name = enphaseText::plain(self::localized(isset($_equipment['name']) ? $_equipment['name'] : null, ''), 120);
			$eqLogic->setName(self::freeEquipmentName($name != '' ? $name : self::kindLabel($kind, false) . ' ' . $logicalId, $_parent, $logicalId, $_gateway->getName()));
			$eqLogic->setIsEnable(1);
			$eqLogic->setIsVisible(in_array($kind, self::DASHBOARD_KINDS) ? 1 : 0);
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

	/** A command name free on this equipment (the core's unique index is equipment + name), among its $_known names. */
	private static function freeCommandName(array $_known, $_name, $_logicalId) {
		$candidates = array($_name, $_name . ' (' . $_logicalId . ')');
		for ($i = 2; $i < 100; $i++) {
			$candidates[] = $_name . ' ' . $i;
		}
		foreach ($candidates as $candidate) {
			if (!isset($_known['names'][$candidate])) {
				return $candidate;
			}
		}
		return $_name . ' ' . uniqid();
	}

	/**
	 * Creates the described commands an equipment lacks; on existing ones, fills only what is still empty.
	 * Returns the number of commands created.
	 */
	public static function applyCommands($_eqLogic, array $_commands) {
		$created = 0;
		// Its commands, loaded once (not one query per described command): by logicalId, and their names.
		$known = array('cmds' => array(), 'names' => array());
		foreach ($_eqLogic->getCmd() as $cmd) {
			$known['cmds'][$cmd->getType() . '::' . $cmd->getLogicalId()] = $cmd;
			$known['names'][$cmd->getName()] = true;
		}
		// Info commands first: an action names the info command it sets ("value").
		usort($_commands, function ($a, $b) {
			return ((isset($a['type']) && $a['type'] == 'action') ? 1 : 0) - ((isset($b['type']) && $b['type'] == 'action') ? 1 : 0);
		});
		foreach ($_commands as $description) {
			if (!is_array($description) || !isset($description['logicalId']) || !enphaseText::isIdentifier($description['logicalId'])) {
				continue;
			}
			if (self::applyCommand($_eqLogic, $description, $known)) {
				$created++;
			}
		}
		if ($_eqLogic->getConfiguration('kind') == 'gateway' && self::known($known, 'action', 'refresh') === null) {
			self::applyCommand($_eqLogic, array('logicalId' => 'refresh', 'name' => array('fr_FR' => 'Rafraîchir', 'en_US' => 'Refresh'),
				'type' => 'action', 'subType' => 'other', 'order' => 0, 'isVisible' => 1), $known);
			$created++;
		}
		return $created;
	}

	/** A command of the equipment among those loaded by applyCommands ($_type null: either type), or null. */
	private static function known(array $_known, $_type, $_logicalId) {
		foreach ($_type === null ? array('info', 'action') : array($_type) as $type) {
			if (isset($_known['cmds'][$type . '::' . $_logicalId])) {
				return $_known['cmds'][$type . '::' . $_logicalId];
			}
		}
		return null;
	}

	/**
	 * A command's description with what the core shows or loads checked: a known subtype, a widget name that
	 * names no path, text without markup (units, labels, lists), numbers for bounds. What fails is left out.
	 */
	private static function checked(array $_description) {
		$subTypes = array('numeric', 'binary', 'string', 'other', 'slider', 'select', 'message', 'color');
		$checks = array(
			'subType' => function ($v) use ($subTypes) { return in_array($v, $subTypes, true) ? $v : null; },
			'template' => function ($v) { return (is_string($v) && preg_match('/^[a-z0-9_]+(::[a-z0-9_]+)?$/D', $v)) ? $v : null; },
			'genericType' => function ($v) { return (is_string($v) && preg_match('/^[A-Z0-9_]+$/D', $v)) ? $v : null; },
			'unit' => function ($v) { return enphaseText::plain($v, 16); },
			'listValue' => function ($v) { // one list, or one per language
				return is_array($v) ? array_map(function ($list) { return enphaseText::plain($list, 1000); }, $v) : enphaseText::plain($v, 1000);
			},
			'minValue' => function ($v) { return is_numeric($v) ? $v : null; },
			'maxValue' => function ($v) { return is_numeric($v) ? $v : null; },
			'value' => function ($v) { return enphaseText::isIdentifier($v) ? $v : null; },
		);
		foreach ($checks as $key => $check) {
			if (isset($_description[$key])) {
				$value = $check($_description[$key]);
				if ($value === null) {
					unset($_description[$key]);
				} else {
					$_description[$key] = $value;
				}
			}
		}
		if (isset($_description['valueLabels']) && is_array($_description['valueLabels'])) {
			$labels = array();
			foreach ($_description['valueLabels'] as $code => $names) {
				$names = is_array($names) ? array_map(function ($name) { return enphaseText::plain($name); }, $names) : enphaseText::plain($names);
				$labels[enphaseText::plain((string) $code)] = $names;
			}
			$_description['valueLabels'] = $labels;
		}
		return $_description;
	}

	/** The words of a select's "word|Label;word|Label" list. */
	private static function choiceWords($_list) {
		return array_map(function ($choice) {
			return explode('|', $choice, 2)[0];
		}, explode(';', $_list));
	}

	/** The commands of this equipment that the described command replaces (its "replaces": logicalIds of an earlier version). */
	private static function replacedCommands(array $_known, array $_description) {
		$found = array();
		$replaces = (isset($_description['replaces']) && is_array($_description['replaces'])) ? $_description['replaces'] : array();
		foreach ($replaces as $oldId) {
			if (!is_string($oldId) || $oldId === '' || $oldId === $_description['logicalId']) {
				continue;
			}
			$old = self::known($_known, 'info', $oldId);
			if (is_object($old)) {
				$found[] = $old;
			}
		}
		return $found;
	}

	/**
	 * A command of an earlier version and the one that replaces it both exist: every use of the old one (scenarios,
	 * virtuals, views, designs: the core's jeedom::replaceTag) and its generic type (Jeedom's energy panel finds the
	 * day's figures by it), unless the user gave the new one another, move to the new one; the old one, its history
	 * with it, is removed (docs/fr_FR/changelog.md says so).
	 */
	private static function replaceCommand($_old, $_new, array &$_known) {
		jeedom::replaceTag(array('#' . $_old->getId() . '#' => '#' . $_new->getId() . '#'));
		$generic = $_old->getGeneric_type();
		if ($generic != '' && in_array($_new->getGeneric_type(), array('', null, 'GENERIC_INFO'), true)) {
			$_new->setGeneric_type($generic);
			$_new->save();
		}
		log::add('enphase', 'info', sprintf(__('Commande %s supprimée : %s la remplace', __FILE__), $_old->getHumanName(), $_new->getLogicalId()));
		$_old->remove();
		unset($_known['cmds']['info::' . $_old->getLogicalId()], $_known['names'][$_old->getName()]);
	}

	private static function applyCommand($_eqLogic, array $_description, array &$_known) {
		$_description = self::checked($_description);
		$logicalId = (string) $_description['logicalId'];
		$type = (isset($_description['type']) && $_description['type'] == 'action') ? 'action' : 'info';
		$cmd = self::known($_known, null, $logicalId);
		$replaced = self::replacedCommands($_known, $_description);
		if (!is_object($cmd) && count($replaced) > 0) {
			// The command of an earlier version that this one replaces becomes it: its id, history, name and every
			// use of it stay.
			$cmd = array_shift($replaced);
			log::add('enphase', 'info', sprintf(__('Commande %s de %s : devient %s', __FILE__), $cmd->getLogicalId(), $_eqLogic->getName(), $logicalId));
			unset($_known['cmds']['info::' . $cmd->getLogicalId()]);
			$cmd->setLogicalId($logicalId);
			$cmd->save();
			$_known['cmds']['info::' . $logicalId] = $cmd;
		}
		foreach ($replaced as $old) {
			self::replaceCommand($old, $cmd, $_known);
		}
		$created = !is_object($cmd);
		if ($created) {
			$cmd = new enphaseCmd();
			$cmd->setEqLogic_id($_eqLogic->getId());
			$cmd->setEqType('enphase');
			$cmd->setLogicalId($logicalId);
			$name = enphaseText::plain(self::localized(isset($_description['name']) ? $_description['name'] : null, ''), 120);
			$cmd->setName(self::freeCommandName($_known, $name != '' ? $name : $logicalId, $logicalId));
			$cmd->setType($type);
			$cmd->setSubType(isset($_description['subType']) ? $_description['subType'] : ($type == 'action' ? 'other' : 'string'));
			$cmd->setIsVisible(isset($_description['isVisible']) ? (int) $_description['isVisible'] : 1);
			$cmd->setIsHistorized(($type == 'info' && !empty($_description['isHistorized'])) ? 1 : 0);
			if (isset($_description['order'])) {
				$cmd->setOrder((int) $_description['order']);
			}
			if (isset($_description['template']) && $_description['template'] != '') {
				$cmd->setTemplate('dashboard', $_description['template']);
				$cmd->setTemplate('mobile', $_description['template']);
			}
		}
		// On a command that already exists, only what is still empty is filled: the user's choices stay.
		$changed = $created;
		$name = self::localized(isset($_description['name']) ? $_description['name'] : null, $logicalId);
		if (!$created && $cmd->getName() !== $name && $cmd->getName() === str_replace('’', '', $name)
			&& !isset($_known['names'][$name])) {
			// Named when the catalog wrote "d'autoproduction", which Jeedom strips to "dautoproduction": not a
			// name the user chose, so it gets its apostrophe back (the typographic one, which Jeedom keeps).
			unset($_known['names'][$cmd->getName()]);
			$cmd->setName($name);
			$_known['names'][$name] = true;
			$changed = true;
		}
		$fill = array(
			'unit' => array('getUnite', 'setUnite'),
			'genericType' => array('getGeneric_type', 'setGeneric_type'),
		);
		foreach ($fill as $key => $accessors) {
			if (isset($_description[$key]) && $_description[$key] !== '' && ($cmd->{$accessors[0]}() === '' || $cmd->{$accessors[0]}() === null)) {
				$cmd->{$accessors[1]}($_description[$key]);
				$changed = true;
			}
		}
		// State codes (e.g. "discharging") shown in Jeedom's language; scenarios see the same label.
		if (isset($_description['valueLabels']) && is_array($_description['valueLabels'])) {
			$labels = array();
			foreach ($_description['valueLabels'] as $code => $names) {
				$labels[(string) $code] = self::localized($names, (string) $code);
			}
			if ($cmd->getConfiguration('valueLabels') != $labels) {
				$cmd->setConfiguration('valueLabels', $labels);
				$changed = true;
			}
		}
		// A detail command (Command.detail) goes when its equipment no longer wants the detail (dropUnwantedDetail).
		if (!empty($_description['detail']) && $cmd->getConfiguration('detail') === '') {
			$cmd->setConfiguration('detail', 1);
			$changed = true;
		}
		foreach (array('minValue', 'maxValue') as $key) {
			if (isset($_description[$key]) && $_description[$key] !== '' && $cmd->getConfiguration($key) === '') {
				$cmd->setConfiguration($key, $_description[$key]);
				$changed = true;
			}
		}
		// A select's choices ("word|Label;..."), labelled in this Jeedom's language. Labels follow the catalog
		// while the choices are the same words (the user did not change them).
		if (isset($_description['listValue'])) {
			$list = self::localized($_description['listValue'], '');
			$current = (string) $cmd->getConfiguration('listValue');
			if ($list !== '' && $list !== $current && ($current === '' || self::choiceWords($current) === self::choiceWords($list))) {
				$cmd->setConfiguration('listValue', $list);
				$changed = true;
			}
		}
		// The dashboard scales W, Wh, V... (kWh, MWh) and then shows every decimal: two read well everywhere.
		if ($cmd->getType() == 'info' && $cmd->getSubType() == 'numeric' && $cmd->getConfiguration('historizeRound') === '') {
			$cmd->setConfiguration('historizeRound', isset($_description['historizeRound']) ? (int) $_description['historizeRound'] : self::DISPLAY_DECIMALS);
			$changed = true;
		}
		if ($type == 'action' && isset($_description['value']) && $_description['value'] !== '' && $cmd->getValue() == '') {
			$info = self::known($_known, 'info', (string) $_description['value']);
			if (is_object($info)) {
				$cmd->setValue($info->getId());
				$changed = true;
			}
		}
		if ($changed) {
			$cmd->save();
		}
		$_known['cmds'][$cmd->getType() . '::' . $logicalId] = $cmd;
		$_known['names'][$cmd->getName()] = true;
		return $created;
	}
}
