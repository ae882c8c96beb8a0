<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * The diagnostics report's way to the admin's browser. The ajax page asks the daemon for the report and gets
 * back a one-time id; the page then opens core/php/enphaseDiagnostics.php?id=... as a plain download
 * (Content-Disposition: attachment). A blob: link made by the page's script is caught by Jeedom 4.4/4.5's
 * one-page loader, which blanks the page: a real URL is a real download on every version.
 */
class enphaseDiagnostics {
	/** The one-time id is part of the file's name while it waits: no other state to keep or to expire. */
	const WAITING = 'download-';

	/** Asks the daemon for the report of a gateway equipment; array('id' => one-time id, 'name' => file name). */
	public static function prepare($_eqLogicId) {
		$file = enphaseDaemon::diagnosticsReport($_eqLogicId);
		$id = bin2hex(random_bytes(16));
		$waiting = dirname($file) . '/' . self::WAITING . $id . '-' . basename($file);
		if (!rename($file, $waiting)) {
			throw new enphaseDaemonError('bad_answer');
		}
		return array('id' => $id, 'name' => basename($file));
	}

	/**
	 * The report waiting under this id, taken: array(path to stream then delete, name for the browser); null
	 * when there is none (already downloaded, or a made-up id). Taken once: a second request finds nothing.
	 */
	public static function take($_id) {
		$folder = realpath(enphaseDaemon::dataDir() . '/diagnostics');
		if (!is_string($_id) || !preg_match('/^[0-9a-f]{32}$/', $_id) || $folder === false) {
			return null;
		}
		foreach (glob($folder . '/' . self::WAITING . $_id . '-*.zip') as $waiting) {
			$name = substr(basename($waiting), strlen(self::WAITING . $_id . '-'));
			$taken = $folder . '/taken-' . $_id . '.tmp';
			// rename() is atomic: of two requests with the same id, one gets the file.
			if (preg_match('/^[A-Za-z0-9._-]+\.zip$/', $name) && @rename($waiting, $taken)) {
				return array($taken, $name);
			}
		}
		return null;
	}
}
