<?php

/** The plugin configuration: secrets stored encrypted and never given back, defaults set once. */
class ConfigurationTest extends EnphaseTestCase {
	public function testSecretsAreStoredEncrypted() {
		enphaseGateway::saveSecrets(array('password' => '045041', 'token' => 'eyJ.token', 'enlighten_password' => 'cloud-secret'));

		foreach (array('password' => '045041', 'token' => 'eyJ.token', 'enlighten_password' => 'cloud-secret') as $key => $clear) {
			$this->assertStringNotContainsString($clear, (string) config::rawValue($key, 'enphase'));
			$this->assertSame($clear, config::byKey($key, 'enphase'));
		}
	}

	public function testAnEmptyFieldKeepsTheSecretAndClearForgetsIt() {
		enphaseGateway::saveSecrets(array('password' => '045041', 'token' => 'eyJ.token'));

		enphaseGateway::saveSecrets(array('password' => '', 'token' => '  '));
		$this->assertSame('045041', config::byKey('password', 'enphase'));
		$this->assertSame('eyJ.token', config::byKey('token', 'enphase'));

		enphaseGateway::saveSecrets(array(), array('token'));
		$this->assertSame('', config::byKey('token', 'enphase'));
		$this->assertSame('045041', config::byKey('password', 'enphase'));
	}

	public function testThePageLearnsOnlyWhetherEachSecretIsSet() {
		enphaseGateway::saveSecrets(array('token' => 'eyJ.token'));

		$state = enphaseGateway::secretsState();

		$this->assertSame(array('password' => false, 'token' => true, 'enlighten_password' => false), $state);
	}

	public function testOnlyTheChosenMethodsCredentialsAreNeeded() {
		$this->assertSame('', enphaseGateway::firstProblem(), 'the Envoy password may stay empty (serial default)');
		config::save('auth_method', 'token', 'enphase');
		$this->assertNotSame('', enphaseGateway::firstProblem());
		enphaseGateway::saveSecrets(array('token' => 'eyJ.token'));
		$this->assertSame('', enphaseGateway::firstProblem());
		config::save('auth_method', 'enlighten', 'enphase');
		config::save('enlighten_username', 'owner@example.com', 'enphase');
		enphaseGateway::saveSecrets(array('enlighten_password' => 'cloud-secret'));
		$this->assertNotSame('', enphaseGateway::firstProblem(), 'the serial is missing');
		config::save('serial', '122302045041', 'enphase');
		$this->assertSame('', enphaseGateway::firstProblem());
	}

	public function testInstallSetsDefaultsAndUpdateKeepsTheUsersValues() {
		require_once ENPHASE_TEST_ROOT . '/plugins/enphase/plugin_info/install.php';
		JeedomDouble::reset();

		enphase_install();
		$this->assertEquals(enphaseDaemon::DEFAULT_SOCKET_PORT, config::byKey('socketport', 'enphase'));
		$this->assertEquals(60, config::byKey('general_s', 'enphase'));
		$this->assertEquals(300, config::byKey('devices_s', 'enphase'));
		$this->assertSame('envoy', config::byKey('auth_method', 'enphase'));

		config::save('general_s', 120, 'enphase');
		config::save('auth_method', 'token', 'enphase');
		enphaseInventory::apply(self::inventory());
		$equipments = JeedomDouble::$db['eqLogic'];
		enphase_update();
		$this->assertEquals(120, config::byKey('general_s', 'enphase'));
		$this->assertSame('token', config::byKey('auth_method', 'enphase'));
		$this->assertSame($equipments, JeedomDouble::$db['eqLogic']);
	}

	public function testCadencesAndPortFallBackToSaneValues() {
		config::save('general_s', 'abc', 'enphase');
		config::save('devices_s', 2, 'enphase');
		config::save('socketport', 80, 'enphase');

		$gateway = enphaseGateway::configurations()[0];

		$this->assertSame(60, $gateway['general_s']);
		$this->assertSame(300, $gateway['devices_s']);
		$this->assertSame(enphaseDaemon::DEFAULT_SOCKET_PORT, enphaseDaemon::socketPort());
	}

	public function testNoGatewayWithoutAnAddress() {
		config::remove('host', 'enphase');

		$this->assertSame(array(), enphaseGateway::configurations());
	}
}
