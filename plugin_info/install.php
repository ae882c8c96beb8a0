<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

require_once __DIR__ . '/../../../core/php/core.inc.php';
require_once __DIR__ . '/../core/class/enphase.class.php';

/** Default configuration: only keys not set yet, so that an update never overwrites the user's choices. */
function enphase_default_configuration() {
	$defaults = array(
		'general_s' => enphaseGateway::DEFAULT_CADENCES['general_s'],
		'devices_s' => enphaseGateway::DEFAULT_CADENCES['devices_s'],
		'detail' => 0,
	);
	foreach ($defaults as $key => $value) {
		if (config::byKey($key, 'enphase') === '') {
			config::save($key, $value, 'enphase');
		}
	}
}

function enphase_install() {
	enphase_default_configuration();
}

function enphase_update() {
	if (config::byKey('detail', 'enphase') === '') {
		// Before this setting every microinverter had its detail: an installation that has equipment keeps it
		// (the user may turn it off); a new one starts without (enphase_default_configuration).
		config::save('detail', count(eqLogic::byType('enphase')) > 0 ? 1 : 0, 'enphase');
	}
	enphase_default_configuration();
	// PHP and the daemon now meet on a Unix socket in the data folder, no longer on a loopback port.
	config::remove('socketport', 'enphase');
	// The new daemon must run: restart it if it was running (equipment, commands and history are untouched).
	$info = enphase::deamon_info();
	if ($info['state'] == 'ok') {
		try {
			enphase::deamon_start();
		} catch (Exception $e) {
			log::add('enphase', 'error', __('Redémarrage du démon impossible après la mise à jour :', __FILE__) . ' ' . $e->getMessage());
		}
	}
}

function enphase_remove() {
	// Equipment and configuration stay with the core (it removes them with the plugin if the user asks).
	enphase::deamon_stop();
}
