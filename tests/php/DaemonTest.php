<?php

/** PHP -> daemon over the loopback socket: configure, sync, refresh, execute; and what the user reads when it fails. */
class DaemonTest extends EnphaseTestCase {
	public function testNothingListeningMeansTheDaemonIsNotRunning() {
		try {
			enphaseDaemon::request(array('action' => 'refresh'));
			$this->fail('no daemon, no answer');
		} catch (enphaseDaemonError $e) {
			$this->assertSame('daemon_not_running', $e->getReason());
			$this->assertStringContainsString('n\'est pas démarré', $e->getMessage());
		}
	}

	public function testConfigurationCarriesTheApikeyAndThePastedToken() {
		config::save('auth_method', 'token', 'enphase');
		enphaseGateway::saveSecrets(array('token' => 'eyJhbGciOi.pasted.token', 'password' => 'old-password'));
		config::save('general_s', 30, 'enphase');
		$received = $this->startDaemonStandIn(array(array('ok' => true)));

		enphaseDaemon::configure();

		$message = $received()[0];
		$this->assertSame('configure', $message['action']);
		$this->assertSame(jeedom::getApiKey('enphase'), $message['apikey']);
		$this->assertSame(30, $message['general_s']);
		$this->assertSame(300, $message['devices_s']);
		$this->assertCount(1, $message['gateways']);
		$gateway = $message['gateways'][0];
		$this->assertSame('default', $gateway['id']);
		$this->assertSame('192.0.2.10', $gateway['host']);
		$this->assertSame('eyJhbGciOi.pasted.token', $gateway['token']);
		$this->assertArrayNotHasKey('password', $gateway, 'only the credentials of the chosen method');
	}

	public function testConfigurationCarriesTheEnvoyPasswordOrTheEnlightenAccount() {
		enphaseGateway::saveSecrets(array('password' => '045041', 'enlighten_password' => 'cloud-secret'));
		config::save('enlighten_username', 'owner@example.com', 'enphase');
		config::save('serial', '122302045041', 'enphase');
		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true)));

		config::save('auth_method', 'envoy', 'enphase');
		enphaseDaemon::configure();
		config::save('auth_method', 'enlighten', 'enphase');
		enphaseDaemon::configure();

		$envoy = $received()[0]['gateways'][0];
		$this->assertSame('045041', $envoy['password']);
		$this->assertArrayNotHasKey('enlighten_password', $envoy);
		$enlighten = $received()[1]['gateways'][0];
		$this->assertSame('owner@example.com', $enlighten['username']);
		$this->assertSame('cloud-secret', $enlighten['enlighten_password']);
		$this->assertSame('122302045041', $enlighten['serial']);
		$this->assertArrayNotHasKey('password', $enlighten);
	}

	public function testSyncAppliesTheInventoryAndSaysWhatWasFound() {
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		$result = enphaseInventory::sync();

		$this->assertTrue($result['ok']);
		$this->assertSame('sync', $received()[0]['action']);
		$this->assertCount(4, enphase::byType('enphase'));
		$this->assertSame(array('found' => 2, 'created' => 2), $result['kinds']['inverter']);
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 2 créé(s)', $result['message']);
	}

	public function testEquipmentTheCallbackCreatedDuringTheSyncCountAsCreated() {
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		$result = CallbackBeforeAnswer::sync();

		$this->assertSame(array('found' => 2, 'created' => 2), $result['kinds']['inverter']);
		$this->assertStringContainsString('11 commande(s) créée(s)', $result['message']);
	}

	public function testASecondSyncCreatesNothingAndSaysSo() {
		$this->startDaemonStandIn(array(
			array('ok' => true, 'inventory' => array(self::inventory())),
			array('ok' => true, 'inventory' => array(self::inventory())),
		));
		enphaseInventory::sync();

		$result = enphaseInventory::sync();

		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 0 créé(s)', $result['message']);
		$this->assertStringContainsString('0 commande(s) créée(s)', $result['message']);
	}

	public function testAFailedSyncSaysWhyInPlainWords() {
		$this->startDaemonStandIn(array(
			array('ok' => false, 'error' => array('code' => 'auth_failed', 'message' => 'The gateway refused the password for user envoy')),
			array('ok' => false, 'error' => array('code' => 'unreachable', 'message' => 'No answer from 192.0.2.10')),
			array('ok' => false, 'error' => array('code' => 'token_expired', 'message' => 'Token expired on 2026-01-01')),
			array('ok' => false, 'error' => array('code' => 'nothing_readable', 'message' => 'The gateway at 192.0.2.10 answers, but none of its pages gives a reading this plugin knows; send a diagnostics report.')),
		));

		$wrongPassword = enphaseInventory::sync();
		$unreachable = enphaseInventory::sync();
		$expired = enphaseInventory::sync();
		$unreadable = enphaseInventory::sync();

		$this->assertFalse($wrongPassword['ok']);
		$this->assertStringContainsString('refuse les identifiants', $wrongPassword['message']);
		$this->assertStringContainsString('The gateway refused the password for user envoy', $wrongPassword['message']);
		$this->assertStringContainsString('La passerelle ne répond pas', $unreachable['message']);
		$this->assertStringContainsString('Le jeton a expiré', $expired['message']);
		$this->assertFalse($unreadable['ok']);
		$this->assertStringContainsString('aucune de ses pages ne donne de mesure lisible', $unreadable['message']);
		$this->assertCount(0, enphase::byType('enphase'));
	}

	public function testSyncWithoutDaemonOrConfigurationSaysSo() {
		$noDaemon = enphaseInventory::sync();
		config::remove('host', 'enphase');
		$notConfigured = enphaseInventory::sync();

		$this->assertFalse($noDaemon['ok']);
		$this->assertStringContainsString('n\'est pas démarré', $noDaemon['message']);
		$this->assertFalse($notConfigured['ok']);
		$this->assertStringContainsString('Renseignez l\'adresse IP ou le nom de la passerelle', $notConfigured['message']);
	}

	public function testAnActionCommandIsForwardedWithItsValue() {
		enphaseInventory::apply(self::inventory());
		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true), array('ok' => true)));

		self::command('122302045041', 'reserve_set')->execute(array('slider' => 30));
		self::command('122302045041', 'grid_on')->execute(array());
		self::command('122302045041', 'refresh')->execute(array());

		$messages = $received();
		$this->assertSame(array('action' => 'execute', 'gateway' => 'default', 'target' => '122302045041', 'command' => 'reserve_set', 'value' => 30),
			array_diff_key($messages[0], array('apikey' => 1)));
		$this->assertSame('grid_on', $messages[1]['command']);
		$this->assertNull($messages[1]['value']);
		$this->assertSame(array('action' => 'refresh', 'gateway' => 'default'), array_diff_key($messages[2], array('apikey' => 1)));
	}

	public function testARefusedActionTellsTheUserWhichCommandAndWhy() {
		enphaseInventory::apply(self::inventory());
		$this->startDaemonStandIn(array(array('ok' => false, 'error' => array('code' => 'refused', 'message' => 'HTTP 401 on /ivp/ensemble/relay'))));

		$this->expectExceptionMessage('Réseau marche');
		$this->expectExceptionMessage('La passerelle a refusé la commande');
		self::command('122302045041', 'grid_on')->execute(array());
	}

	public function testADaemonThatDoesNotAnswerTimesOut() {
		$this->startDaemonStandIn(array(null));

		try {
			enphaseDaemon::request(array('action' => 'refresh'), 1);
			$this->fail('no answer');
		} catch (enphaseDaemonError $e) {
			$this->assertSame('no_answer', $e->getReason());
		}
	}

	public function testTheDaemonIsLaunchableOnlyWhenConfigured() {
		$this->assertSame('ok', enphase::deamon_info()['launchable']);
		config::remove('host', 'enphase');
		$info = enphase::deamon_info();
		$this->assertSame('nok', $info['launchable']);
		$this->assertStringContainsString('adresse IP', $info['launchable_message']);

		config::save('host', 'envoy.local', 'enphase');
		config::save('auth_method', 'token', 'enphase');
		$this->assertStringContainsString('jeton', enphase::deamon_info()['launchable_message']);
		config::save('auth_method', 'enlighten', 'enphase');
		$this->assertStringContainsString('Enlighten', enphase::deamon_info()['launchable_message']);
	}

	public function testTheStateFollowsThePidFile() {
		$this->assertSame('nok', enphase::deamon_info()['state']);
		file_put_contents(enphaseDaemon::pidFile(), getmypid());
		$this->assertSame('ok', enphase::deamon_info()['state']);
		$this->assertSame('enphase', enphase::deamon_info()['log']);

		// A pid that no longer runs: the stale file goes.
		$exited = proc_open(array(PHP_BINARY, '-r', 'echo getmypid();'), array(1 => array('pipe', 'w')), $pipes);
		$pid = (int) stream_get_contents($pipes[1]);
		proc_close($exited);
		file_put_contents(enphaseDaemon::pidFile(), $pid);
		$this->assertSame('nok', enphase::deamon_info()['state']);
		$this->assertFileDoesNotExist(enphaseDaemon::pidFile());
	}

	public function testTheDaemonLogLevelIsOneItKnows() {
		$this->assertContains(enphaseDaemon::logLevel(), array('debug', 'info', 'warning', 'error'));
		$this->assertStringEndsWith('/plugins/enphase/core/php/jeeEnphase.php', enphaseDaemon::callbackUrl());
	}
}

/** The daemon's real order: the inventory reaches jeeEnphase.php by callback before the sync answer comes back. */
class CallbackBeforeAnswer extends enphaseInventory {
	protected static function request(array $_message, $_timeout) {
		enphaseEvents::handle(array(EnphaseTestCase::inventory()));
		return parent::request($_message, $_timeout);
	}
}
