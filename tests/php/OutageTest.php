<?php

/**
 * Outages a user sees: Jeedom's equipment timeout from the cadences (stale equipment turn red), one message
 * per gateway unreachable for that long, a message when the daemon died and was started again, and the
 * gateway's state saying what is true.
 */
class OutageTest extends EnphaseTestCase {
	protected function setUp(): void {
		parent::setUp();
		enphaseInventory::apply(self::inventory());
	}

	private static function status(array $_fields = array()) {
		return array_merge(array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'reachable' => true,
			'firmware' => '7.6.185', 'auth' => 'jwt-owner', 'token_expires' => null, 'last_success' => time() - 30, 'error' => null), $_fields);
	}

	private static function unreachable($_lastSuccess) {
		return self::status(array('reachable' => false, 'last_success' => $_lastSuccess,
			'error' => array('code' => 'unreachable', 'message' => 'No answer from the gateway')));
	}

	private static function messages($_logicalId) {
		return array_values(array_filter(message::all(), function ($row) use ($_logicalId) {
			return $row['plugin'] == 'enphase' && strpos($row['logicalId'], $_logicalId) === 0;
		}));
	}

	private static function setGateway(array $_configuration) {
		$gateway = enphase::byId(self::$gatewayId);
		foreach ($_configuration as $key => $value) {
			$gateway->setConfiguration($key, $value);
		}
		$gateway->save();
	}

	public function testEveryEquipmentGetsATimeoutFromTheCadences() {
		foreach (enphase::byType('enphase') as $eqLogic) {
			$this->assertEquals(15, $eqLogic->getTimeout(), $eqLogic->getName() . ': 15 minutes with the default cadences');
		}
		self::setGateway(array('devices_s' => 900));

		$this->assertEquals(45, self::equipment('482301000001')->getTimeout(), 'three devices cycles');
		$this->assertEquals(45, self::equipment('122302045041')->getTimeout());
	}

	/** The status interval the timeout relies on is the daemon's, written once on each side. */
	public function testTheStatusIntervalIsTheDaemons() {
		$found = array();
		$files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator(ENPHASE_REPO . '/resources/enphased'));
		foreach ($files as $file) {
			if (substr($file, -3) == '.py' && preg_match('/^STATUS_REFRESH_S\s*=\s*(\d+)/m', file_get_contents($file), $match)) {
				$found[] = (int) $match[1];
			}
		}
		$this->assertSame(array(enphaseGateway::STATUS_REFRESH_S), $found);
	}

	public function testATimeoutTheUserSetStaysWhenTheCadencesChange() {
		$inverter = self::equipment('482301000001');
		$inverter->setTimeout(120);
		$inverter->save();

		self::setGateway(array('devices_s' => 900));

		$this->assertEquals(120, self::equipment('482301000001')->getTimeout());
		$this->assertEquals(45, self::equipment('482301000002')->getTimeout());
	}

	public function testAGatewayThatAnswersKeepsItsEquipmentFreshEvenWhenNothingChanged() {
		$answered = time() - 60;
		enphaseEvents::applyStatus(self::status(array('last_success' => $answered)));

		foreach (array('122302045041', '482301000001', '122302045041_meter_production') as $logicalId) {
			$this->assertSame(date('Y-m-d H:i:s', $answered), self::equipment($logicalId)->getStatus('lastCommunication'), $logicalId);
		}
		enphaseEvents::applyStatus(self::unreachable($answered));
		$this->assertSame(date('Y-m-d H:i:s', $answered), self::equipment('482301000001')->getStatus('lastCommunication'),
			'no news is not fresh news');
	}

	public function testAShortSilenceMakesNoMessage() {
		enphaseEvents::applyStatus(self::unreachable(time() - 5 * 60));
		enphase::cron5();

		$this->assertCount(0, self::messages('outage::'), 'gateways go quiet for a few minutes every night');
	}

	public function testAGatewayUnreachableForLongerThanItsTimeoutHasOneMessageGoneWhenItAnswers() {
		$since = time() - 20 * 60;
		enphaseEvents::applyStatus(self::unreachable($since));
		enphaseEvents::applyStatus(self::unreachable($since));
		enphase::cron5();

		$messages = self::messages('outage::' . self::$gatewayId . '::');
		$this->assertCount(1, $messages);
		$this->assertSame(1, $messages[0]['occurrences']);
		$this->assertStringContainsString('[Maison]', $messages[0]['message']);
		$this->assertStringContainsString('ne répond plus depuis le ' . date('d/m/Y H:i', $since), $messages[0]['message']);

		enphaseEvents::applyStatus(self::status());

		$this->assertCount(0, self::messages('outage::'));
	}

	public function testTheCronTellsOfAnOutageThatNoEventAnnounced() {
		enphaseEvents::applyStatus(self::unreachable(time() - 5 * 60));
		$gateway = enphase::byId(self::$gatewayId);
		$status = $gateway->getConfiguration('status');
		$status['unreachable_since'] = time() - 16 * 60;  // time passed, the daemon said nothing new
		$gateway->setConfiguration('status', $status);
		$gateway->save();

		enphase::cron5();

		$this->assertCount(1, self::messages('outage::'));
	}

	public function testAnOutageOutlivesADaemonRestartThatForgotTheLastSuccess() {
		enphaseEvents::applyStatus(self::unreachable(time() - 20 * 60));
		enphaseEvents::applyStatus(self::unreachable(null));

		$status = self::equipment('122302045041')->getConfiguration('status');
		$this->assertLessThanOrEqual(time() - 20 * 60, $status['unreachable_since']);
	}

	public function testTheGatewayStateSaysWhatIsTrue() {
		enphaseEvents::applyStatus(self::status());
		$this->assertSame(array('level' => 'danger', 'text' => 'Démon arrêté'), enphaseEvents::state(self::equipment('122302045041')),
			'its last status says reachable, but nothing reads it');

		$this->daemonRunning();
		$this->assertSame(array('level' => 'success', 'text' => 'Joignable'), enphaseEvents::state(self::equipment('122302045041')));

		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'auth_failed', 'message' => 'refused'))));
		$this->assertSame('Identifiants refusés', enphaseEvents::state(self::equipment('122302045041'))['text']);

		enphaseEvents::applyStatus(self::unreachable(time() - 12 * 60 - 5));
		$this->assertSame('Injoignable depuis 12 min', enphaseEvents::state(self::equipment('122302045041'))['text']);
		$this->assertSame('Injoignable depuis 12 min', self::equipment('122302045041')->toArray()['enphase_state']['text'], 'what the page gets');
	}

	public function testDurationsReadNaturally() {
		$this->assertSame('moins d’une minute', enphaseEvents::duration(40));
		$this->assertSame('90 min', enphaseEvents::duration(90 * 60));
		$this->assertSame('5 h', enphaseEvents::duration(5 * 3600 + 10));
		$this->assertSame('3 jours', enphaseEvents::duration(3 * 86400 + 7200));
	}

	public function testADaemonThatDiedIsToldWhenJeedomStartsItAgain() {
		self::setGateway(array('host' => 'demo'));  // the real daemon, playing the gateway itself on loopback
		try {
			$this->assertTrue(enphase::deamon_start(), 'see ' . log::getPathToLog('enphase_daemon'));
			$this->assertCount(0, self::messages('daemon::'), 'a first start');

			$pid = enphaseDaemon::pid();
			posix_kill($pid, 9);  // kill -9, the OOM killer, a crash
			for ($i = 0; $i < 100 && self::running($pid); $i++) {
				usleep(50000);
			}
			$this->assertSame('nok', enphase::deamon_info()['state']);
			$this->assertTrue(enphase::deamon_start());  // what the core's watchdog does

			$messages = self::messages('daemon::');
			$this->assertCount(1, $messages);
			$this->assertStringContainsString('s’était arrêté sans qu’on le lui demande', $messages[0]['message']);

			enphase::deamon_start();  // the user restarts it: a clean stop first
			$this->assertSame(1, self::messages('daemon::')[0]['occurrences']);
		} finally {
			enphase::deamon_stop();
		}
	}

	public function testAStoppedDaemonIsNotTakenForADeadOne() {
		self::setGateway(array('host' => 'demo'));
		try {
			$this->assertTrue(enphase::deamon_start(), 'see ' . log::getPathToLog('enphase_daemon'));
			enphase::deamon_stop();
			$this->assertTrue(enphase::deamon_start());
			$this->assertCount(0, self::messages('daemon::'));
		} finally {
			enphase::deamon_stop();
		}
	}

	public function testARemovedGatewayTakesItsMessagesAlong() {
		enphaseEvents::applyStatus(self::status(array('reachable' => true, 'error' => array('code' => 'auth_failed', 'message' => 'refused'))));
		$this->assertNotEmpty(self::messages('status::'));
		enphaseEvents::applyStatus(self::unreachable(time() - 20 * 60));
		$this->assertNotEmpty(self::messages('outage::'));

		enphase::byId(self::$gatewayId)->remove();

		$this->assertSame(array(), array_values(array_filter(message::all(), function ($row) {
			return $row['plugin'] == 'enphase';
		})));
	}
}
