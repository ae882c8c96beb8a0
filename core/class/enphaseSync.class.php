<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Synchronize (docs/protocol.md, "Sync"): asks the daemon to probe the gateways and says what it found and what
 * was created, in a sentence the user reads. The inventory itself comes by the callback (enphaseInventory).
 */
class enphaseSync {
	/** The daemon, asked by ask() (tests stand in for the callback that comes before its answer). */
	protected static function request(array $_message) {
		return enphaseDaemon::request($_message);
	}

	/**
	 * Asks the daemon to probe every gateway, or the one of $_gatewayId, and says what it found and what was
	 * created. Returns array('ok' => bool, 'message' => sentence for the user, 'kinds' => counts per kind).
	 */
	public static function ask($_gatewayId = '') {
		$_gatewayId = (string) $_gatewayId;
		$problem = self::problem($_gatewayId);
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
		$report = array('kinds' => array(), 'commands_created' => 0);
		$pending = 0;
		foreach ($inventories as $inventory) {
			$equipments = (is_array($inventory) && isset($inventory['equipments']) && is_array($inventory['equipments'])) ? $inventory['equipments'] : array();
			foreach ($equipments as $equipment) {
				if (!is_array($equipment) || !isset($equipment['logicalId']) || !is_scalar($equipment['logicalId'])) {
					continue;
				}
				$eqLogic = eqLogic::byLogicalId((string) $equipment['logicalId'], 'enphase');
				$kind = is_object($eqLogic) ? $eqLogic->getConfiguration('kind') : enphaseKinds::of($equipment);
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
		if (array_sum(array_column($report['kinds'], 'created')) > 0 && enphasePlacement::unplaced($_gatewayId)) {
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
	public static function problem($_gatewayId) {
		if ((string) $_gatewayId === '') {
			return enphaseGateway::firstProblem();
		}
		$settings = enphaseGateway::settings($_gatewayId);
		if ($settings === null) {
			return __('Renseignez l\'adresse IP ou le nom de la passerelle dans son onglet Équipement, activez-la et sauvegardez', __FILE__);
		}
		return enphaseGateway::problem($settings);
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

	public static function describeReport(array $_report) {
		if (count($_report['kinds']) == 0) {
			return __('Synchronisation terminée : le démon n\'a trouvé aucun équipement', __FILE__);
		}
		$parts = array();
		foreach ($_report['kinds'] as $kind => $counts) {
			$parts[] = sprintf(__('%s : %d trouvé(s), %d créé(s)', __FILE__), enphaseKinds::label($kind), $counts['found'], $counts['created']);
		}
		return __('Synchronisation terminée', __FILE__) . ' : ' . implode(', ', $parts) . '. '
			. sprintf(__('%d commande(s) créée(s)', __FILE__), $_report['commands_created']);
	}
}
