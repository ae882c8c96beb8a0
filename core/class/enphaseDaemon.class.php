<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * The client of the daemon (resources/enphased): how it is started and stopped (command line, pid file,
 * apikey file, callback URL) and the one-line JSON requests PHP sends it over its Unix socket.
 * The protocol is in docs/protocol.md.
 */
class enphaseDaemon {
	/**
	 * Where PHP and the daemon meet: a Unix socket in the data folder (0700), not Jeedom's usual loopback port,
	 * which any local user may take first and receive the apikey and every secret. Only the web server's user
	 * can enter the folder, so only it reaches the daemon, and only it can have put a listener there.
	 */
	public static function socketPath() {
		return self::dataDir() . '/daemon.sock';
	}

	public static function pidFile() {
		return jeedom::getTmpFolder('enphase') . '/deamon.pid';
	}

	/**
	 * Present from a successful launch() to stop(): still there while no daemon runs, the daemon ended without
	 * being asked to. In Jeedom's tmp folder, emptied at boot: a reboot is not taken for a crash.
	 */
	private static function runningFile() {
		return jeedom::getTmpFolder('enphase') . '/deamon.running';
	}

	/** The last daemon started ended without stop() (killed, crashed, out of memory). */
	public static function endedUnexpectedly() {
		return file_exists(self::runningFile()) && self::pid() <= 0;
	}

	/**
	 * Where the daemon keeps what must survive a restart (the apikey file, tokens, counters, diagnostics, its
	 * socket): the plugin's data folder, 0700. Jeedom has no lasting folder outside the web root (its tmp folder
	 * is emptied at boot) and its backups take this one along, so it stays here: data/.htaccess keeps Apache
	 * from serving it, the documentation gives nginx's rule. The core's backups and updates chmod 775 the whole
	 * web root: each call puts the folder back to 0700.
	 */
	public static function dataDir() {
		$dir = __DIR__ . '/../../data';
		if (!is_dir($dir)) {
			@mkdir($dir, 0700, true);
		}
		// Without it the daemon would start with paths like "/apikey" and die on its arguments: say why here.
		if (!is_dir($dir) || !is_writable($dir)) {
			throw new Exception(sprintf(__('Le dossier de données du plugin (%s) ne peut pas être créé ou modifié : donnez au serveur web (www-data) le droit d\'écrire dans le dossier du plugin', __FILE__), 'plugins/enphase/data'));
		}
		clearstatcache(true, $dir);
		if ((fileperms($dir) & 0777) != 0700) {
			chmod($dir, 0700);
		}
		return realpath($dir);
	}

	/**
	 * The apikey opens the daemon's socket (controls included): it reaches the daemon in a file only Jeedom's
	 * user can read, never on its command line, which every local user can see.
	 */
	public static function writeApikeyFile() {
		$file = self::dataDir() . '/apikey';
		$old = umask(0077);
		file_put_contents($file, jeedom::getApiKey('enphase'));
		umask($old);
		chmod($file, 0600);
		return $file;
	}

	public static function callbackUrl() {
		return network::getNetworkAccess('internal', 'http:127.0.0.1:port:comp') . '/plugins/enphase/core/php/jeeEnphase.php';
	}

	/** The daemon knows debug, info, warning and error. */
	public static function logLevel() {
		$level = log::convertLogLevel(log::getLogLevel('enphase'));
		$map = array('debug' => 'debug', 'info' => 'info', 'notice' => 'info', 'warning' => 'warning');
		return isset($map[$level]) ? $map[$level] : 'error';
	}

	/**
	 * The running daemon's pid, or 0. A pid file is believed only when its process is our daemon: the pid of a
	 * daemon gone is reused by any program, and the core kills what deamon_stop names (with -9). A stale file
	 * goes, so deamon_info says nok and the core's watchdog starts the daemon again.
	 */
	public static function pid() {
		$pidFile = self::pidFile();
		if (!file_exists($pidFile)) {
			return 0;
		}
		$pid = (int) trim((string) @file_get_contents($pidFile));
		if ($pid > 0 && self::isOurDaemon($pid, (int) @filemtime($pidFile))) {
			return $pid;
		}
		@unlink($pidFile);
		return 0;
	}

	/** The process runs our script (launch() gives its full path as an argument) and is not younger than the pid file. */
	private static function isOurDaemon($_pid, $_pidFileTime) {
		$cmdline = @file_get_contents('/proc/' . $_pid . '/cmdline');
		if (!is_string($cmdline) || !in_array(self::script(), explode("\0", $cmdline), true)) {
			return false;
		}
		$startedAt = self::startedAt($_pid);
		// The daemon writes its pid file once started: a file older than the process named an earlier one.
		return $startedAt === null || $_pidFileTime >= $startedAt - 2;
	}

	/** When a process started (Unix time, to the second), from /proc; null when unknown. */
	private static function startedAt($_pid) {
		$stat = @file_get_contents('/proc/' . $_pid . '/stat');
		$system = @file_get_contents('/proc/stat');
		if (!is_string($stat) || !is_string($system) || !preg_match('/^btime (\d+)$/m', $system, $boot)) {
			return null;
		}
		// After the command's name (in parentheses, may hold spaces) come fields 3...; field 22 is the start
		// in clock ticks since boot, and Linux fixes those at 100 a second for user space.
		$fields = explode(' ', substr($stat, strrpos($stat, ')') + 2));
		return isset($fields[19]) ? (int) $boot[1] + intdiv((int) $fields[19], 100) : null;
	}

	/** The script's full path: what it is started and killed by. */
	private static function script() {
		return realpath(__DIR__ . '/../../resources/enphased') . '/enphased.py';
	}

	/** Starts the daemon and hands it the configuration; false when it did not start. */
	public static function launch() {
		// Jeedom's time zone: the daemon's log lines and its "today" (local midnight) follow the house's clock.
		$cmd = 'TZ=' . escapeshellarg(date_default_timezone_get()) . ' ';
		$cmd .= system::getCmdPython3('enphase') . escapeshellarg(self::script());
		$cmd .= ' --loglevel ' . self::logLevel();
		$cmd .= ' --socket ' . escapeshellarg(self::socketPath());
		$cmd .= ' --callback ' . escapeshellarg(self::callbackUrl());
		$cmd .= ' --apikey-file ' . escapeshellarg(self::writeApikeyFile());
		$cmd .= ' --pid ' . escapeshellarg(self::pidFile());
		$cmd .= ' --datadir ' . escapeshellarg(self::dataDir());
		log::add('enphase', 'info', __('Lancement du démon', __FILE__));
		exec($cmd . ' >> ' . escapeshellarg(log::getPathToLog('enphase_daemon')) . ' 2>&1 &');
		$started = false;
		for ($i = 0; $i < 30 && !$started; $i++) {
			sleep(1);
			$started = (self::pid() > 0);
		}
		if (!$started) {
			log::add('enphase', 'error', __('Impossible de lancer le démon, consultez le log enphase_daemon', __FILE__), 'unableStartDeamon');
			return false;
		}
		message::removeAll('enphase', 'unableStartDeamon');
		touch(self::runningFile());
		self::configureAtStart();
		return true;
	}

	/**
	 * The first configuration of a daemon just started. It may answer 'busy' (every connection slot held, by
	 * connections that say nothing as long as the daemon's message deadline at most): that is retried for twice
	 * that deadline, not taken as final, or the daemon would stay without gateways until the next save. So is a
	 * socket not there yet (the pid file comes once it listens, but nothing else waits on it).
	 */
	public static function configureAtStart() {
		$timeouts = self::timeouts();
		$until = microtime(true) + 2 * (isset($timeouts['message_s']) ? (float) $timeouts['message_s'] : 0);
		while (true) {
			try {
				self::configure();
				return true;
			} catch (enphaseDaemonError $e) {
				if (!in_array($e->getReason(), array('busy', 'daemon_not_running'), true)) {
					log::add('enphase', 'error', $e->getMessage());
					return false;
				}
				if (microtime(true) > $until) {
					log::add('enphase', 'error', __('Le démon ne répond pas sur son socket', __FILE__) . ' ' . self::socketPath() . ' : ' . $e->getMessage());
					return false;
				}
				usleep(250000);
			}
		}
	}

	public static function stop() {
		$pid = self::pid();
		if ($pid > 0) {
			try {
				// A clean stop lets the daemon save its tokens and counters.
				self::request(array('action' => 'stop'));
				for ($i = 0; $i < 10 && self::pid() > 0; $i++) {
					usleep(300000);
				}
			} catch (enphaseDaemonError $e) {
			}
			if (self::pid() > 0) {
				system::kill($pid);
			}
		}
		// By the script's full path, as started above: the name alone also matched every other copy of the
		// daemon on the machine (a second Jeedom, test runs), and the core kills those with -9.
		system::kill(self::script());
		@unlink(self::pidFile());
		@unlink(self::runningFile());
	}

	/** Sends the gateways to read to a running daemon; throws enphaseDaemonError when it cannot. */
	public static function configure() {
		$forget = self::forgotten();
		self::request(array(
			'action' => 'configure',
			'gateways' => enphaseGateway::configurations(),
			'general_s' => enphaseGateway::defaultCadence('general_s'),
			'devices_s' => enphaseGateway::defaultCadence('devices_s'),
			'forget' => $forget,
		));
		if (count($forget) > 0) {
			// The daemon removes their files: they need no more telling.
			config::save('forget', array_values(array_diff(self::forgotten(), $forget)), 'enphase');
		}
		log::add('enphase', 'info', __('Configuration envoyée au démon', __FILE__));
	}

	/** Gateways removed from Jeedom whose files (token, inventory, counters) the daemon has not removed yet. */
	private static function forgotten() {
		$ids = config::byKey('forget', 'enphase', array());
		return is_array($ids) ? array_values(array_map('strval', $ids)) : array();
	}

	/**
	 * A gateway was removed: the daemon stops reading it and removes its files at the next configure (at once when
	 * it runs, else when it starts).
	 */
	public static function forget($_gatewayId) {
		config::save('forget', array_values(array_unique(array_merge(self::forgotten(), array((string) $_gatewayId)))), 'enphase');
		self::configurationChanged();
	}

	/** A running daemon learns the new list of gateways at once (a stopped one reads it when it starts). */
	public static function configurationChanged() {
		if (self::pid() <= 0) {
			return;
		}
		try {
			self::configure();
		} catch (enphaseDaemonError $e) {
			log::add('enphase', 'warning', __('Configuration non transmise au démon :', __FILE__) . ' ' . $e->getMessage());
		}
	}

	/** The socket's timeouts, stated once for PHP and the daemon (resources/enphased/jeedom/timeouts.json). */
	private static function timeouts() {
		$timeouts = json_decode((string) @file_get_contents(__DIR__ . '/../../resources/enphased/jeedom/timeouts.json'), true);
		return is_array($timeouts) ? $timeouts : array();
	}

	/**
	 * How long PHP waits for the daemon's answer to an action: the daemon's own deadline and ours are stated
	 * once, for both, in resources/enphased/jeedom/timeouts.json.
	 */
	public static function answerWait($_action) {
		$timeouts = self::timeouts();
		if (!isset($timeouts['actions'][$_action]['php_s'])) {
			throw new Exception(__('Délai d\'attente inconnu pour cette action du démon (timeouts.json) :', __FILE__) . ' ' . $_action);
		}
		return (int) $timeouts['actions'][$_action]['php_s'];
	}

	/**
	 * One request to the daemon: a short connection to its socket carrying one JSON line, read one JSON line
	 * back, waiting answerWait() for it ($_waitS: tests only). The apikey goes along all the same: a second lock,
	 * should the folder ever be opened. Returns the decoded answer; throws enphaseDaemonError when the daemon is
	 * not there or says no.
	 */
	public static function request(array $_message, $_waitS = null) {
		$wait = ($_waitS !== null) ? $_waitS : self::answerWait(isset($_message['action']) ? (string) $_message['action'] : '');
		$_message['apikey'] = jeedom::getApiKey('enphase');
		$socket = @stream_socket_client('unix://' . self::socketPath(), $errno, $errstr, 3);
		if ($socket === false) {
			throw new enphaseDaemonError('daemon_not_running');
		}
		stream_set_timeout($socket, (int) $wait);
		fwrite($socket, json_encode($_message) . "\n");
		@stream_socket_shutdown($socket, STREAM_SHUT_WR);
		$line = fgets($socket);
		$timedOut = stream_get_meta_data($socket)['timed_out'];
		fclose($socket);
		if ($timedOut) {
			throw new enphaseDaemonError('no_answer');
		}
		$answer = is_string($line) ? json_decode($line, true) : null;
		if (!is_array($answer)) {
			throw new enphaseDaemonError('bad_answer');
		}
		if (empty($answer['ok'])) {
			$error = (isset($answer['error']) && is_array($answer['error'])) ? $answer['error'] : array();
			// Its English message is the daemon's log's; the user reads PHP's sentence for its code and reason.
			throw new enphaseDaemonError(isset($error['code']) ? (string) $error['code'] : 'unknown', isset($error['reason']) ? (string) $error['reason'] : '');
		}
		return $answer;
	}

	/**
	 * The diagnostics report of a gateway equipment: the daemon records the gateway's answers, redacted (no
	 * serial, address, token or password; docs/protocol.md), into a zip in the plugin's data folder. Returns
	 * its path once checked to be a report there; throws enphaseDaemonError, or Exception for another equipment.
	 */
	public static function diagnosticsReport($_eqLogicId) {
		$eqLogic = eqLogic::byId($_eqLogicId);
		if (!is_object($eqLogic) || $eqLogic->getEqType_name() != 'enphase' || $eqLogic->getConfiguration('kind') != 'gateway') {
			throw new Exception(__('Le rapport de diagnostic se demande depuis une passerelle', __FILE__));
		}
		$gatewayId = enphaseGateway::idOf($eqLogic);
		// Every endpoint, one at a time: a slow firmware takes minutes.
		$answer = self::request(array('action' => 'diagnostics', 'gateway' => $gatewayId));
		$file = isset($answer['file']) && is_string($answer['file']) ? realpath($answer['file']) : false;
		$folder = realpath(self::dataDir() . '/diagnostics');
		if ($file === false || $folder === false || strpos($file, $folder . '/') !== 0 || substr($file, -4) != '.zip') {
			throw new enphaseDaemonError('bad_answer');
		}
		log::add('enphase', 'info', __('Rapport de diagnostic créé :', __FILE__) . ' ' . basename($file));
		return $file;
	}
}
