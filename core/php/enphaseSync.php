<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * A Synchronize job's process (enphaseSyncJob): started in the background by the page's request, from the
 * command line only (`php enphaseSync.php <scope> <job id>`); never a web page.
 */
if (php_sapi_name() != 'cli' || !isset($argv[2])) {
	http_response_code(404);
	die();
}
require_once __DIR__ . '/../../../../core/php/core.inc.php';
require_once __DIR__ . '/../class/enphase.class.php';

enphaseSyncJob::run((string) $argv[1], (string) $argv[2]);
