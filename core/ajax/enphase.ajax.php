<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

try {
	require_once __DIR__ . '/../../../../core/php/core.inc.php';
	require_once __DIR__ . '/../class/enphase.class.php';
	include_file('core', 'authentification', 'php');

	if (!isConnect('admin')) {
		throw new Exception(__('401 - Accès non autorisé', __FILE__));
	}

	ajax::init();

	if (init('action') == 'synchronize' || init('action') == 'syncProgress') {
		// From an equipment's page: the gateway of that equipment only; from the list: every gateway.
		$gatewayId = '';
		if (init('id') != '') {
			$eqLogic = enphase::byId(init('id'));
			if (!is_object($eqLogic) || $eqLogic->getEqType_name() != 'enphase') {
				throw new Exception(__('Équipement inconnu', __FILE__) . ' : ' . init('id'));
			}
			$gatewayId = ($eqLogic->getConfiguration('kind') == 'gateway') ? enphaseGateway::idOf($eqLogic) : (string) $eqLogic->getConfiguration('gateway_id');
		}
		// Answered at once: the job runs in the background, the page asks how far it got (syncProgress).
		$result = (init('action') == 'synchronize') ? enphaseSyncJob::start($gatewayId) : enphaseSyncJob::progress($gatewayId, init('job'));
		if (!$result['ok']) {
			throw new Exception($result['message']);
		}
		ajax::success($result);
	}

	if (init('action') == 'sendConfiguration') {
		// The core saved the plugin configuration (default cadences): a running daemon reads them at once.
		$info = enphase::deamon_info();
		$result = array('sent' => false, 'message' => '');
		if ($info['launchable'] != 'ok') {
			$result['message'] = $info['launchable_message'];
		} elseif ($info['state'] == 'ok') {
			try {
				enphaseDaemon::configure();
				$result['sent'] = true;
			} catch (enphaseDaemonError $e) {
				$result['message'] = $e->getMessage();
			}
		}
		ajax::success($result);
	}

	if (init('action') == 'diagnostics') {
		// The report is then fetched by the page as a download of its own (core/php/enphaseDiagnostics.php).
		$report = enphaseDiagnostics::prepare(init('id'));
		$report['url'] = 'plugins/enphase/core/php/enphaseDiagnostics.php?id=' . $report['id'];
		ajax::success($report);
	}

	throw new Exception(__('Aucune méthode correspondante à', __FILE__) . ' : ' . init('action'));
} catch (Exception $e) {
	// The page shows it in a toast (innerHTML); it may quote the daemon, the gateway or the request: text only.
	ajax::error(htmlspecialchars($e->getMessage(), ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'), $e->getCode());
}
