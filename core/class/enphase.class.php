<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the
 * implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU Affero General Public
 * License for more details.
 */

require_once __DIR__ . '/../../../../core/php/core.inc.php';
require_once __DIR__ . '/enphaseGateway.class.php';

/*
 * The PHP half stays thin: it keeps the configuration, starts the daemon, creates the equipment and commands
 * that the daemon describes (the catalog lives in Python) and applies the values it sends. It never talks to
 * the gateway. The daemon <-> PHP protocol is in docs/protocol.md.
 */
class enphase extends eqLogic {
	/** Secrets of the plugin configuration: the core stores them encrypted. */
	public static $_encryptConfigKey = array('password', 'token', 'enlighten_password');

	const DEFAULT_SOCKET_PORT = 55066;
	const DEFAULT_GENERAL_S = 60;
	const DEFAULT_DEVICES_S = 300;
	/** Configuration id of the gateway set on the plugin configuration page (one gateway per plugin for now). */
	const SINGLE_GATEWAY_ID = 'default';
	/** Error codes that only the user can fix: they also become a Jeedom message. */
	const USER_ACTION_CODES = array('auth_failed', 'token_expired', 'two_factor', 'login_throttled');
	/** A pasted token is announced this many days before it expires. */
	const TOKEN_WARNING_DAYS = 14;
	/** Decimals of numeric values (core "historizeRound": rounding of the value and of its scaled display). */
	const DISPLAY_DECIMALS = 2;
	/** Equipment configuration keys that belong to the plugin, never overwritten by the daemon's description. */
	const RESERVED_CONFIGURATION = array('kind', 'gateway_id', 'gateway_serial', 'status', 'createtime', 'updatetime',
		'host', 'auth_method', 'enlighten_username', 'serial', 'general_s', 'devices_s', 'password', 'token', 'enlighten_password', 'widget');

	/*     * ********************** Configuration ************************* */

	public static function socketPort() {
		$port = (int) config::byKey('socketport', __CLASS__, self::DEFAULT_SOCKET_PORT);
		return ($port >= 1024 && $port <= 65535) ? $port : self::DEFAULT_SOCKET_PORT;
	}

	private static function cadence($_key, $_default) {
		return enphaseGateway::cadence(config::byKey($_key, __CLASS__, $_default), $_default);
	}

	/**
	 * Why the daemon cannot run with the current configuration, in words the user can act on; '' when it can:
	 * at least one gateway (plugin configuration or gateway equipment) must be readable.
	 */
	public static function configurationProblem() {
		$gateways = enphaseGateway::all();
		if (count($gateways) == 0) {
			return enphaseGateway::problem(enphaseGateway::pluginSettings(), false);
		}
		$first = '';
		foreach ($gateways as $id => $gateway) {
			$problem = enphaseGateway::problem($gateway['settings'], $gateway['eqLogic'] !== null);
			if ($problem == '') {
				return '';
			}
			if ($first == '') {
				$first = ($gateway['eqLogic'] !== null) ? $gateway['eqLogic']->getHumanName() . ' : ' . $problem : $problem;
			}
		}
		return $first;
	}

	/**
	 * The gateways the daemon must read, as the protocol's GATEWAY objects (secrets included: this only travels
	 * over the loopback socket): the plugin configuration's ("default") and every enabled gateway equipment
	 * that carries its own address (its id is the equipment's).
	 */
	public static function gatewayConfigurations() {
		$general = self::cadence('general_s', self::DEFAULT_GENERAL_S);
		$devices = self::cadence('devices_s', self::DEFAULT_DEVICES_S);
		$gateways = array();
		foreach (enphaseGateway::all() as $id => $gateway) {
			$gateways[] = enphaseGateway::describe($id, $gateway['settings'], $general, $devices);
		}
		return $gateways;
	}

	/** Sends the configuration to a running daemon; throws enphaseDaemonError when it cannot. */
	public static function sendConfiguration() {
		self::daemonRequest(array(
			'action' => 'configure',
			'gateways' => self::gatewayConfigurations(),
			'general_s' => self::cadence('general_s', self::DEFAULT_GENERAL_S),
			'devices_s' => self::cadence('devices_s', self::DEFAULT_DEVICES_S),
		), 30);
		log::add(__CLASS__, 'info', __('Configuration envoyée au démon', __FILE__));
	}

	/**
	 * Stores the secrets typed on the configuration page. Empty fields keep the stored value (the page never
	 * receives secrets back); $_clear lists the secrets to forget.
	 */
	public static function saveSecrets(array $_secrets, array $_clear = array()) {
		foreach (self::$_encryptConfigKey as $key) {
			if (in_array($key, $_clear)) {
				config::remove($key, __CLASS__);
			} elseif (isset($_secrets[$key]) && trim($_secrets[$key]) != '') {
				config::save($key, trim($_secrets[$key]), __CLASS__);
			}
		}
	}

	/** Which secrets are stored, never their values: what the configuration page may show. */
	public static function secretsState() {
		$state = array();
		foreach (self::$_encryptConfigKey as $key) {
			$state[$key] = (config::byKey($key, __CLASS__) != '');
		}
		return $state;
	}

	/*     * ************************** Daemon **************************** */

	public static function pidFile() {
		return jeedom::getTmpFolder(__CLASS__) . '/deamon.pid';
	}

	/** Where the daemon keeps what must survive a restart (fetched tokens, counter offsets). */
	public static function dataDir() {
		$dir = __DIR__ . '/../../data';
		if (!is_dir($dir)) {
			mkdir($dir, 0770, true);
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
		file_put_contents($file, jeedom::getApiKey(__CLASS__));
		umask($old);
		chmod($file, 0600);
		return $file;
	}

	public static function callbackUrl() {
		return network::getNetworkAccess('internal', 'http:127.0.0.1:port:comp') . '/plugins/enphase/core/php/jeeEnphase.php';
	}

	/** The daemon knows debug, info, warning and error. */
	public static function daemonLogLevel() {
		$level = log::convertLogLevel(log::getLogLevel(__CLASS__));
		$map = array('debug' => 'debug', 'info' => 'info', 'notice' => 'info', 'warning' => 'warning');
		return isset($map[$level]) ? $map[$level] : 'error';
	}

	private static function daemonPid() {
		$pidFile = self::pidFile();
		if (!file_exists($pidFile)) {
			return 0;
		}
		$pid = (int) trim(file_get_contents($pidFile));
		if ($pid > 0 && @posix_getsid($pid) !== false) {
			return $pid;
		}
		@unlink($pidFile);
		return 0;
	}

	public static function deamon_info() {
		$return = array('log' => __CLASS__, 'state' => 'nok', 'launchable' => 'ok', 'launchable_message' => '');
		if (self::daemonPid() > 0) {
			$return['state'] = 'ok';
		}
		$problem = self::configurationProblem();
		if ($problem != '') {
			$return['launchable'] = 'nok';
			$return['launchable_message'] = $problem;
		}
		return $return;
	}

	public static function deamon_start() {
		self::deamon_stop();
		$info = self::deamon_info();
		if ($info['launchable'] != 'ok') {
			throw new Exception(__('Veuillez vérifier la configuration', __FILE__) . ' : ' . $info['launchable_message']);
		}
		// Jeedom's time zone: the daemon's log lines and its "today" (local midnight) follow the house's clock.
		$cmd = 'TZ=' . escapeshellarg(date_default_timezone_get()) . ' ';
		$cmd .= system::getCmdPython3(__CLASS__) . escapeshellarg(realpath(__DIR__ . '/../../resources/enphased') . '/enphased.py');
		$cmd .= ' --loglevel ' . self::daemonLogLevel();
		$cmd .= ' --socketport ' . self::socketPort();
		$cmd .= ' --callback ' . escapeshellarg(self::callbackUrl());
		$cmd .= ' --apikey-file ' . escapeshellarg(self::writeApikeyFile());
		$cmd .= ' --pid ' . escapeshellarg(self::pidFile());
		$cmd .= ' --datadir ' . escapeshellarg(self::dataDir());
		log::add(__CLASS__, 'info', __('Lancement du démon', __FILE__));
		exec($cmd . ' >> ' . escapeshellarg(log::getPathToLog('enphase_daemon')) . ' 2>&1 &');
		$started = false;
		for ($i = 0; $i < 30 && !$started; $i++) {
			sleep(1);
			$started = (self::daemonPid() > 0);
		}
		if (!$started) {
			log::add(__CLASS__, 'error', __('Impossible de lancer le démon, consultez le log enphase_daemon', __FILE__), 'unableStartDeamon');
			return false;
		}
		message::removeAll(__CLASS__, 'unableStartDeamon');
		// The pid file comes before the socket: give the daemon a few seconds to listen.
		for ($i = 0; $i < 10; $i++) {
			try {
				self::sendConfiguration();
				return true;
			} catch (enphaseDaemonError $e) {
				if ($e->getReason() != 'daemon_not_running') {
					log::add(__CLASS__, 'error', $e->getMessage());
					return true;
				}
				sleep(1);
			}
		}
		log::add(__CLASS__, 'error', __('Le démon ne répond pas sur son port', __FILE__) . ' ' . self::socketPort());
		return true;
	}

	public static function deamon_stop() {
		$pid = self::daemonPid();
		if ($pid > 0) {
			try {
				// A clean stop lets the daemon save its tokens and counters.
				self::daemonRequest(array('action' => 'stop'), 5);
				for ($i = 0; $i < 10 && self::daemonPid() > 0; $i++) {
					usleep(300000);
				}
			} catch (enphaseDaemonError $e) {
			}
			if (self::daemonPid() > 0) {
				system::kill($pid);
			}
		}
		// By the script's full path, as started above: the name alone also matched every other copy of the
		// daemon on the machine (a second Jeedom, test runs), and the core kills those with -9.
		system::kill(realpath(__DIR__ . '/../../resources/enphased') . '/enphased.py');
		@unlink(self::pidFile());
	}

	/**
	 * One request to the daemon: a short TCP connection to 127.0.0.1 carrying one JSON line, read one JSON line
	 * back. Returns the decoded answer; throws enphaseDaemonError when the daemon is not there or says no.
	 */
	public static function daemonRequest(array $_message, $_timeout = 10) {
		$_message['apikey'] = jeedom::getApiKey(__CLASS__);
		$socket = @stream_socket_client('tcp://127.0.0.1:' . self::socketPort(), $errno, $errstr, 3);
		if ($socket === false) {
			throw new enphaseDaemonError('daemon_not_running');
		}
		stream_set_timeout($socket, (int) $_timeout);
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
			throw new enphaseDaemonError(isset($error['code']) ? (string) $error['code'] : 'unknown', isset($error['message']) ? (string) $error['message'] : '');
		}
		return $answer;
	}

	/**
	 * The sentence a user reads for an error code of the daemon or of the gateway (protocol: error.code).
	 * The daemon's own sentence (English, no secret in it) is added as the detail.
	 */
	public static function describeError($_code, $_detail = '') {
		switch ($_code) {
			case 'daemon_not_running':
				$text = __('Le démon Enphase n\'est pas démarré : démarrez-le depuis la page de configuration du plugin', __FILE__);
				break;
			case 'no_answer':
				$text = __('Le démon Enphase n\'a pas répondu à temps : consultez le log enphase_daemon', __FILE__);
				break;
			case 'timeout':
				$text = __('La passerelle n\'a pas fini à temps : la lecture continue en arrière-plan et les équipements apparaîtront d\'eux-mêmes', __FILE__);
				break;
			case 'unknown_gateway':
				$text = __('Le démon ne connaît pas cette passerelle : sauvegardez la configuration du plugin ou redémarrez le démon', __FILE__);
				break;
			case 'bad_request':
				$text = __('Le démon n\'a pas compris la demande : le plugin et le démon ne sont peut-être pas de la même version, redémarrez le démon', __FILE__);
				break;
			case 'bad_answer':
				$text = __('Le démon Enphase a répondu de façon illisible : redémarrez-le', __FILE__);
				break;
			case 'busy':
				$text = __('Le démon Enphase est occupé : réessayez dans un instant', __FILE__);
				break;
			case 'internal':
				$text = __('Le démon Enphase a échoué sur cette demande : consultez le log enphase_daemon', __FILE__);
				break;
			case 'forbidden':
				$text = __('Le démon Enphase a refusé la demande (clé API) : redémarrez-le', __FILE__);
				break;
			case 'unreachable':
				$text = __('La passerelle ne répond pas : vérifiez son adresse, qu\'elle est allumée et sur le même réseau', __FILE__);
				break;
			case 'auth_failed':
				$text = __('La passerelle refuse les identifiants : vérifiez le mot de passe (par défaut les 6 derniers caractères du numéro de série) ou le jeton', __FILE__);
				break;
			case 'token_expired':
				$text = __('Le jeton a expiré : collez un nouveau jeton ou renseignez vos identifiants Enlighten', __FILE__);
				break;
			case 'two_factor':
				$text = __('Votre compte Enlighten demande une double authentification : collez un jeton obtenu sur le site d\'Enphase', __FILE__);
				break;
			case 'login_throttled':
				$text = __('Enphase refuse pour le moment les connexions de ce compte (trop de tentatives) : patientez avant de réessayer', __FILE__);
				break;
			case 'bad_response':
				$text = __('La passerelle a donné une réponse inattendue', __FILE__);
				break;
			case 'refused':
				$text = __('La passerelle a refusé la commande', __FILE__);
				break;
			case 'not_configured':
				$text = self::configurationProblem();
				break;
			default:
				$text = __('Erreur du démon Enphase', __FILE__) . ($_code != '' ? ' (' . $_code . ')' : '');
		}
		return ($_detail != '') ? $text . ' (' . $_detail . ')' : $text;
	}

	/*     * *********************** Diagnostics ************************* */

	/**
	 * The diagnostics report of a gateway equipment: the daemon records the gateway's answers, redacted (no
	 * serial, address, token or password; docs/protocol.md), into a zip in the plugin's data folder. Returns
	 * its path once checked to be a report there; throws enphaseDaemonError, or Exception for another equipment.
	 */
	public static function diagnosticsReport($_eqLogicId) {
		$eqLogic = eqLogic::byId($_eqLogicId);
		if (!is_object($eqLogic) || $eqLogic->getEqType_name() != __CLASS__ || $eqLogic->getConfiguration('kind') != 'gateway') {
			throw new Exception(__('Le rapport de diagnostic se demande depuis une passerelle', __FILE__));
		}
		$gatewayId = (string) $eqLogic->getConfiguration('gateway_id', self::SINGLE_GATEWAY_ID);
		// Every endpoint, one at a time: a slow firmware takes minutes (the daemon gives up after 280 s).
		$answer = self::daemonRequest(array('action' => 'diagnostics', 'gateway' => $gatewayId), 300);
		$file = isset($answer['file']) && is_string($answer['file']) ? realpath($answer['file']) : false;
		$folder = realpath(self::dataDir() . '/diagnostics');
		if ($file === false || $folder === false || strpos($file, $folder . '/') !== 0 || substr($file, -4) != '.zip') {
			throw new enphaseDaemonError('bad_answer');
		}
		log::add(__CLASS__, 'info', __('Rapport de diagnostic créé :', __FILE__) . ' ' . basename($file));
		return $file;
	}

	/*     * ********************* Synchronization *********************** */

	/** How the equipment page groups the kinds: group => (label, Font Awesome icon, kinds). */
	public static function kindGroups() {
		return array(
			'gateway' => array(__('Passerelles', __FILE__), 'fas fa-broadcast-tower', array('gateway')),
			'inverter' => array(__('Micro-onduleurs', __FILE__), 'fas fa-solar-panel', array('inverter')),
			'battery' => array(__('Batteries', __FILE__), 'fas fa-car-battery', array('ac_battery', 'encharge')),
			'meter' => array(__('Compteurs', __FILE__), 'fas fa-tachometer-alt', array('meter')),
			'backup' => array(__('Secours et réseau', __FILE__), 'fas fa-house-damage', array('enpower', 'collar', 'qrelay', 'dry_contact', 'generator')),
			'other' => array(__('Autres équipements', __FILE__), 'fas fa-plug', array()),
		);
	}

	/** The group of an equipment kind on the equipment page. */
	public static function kindGroup($_kind) {
		foreach (self::kindGroups() as $group => $definition) {
			if (in_array($_kind, $definition[2])) {
				return $group;
			}
		}
		return 'other';
	}

	/** The name of an equipment kind, plural for counts ("Micro-onduleurs : 24"), singular for one equipment. */
	public static function kindLabel($_kind, $_plural = true) {
		$labels = array(
			'gateway' => array(__('Passerelle', __FILE__), __('Passerelles', __FILE__)),
			'inverter' => array(__('Micro-onduleur', __FILE__), __('Micro-onduleurs', __FILE__)),
			'ac_battery' => array(__('Batterie AC', __FILE__), __('Batteries AC', __FILE__)),
			'encharge' => array(__('Batterie IQ', __FILE__), __('Batteries IQ', __FILE__)),
			'meter' => array(__('Compteur', __FILE__), __('Compteurs', __FILE__)),
			'enpower' => array(__('Contrôleur système IQ', __FILE__), __('Contrôleurs système IQ', __FILE__)),
			'qrelay' => array(__('Relais Q', __FILE__), __('Relais Q', __FILE__)),
			'collar' => array(__('Collier compteur IQ', __FILE__), __('Colliers compteur IQ', __FILE__)),
			'dry_contact' => array(__('Contact sec', __FILE__), __('Contacts secs', __FILE__)),
			'generator' => array(__('Générateur', __FILE__), __('Générateurs', __FILE__)),
		);
		if (!isset($labels[$_kind])) {
			return $_plural ? __('Autres équipements', __FILE__) : __('Autre équipement', __FILE__);
		}
		return $labels[$_kind][$_plural ? 1 : 0];
	}

	/**
	 * Asks the daemon to probe every gateway, or the one of $_gatewayId, and applies what it found.
	 * Returns array('ok' => bool, 'message' => sentence for the user, 'kinds' => counts per kind).
	 */
	public static function sync($_gatewayId = '') {
		$_gatewayId = (string) $_gatewayId;
		if ($_gatewayId !== '') {
			$gateways = enphaseGateway::all();
			if (!isset($gateways[$_gatewayId])) {
				return array('ok' => false, 'message' => __('Renseignez l\'adresse IP ou le nom de la passerelle dans son onglet Équipement, activez-la et sauvegardez', __FILE__), 'kinds' => array());
			}
			$problem = enphaseGateway::problem($gateways[$_gatewayId]['settings'], $gateways[$_gatewayId]['eqLogic'] !== null);
		} else {
			$problem = self::configurationProblem();
		}
		if ($problem != '') {
			return array('ok' => false, 'message' => $problem, 'kinds' => array());
		}
		// The daemon delivers the inventory by callback before it answers (so that values never arrive before
		// their equipment): what this sync created is what did not exist before the request.
		$before = self::commandCounts();
		$request = array('action' => 'sync');
		if ($_gatewayId !== '') {
			$request['gateway'] = $_gatewayId;
		}
		try {
			// Probing reads slow endpoints (some firmware take tens of seconds).
			$answer = static::daemonRequest($request, 180);
		} catch (enphaseDaemonError $e) {
			log::add(__CLASS__, 'warning', __('Synchronisation impossible :', __FILE__) . ' ' . $e->getMessage());
			return array('ok' => false, 'message' => $e->getMessage(), 'kinds' => array());
		}
		$inventories = (isset($answer['inventory']) && is_array($answer['inventory'])) ? $answer['inventory'] : array();
		foreach ($inventories as $inventory) {
			if (is_array($inventory)) {
				self::applyInventory($inventory);
			}
		}
		$report = self::emptyReport();
		foreach ($inventories as $inventory) {
			$equipments = (is_array($inventory) && isset($inventory['equipments']) && is_array($inventory['equipments'])) ? $inventory['equipments'] : array();
			foreach ($equipments as $equipment) {
				$eqLogic = (is_array($equipment) && isset($equipment['logicalId'])) ? self::byLogicalId((string) $equipment['logicalId'], __CLASS__) : null;
				if (!is_object($eqLogic)) {
					continue;
				}
				$kind = $eqLogic->getConfiguration('kind');
				if (!isset($report['kinds'][$kind])) {
					$report['kinds'][$kind] = array('found' => 0, 'created' => 0);
				}
				$report['kinds'][$kind]['found']++;
				$report['kinds'][$kind]['created'] += isset($before[$eqLogic->getId()]) ? 0 : 1;
			}
		}
		foreach (self::commandCounts() as $id => $count) {
			$report['commands_created'] += $count - (isset($before[$id]) ? $before[$id] : 0);
		}
		$message = self::describeReport($report);
		// Several gateways: those that failed say why beside the others' report.
		$errors = (isset($answer['errors']) && is_array($answer['errors'])) ? $answer['errors'] : array();
		foreach ($errors as $error) {
			if (!is_array($error)) {
				continue;
			}
			$gatewayId = isset($error['gateway']) ? (string) $error['gateway'] : '';
			$message .= ' ' . self::gatewayLabel($gatewayId, self::gatewayEquipment($gatewayId)) . ' : '
				. self::describeError(isset($error['code']) ? (string) $error['code'] : '', isset($error['message']) ? (string) $error['message'] : '');
		}
		log::add(__CLASS__, 'info', $message);
		return array('ok' => true, 'message' => $message, 'kinds' => $report['kinds']);
	}

	/** Number of commands of each equipment of the plugin, by equipment id. */
	private static function commandCounts() {
		$counts = array();
		foreach (self::byType(__CLASS__) as $eqLogic) {
			$counts[$eqLogic->getId()] = count($eqLogic->getCmd());
		}
		return $counts;
	}

	private static function emptyReport() {
		return array('kinds' => array(), 'commands_created' => 0);
	}

	public static function describeReport(array $_report) {
		if (count($_report['kinds']) == 0) {
			return __('Synchronisation terminée : le démon n\'a trouvé aucun équipement', __FILE__);
		}
		$parts = array();
		foreach ($_report['kinds'] as $kind => $counts) {
			$parts[] = sprintf(__('%s : %d trouvé(s), %d créé(s)', __FILE__), self::kindLabel($kind), $counts['found'], $counts['created']);
		}
		return __('Synchronisation terminée', __FILE__) . ' : ' . implode(', ', $parts) . '. '
			. sprintf(__('%d commande(s) créée(s)', __FILE__), $_report['commands_created']);
	}

	/** The name in the language of this Jeedom, from a {"fr_FR": ..., "en_US": ...} description. */
	public static function localized($_names, $_fallback = '') {
		if (is_string($_names) && $_names != '') {
			return $_names;
		}
		if (!is_array($_names) || count($_names) == 0) {
			return $_fallback;
		}
		$language = config::byKey('language', 'core', 'fr_FR');
		foreach (array($language, 'fr_FR', 'en_US') as $candidate) {
			if (isset($_names[$candidate]) && $_names[$candidate] != '') {
				return $_names[$candidate];
			}
		}
		return (string) reset($_names);
	}

	/**
	 * Creates or completes the equipment and commands an INVENTORY describes. Never duplicates (equipment are
	 * found by logicalId, commands by logicalId within their equipment), never renames, moves, hides or deletes
	 * anything: what the user changed stays; only what is missing is added.
	 */
	public static function applyInventory(array $_inventory) {
		$report = self::emptyReport();
		$gatewayId = isset($_inventory['gateway']) ? (string) $_inventory['gateway'] : self::SINGLE_GATEWAY_ID;
		$gatewaySerial = isset($_inventory['serial']) ? (string) $_inventory['serial'] : '';
		$equipments = (isset($_inventory['equipments']) && is_array($_inventory['equipments'])) ? $_inventory['equipments'] : array();
		foreach ($equipments as $equipment) {
			if (!is_array($equipment) || !isset($equipment['logicalId']) || !is_scalar($equipment['logicalId']) || trim((string) $equipment['logicalId']) == '') {
				log::add(__CLASS__, 'warning', __('Équipement sans identifiant ignoré dans l\'inventaire', __FILE__));
				continue;
			}
			try {
				$created = false;
				$eqLogic = self::applyEquipment($equipment, $gatewayId, $gatewaySerial, $created);
				$kind = $eqLogic->getConfiguration('kind');
				if (!isset($report['kinds'][$kind])) {
					$report['kinds'][$kind] = array('found' => 0, 'created' => 0);
				}
				$report['kinds'][$kind]['found']++;
				$report['kinds'][$kind]['created'] += $created ? 1 : 0;
				$commands = (isset($equipment['commands']) && is_array($equipment['commands'])) ? $equipment['commands'] : array();
				$report['commands_created'] += $eqLogic->applyCommands($commands);
			} catch (Throwable $e) {
				log::add(__CLASS__, 'error', __('Équipement non créé', __FILE__) . ' ' . $equipment['logicalId'] . ' : ' . $e->getMessage());
			}
		}
		return $report;
	}

	private static function applyEquipment(array $_equipment, $_gatewayId, $_gatewaySerial, &$_created) {
		$logicalId = (string) $_equipment['logicalId'];
		$kind = (isset($_equipment['kind']) && is_string($_equipment['kind']) && preg_match('/^[a-z0-9_]+$/', $_equipment['kind'])) ? $_equipment['kind'] : 'other';
		$eqLogic = self::byLogicalId($logicalId, __CLASS__);
		$adopted = false;
		if (!is_object($eqLogic) && $kind == 'gateway') {
			// A gateway added by hand learns its serial from its first inventory.
			$byHand = self::gatewayEquipment($_gatewayId);
			if (is_object($byHand) && $byHand->getLogicalId() == '') {
				$byHand->setLogicalId($logicalId);
				$eqLogic = $byHand;
				$adopted = true;
			}
		}
		$_created = !is_object($eqLogic);
		if ($_created) {
			$eqLogic = new enphase();
			$eqLogic->setEqType_name(__CLASS__);
			$eqLogic->setLogicalId($logicalId);
			$eqLogic->setName(self::localized(isset($_equipment['name']) ? $_equipment['name'] : null, self::kindLabel($kind, false) . ' ' . $logicalId));
			$eqLogic->setIsEnable(1);
			$eqLogic->setIsVisible(1);
			$eqLogic->setCategory('energy', 1);
			log::add(__CLASS__, 'info', __('Nouvel équipement', __FILE__) . ' ' . $eqLogic->getName());
		}
		$before = json_encode($eqLogic->getConfiguration());
		$eqLogic->setConfiguration('kind', $kind);
		$eqLogic->setConfiguration('gateway_id', $_gatewayId);
		$eqLogic->setConfiguration('gateway_serial', $_gatewaySerial);
		if (isset($_equipment['configuration']) && is_array($_equipment['configuration'])) {
			// Facts read from the gateway (firmware, part number...): the daemon knows them better than the page.
			foreach ($_equipment['configuration'] as $key => $value) {
				if (!in_array($key, self::RESERVED_CONFIGURATION)) {
					$eqLogic->setConfiguration($key, $value);
				}
			}
		}
		if ($_created || json_encode($eqLogic->getConfiguration()) !== $before || $adopted) {
			$eqLogic->save();
		}
		return $eqLogic;
	}

	/** A command name free on this equipment (the core's unique index is equipment + name). */
	private function freeCommandName($_name, $_logicalId) {
		$candidates = array($_name, $_name . ' (' . $_logicalId . ')');
		for ($i = 2; $i < 100; $i++) {
			$candidates[] = $_name . ' ' . $i;
		}
		foreach ($candidates as $candidate) {
			if (!is_object(cmd::byEqLogicIdCmdName($this->getId(), $candidate))) {
				return $candidate;
			}
		}
		return $_name . ' ' . uniqid();
	}

	/**
	 * Creates the described commands this equipment lacks; on existing ones, fills only what is still empty.
	 * Returns the number of commands created.
	 */
	public function applyCommands(array $_commands) {
		$created = 0;
		// Info commands first: an action names the info command it sets ("value").
		usort($_commands, function ($a, $b) {
			return ((isset($a['type']) && $a['type'] == 'action') ? 1 : 0) - ((isset($b['type']) && $b['type'] == 'action') ? 1 : 0);
		});
		foreach ($_commands as $description) {
			if (!is_array($description) || !isset($description['logicalId']) || !is_scalar($description['logicalId']) || $description['logicalId'] === '') {
				continue;
			}
			if ($this->applyCommand($description)) {
				$created++;
			}
		}
		if ($this->getConfiguration('kind') == 'gateway' && !is_object($this->getCmd('action', 'refresh'))) {
			$this->applyCommand(array('logicalId' => 'refresh', 'name' => array('fr_FR' => 'Rafraîchir', 'en_US' => 'Refresh'),
				'type' => 'action', 'subType' => 'other', 'order' => 0, 'isVisible' => 1));
			$created++;
		}
		return $created;
	}

	private function applyCommand(array $_description) {
		$logicalId = (string) $_description['logicalId'];
		$type = (isset($_description['type']) && $_description['type'] == 'action') ? 'action' : 'info';
		$cmd = $this->getCmd(null, $logicalId);
		$created = !is_object($cmd);
		if ($created) {
			$cmd = new enphaseCmd();
			$cmd->setEqLogic_id($this->getId());
			$cmd->setEqType('enphase');
			$cmd->setLogicalId($logicalId);
			$cmd->setName($this->freeCommandName(self::localized(isset($_description['name']) ? $_description['name'] : null, $logicalId), $logicalId));
			$cmd->setType($type);
			$cmd->setSubType(isset($_description['subType']) ? $_description['subType'] : ($type == 'action' ? 'other' : 'string'));
			$cmd->setIsVisible(isset($_description['isVisible']) ? (int) $_description['isVisible'] : 1);
			$cmd->setIsHistorized(($type == 'info' && !empty($_description['isHistorized'])) ? 1 : 0);
			if (isset($_description['order'])) {
				$cmd->setOrder((int) $_description['order']);
			}
			if (isset($_description['template']) && $_description['template'] != '') {
				$cmd->setTemplate('dashboard', $_description['template']);
				$cmd->setTemplate('mobile', $_description['template']);
			}
		}
		// On a command that already exists, only what is still empty is filled: the user's choices stay.
		$changed = $created;
		$fill = array(
			'unit' => array('getUnite', 'setUnite'),
			'genericType' => array('getGeneric_type', 'setGeneric_type'),
		);
		foreach ($fill as $key => $accessors) {
			if (isset($_description[$key]) && $_description[$key] !== '' && ($cmd->{$accessors[0]}() === '' || $cmd->{$accessors[0]}() === null)) {
				$cmd->{$accessors[1]}($_description[$key]);
				$changed = true;
			}
		}
		// State codes (e.g. "discharging") shown in Jeedom's language; scenarios see the same label.
		if (isset($_description['valueLabels']) && is_array($_description['valueLabels'])) {
			$labels = array();
			foreach ($_description['valueLabels'] as $code => $names) {
				$labels[(string) $code] = self::localized($names, (string) $code);
			}
			if ($cmd->getConfiguration('valueLabels') != $labels) {
				$cmd->setConfiguration('valueLabels', $labels);
				$changed = true;
			}
		}
		foreach (array('minValue', 'maxValue', 'listValue') as $key) {
			if (isset($_description[$key]) && $_description[$key] !== '' && $cmd->getConfiguration($key) === '') {
				$cmd->setConfiguration($key, $_description[$key]);
				$changed = true;
			}
		}
		// The dashboard scales W, Wh, V... (kWh, MWh) and then shows every decimal: two read well everywhere.
		if ($cmd->getType() == 'info' && $cmd->getSubType() == 'numeric' && $cmd->getConfiguration('historizeRound') === '') {
			$cmd->setConfiguration('historizeRound', isset($_description['historizeRound']) ? (int) $_description['historizeRound'] : self::DISPLAY_DECIMALS);
			$changed = true;
		}
		if ($type == 'action' && isset($_description['value']) && $_description['value'] !== '' && $cmd->getValue() == '') {
			$info = $this->getCmd('info', $_description['value']);
			if (is_object($info)) {
				$cmd->setValue($info->getId());
				$changed = true;
			}
		}
		if ($changed) {
			$cmd->save();
		}
		return $created;
	}

	/*     * ************************ Callback ****************************** */

	/** Applies the events of one callback POST; one bad event does not stop the others. */
	public static function handleEvents(array $_events) {
		foreach ($_events as $event) {
			$type = (is_array($event) && isset($event['type'])) ? (string) $event['type'] : '';
			try {
				switch ($type) {
					case 'inventory':
						$report = self::applyInventory($event);
						if ($report['commands_created'] > 0 || count(array_filter(array_column($report['kinds'], 'created'))) > 0) {
							log::add(__CLASS__, 'info', self::describeReport($report));
						}
						break;
					case 'values':
						self::applyValues($event);
						break;
					case 'status':
						self::applyStatus($event);
						break;
					default:
						log::add(__CLASS__, 'info', __('Évènement inconnu ignoré :', __FILE__) . ' ' . substr($type, 0, 40));
				}
			} catch (Throwable $e) {
				log::add(__CLASS__, 'error', __('Évènement non appliqué', __FILE__) . ' (' . $type . ') : ' . $e->getMessage());
			}
		}
	}

	/** VALUES: {eqLogicalId: {cmdLogicalId: value}}; the core fires an event only when a value changes. */
	public static function applyValues(array $_event) {
		$updated = 0;
		$values = (isset($_event['values']) && is_array($_event['values'])) ? $_event['values'] : array();
		foreach ($values as $eqLogicalId => $commands) {
			$eqLogic = self::byLogicalId((string) $eqLogicalId, __CLASS__);
			if (!is_object($eqLogic)) {
				log::add(__CLASS__, 'debug', __('Valeurs d\'un équipement inconnu ignorées (synchronisez) :', __FILE__) . ' ' . $eqLogicalId);
				continue;
			}
			if (!is_array($commands)) {
				continue;
			}
			foreach ($commands as $cmdLogicalId => $value) {
				// The core turns null into 0: an unknown value must leave the last one in place.
				if ($value === null || is_array($value)) {
					continue;
				}
				if (is_bool($value)) {
					$value = $value ? 1 : 0;
				}
				$cmd = $eqLogic->getCmd('info', (string) $cmdLogicalId);
				if (!is_object($cmd)) {
					continue;
				}
				$labels = $cmd->getConfiguration('valueLabels');
				if (is_array($labels) && is_string($value) && isset($labels[$value])) {
					$value = $labels[$value];
				}
				if ($eqLogic->checkAndUpdateCmd($cmd, $value)) {
					$updated++;
				}
			}
		}
		return $updated;
	}

	/** The gateway equipment of a configured gateway, by serial or else by configuration id. */
	public static function gatewayEquipment($_gatewayId, $_serial = '') {
		if ($_serial != '') {
			$eqLogic = self::byLogicalId($_serial, __CLASS__);
			if (is_object($eqLogic)) {
				return $eqLogic;
			}
		}
		foreach (self::byType(__CLASS__) as $eqLogic) {
			if ($eqLogic->getConfiguration('kind') == 'gateway' && (string) $eqLogic->getConfiguration('gateway_id') === (string) $_gatewayId) {
				return $eqLogic;
			}
		}
		return null;
	}

	/** STATUS: kept for the pages, shown on the gateway equipment, and a Jeedom message when the user must act. */
	public static function applyStatus(array $_event) {
		$gatewayId = isset($_event['gateway']) ? (string) $_event['gateway'] : self::SINGLE_GATEWAY_ID;
		$status = array('updated' => time());
		foreach (array('serial', 'reachable', 'firmware', 'auth', 'token_expires', 'last_success', 'error') as $key) {
			$status[$key] = isset($_event[$key]) ? $_event[$key] : null;
		}
		$code = (is_array($status['error']) && isset($status['error']['code'])) ? (string) $status['error']['code'] : '';
		$detail = (is_array($status['error']) && isset($status['error']['message'])) ? (string) $status['error']['message'] : '';
		// The sentence the pages show, in this Jeedom's language.
		$status['problem'] = ($code != '') ? self::describeError($code, $detail) : '';
		$previous = config::byKey('status::' . $gatewayId, __CLASS__, array());
		config::save('status::' . $gatewayId, $status, __CLASS__);
		$eqLogic = self::gatewayEquipment($gatewayId, (string) $status['serial']);
		if (is_object($eqLogic)) {
			$eqLogic->setConfiguration('status', $status);
			if ($status['firmware'] != '') {
				$eqLogic->setConfiguration('firmware', $status['firmware']);
			}
			$eqLogic->save();
		}
		$previousCode = (is_array($previous) && isset($previous['error']['code'])) ? (string) $previous['error']['code'] : '';
		if ($code != $previousCode) {
			// Logged when it changes, not every cycle.
			if ($code != '') {
				log::add(__CLASS__, 'warning', self::gatewayLabel($gatewayId, $eqLogic) . ' : ' . $status['problem']);
			} else {
				log::add(__CLASS__, 'info', self::gatewayLabel($gatewayId, $eqLogic) . ' : ' . __('la passerelle répond de nouveau', __FILE__));
			}
		}
		if (in_array($code, self::USER_ACTION_CODES)) {
			self::replaceMessage('status::' . $gatewayId . '::', $code, self::gatewayLabel($gatewayId, $eqLogic) . ' : ' . $status['problem']);
		} else {
			message::removeAll(__CLASS__, 'status::' . $gatewayId . '::', true);
		}
		self::checkTokenExpiry($gatewayId, $status, $eqLogic);
	}

	/**
	 * One message per subject: the core keeps the first text of a logicalId and only counts repeats, so a new
	 * situation (another error, another expiry date) replaces the old message instead.
	 */
	private static function replaceMessage($_subject, $_situation, $_text) {
		if (count(message::byPluginLogicalId(__CLASS__, $_subject . $_situation)) > 0) {
			return;
		}
		message::removeAll(__CLASS__, $_subject, true);
		message::add(__CLASS__, $_text, '', $_subject . $_situation);
	}

	private static function gatewayLabel($_gatewayId, $_eqLogic) {
		if (is_object($_eqLogic)) {
			return $_eqLogic->getHumanName();
		}
		return __('Passerelle Enphase', __FILE__) . ($_gatewayId != self::SINGLE_GATEWAY_ID ? ' ' . $_gatewayId : '');
	}

	/** A token the user pasted must be replaced by the user: say so two weeks ahead. */
	private static function checkTokenExpiry($_gatewayId, array $_status, $_eqLogic) {
		$expires = (int) $_status['token_expires'];
		$settings = enphaseGateway::settings($_gatewayId);
		$pasted = (is_array($settings) && !enphaseGateway::isDemo($settings) && enphaseGateway::authMethod($settings) == 'token');
		if ($pasted && $expires > time() && $expires - time() < self::TOKEN_WARNING_DAYS * 86400) {
			$text = enphaseGateway::inPluginConfiguration($_gatewayId)
				? __('le jeton expire le %s : collez un nouveau jeton dans la configuration du plugin', __FILE__)
				: __('le jeton expire le %s : collez un nouveau jeton dans l\'onglet Équipement de la passerelle', __FILE__);
			self::replaceMessage('token::' . $_gatewayId . '::', $expires, self::gatewayLabel($_gatewayId, $_eqLogic) . ' : ' . sprintf($text, date('d/m/Y', $expires)));
		} else {
			message::removeAll(__CLASS__, 'token::' . $_gatewayId . '::', true);
		}
	}

	/** Time passes without any status event: look at each gateway's stored token expiry once a day. */
	public static function cronDaily() {
		foreach (array_keys(enphaseGateway::all()) as $gatewayId) {
			$status = config::byKey('status::' . $gatewayId, __CLASS__, array());
			if (is_array($status) && isset($status['token_expires'])) {
				self::checkTokenExpiry((string) $gatewayId, $status, self::gatewayEquipment((string) $gatewayId, isset($status['serial']) ? (string) $status['serial'] : ''));
			}
		}
	}

	/*     * ********************** Instance ****************************** */

	/** What an equipment's secret shows to a page once set: never its value. */
	const SECRET_MASK = '********';

	/** Called by the core before it writes the equipment: a gateway's secrets are stored encrypted. */
	public function encrypt() {
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if (is_string($value) && $value !== '') {
				$this->setConfiguration($key, utils::encrypt($value));
			}
		}
	}

	/** Called by the core after it read or wrote the equipment. */
	public function decrypt() {
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if (is_string($value) && $value !== '') {
				$this->setConfiguration($key, utils::decrypt($value));
			}
		}
	}

	/** What pages receive: a secret that is set shows as SECRET_MASK. */
	public function toArray() {
		$array = parent::toArray();
		foreach (enphaseGateway::SECRETS as $key) {
			if (isset($array['configuration'][$key]) && $array['configuration'][$key] !== '') {
				$array['configuration'][$key] = self::SECRET_MASK;
			}
		}
		return $array;
	}

	/** @var bool the gateway's address, credentials or cadences changed in this save: the daemon must know */
	private $_gatewayChanged = false;

	public function preSave() {
		if ($this->getConfiguration('kind') == '') {
			// Added by hand from the plugin page: only gateways can be (devices come from their gateway).
			$this->setConfiguration('kind', 'gateway');
			$this->setCategory('energy', 1);
			if ($this->getId() == '') {
				$this->setIsEnable(1);
				$this->setIsVisible(1);
			}
		}
		if ($this->getConfiguration('kind') != 'gateway') {
			return;
		}
		$stored = ($this->getId() != '') ? self::byId($this->getId()) : null;
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if ($value === self::SECRET_MASK) {
				// A page sent back what it was shown: the secret stays.
				$this->setConfiguration($key, is_object($stored) ? $stored->getConfiguration($key) : '');
			} elseif (is_string($value)) {
				$this->setConfiguration($key, trim($value));
			}
		}
		foreach (array('host', 'enlighten_username', 'serial') as $key) {
			$this->setConfiguration($key, trim((string) $this->getConfiguration($key)));
		}
		$before = is_object($stored) ? json_encode(array(enphaseGateway::equipmentSettings($stored), (int) $stored->getIsEnable())) : '';
		$after = json_encode(array(enphaseGateway::equipmentSettings($this), (int) $this->getIsEnable()));
		// Only a gateway with an address of its own (now or before this save) is the daemon's business.
		$this->_gatewayChanged = ($before !== $after) && (enphaseGateway::ownsSettings($this) || (is_object($stored) && enphaseGateway::ownsSettings($stored)));
	}

	public function postSave() {
		if ($this->getConfiguration('kind') != 'gateway') {
			return;
		}
		if ($this->getConfiguration('gateway_id') === '') {
			// A gateway added by hand is known to the daemon by its equipment id.
			$this->setConfiguration('gateway_id', (string) $this->getId());
			$this->save(true);
		}
		if ($this->_gatewayChanged) {
			$this->_gatewayChanged = false;
			self::configurationChanged();
		}
	}

	public function postRemove() {
		if ($this->getConfiguration('kind') == 'gateway' && enphaseGateway::ownsSettings($this)) {
			self::configurationChanged();
		}
	}

	/** A running daemon learns the new list of gateways at once (a stopped one reads it when it starts). */
	public static function configurationChanged() {
		if (self::daemonPid() <= 0) {
			return;
		}
		try {
			self::sendConfiguration();
		} catch (enphaseDaemonError $e) {
			log::add(__CLASS__, 'warning', __('Configuration non transmise au démon :', __FILE__) . ' ' . $e->getMessage());
		}
	}

	/** The widget's customisations stay with the user although the gateway has a widget of its own. */
	public static $_widgetPossibility = array('custom' => true);

	/** The gateway's info commands the energy-flow widget draws, by the role they play in it. */
	const FLOW_COMMANDS = array('solar' => 'production_w', 'home' => 'consumption_w', 'grid' => 'net_w',
		'battery' => 'battery_power_w', 'percent' => 'battery_percent');

	/** Whether this equipment shows the energy-flow widget (a gateway, unless the user chose the standard one). */
	public function usesFlowWidget() {
		return $this->getConfiguration('kind') == 'gateway' && $this->getConfiguration('widget', 'flow') == 'flow';
	}

	/**
	 * A gateway draws its energy flow (solar, home, grid, battery); every other equipment, and a gateway whose
	 * user chose the standard widget, has the core's widget.
	 */
	public function toHtml($_version = 'dashboard') {
		if (!$this->usesFlowWidget()) {
			return parent::toHtml($_version);
		}
		$replace = $this->preToHtml($_version);
		if (!is_array($replace)) {
			return $replace;
		}
		$version = jeedom::versionAlias($_version);
		if ($version != 'mobile' && $this->getDisplay('width', '') == '') {
			$replace['#width#'] = '312px';
			$replace['#height#'] = '276px';
		}
		$state = array();
		$hasBattery = false;
		foreach (self::FLOW_COMMANDS as $role => $logicalId) {
			$cmd = $this->getCmd('info', $logicalId);
			$replace['#id_' . $role . '#'] = is_object($cmd) ? $cmd->getId() : '';
			$state[$role] = is_object($cmd) ? $cmd->execCmd() : null;
			$hasBattery = $hasBattery || (is_object($cmd) && in_array($role, array('battery', 'percent')));
		}
		$labels = array(
			'solar' => __('Solaire', __FILE__), 'home' => __('Maison', __FILE__), 'grid' => __('Réseau', __FILE__),
			'battery' => __('Batterie', __FILE__), 'import' => __('Achat', __FILE__), 'export' => __('Vente', __FILE__),
			'charge' => __('Charge', __FILE__), 'discharge' => __('Décharge', __FILE__), 'idle' => __('Au repos', __FILE__),
			'no_meter' => __('Pas de compteur de consommation : maison et réseau inconnus', __FILE__),
		);
		foreach ($labels as $key => $label) {
			$replace['#label_' . $key . '#'] = htmlspecialchars($label, ENT_QUOTES);
		}
		$labels['noMeter'] = $labels['no_meter'];
		$json = JSON_HEX_TAG | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_HEX_AMP | JSON_UNESCAPED_UNICODE;
		$replace['#flow_state#'] = json_encode($state, $json);
		$replace['#flow_labels#'] = json_encode($labels, $json);
		$replace['#flow_has_battery#'] = $hasBattery ? 'true' : 'false';
		$replace['#flow#'] = template_replace($replace, getTemplate('core', 'dashboard', 'flow.body', __CLASS__));
		$html = template_replace($replace, getTemplate('core', $version, 'flow', __CLASS__));
		return $this->postToHtml($_version, translate::exec($html, 'plugins/enphase/core/template/' . $version . '/flow.html'));
	}

	/** Each kind has its own picture, unless the user chose one. */
	public function getImage() {
		if ($this->getConfiguration('image::sha512') != '') {
			return parent::getImage();
		}
		$kind = $this->getConfiguration('kind');
		if (preg_match('/^[a-z0-9_]+$/', $kind) && file_exists(__DIR__ . '/../../desktop/img/' . $kind . '.png')) {
			return 'plugins/enphase/desktop/img/' . $kind . '.png';
		}
		return parent::getImage();
	}
}

class enphaseCmd extends cmd {
	/** Action commands go to the daemon, which talks to the gateway; the new state comes back by callback. */
	public function execute($_options = array()) {
		if ($this->getType() != 'action') {
			return;
		}
		$eqLogic = $this->getEqLogic();
		$gatewayId = (string) $eqLogic->getConfiguration('gateway_id', enphase::SINGLE_GATEWAY_ID);
		try {
			if ($this->getLogicalId() == 'refresh') {
				enphase::daemonRequest(array('action' => 'refresh', 'gateway' => $gatewayId), 10);
				return;
			}
			$value = null;
			$options = is_array($_options) ? $_options : array();
			foreach (array('slider', 'select', 'message', 'color') as $key) {
				if ($this->getSubType() == $key && isset($options[$key])) {
					$value = $options[$key];
				}
			}
			enphase::daemonRequest(array(
				'action' => 'execute',
				'gateway' => $gatewayId,
				'target' => $eqLogic->getLogicalId(),
				'command' => $this->getLogicalId(),
				'value' => $value,
			), 60);
		} catch (enphaseDaemonError $e) {
			throw new Exception($this->getHumanName() . ' : ' . $e->getMessage());
		}
	}
}

/** A refusal of the daemon or of the gateway: getReason() is the protocol's error code, the message a sentence. */
class enphaseDaemonError extends Exception {
	private $reason;

	public function __construct($_reason, $_detail = '') {
		$this->reason = $_reason;
		parent::__construct(enphase::describeError($_reason, $_detail));
	}

	public function getReason() {
		return $this->reason;
	}
}
