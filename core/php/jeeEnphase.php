<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Callback of the daemon (docs/protocol.md): POST {"deadline": <Unix time>, "events": [...]}, the plugin's apikey
 * in the X-Enphase-Apikey header (never in the URL: web server access logs keep URLs).
 * One body at a time (a lock), and nothing of a body after its deadline: the daemon stops waiting for the
 * answer then and sends what the body carried again, with anything newer, in its next POST. So a late body (held
 * in the web server's queue, or behind a slow one) can never apply older values over newer ones.
 * Answers 200 once every event is applied; 503 when the deadline came first; 409 when an inventory event needs
 * equipment kinds Jeedom does not know (the daemon then describes them again), applying nothing of it and nothing
 * after it; 403 for a wrong or missing apikey; 400 for a body that is not an event list.
 */
try {
	require_once __DIR__ . '/../../../../core/php/core.inc.php';
	require_once __DIR__ . '/../class/enphase.class.php';

	$apikey = isset($_SERVER['HTTP_X_ENPHASE_APIKEY']) ? (string) $_SERVER['HTTP_X_ENPHASE_APIKEY'] : '';
	if (!jeedom::apiAccess($apikey, 'enphase')) {
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
	// A body's work is bounded by the daemon (a few seconds); a deadline further than this is not believed.
	$latest = microtime(true) + 300;
	$deadline = isset($payload['deadline']) && is_numeric($payload['deadline']) ? min((float) $payload['deadline'], $latest) : $latest;
	// The daemon may stop waiting: the event under way is finished anyway, never left half applied.
	ignore_user_abort(true);
	set_time_limit((int) ceil($deadline - microtime(true)) + 60);
	$lock = fopen(jeedom::getTmpFolder('enphase') . '/callback.lock', 'c');
	while (!flock($lock, LOCK_EX | LOCK_NB)) {
		if (microtime(true) >= $deadline) {
			http_response_code(503);
			die();
		}
		usleep(20000);
	}
	foreach ($payload['events'] as $event) {
		if (microtime(true) >= $deadline) {
			http_response_code(503);
			die();
		}
		if (is_array($event) && isset($event['type']) && $event['type'] === 'inventory' && count(enphaseInventory::missingKinds($event)) > 0) {
			http_response_code(409);
			log::add('enphase', 'debug', __('Types d\'équipement inconnus dans l\'inventaire : le démon les décrira de nouveau', __FILE__));
			die();
		}
		enphaseEvents::handle(array($event));
	}
	echo 'OK';
} catch (Exception $e) {
	http_response_code(500);
	log::add('enphase', 'error', displayException($e));
}
