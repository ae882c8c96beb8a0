<?php

use PHPUnit\Framework\TestCase;

/** Every test starts from an empty Jeedom with one gateway added by hand, as a user does, not synchronized yet. */
abstract class EnphaseTestCase extends TestCase {
	/** @var string the daemon's id of that gateway: its equipment's id */
	protected static $gatewayId;

	protected function setUp(): void {
		JeedomDouble::reset();
		SyncWithCallback::$events = null;
		// Nothing listens on the daemon's socket unless the test starts a daemon stand-in.
		@unlink(enphaseDaemon::socketPath());
		self::$gatewayId = (string) self::addGateway('Maison', array('host' => '192.0.2.10'))->getId();
	}

	/** A gateway added by hand from the plugin page, as the core's "add" then "save" do. */
	protected static function addGateway($_name, array $_configuration = array()) {
		$eqLogic = new enphase();
		$eqLogic->setEqType_name('enphase');
		$eqLogic->setName($_name);
		$eqLogic->save();
		$eqLogic = enphase::byId($eqLogic->getId());
		foreach ($_configuration as $key => $value) {
			$eqLogic->setConfiguration($key, $value);
		}
		$eqLogic->save();
		return enphase::byId($eqLogic->getId());
	}

	/** @var array stand-ins started by the test: [process, received file] */
	private $standIns = array();

	protected function tearDown(): void {
		foreach ($this->standIns as $standIn) {
			proc_terminate($standIn[0]);
			proc_close($standIn[0]);
			@unlink($standIn[1]);
		}
		$this->standIns = array();
		foreach ($this->processes as $process) {
			proc_terminate($process, 9);
			proc_close($process);
		}
		$this->processes = array();
		@unlink(enphaseDaemon::pidFile());
	}

	/** @var resource[] processes started by the test */
	private $processes = array();

	/** Starts a process running the given command line; its pid. It is killed at the end of the test. */
	protected function startProcess(array $_argv) {
		$process = proc_open($_argv, array(), $pipes);
		$this->processes[] = $process;
		$pid = proc_get_status($process)['pid'];
		// Until it runs the program (right after the fork, it is still a copy of this one).
		for ($i = 0; $i < 500 && strpos((string) @file_get_contents('/proc/' . $pid . '/cmdline'), end($_argv)) === false; $i++) {
			usleep(10000);
		}
		return $pid;
	}

	/** The daemon's script, as launch() runs it. */
	protected static function daemonScript() {
		return realpath(ENPHASE_TEST_ROOT . '/plugins/enphase/resources/enphased') . '/enphased.py';
	}

	/** The daemon counts as running: its pid file names a process whose command line holds the daemon's script. */
	protected function daemonRunning() {
		file_put_contents(enphaseDaemon::pidFile(), $this->startProcess(array(PHP_BINARY, '-r', 'sleep(60);', self::daemonScript())));
	}

	/** The process runs (a killed child stays a zombie until reaped: that is not running). */
	protected static function running($_pid) {
		$stat = @file_get_contents('/proc/' . $_pid . '/stat');
		return is_string($stat) && !preg_match('/\) Z /', $stat);
	}

	/**
	 * Starts a stand-in of the daemon's socket, where the plugin looks for it, that answers the given answers in
	 * order. Returns a function that gives the messages it received, decoded.
	 */
	protected function startDaemonStandIn(array $_answers) {
		$answers = tempnam(sys_get_temp_dir(), 'enphase-answers');
		$received = tempnam(sys_get_temp_dir(), 'enphase-received');
		file_put_contents($answers, json_encode($_answers));
		$process = proc_open(array(PHP_BINARY, __DIR__ . '/support/daemon_stand_in.php', $answers, $received, enphaseDaemon::socketPath()),
			array(1 => array('pipe', 'w')), $pipes);
		$ready = trim((string) fgets($pipes[1]));
		unlink($answers);
		$this->standIns[] = array($process, $received);
		$this->assertSame('ready', $ready);
		return function () use ($received) {
			$lines = array_filter(explode("\n", (string) @file_get_contents($received)));
			return array_values(array_map(function ($line) {
				return json_decode($line, true);
			}, $lines));
		};
	}

	/** The test tree served by `php -S` on a free loopback port, as the web server serves Jeedom, the core double
	 * keeping its state in `$_stateFile` between that process and the test's: array(process, port). */
	public static function serveTestRoot($_stateFile) {
		$port = self::freePort();
		$server = proc_open(array(PHP_BINARY, '-S', '127.0.0.1:' . $port, '-t', ENPHASE_TEST_ROOT),
			array(0 => array('file', '/dev/null', 'r'), 1 => array('file', '/dev/null', 'w'), 2 => array('file', '/dev/null', 'w')),
			$pipes, null, array_merge(getenv(), array('JEEDOM_DOUBLE_STATE' => $_stateFile)));
		for ($i = 0; $i < 100; $i++) {
			$probe = @stream_socket_client('tcp://127.0.0.1:' . $port, $errno, $errstr, 1);
			if ($probe !== false) {
				fclose($probe);
				return array($server, $port);
			}
			usleep(50000);
		}
		self::fail('php -S did not start');
	}

	public static function freePort() {
		$server = stream_socket_server('tcp://127.0.0.1:0');
		$name = stream_socket_get_name($server, false);
		fclose($server);
		return (int) substr($name, strrpos($name, ':') + 1);
	}

	/** An INVENTORY as docs/protocol.md describes it, of the test's gateway: it, two microinverters and a meter. */
	public static function inventory($_extraInverterCommands = array()) {
		$inverterCommands = array_merge(array(
			array('logicalId' => 'watts_now', 'name' => array('fr_FR' => 'Puissance', 'en_US' => 'Power'), 'type' => 'info',
				'subType' => 'numeric', 'unit' => 'W', 'genericType' => 'POWER', 'isHistorized' => 1, 'template' => 'tile',
				'order' => 1, 'isVisible' => 1),
			array('logicalId' => 'producing', 'name' => array('fr_FR' => 'En production', 'en_US' => 'Producing'), 'type' => 'info',
				'subType' => 'binary', 'genericType' => 'GENERIC_INFO', 'isHistorized' => 0, 'order' => 2, 'isVisible' => 1),
		), $_extraInverterCommands);
		$inverter = function ($serial) use ($inverterCommands) {
			return array('logicalId' => $serial, 'kind' => 'inverter',
				'name' => array('fr_FR' => 'Micro-onduleur ' . $serial, 'en_US' => 'Microinverter ' . $serial),
				'configuration' => array(), 'commands' => $inverterCommands);
		};
		return array(
			'type' => 'inventory', 'gateway' => self::$gatewayId, 'serial' => '122302045041',
			'equipments' => array(
				array('logicalId' => '122302045041', 'kind' => 'gateway',
					'name' => array('fr_FR' => 'Passerelle 122302045041', 'en_US' => 'Gateway 122302045041'),
					'configuration' => array('firmware' => '7.6.175', 'part_number' => '800-00654-r08', 'auth' => 'jwt'),
					'commands' => array(
						array('logicalId' => 'production_w', 'name' => array('fr_FR' => 'Production instantanée', 'en_US' => 'Instant production'),
							'type' => 'info', 'subType' => 'numeric', 'unit' => 'W', 'genericType' => 'PRODUCTION', 'isHistorized' => 1,
							'template' => 'tile', 'order' => 10, 'isVisible' => 1),
						array('logicalId' => 'production_today_wh', 'name' => array('fr_FR' => 'Production du jour', 'en_US' => 'Production today'),
							'type' => 'info', 'subType' => 'numeric', 'unit' => 'Wh', 'genericType' => 'DAILY_PRODUCTION', 'isHistorized' => 1,
							'order' => 11, 'isVisible' => 1),
						array('logicalId' => 'grid_state', 'name' => array('fr_FR' => 'Réseau', 'en_US' => 'Grid'),
							'type' => 'info', 'subType' => 'binary', 'order' => 20, 'isVisible' => 1),
						array('logicalId' => 'grid_on', 'name' => array('fr_FR' => 'Réseau marche', 'en_US' => 'Grid on'),
							'type' => 'action', 'subType' => 'other', 'value' => 'grid_state', 'order' => 21, 'isVisible' => 1),
						array('logicalId' => 'reserve_set', 'name' => array('fr_FR' => 'Réserve', 'en_US' => 'Reserve'),
							'type' => 'action', 'subType' => 'slider', 'minValue' => 0, 'maxValue' => 100, 'order' => 22, 'isVisible' => 1),
					)),
				$inverter('482301000001'),
				$inverter('482301000002'),
				array('logicalId' => '122302045041_meter_production', 'kind' => 'meter',
					'name' => array('fr_FR' => 'Compteur production', 'en_US' => 'Production meter'),
					'commands' => array(
						array('logicalId' => 'active_power_w', 'name' => array('fr_FR' => 'Puissance active', 'en_US' => 'Active power'),
							'type' => 'info', 'subType' => 'numeric', 'unit' => 'W', 'genericType' => 'POWER', 'isHistorized' => 1, 'order' => 1),
					)),
			),
		);
	}

	protected static function equipment($_logicalId) {
		$eqLogic = enphase::byLogicalId($_logicalId, 'enphase');
		return is_object($eqLogic) ? $eqLogic : null;
	}

	protected static function command($_eqLogicalId, $_cmdLogicalId) {
		$eqLogic = self::equipment($_eqLogicalId);
		$cmd = is_object($eqLogic) ? $eqLogic->getCmd(null, $_cmdLogicalId) : null;
		return is_object($cmd) ? $cmd : null;
	}
}

/** Synchronize in the daemon's real order: its callback reaches jeeEnphase.php before its answer comes back. */
class SyncWithCallback extends enphaseSync {
	/** @var array|null the callback's events; null: the inventories of the answer, as the daemon sends them */
	public static $events = null;

	protected static function request(array $_message) {
		$answer = parent::request($_message);
		enphaseEvents::handle(self::$events !== null ? self::$events : (isset($answer['inventory']) ? $answer['inventory'] : array()));
		return $answer;
	}
}
