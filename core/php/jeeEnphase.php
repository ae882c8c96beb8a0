<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Callback of the daemon: POST ?apikey=<plugin apikey> with {"events": [...]} (docs/protocol.md).
 * Answers 200 once the events are applied; 403 for a wrong apikey, 400 for a body that is not an event list.
 */
try {
	require_once __DIR__ . '/../../../../core/php/core.inc.php';
	require_once __DIR__ . '/../class/enphase.class.php';

	if (!jeedom::apiAccess(init('apikey'), 'enphase')) {
		http_response_code(403);
		echo __('Vous n\'êtes pas autorisé à effectuer cette action', __FILE__);
		die();
	}
	if (init('test') != '') {
		echo 'OK';
		die();
	}
	$payload = json_decode(file_get_contents('php://input'), true);
	if (!is_array($payload) || !isset($payload['events']) || !is_array($payload['events'])) {
		http_response_code(400);
		log::add('enphase', 'error', __('Message du démon illisible (pas de liste d\'évènements)', __FILE__));
		die();
	}
	enphaseEvents::handle($payload['events']);
	echo 'OK';
} catch (Exception $e) {
	http_response_code(500);
	log::add('enphase', 'error', displayException($e));
}
