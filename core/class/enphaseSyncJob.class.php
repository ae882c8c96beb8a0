<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Synchronize in the background: the page's request starts a job and is answered at once; a PHP process of the
 * job's own (core/php/enphaseSync.php) asks the daemon and waits for its answer, while the callback creates
 * the equipment (enphaseInventory::apply, which counts them here); the page asks progress() every second and
 * shows it until the job is done (a 600-inverter site takes minutes on a small box).
 * One job per scope (one gateway, or every gateway); a second Synchronize while one runs follows that one.
 * A job is a small JSON file in Jeedom's tmp folder, changed under a lock by those three processes.
 */
class enphaseSyncJob {
	/** A job whose process never said it runs (PHP could not start it) is given up after this. */
	const START_TIMEOUT_S = 30;
	/** A daemon that ran out of time goes on: the job follows what arrives while something does, this long at most between two. */
	const QUIET_S = 120;
	/** The background process, as Jeedom's cron runs its tasks: the CLI php. */
	const SCRIPT = 'enphaseSync.php';

	/** The scope of a gateway id ('' = every gateway), as a file name. */
	private static function scope($_gatewayId) {
		$id = (string) $_gatewayId;
		if ($id === '') {
			return 'all';
		}
		return preg_match('/^[0-9A-Za-z_-]{1,64}$/', $id) ? 'gw-' . $id : 'gw-' . substr(sha1($id), 0, 16);
	}

	private static function file($_scope) {
		return jeedom::getTmpFolder('enphase') . '/sync-' . $_scope . '.json';
	}

	private static function read($_scope) {
		$job = is_file(self::file($_scope)) ? json_decode((string) file_get_contents(self::file($_scope)), true) : null;
		return is_array($job) ? $job : null;
	}

	/** Reads, changes with $_change (job or null -> job or null: unchanged) and writes a job, under the jobs' lock. */
	private static function update($_scope, callable $_change) {
		$lock = fopen(jeedom::getTmpFolder('enphase') . '/sync.lock', 'c');
		flock($lock, LOCK_EX);
		try {
			$job = $_change(self::read($_scope));
			if ($job !== null) {
				$file = self::file($_scope);
				file_put_contents($file . '.tmp', json_encode($job));
				rename($file . '.tmp', $file);
			}
			return $job;
		} finally {
			flock($lock, LOCK_UN);
			fclose($lock);
		}
	}

	/** Whether the job's process runs (or may still be starting). */
	private static function alive(array $_job) {
		if ($_job['state'] == 'starting') {
			return time() - (int) $_job['started'] < self::START_TIMEOUT_S;
		}
		if ($_job['state'] != 'running') {
			return false;
		}
		// Its pid, and not another process that took the pid of a job that died.
		$cmdline = @file_get_contents('/proc/' . (int) $_job['pid'] . '/cmdline');
		return is_string($cmdline) && strpos($cmdline, self::SCRIPT) !== false;
	}

	/**
	 * Starts the synchronization of a gateway ('' = every gateway), or follows the one already running for it.
	 * Returns what progress() returns, or array('ok' => false, 'message' => ...) when it cannot start.
	 */
	public static function start($_gatewayId) {
		$problem = enphaseSync::problem($_gatewayId);
		if ($problem != '') {
			return array('ok' => false, 'message' => $problem);
		}
		$scope = self::scope($_gatewayId);
		$started = false;
		$job = self::update($scope, function ($_job) use (&$started, $_gatewayId) {
			if (is_array($_job) && self::alive($_job)) {
				return null;
			}
			$started = true;
			return array('id' => bin2hex(random_bytes(8)), 'gateway' => (string) $_gatewayId, 'state' => 'starting',
				'started' => time(), 'pid' => 0, 'found' => 0, 'created' => 0, 'commands' => 0);
		});
		if (!$started) {
			$job = self::read($scope);
		} else {
			static::launch($scope, $job['id']);
		}
		return self::describe($job);
	}

	/** The job's own process, in the background (its output is not kept: it logs what matters). */
	protected static function launch($_scope, $_id) {
		system::php(escapeshellarg(realpath(__DIR__ . '/../php') . '/' . self::SCRIPT) . ' ' . escapeshellarg($_scope) . ' '
			. escapeshellarg($_id) . ' > /dev/null 2>&1 &');
	}

	/** The job's process: asks the daemon (enphaseSync::ask) and keeps its report for the page. */
	public static function run($_scope, $_id) {
		$job = self::update($_scope, function ($_job) use ($_id) {
			if (!is_array($_job) || $_job['id'] !== $_id || $_job['state'] != 'starting') {
				return null;
			}
			$_job['state'] = 'running';
			$_job['pid'] = getmypid();
			return $_job;
		});
		if ($job === null) {
			return;
		}
		try {
			$result = enphaseSync::ask($job['gateway']);
			if (!$result['ok'] && isset($result['reason']) && $result['reason'] == 'timeout') {
				$result = self::followLate($_scope, $_id, $result);
			}
		} catch (Throwable $e) {
			log::add('enphase', 'error', __('Synchronisation interrompue :', __FILE__) . ' ' . $e->getMessage());
			$result = array('ok' => false, 'message' => $e->getMessage());
		}
		self::update($_scope, function ($_job) use ($_id, $result) {
			if (!is_array($_job) || $_job['id'] !== $_id) {
				return null;
			}
			$_job['state'] = 'done';
			$_job['ok'] = (bool) $result['ok'];
			$_job['message'] = (string) $result['message'];
			$_job['kinds'] = isset($result['kinds']) ? $result['kinds'] : array();
			return $_job;
		});
	}

	/**
	 * The daemon did not finish in its time (a big site on a loaded box) but goes on, its callback creating the
	 * equipment: the job follows until every equipment of the inventory arrived, and reports what it counted;
	 * or until nothing arrived for QUIET_S, and says the daemon's sentence.
	 */
	private static function followLate($_scope, $_id, array $_timedOut) {
		$last = -1;
		$since = time();
		while (time() - $since < self::QUIET_S) {
			$job = self::read($_scope);
			if (!is_array($job) || $job['id'] !== $_id) {
				break;
			}
			$total = isset($job['totals']) ? array_sum($job['totals']) : 0;
			if ($total > 0 && $job['found'] >= $total) {
				return array('ok' => true, 'kinds' => array(), 'message' => sprintf(__('Synchronisation terminée : %d équipement(s) reçu(s), dont %d créé(s), %d commande(s) créée(s)', __FILE__),
					$job['found'], $job['created'], $job['commands']));
			}
			if ($job['found'] != $last) {
				$last = $job['found'];
				$since = time();
			}
			sleep(2);
		}
		return $_timedOut;
	}

	/**
	 * Where the job $_id of this gateway ('' = every gateway) is: array('ok', 'job', 'done', 'message'): while it
	 * runs, 'message' says how far it got; once done, what it found and created (or why it failed).
	 */
	public static function progress($_gatewayId, $_id) {
		$job = self::read(self::scope($_gatewayId));
		if (!is_array($job) || $job['id'] !== (string) $_id) {
			return array('ok' => false, 'job' => (string) $_id, 'done' => true,
				'message' => __('Cette synchronisation n’existe plus : relancez-la', __FILE__));
		}
		if ($job['state'] != 'done' && !self::alive($job)) {
			$job['state'] = 'done';
			$job['ok'] = false;
			$job['message'] = __('La synchronisation s’est interrompue avant la fin : consultez le log enphase, puis relancez-la', __FILE__);
		}
		return self::describe($job);
	}

	private static function describe(array $_job) {
		if ($_job['state'] == 'done') {
			return array('ok' => $_job['ok'], 'job' => $_job['id'], 'done' => true, 'message' => $_job['message'],
				'kinds' => isset($_job['kinds']) ? $_job['kinds'] : array());
		}
		$total = isset($_job['totals']) ? array_sum($_job['totals']) : 0;
		if ($_job['found'] == 0) {
			$message = __('Synchronisation en cours : la passerelle est interrogée, cela peut prendre une minute…', __FILE__);
		} elseif ($total >= $_job['found']) {
			$message = sprintf(__('Synchronisation en cours : %d équipement(s) reçu(s) sur %d, dont %d créé(s), %d commande(s) créée(s)…', __FILE__),
				$_job['found'], $total, $_job['created'], $_job['commands']);
		} else {
			$message = sprintf(__('Synchronisation en cours : %d équipement(s) reçu(s) de la passerelle dont %d créé(s), %d commande(s) créée(s)…', __FILE__),
				$_job['found'], $_job['created'], $_job['commands']);
		}
		return array('ok' => true, 'job' => $_job['id'], 'done' => false, 'message' => $message);
	}

	/**
	 * enphaseInventory::apply() applied part of a gateway's inventory, of $_count equipment in all (0: not said):
	 * the jobs that wait for it count it.
	 */
	public static function counted($_gatewayId, array $_report, $_count = 0) {
		$found = array_sum(array_column($_report['kinds'], 'found'));
		if ($found == 0) {
			return;
		}
		foreach (array(self::scope($_gatewayId), self::scope('')) as $scope) {
			if (!is_file(self::file($scope))) {
				continue;
			}
			self::update($scope, function ($_job) use ($found, $_report, $_count, $_gatewayId) {
				if (!is_array($_job) || !in_array($_job['state'], array('starting', 'running'))) {
					return null;
				}
				if ($_count > 0) {
					$_job['totals'][(string) $_gatewayId] = $_count;
				}
				$_job['found'] += $found;
				$_job['created'] += array_sum(array_column($_report['kinds'], 'created'));
				$_job['commands'] += $_report['commands_created'];
				return $_job;
			});
		}
	}
}
