<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * GET ?id=<one-time id>: the diagnostics report the ajax action "diagnostics" prepared, as a download, once;
 * then it is deleted. Administrators only. The report leaves the box only through the admin's browser.
 */
require_once __DIR__ . '/../../../../core/php/core.inc.php';
require_once __DIR__ . '/../class/enphase.class.php';
include_file('core', 'authentification', 'php');

if (!isConnect('admin')) {
	http_response_code(403);
	echo __('401 - Accès non autorisé', __FILE__);
	die();
}
$report = enphaseDiagnostics::take(init('id'));
if ($report === null) {
	http_response_code(404);
	header('Content-Type: text/plain; charset=utf-8');
	echo __('Ce rapport de diagnostic a déjà été téléchargé ou n\'existe pas : demandez-en un nouveau depuis la page de la passerelle', __FILE__);
	die();
}
list($file, $name) = $report;
header('Content-Type: application/zip');
header('Content-Disposition: attachment; filename="' . $name . '"');
header('Content-Length: ' . filesize($file));
header('Cache-Control: no-store');
header('X-Content-Type-Options: nosniff');
readfile($file);
@unlink($file);
