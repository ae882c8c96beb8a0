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

	/** Sets the test's gateway as its equipment page would. */
	private static function configureGateway(array $_configuration) {
		$gateway = enphase::byId(self::$gatewayId);
		foreach ($_configuration as $key => $value) {
			$gateway->setConfiguration($key, $value);
		}
		$gateway->save();
	}

	public function testConfigurationCarriesTheApikeyAndThePastedToken() {
		self::configureGateway(array('auth_method' => 'token', 'token' => 'eyJhbGciOi.pasted.token', 'password' => 'old-password'));
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
		$this->assertSame(self::$gatewayId, $gateway['id']);
		$this->assertSame('192.0.2.10', $gateway['host']);
		$this->assertSame('eyJhbGciOi.pasted.token', $gateway['token']);
		$this->assertArrayNotHasKey('password', $gateway, 'only the credentials of the chosen method');
	}

	public function testConfigurationCarriesTheEnvoyPasswordOrTheEnlightenAccount() {
		self::configureGateway(array('password' => '045041', 'enlighten_password' => 'cloud-secret',
			'enlighten_username' => 'owner@example.com', 'serial' => '122302045041'));
		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true)));

		self::configureGateway(array('auth_method' => 'envoy'));
		enphaseDaemon::configure();
		self::configureGateway(array('auth_method' => 'enlighten'));
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

	public function testSyncSaysWhatTheCallbackCreated() {
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		$result = SyncWithCallback::ask();

		$this->assertTrue($result['ok']);
		$this->assertSame('sync', $received()[0]['action']);
		$this->assertCount(4, enphase::byType('enphase'));
		$this->assertSame(array('found' => 2, 'created' => 2), $result['kinds']['inverter']);
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 2 créé(s)', $result['message']);
		$this->assertStringContainsString('11 commande(s) créée(s)', $result['message']);
		$this->assertStringNotContainsString('pas encore créé', $result['message']);
	}

	public function testTheInventoryIsAppliedOnceFromTheCallbackNotAgainFromTheAnswer() {
		$answer = self::inventory();
		$answer['equipments'][] = array('logicalId' => '482301000003', 'kind' => 'inverter', 'commands' => array());
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array($answer))));
		SyncWithCallback::$events = array(self::inventory());

		$result = SyncWithCallback::ask();

		$this->assertNull(self::equipment('482301000003'), 'only the callback creates equipment');
		$this->assertSame(array('found' => 3, 'created' => 2), $result['kinds']['inverter']);
		$this->assertStringContainsString('1 équipement(s) pas encore créé(s)', $result['message']);
	}

	public function testASyncWhoseCallbackDidNotGetThroughSaysTheEquipmentWillFollow() {
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));

		$result = enphaseSync::ask();

		$this->assertTrue($result['ok']);
		$this->assertCount(1, enphase::byType('enphase'), 'the gateway added by hand only');
		$this->assertSame(array('found' => 2, 'created' => 0), $result['kinds']['inverter']);
		$this->assertStringContainsString('4 équipement(s) pas encore créé(s)', $result['message'], 'the gateway has not learnt its serial either');
	}

	public function testASecondSyncCreatesNothingAndSaysSo() {
		$this->startDaemonStandIn(array(
			array('ok' => true, 'inventory' => array(self::inventory())),
			array('ok' => true, 'inventory' => array(self::inventory())),
		));
		SyncWithCallback::ask();

		$result = SyncWithCallback::ask();

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

		$wrongPassword = enphaseSync::ask();
		$unreachable = enphaseSync::ask();
		$expired = enphaseSync::ask();
		$unreadable = enphaseSync::ask();

		$this->assertFalse($wrongPassword['ok']);
		// French only, for the access the gateway uses (its password here); the daemon's English is its log's.
		$this->assertStringContainsString('La passerelle refuse le mot de passe', $wrongPassword['message']);
		$this->assertStringNotContainsString('The gateway refused', $wrongPassword['message']);
		$this->assertStringContainsString('La passerelle ne répond pas', $unreachable['message']);
		$this->assertStringContainsString('a expiré', $expired['message']);
		$this->assertFalse($unreadable['ok']);
		$this->assertStringContainsString('aucune de ses pages ne donne de mesure lisible', $unreadable['message']);
		$this->assertCount(1, enphase::byType('enphase'), 'the gateway added by hand, nothing else');
	}

	public function testSyncWithoutDaemonOrConfigurationSaysSo() {
		$noDaemon = enphaseSync::ask();
		self::configureGateway(array('host' => ''));
		$notConfigured = enphaseSync::ask();

		$this->assertFalse($noDaemon['ok']);
		$this->assertStringContainsString('n\'est pas démarré', $noDaemon['message']);
		$this->assertFalse($notConfigured['ok']);
		$this->assertStringContainsString('Ajoutez une passerelle', $notConfigured['message']);
	}

	public function testAnActionCommandIsForwardedWithItsValue() {
		enphaseInventory::apply(self::inventory());
		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true), array('ok' => true)));

		self::command('122302045041', 'reserve_set')->execute(array('slider' => 30));
		self::command('122302045041', 'grid_on')->execute(array());
		self::command('122302045041', 'refresh')->execute(array());

		$messages = $received();
		$this->assertSame(array('action' => 'execute', 'gateway' => self::$gatewayId, 'target' => '122302045041', 'command' => 'reserve_set', 'value' => 30),
			array_diff_key($messages[0], array('apikey' => 1)));
		$this->assertSame('grid_on', $messages[1]['command']);
		$this->assertNull($messages[1]['value']);
		$this->assertSame(array('action' => 'refresh', 'gateway' => self::$gatewayId), array_diff_key($messages[2], array('apikey' => 1)));
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

	public function testPhpWaitsForEachActionWhatTimeoutsJsonSays() {
		$file = json_decode(file_get_contents(ENPHASE_REPO . '/resources/enphased/jeedom/timeouts.json'), true)['actions'];
		foreach ($file as $action => $waits) {
			$this->assertSame($waits['php_s'], enphaseDaemon::answerWait($action), $action);
		}
		$this->assertSame(150, enphaseDaemon::answerWait('execute'), 'longer than the daemon\'s 120 s for a write');
	}

	public function testTheWaitOfARequestIsReadFromTimeoutsJson() {
		// The plugin's copy says 1 s for refresh; the stand-in reads the message and closes after 5 s without
		// a word: waiting 1 s is "no answer", waiting longer would have seen the close ("bad answer").
		$copy = ENPHASE_TEST_ROOT . '/plugins/enphase/resources/enphased/jeedom/timeouts.json';
		$original = file_get_contents($copy);
		$timeouts = json_decode($original, true);
		$timeouts['actions']['refresh']['php_s'] = 1;
		file_put_contents($copy, json_encode($timeouts));
		enphaseInventory::apply(self::inventory());
		$this->startDaemonStandIn(array(null));
		try {
			self::command('122302045041', 'refresh')->execute(array());
			$this->fail('no answer');
		} catch (Exception $e) {
			$this->assertStringContainsString('n\'a pas répondu à temps', $e->getMessage());
		} finally {
			file_put_contents($copy, $original);
		}
	}

	public function testTheDaemonIsLaunchableOnlyWhenConfigured() {
		$this->assertSame('ok', enphase::deamon_info()['launchable']);
		self::configureGateway(array('host' => ''));
		$info = enphase::deamon_info();
		$this->assertSame('nok', $info['launchable']);
		$this->assertStringContainsString('renseignez son adresse', $info['launchable_message']);

		self::configureGateway(array('host' => 'envoy.local', 'auth_method' => 'token'));
		$this->assertStringContainsString('[Maison] : Collez le jeton', enphase::deamon_info()['launchable_message']);
		self::configureGateway(array('auth_method' => 'enlighten'));
		$this->assertStringContainsString('Enlighten', enphase::deamon_info()['launchable_message']);
	}

	public function testTheStateFollowsThePidFileOfOurDaemon() {
		$this->assertSame('nok', enphase::deamon_info()['state']);
		$this->daemonRunning();
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

	public function testAPidFileNamingAnotherProgramIsStaleAndThatProgramIsNotKilled() {
		// Our daemon died without removing its file, and its pid now belongs to someone else's program.
		$other = $this->startProcess(array('sleep', '60'));
		file_put_contents(enphaseDaemon::pidFile(), $other);

		$this->assertSame('nok', enphase::deamon_info()['state'], 'so the core\'s watchdog starts the daemon again');
		$this->assertFileDoesNotExist(enphaseDaemon::pidFile());
		file_put_contents(enphaseDaemon::pidFile(), $other);
		enphase::deamon_stop();
		usleep(200000);
		$this->assertTrue(self::running($other), 'deamon_stop killed a process that is not the daemon');
	}

	public function testAPidFileOlderThanItsProcessNamedAnEarlierOne() {
		$this->daemonRunning();
		touch(enphaseDaemon::pidFile(), time() - 3600);

		$this->assertSame('nok', enphase::deamon_info()['state']);
	}

	public function testTheDataFolderIsCreatedPrivateAndPutBackPrivateAfterTheCoreOpenedIt() {
		enphase_test_remove(ENPHASE_TEST_ROOT . '/plugins/enphase/data');
		$dir = enphaseDaemon::dataDir();
		clearstatcache();
		$this->assertSame('0700', sprintf('%04o', fileperms($dir) & 0777));

		chmod($dir, 0775); // as the core's backups and updates leave the web root (chmod 775 -R)
		enphase::deamon_info(); // the core asks every few minutes
		clearstatcache();
		$this->assertSame('0700', sprintf('%04o', fileperms($dir) & 0777));
	}

	public function testPhpStartsTheRealDaemonTalksToItOnItsPrivateSocketAndStopsIt() {
		self::configureGateway(array('host' => 'demo')); // the daemon plays the gateway itself, on loopback

		try {
			$this->assertTrue(enphaseDaemon::launch(), 'see ' . log::getPathToLog('enphase_daemon'));
			$pid = enphaseDaemon::pid();
			$this->assertSame('ok', enphase::deamon_info()['state']);
			$socket = enphaseDaemon::socketPath();
			$this->assertSame('socket', filetype($socket));
			$this->assertSame('0600', sprintf('%04o', fileperms($socket) & 0777));
			$this->assertSame(posix_geteuid(), fileowner($socket));
			$this->assertContains('Configuration envoyée au démon', array_column(JeedomDouble::logsOf('enphase'), 2));
			$this->assertSame(array('ok' => true), enphaseDaemon::request(array('action' => 'refresh', 'gateway' => self::$gatewayId)));

			enphase::deamon_stop();
			$this->assertSame('nok', enphase::deamon_info()['state']);
			for ($i = 0; $i < 100 && self::running($pid); $i++) {
				usleep(100000); // its pid file goes first, then Python winds down
			}
			$this->assertFalse(self::running($pid));
			$this->assertFileDoesNotExist($socket);
		} finally {
			enphaseDaemon::stop(); // whatever failed above, no daemon outlives the test
		}
		$log = file_get_contents(log::getPathToLog('enphase_daemon'));
		$this->assertStringContainsString('Listening on ' . $socket, $log);
		$this->assertStringNotContainsString(jeedom::getApiKey('enphase'), $log);
	}

	public function testADaemonJustStartedThatSaysBusyIsAskedAgainAndOtherRefusalsAreFinal() {
		$busy = array('ok' => false, 'error' => array('code' => 'busy', 'message' => 'too many connections'));
		$received = $this->startDaemonStandIn(array($busy, $busy, array('ok' => true)));

		$this->assertTrue(enphaseDaemon::configureAtStart());
		$this->assertSame(array('configure', 'configure', 'configure'), array_column($received(), 'action'));
		$this->assertSame(array(), array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return $line[1] == 'error';
		}));

		$received = $this->startDaemonStandIn(array(array('ok' => false, 'error' => array('code' => 'forbidden'))));
		$this->assertFalse(enphaseDaemon::configureAtStart());
		$this->assertCount(1, $received());
	}

	public function testConnectionsThatSayNothingDelayTheDaemonsStartNoLongerThanItsMessageDeadline() {
		self::configureGateway(array('host' => 'demo'));
		// Someone holds every connection slot of the daemon from the moment it listens, and never speaks.
		$hog = '$path = $argv[1]; $held = array(); $until = microtime(true) + 60;
			while (count($held) < 16 && microtime(true) < $until) {
				$socket = file_exists($path) ? @stream_socket_client("unix://" . $path, $errno, $errstr, 1) : false;
				if ($socket === false) { usleep(5000); } else { $held[] = $socket; }
			}
			sleep(60);';
		$this->startProcess(array(PHP_BINARY, '-r', $hog, enphaseDaemon::socketPath()));

		try {
			$this->assertTrue(enphaseDaemon::launch());
			$log = file_get_contents(log::getPathToLog('enphase_daemon'));
			$this->assertStringContainsString('Socket connection refused: more than 16 at once', $log, 'PHP met a busy daemon');
			$this->assertContains('Configuration envoyée au démon', array_column(JeedomDouble::logsOf('enphase'), 2), $log);
			$this->assertSame(array('ok' => true), enphaseDaemon::request(array('action' => 'refresh', 'gateway' => self::$gatewayId)),
				'the daemon knows the gateway: it was configured at start');
		} finally {
			enphaseDaemon::stop();
		}
	}

	public function testTheDaemonLogsAtThePluginsLevelInWordsItKnows() {
		$this->assertSame('info', enphaseDaemon::logLevel(), 'the global level when the plugin has none');
		// Jeedom's levels (log::convertLogLevel) -> the daemon's four (docs/protocol.md).
		$expected = array(100 => 'debug', 200 => 'info', 250 => 'info', 300 => 'warning', 400 => 'error', 500 => 'error', 1000 => 'error');
		$seen = array();
		foreach (array_keys($expected) as $level) {
			config::save('log::level::enphase', array((string) $level => '1'));
			$seen[$level] = enphaseDaemon::logLevel();
		}
		$this->assertSame($expected, $seen);
		config::save('log::level::enphase', array('default' => '1', '100' => '1'));
		config::save('log::level', 300);
		$this->assertSame('warning', enphaseDaemon::logLevel(), 'the plugin set to follow the global level');
	}

	public function testTheCallbackIsJeedomsInternalAddress() {
		$this->assertSame('http://127.0.0.1:80/plugins/enphase/core/php/jeeEnphase.php', enphaseDaemon::callbackUrl());
	}

	/** An unwritable plugin folder: a French sentence, not a daemon dying on "--apikey-file /apikey". */
	public function testADataFolderThatCannotBeMadeStopsTheStartWithASentence() {
		$data = ENPHASE_TEST_ROOT . '/plugins/enphase/data';
		enphase_test_remove($data);
		file_put_contents($data, 'not a folder');  // what mkdir cannot get past, even as root
		try {
			$info = enphase::deamon_info();
			$this->assertSame('nok', $info['launchable']);
			$this->assertStringContainsString('Le dossier de données du plugin (plugins/enphase/data)', $info['launchable_message']);
			enphaseDaemon::launch();
			$this->fail('started without its data folder');
		} catch (Exception $e) {
			$this->assertStringContainsString('Le dossier de données du plugin (plugins/enphase/data)', $e->getMessage());
		} finally {
			unlink($data);
		}
		$this->assertFileDoesNotExist('/apikey');
	}
}
