<?php

/**
 * The callback and ajax pages, served over HTTP by `php -S` from the miniature Jeedom tree. The test prepares
 * the double's state, the page runs in the server process with that state, and the test reads what it left.
 */
class PagesTest extends EnphaseTestCase {
	private static $server;
	private static $port;
	private static $stateFile;

	public static function setUpBeforeClass(): void {
		self::$stateFile = ENPHASE_TEST_ROOT . '/state.json';
		list(self::$server, self::$port) = self::serveTestRoot(self::$stateFile);
	}

	public static function tearDownAfterClass(): void {
		proc_terminate(self::$server);
		proc_close(self::$server);
	}

	protected function setUp(): void {
		parent::setUp();
		jeedom::getApiKey('enphase');
		enphaseInventory::apply(self::inventory());
		enphaseEvents::applyValues(array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 100))));
	}

	/** Runs one request against the page with the current state; returns [HTTP status, body] and loads the state it left. */
	private function request($_path, array $_query, $_body, $_contentType = 'application/json', array $_headers = array()) {
		JeedomDouble::store(self::$stateFile);
		$headers = implode("\r\n", array_merge(array('Content-Type: ' . $_contentType), $_headers));
		$context = stream_context_create(array('http' => array('method' => 'POST', 'header' => $headers,
			'content' => $_body, 'ignore_errors' => true, 'timeout' => 30)));
		$url = 'http://127.0.0.1:' . self::$port . $_path . '?' . http_build_query($_query);
		$body = file_get_contents($url, false, $context);
		preg_match('#HTTP/\S+ (\d+)#', $http_response_header[0], $match);
		JeedomDouble::load(self::$stateFile);
		return array((int) $match[1], $body, $http_response_header);
	}

	/** As the daemon does: the apikey in a header (web server access logs keep URLs), none when null. */
	private function postCallback($_apikey, $_body, array $_query = array()) {
		$headers = ($_apikey === null) ? array() : array('X-Enphase-Apikey: ' . $_apikey);
		return $this->request('/plugins/enphase/core/php/jeeEnphase.php', $_query, $_body, 'application/json', $headers);
	}

	private function ajax(array $_fields) {
		return $this->request('/plugins/enphase/core/ajax/enphase.ajax.php', array(), http_build_query($_fields), 'application/x-www-form-urlencoded');
	}

	private static function valuesBody($_watts, $_deadline = null) {
		$body = array('events' => array(
			array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => $_watts))),
		));
		if ($_deadline !== null) {
			$body['deadline'] = $_deadline;
		}
		return json_encode($body);
	}

	public function testTheCallbackAppliesEvents() {
		list($status, $body) = $this->postCallback(jeedom::getApiKey('enphase'), self::valuesBody(321));

		$this->assertSame(200, $status);
		$this->assertSame('OK', $body);
		$this->assertEquals(321.0, self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testAnInventoryWhoseKindsJeedomLostIsRefusedWith409AndNothingOfItApplied() {
		$known = array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 222)));
		$inventory = array('type' => 'inventory', 'gateway' => self::$gatewayId, 'serial' => '122302045041',
			'equipments' => array(array('logicalId' => '482301000077', 'kind' => 'inverter', 'name' => array('fr_FR' => 'Micro-onduleur …0077'))));
		$after = array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 333)));

		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), json_encode(array('events' => array($known, $inventory, $after))));

		$this->assertSame(409, $status, 'the daemon describes the kinds again');
		$this->assertEquals(222.0, self::command('482301000001', 'watts_now')->execCmd(), 'what came before it is applied, nothing after');
		$this->assertNull(self::equipment('482301000077'));

		$full = self::inventory();
		$inventory['kinds'] = array('inverter' => array('commands' => $full['equipments'][1]['commands']));
		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), json_encode(array('events' => array($inventory, $after))));

		$this->assertSame(200, $status);
		$this->assertNotNull(self::command('482301000077', 'watts_now'));
		$this->assertEquals(333.0, self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testACallbackWithAWrongApikeyChangesNothing() {
		$before = JeedomDouble::$db;
		$inventory = self::inventory();
		$inventory['equipments'][] = array('logicalId' => '482301009999', 'kind' => 'inverter', 'name' => 'Intrus', 'commands' => array());
		$events = json_encode(array('events' => array(
			$inventory,
			array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 999))),
			array('type' => 'status', 'gateway' => self::$gatewayId, 'reachable' => false, 'error' => array('code' => 'auth_failed')),
		)));

		foreach (array('wrong-apikey-but-long-enough', '', null, strrev(jeedom::getApiKey('enphase'))) as $apikey) {
			list($status) = $this->postCallback($apikey, $events);
			$this->assertSame(403, $status);
		}

		$this->assertEquals($before, JeedomDouble::$db);
		$this->assertEquals(100.0, self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testTheApikeyInTheUrlOpensNothing() {
		list($status) = $this->postCallback(null, self::valuesBody(999), array('apikey' => jeedom::getApiKey('enphase')));

		$this->assertSame(403, $status);
		$this->assertEquals(100.0, self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testABodyPastItsDeadlineAppliesNothing() {
		// The daemon stopped waiting at the deadline and may have sent newer values since.
		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), self::valuesBody(999, microtime(true) - 1));

		$this->assertSame(503, $status);
		$this->assertEquals(100.0, self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testABodyWaitsForTheOneUnderWayAndNeverPastItsDeadline() {
		$lock = fopen(jeedom::getTmpFolder('enphase') . '/callback.lock', 'c');
		$this->assertTrue(flock($lock, LOCK_EX)); // another callback, still applying
		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), self::valuesBody(999, microtime(true) + 1));
		$this->assertSame(503, $status);
		$this->assertEquals(100.0, self::command('482301000001', 'watts_now')->execCmd());

		flock($lock, LOCK_UN);
		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), self::valuesBody(555, microtime(true) + 30));
		$this->assertSame(200, $status);
		$this->assertEquals(555.0, self::command('482301000001', 'watts_now')->execCmd());
		fclose($lock);
	}

	public function testAnUnknownEventIsIgnoredWithALogLine() {
		$body = json_encode(array('events' => array(
			array('type' => 'fireworks', 'gateway' => self::$gatewayId),
			array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 222))),
		)));

		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), $body);

		$this->assertSame(200, $status);
		$this->assertEquals(222.0, self::command('482301000001', 'watts_now')->execCmd());
		$this->assertNotEmpty(array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return strpos($line[2], 'fireworks') !== false;
		}));
	}

	public function testABodyThatIsNotAnEventListIsRefused() {
		list($status) = $this->postCallback(jeedom::getApiKey('enphase'), 'this is not json');

		$this->assertSame(400, $status);
		$this->assertNotEmpty(JeedomDouble::logsOf('enphase'));
	}

	public function testAjaxRefusesAnyoneButAnAdmin() {
		foreach (array('', 'user') as $profile) {
			JeedomDouble::$profile = $profile;
			$before = JeedomDouble::$db;

			foreach (array('sendConfiguration', 'synchronize') as $action) {
				list(, $body) = $this->ajax(array('action' => $action));
				$answer = json_decode($body, true);

				$this->assertSame('error', $answer['state'], $action);
				$this->assertStringContainsString('401', $answer['result'], $action);
				$this->assertEquals($before, JeedomDouble::$db);
			}
		}
	}

	/** Synchronize as the page does: the request starts the job and is answered at once, then the page asks how far it got. */
	private function synchronizeAndFollow() {
		$started = microtime(true);
		list(, $body) = $this->ajax(array('action' => 'synchronize'));
		$answer = json_decode($body, true);
		$this->assertLessThan(5, microtime(true) - $started, 'answered at once');
		$this->assertSame('ok', $answer['state'], $body);
		$this->assertFalse($answer['result']['done'], 'the job runs in the background');
		for ($i = 0; $i < 200 && $answer['state'] == 'ok' && !$answer['result']['done']; $i++) {
			usleep(100000);
			list(, $body) = $this->ajax(array('action' => 'syncProgress', 'job' => $answer['result']['job']));
			$answer = json_decode($body, true);
		}
		return $answer;
	}

	public function testSynchronizeWithoutDaemonSaysSoInPlainWords() {
		$answer = $this->synchronizeAndFollow();

		$this->assertSame('error', $answer['state']);
		$this->assertStringContainsString('n\'est pas démarré', $answer['result']);
	}

	public function testSynchronizeReportsWhatWasFound() {
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		$answer = $this->synchronizeAndFollow();

		$this->assertSame('ok', $answer['state']);
		$this->assertTrue($answer['result']['done']);
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 0 créé(s)', $answer['result']['message']);
	}

	public function testAProblemTheUserMustFixIsSaidAtOnce() {
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('auth_method', 'token');
		$gateway->save();

		list(, $body) = $this->ajax(array('action' => 'synchronize'));
		$answer = json_decode($body, true);

		$this->assertSame('error', $answer['state']);
		$this->assertStringContainsString('Collez le jeton', $answer['result']);
	}

	public function testTheSyncJobsProcessIsNoWebPage() {
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		list($status, $body) = $this->request('/plugins/enphase/core/php/enphaseSync.php', array('all', 'x'), '');

		$this->assertSame(404, $status);
		$this->assertSame('', $body);
		$this->assertSame(array(), $received(), 'nothing reached the daemon');
	}

	public function testAnUnknownSynchronizationIsAnError() {
		list(, $body) = $this->ajax(array('action' => 'syncProgress', 'job' => 'not-a-job'));
		$answer = json_decode($body, true);

		$this->assertSame('error', $answer['state']);
		$this->assertStringContainsString('n’existe plus', $answer['result']);
	}

	public function testASavedPluginConfigurationReachesARunningDaemon() {
		config::save('general_s', 45, 'enphase');
		$received = $this->startDaemonStandIn(array(array('ok' => true)));
		$this->daemonRunning();

		list(, $body) = $this->ajax(array('action' => 'sendConfiguration'));
		$answer = json_decode($body, true);

		$this->assertSame('ok', $answer['state'], $body);
		$this->assertTrue($answer['result']['sent']);
		$this->assertSame('configure', $received()[0]['action']);
		$this->assertSame(45, $received()[0]['general_s']);
		$this->assertSame(array(self::$gatewayId), array_column($received()[0]['gateways'], 'id'));
	}

	public function testThePluginConfigurationPageHasTheDefaultsOnly() {
		$page = $this->request('/plugins/enphase/plugin_info/configuration.php', array(), '')[1];

		preg_match_all('/class="configKey[^"]*" data-l1key="([^"]+)"/', $page, $keys);
		$this->assertSame(array('default_object_id', 'detail', 'general_s', 'devices_s'), $keys[1]);
		$this->assertStringNotContainsString('type="password"', $page);
		$this->assertStringContainsString('index.php?v=d&m=enphase&p=enphase', $page, 'where gateways are added');
	}

	/** A report the daemon says it wrote, in the plugin's data folder as the daemon writes it. */
	private static function diagnosticsFile($_content) {
		$folder = ENPHASE_TEST_ROOT . '/plugins/enphase/data/diagnostics';
		@mkdir($folder, 0777, true);
		$file = $folder . '/enphase-diagnostics-122399001234-20260501-120000.zip';
		file_put_contents($file, $_content);
		return $file;
	}

	/** GET a page with the current state, as the browser opens a link; returns [HTTP status, body, headers]. */
	private function get($_path, array $_query) {
		JeedomDouble::store(self::$stateFile);
		$context = stream_context_create(array('http' => array('method' => 'GET', 'ignore_errors' => true, 'timeout' => 30)));
		$body = file_get_contents('http://127.0.0.1:' . self::$port . $_path . '?' . http_build_query($_query), false, $context);
		preg_match('#HTTP/\S+ (\d+)#', $http_response_header[0], $match);
		JeedomDouble::load(self::$stateFile);
		return array((int) $match[1], $body, $http_response_header);
	}

	/** The ajax action prepares the report; the page then opens the URL it names, as a plain download. */
	public function testTheDiagnosticsReportIsADownloadOfItsOwnOnceThenDeleted() {
		$content = "PK\x03\x04 a redacted report " . str_repeat('x', 70000);
		$file = self::diagnosticsFile($content);
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'file' => $file)));
		$gateway = self::equipment('122302045041');

		list($status, $body) = $this->ajax(array('action' => 'diagnostics', 'id' => $gateway->getId()));
		$answer = json_decode($body, true);

		$this->assertSame(200, $status);
		$this->assertSame('ok', $answer['state'], $body);
		$this->assertSame(basename($file), $answer['result']['name']);
		$this->assertMatchesRegularExpression('#^plugins/enphase/core/php/enphaseDiagnostics\.php\?id=[0-9a-f]{32}$#', $answer['result']['url']);
		$this->assertSame(array('action' => 'diagnostics', 'gateway' => self::$gatewayId), array_intersect_key($received()[0], array('action' => 1, 'gateway' => 1)));

		list($status, $body, $headers) = $this->get('/' . explode('?', $answer['result']['url'])[0], array('id' => $answer['result']['id']));
		$this->assertSame(200, $status);
		$this->assertSame($content, $body);
		$this->assertContains('Content-Type: application/zip', $headers);
		$this->assertContains('Content-Disposition: attachment; filename="' . basename($file) . '"', $headers);
		$this->assertFileDoesNotExist($file);
		$this->assertSame(array(), glob(dirname($file) . '/*' . $answer['result']['id'] . '*'), 'nothing of the report is left');

		list($status, $body) = $this->get('/plugins/enphase/core/php/enphaseDiagnostics.php', array('id' => $answer['result']['id']));
		$this->assertSame(404, $status, 'a one-time download');
		$this->assertStringContainsString('demandez-en un nouveau', $body);
	}

	public function testTheDiagnosticsDownloadIsForAdminsWithTheRightIdOnly() {
		$file = self::diagnosticsFile('PK report');
		$this->startDaemonStandIn(array(array('ok' => true, 'file' => $file)));
		$gateway = self::equipment('122302045041');
		$answer = json_decode($this->ajax(array('action' => 'diagnostics', 'id' => $gateway->getId()))[1], true);
		$id = $answer['result']['id'];
		$page = '/plugins/enphase/core/php/enphaseDiagnostics.php';

		foreach (array('', 'user') as $profile) {
			JeedomDouble::$profile = $profile;
			list($status, $body) = $this->get($page, array('id' => $id));
			$this->assertSame(403, $status, $profile);
			$this->assertStringNotContainsString('PK report', $body);
		}
		JeedomDouble::$profile = 'admin';
		foreach (array(str_repeat('0', 32), '../' . $id, $id . '/../x', '*', '') as $wrong) {
			list($status, $body) = $this->get($page, array('id' => $wrong));
			$this->assertSame(404, $status, $wrong);
			$this->assertStringNotContainsString('PK report', $body);
		}
		$this->assertSame('PK report', $this->get($page, array('id' => $id))[1], 'still there for its admin');
	}

	public function testTheDiagnosticsAnswerNeverServesAFileOutsideTheReports() {
		self::diagnosticsFile('report');
		$this->startDaemonStandIn(array(array('ok' => true, 'file' => '/etc/passwd'),
			array('ok' => true, 'file' => ENPHASE_TEST_ROOT . '/plugins/enphase/data/diagnostics/../../core/class/enphase.class.php')));
		$gateway = self::equipment('122302045041');

		foreach (array(1, 2) as $attempt) {
			list(, $body) = $this->ajax(array('action' => 'diagnostics', 'id' => $gateway->getId()));
			$answer = json_decode($body, true);
			$this->assertSame('error', $answer['state'], $body);
			$this->assertStringNotContainsString('root:', $body);
			$this->assertStringNotContainsString('class enphase', $body);
		}
	}

	public function testTheDiagnosticsReportIsForGatewaysAndAdminsOnly() {
		$inverter = self::equipment('482301000001');
		list(, $body) = $this->ajax(array('action' => 'diagnostics', 'id' => $inverter->getId()));
		$this->assertSame('error', json_decode($body, true)['state']);

		$gateway = self::equipment('122302045041');
		list(, $body) = $this->ajax(array('action' => 'diagnostics', 'id' => $gateway->getId()));
		$this->assertStringContainsString('n\'est pas démarré', json_decode($body, true)['result']);

		JeedomDouble::$profile = 'user';
		$file = self::diagnosticsFile('report');
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'file' => $file)));
		list(, $body) = $this->ajax(array('action' => 'diagnostics', 'id' => $gateway->getId()));
		$this->assertSame('error', json_decode($body, true)['state']);
		$this->assertSame(array(), $received());
		$this->assertFileExists($file);
	}

	public function testEveryPageAndEveryAjaxActionIsForAdminsOnly() {
		preg_match_all("/init\\('action'\\) == '([a-zA-Z]+)'/", file_get_contents(ENPHASE_REPO . '/core/ajax/enphase.ajax.php'), $actions);
		$this->assertContains('synchronize', $actions[1]);
		$gateway = self::equipment('122302045041');
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));
		$this->daemonRunning();

		// What an admin gets, so that what the others do not get means something.
		JeedomDouble::$profile = 'admin';
		$this->assertStringContainsString('configKey', $this->request('/plugins/enphase/plugin_info/configuration.php', array(), '')[1]);
		$this->assertStringContainsString('eqLogicDisplayCard', self::pluginPage()[1]);
		foreach (array('user', '') as $profile) { // a user who is not admin; nobody logged in
			JeedomDouble::$profile = $profile;
			$configuration = $this->request('/plugins/enphase/plugin_info/configuration.php', array(), '')[1];
			$this->assertStringNotContainsString('configKey', $configuration, 'configuration page shown to profile "' . $profile . '"');
			list($refusal, $equipment) = self::pluginPage();
			$this->assertStringContainsString('401', $refusal, 'plugin page for profile "' . $profile . '"');
			$this->assertSame('', trim($equipment), 'plugin page shown to profile "' . $profile . '"');
			foreach ($actions[1] as $action) {
				list(, $body) = $this->ajax(array('action' => $action, 'id' => $gateway->getId()));
				$this->assertSame('error', json_decode($body, true)['state'], $action . ' for profile "' . $profile . '": ' . $body);
			}
		}
		$this->assertSame(array(), $received(), 'nothing reached the daemon');
	}

	/** The plugin page as the core's index.php serves it: included in a request where the core is loaded.
	 * (refusal message or '', what it printed) */
	private static function pluginPage() {
		ob_start();
		try {
			include ENPHASE_TEST_ROOT . '/plugins/enphase/desktop/php/enphase.php';
			$refusal = '';
		} catch (Exception $e) {
			$refusal = $e->getMessage();
		}
		return array($refusal, ob_get_clean());
	}

	public function testAnUnknownAjaxActionIsAnError() {
		list(, $body) = $this->ajax(array('action' => 'format_disk'));

		$this->assertSame('error', json_decode($body, true)['state']);
	}
}
