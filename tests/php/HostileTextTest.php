<?php

/**
 * Strings a hostile gateway says (markup, quotes, control characters, 4,000 characters: the simulator's
 * --hostile mode) never become markup in what Jeedom shows: the equipment page, the dashboard tiles, the toasts.
 * First the whole chain with the real daemon and the real callback page (served by `php -S`); then the same
 * sinks fed by a rogue daemon that sends what ours never does, to prove PHP does not rely on the daemon alone.
 * A real browser on a real core does it again: tests/e2e.
 */
class HostileTextTest extends EnphaseTestCase {
	const PAYLOAD = '<img src=x onerror="window.enphaseXss=1">';
	const QUOTES = '"><svg onload=window.enphaseXss=2>\'+(window.enphaseXss=3)+\'';

	private static $server;
	private static $port;
	private static $stateFile;
	/** @var resource|null the hostile gateway (python3 -m simulator --hostile) of the current test */
	private $gateway;

	public static function setUpBeforeClass(): void {
		self::$stateFile = ENPHASE_TEST_ROOT . '/hostile-state.json';
		list(self::$server, self::$port) = self::serveTestRoot(self::$stateFile);
	}

	public static function tearDownAfterClass(): void {
		proc_terminate(self::$server);
		proc_close(self::$server);
	}

	protected function tearDown(): void {
		enphaseDaemon::stop();
		if ($this->gateway !== null) {
			proc_terminate($this->gateway);
			proc_close($this->gateway);
			$this->gateway = null;
		}
		@unlink(self::$stateFile);
		parent::tearDown();
	}

	/** A page of the miniature Jeedom, run by `php -S` with the test's state; [HTTP status, body]. */
	private function request($_path, $_body = '', $_contentType = 'application/x-www-form-urlencoded', array $_headers = array()) {
		JeedomDouble::store(self::$stateFile);
		$headers = array_merge(array('Content-Type: ' . $_contentType), $_headers);
		$context = stream_context_create(array('http' => array('method' => 'POST', 'header' => implode("\r\n", $headers),
			'content' => $_body, 'ignore_errors' => true, 'timeout' => 60)));
		$body = file_get_contents('http://127.0.0.1:' . self::$port . $_path, false, $context);
		preg_match('#HTTP/\S+ (\d+)#', $http_response_header[0], $match);
		JeedomDouble::load(self::$stateFile);
		return array((int) $match[1], $body);
	}

	/**
	 * No markup of the gateway's in a piece of HTML: its text may tell what was sent (cleaned, escaped), but no
	 * element, attribute or script of the page holds any of it.
	 */
	private function assertNoInjectedMarkup($_html, $_where) {
		$this->assertIsString($_html, $_where);
		$document = new DOMDocument();
		@$document->loadHTML('<?xml encoding="UTF-8"?><div>' . $_html . '</div>');
		foreach ((new DOMXPath($document))->query('//*') as $element) {
			$this->assertNotContains(strtolower($element->nodeName), array('iframe', 'object', 'embed'), $_where);
			if ($element->nodeName == 'img') {
				$this->assertNotSame('x', $element->getAttribute('src'), $_where . ': ' . $document->saveHTML($element));
			}
			foreach ($element->attributes as $attribute) {
				$this->assertStringStartsNotWith('on', strtolower($attribute->name), $_where . ': ' . $document->saveHTML($element));
				$this->assertStringNotContainsString('enphaseXss', $attribute->value, $_where . ': ' . $document->saveHTML($element));
			}
			if (in_array($element->nodeName, array('script', 'style'))) {
				$this->assertStringNotContainsString('enphaseXss', $element->textContent, $_where);
			}
		}
	}

	/** Every string Jeedom now keeps of the plugin's equipment and commands, with where it is. */
	private static function keptStrings() {
		$found = array();
		$walk = function ($value, $where) use (&$walk, &$found) {
			if (is_array($value)) {
				foreach ($value as $key => $item) {
					$walk((string) $key, $where . '[key]');
					$walk($item, $where . '.' . $key);
				}
			} elseif (is_string($value)) {
				$found[] = array($where, $value);
			}
		};
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			$walk(array($eqLogic->getName(), $eqLogic->getLogicalId(), $eqLogic->getConfiguration()), 'eqLogic ' . $eqLogic->getId());
			foreach ($eqLogic->getCmd() as $cmd) {
				$walk(array($cmd->getName(), $cmd->getLogicalId(), $cmd->getUnite(), $cmd->getSubType(), $cmd->getGeneric_type(),
					$cmd->getTemplate(), $cmd->getConfiguration(), $cmd->getType() == 'info' ? $cmd->execCmd() : ''), 'cmd ' . $cmd->getLogicalId());
			}
		}
		return $found;
	}

	/** The page, every tile and what Jeedom keeps: no markup, no control character. */
	private function assertJeedomShowsNoMarkup() {
		// As the core's index.php does: the page included by a logged-in admin's request.
		ob_start();
		include ENPHASE_TEST_ROOT . '/plugins/enphase/desktop/php/enphase.php';
		$page = ob_get_clean();
		$this->assertStringContainsString('eqLogicDisplayCard', $page);
		$this->assertNoInjectedMarkup($page, 'equipment page');
		// The core fills an eqLogicAttr / cmdAttr span with innerHTML: none is bound to what the daemon says.
		$this->assertDoesNotMatchRegularExpression('/<span[^>]*class="[^"]*eqLogicAttr/', $page);
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			foreach (array('dashboard', 'mobile') as $version) {
				$this->assertNoInjectedMarkup($eqLogic->toHtml($version), $version . ' tile of ' . $eqLogic->getLogicalId());
			}
			$this->assertMatchesRegularExpression('/^([A-Za-z0-9][A-Za-z0-9_.-]*)?$/D', $eqLogic->getLogicalId());
		}
		foreach (self::keptStrings() as list($where, $value)) {
			$this->assertDoesNotMatchRegularExpression('/[<>\\\\]|[\p{Cc}]/u', $value, $where);
		}
	}

	/** The hostile gateway (simulator/hostile.py) on a loopback port: [its URL, a token it accepts]. */
	private function startHostileGateway() {
		$this->gateway = proc_open(array(ENPHASE_REPO . '/.venv/bin/python', '-m', 'simulator', '--hostile', '--inverters', '6',
			'--encharges', '2', '--acbs', '1', '--qrelays', '1', '--enpower', '--generator', '--dry-contacts', '4'),
			array(1 => array('pipe', 'w'), 2 => array('file', '/dev/null', 'w')), $pipes, ENPHASE_REPO . '/resources/enphased');
		$url = $token = '';
		while ($token === '' && ($line = fgets($pipes[1])) !== false) {
			if (preg_match('#^Gateway \S+ .*: (https?://\S+)#', $line, $match)) {
				$url = $match[1];
			} elseif (preg_match('/^Token: (\S+)/', $line, $match)) {
				$token = $match[1];
			}
		}
		$this->assertNotSame('', $url);
		$this->assertNotSame('', $token);
		return array($url, $token);
	}

	public function testAHostileGatewayThroughTheRealDaemonAndCallbackShowsNoMarkup() {
		list($url, $token) = $this->startHostileGateway();
		$gateway = enphase::byId(self::$gatewayId);
		foreach (array('host' => $url, 'auth_method' => 'token', 'token' => $token) as $key => $value) {
			$gateway->setConfiguration($key, $value);
		}
		$gateway->save();
		// The daemon posts to the callback page served by `php -S`, which applies the events to the state file.
		JeedomDouble::$internalAddress = 'http://127.0.0.1:' . self::$port;
		jeedom::getApiKey('enphase');
		JeedomDouble::store(self::$stateFile);
		$this->assertTrue(enphaseDaemon::launch(), 'see ' . log::getPathToLog('enphase_daemon'));
		$answer = enphaseDaemon::request(array('action' => 'sync', 'gateway' => self::$gatewayId));
		JeedomDouble::load(self::$stateFile);

		$logicalIds = array_column($answer['inventory'][0]['equipments'], 'logicalId');
		$contacts = array_values(array_filter($logicalIds, function ($id) { return strpos($id, '_dry_contact_') !== false; }));
		$this->assertNotEmpty($contacts, implode(', ', $logicalIds));
		$created = array_map(function ($eqLogic) { return $eqLogic->getLogicalId(); }, eqLogic::byType('enphase'));
		$this->assertEqualsCanonicalizing($logicalIds, $created, 'the callback created what the sync found');
		// The gateway's text did arrive, cleaned: a load's name is what its payload says, without its markup.
		$texts = array_column(array_filter(self::keptStrings(), function ($kept) { return strpos($kept[0], 'cmd load_name') === 0; }), 1);
		$this->assertNotEmpty(array_filter($texts, function ($text) { return strpos($text, 'enphaseXss') !== false; }), implode(' | ', $texts));

		// A control the gateway does not apply (it reads back hostile words): the toast says so in our words.
		$contact = eqLogic::byLogicalId($contacts[0], 'enphase');
		try {
			$contact->getCmd('action', 'set_mode')->execute(array('select' => 'soc'));
			$this->fail('the hostile gateway applied a control');
		} catch (Exception $e) {
			$this->assertStringContainsString('[Choisir le mode] : ', $e->getMessage());
			$this->assertStringNotContainsString('enphaseXss', $e->getMessage(), 'what the gateway said is not repeated');
			$this->assertNoInjectedMarkup($e->getMessage(), 'refused control');
			$this->assertStringNotContainsString('<', $e->getMessage());
		}
		enphaseDaemon::stop(); // nothing more changes the state file
		JeedomDouble::load(self::$stateFile);
		$this->assertJeedomShowsNoMarkup();
	}

	public function testARogueDaemonSMarkupIsNeitherKeptNorShown() {
		$serial = '122302045041';
		$hostileCommand = array('logicalId' => 'grid_profile', 'name' => array('fr_FR' => self::PAYLOAD), 'type' => 'info',
			'subType' => 'string', 'unit' => self::PAYLOAD, 'template' => '../../../../tmp/x', 'genericType' => self::QUOTES,
			'valueLabels' => array(self::PAYLOAD => array('fr_FR' => self::QUOTES)), 'isVisible' => 1);
		$events = array(
			array('type' => 'inventory', 'gateway' => self::$gatewayId, 'serial' => $serial, 'equipments' => array(
				array('logicalId' => $serial, 'kind' => 'gateway', 'name' => array('fr_FR' => self::PAYLOAD),
					'configuration' => array('firmware' => self::PAYLOAD, 'part_number' => self::QUOTES, 'auth' => array(self::PAYLOAD), self::PAYLOAD => 1),
					'commands' => array($hostileCommand,
						array('logicalId' => 'set_mode', 'name' => 'Choisir', 'type' => 'action', 'subType' => self::QUOTES,
							'listValue' => 'a|' . self::PAYLOAD, 'minValue' => self::PAYLOAD),
						array('logicalId' => self::PAYLOAD, 'name' => 'x', 'type' => 'info', 'subType' => 'string'),
						array('logicalId' => 'production_w', 'name' => 'Production', 'type' => 'info', 'subType' => 'numeric', 'unit' => 'W'))),
				array('logicalId' => self::PAYLOAD, 'kind' => 'inverter', 'name' => self::PAYLOAD, 'commands' => array()),
				array('logicalId' => '482301000001', 'kind' => self::QUOTES, 'name' => self::QUOTES, 'commands' => array($hostileCommand)),
			)),
			array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array(
				$serial => array('grid_profile' => self::PAYLOAD . self::QUOTES . "\x00\u{202e}", 'production_w' => 5),
				'482301000001' => array('grid_profile' => str_repeat('A', 5000) . self::PAYLOAD),
				self::PAYLOAD => array('grid_profile' => self::PAYLOAD))),
			array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => $serial, 'reachable' => false,
				'firmware' => self::PAYLOAD, 'auth' => self::QUOTES, 'error' => array('code' => self::PAYLOAD, 'message' => self::PAYLOAD)),
		);
		list($status) = $this->request('/plugins/enphase/core/php/jeeEnphase.php', json_encode(array('events' => $events)),
			'application/json', array('X-Enphase-Apikey: ' . jeedom::getApiKey('enphase')));
		$this->assertSame(200, $status);
		$this->assertNotNull(eqLogic::byLogicalId('482301000001', 'enphase'), 'what has its shape is kept');
		$this->assertFalse(is_object(eqLogic::byLogicalId(self::PAYLOAD, 'enphase')));
		$this->assertJeedomShowsNoMarkup();

		// Toasts: the ajax page's refusals, and a command's, are our words; what the request said comes as text.
		$this->startDaemonStandIn(array(array('ok' => false, 'error' => array('code' => 'refused', 'message' => self::PAYLOAD))));
		$this->daemonRunning();
		list(, $body) = $this->request('/plugins/enphase/core/ajax/enphase.ajax.php', 'action=synchronize&id=' . self::$gatewayId);
		$answer = json_decode($body, true);
		for ($i = 0; $i < 200 && $answer['state'] == 'ok' && !$answer['result']['done']; $i++) {
			$this->assertNoInjectedMarkup($answer['result']['message'], 'synchronize progress');
			usleep(100000); // as the page: it asks how far the job got
			list(, $body) = $this->request('/plugins/enphase/core/ajax/enphase.ajax.php', 'action=syncProgress&id=' . self::$gatewayId . '&job=' . $answer['result']['job']);
			$answer = json_decode($body, true);
		}
		$this->assertSame('error', $answer['state'], $body);
		$this->assertStringNotContainsString('enphaseXss', $answer['result'], 'the daemon\'s words are not repeated');
		$this->assertNoInjectedMarkup($answer['result'], 'synchronize toast');
		list(, $body) = $this->request('/plugins/enphase/core/ajax/enphase.ajax.php', 'action=synchronize&id=' . urlencode(self::PAYLOAD));
		$unknown = json_decode($body, true)['result'];
		$this->assertStringContainsString('enphaseXss', $unknown, 'the unknown id is said');
		$this->assertNoInjectedMarkup($unknown, 'toast of an unknown equipment');

		$this->startDaemonStandIn(array(array('ok' => false, 'error' => array('code' => 'refused', 'message' => self::PAYLOAD))));
		try {
			eqLogic::byLogicalId($serial, 'enphase')->getCmd('action', 'set_mode')->execute(array('select' => 'a'));
			$this->fail('the refusal was not said');
		} catch (Exception $e) {
			$this->assertStringNotContainsString('enphaseXss', $e->getMessage(), 'the daemon\'s words are not repeated');
			$this->assertNoInjectedMarkup($e->getMessage(), 'command toast');
		}
	}
}
