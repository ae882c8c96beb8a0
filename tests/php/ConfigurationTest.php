<?php

/** The plugin configuration: the daemon's settings and every gateway's defaults, set once; a gateway is set on its equipment. */
class ConfigurationTest extends EnphaseTestCase {
	public function testOnlyTheChosenMethodsCredentialsAreNeeded() {
		$gateway = enphase::byId(self::$gatewayId);
		$this->assertSame('', enphaseGateway::firstProblem(), 'the Envoy password may stay empty (serial default)');

		$gateway->setConfiguration('auth_method', 'token');
		$gateway->save();
		$this->assertStringContainsString('Collez le jeton', enphaseGateway::firstProblem());
		$gateway->setConfiguration('token', 'eyJ.token');
		$gateway->save();
		$this->assertSame('', enphaseGateway::firstProblem());

		$gateway->setConfiguration('auth_method', 'enlighten');
		$gateway->setConfiguration('enlighten_username', 'owner@example.com');
		$gateway->setConfiguration('enlighten_password', 'cloud-secret');
		$gateway->save();
		$this->assertStringContainsString('numéro de série', enphaseGateway::firstProblem(), 'the serial is missing');
		$gateway->setConfiguration('serial', '122302045041');
		$gateway->save();
		$this->assertSame('', enphaseGateway::firstProblem());
	}

	public function testWithoutAGatewayTheDaemonSaysWhereToAddOne() {
		enphase::byId(self::$gatewayId)->remove();

		$info = enphase::deamon_info();

		$this->assertSame('nok', $info['launchable']);
		$this->assertStringContainsString('Ajoutez une passerelle depuis la page du plugin', $info['launchable_message']);
	}

	public function testInstallSetsDefaultsAndUpdateKeepsTheUsersValues() {
		require_once ENPHASE_TEST_ROOT . '/plugins/enphase/plugin_info/install.php';
		JeedomDouble::reset();

		enphase_install();
		$this->assertSame('', config::byKey('socketport', 'enphase'), 'no port: PHP meets the daemon on a Unix socket');
		$this->assertEquals(60, config::byKey('general_s', 'enphase'));
		$this->assertEquals(300, config::byKey('devices_s', 'enphase'));
		$this->assertSame('', config::byKey('host', 'enphase'), 'no gateway on the plugin configuration');

		config::save('general_s', 120, 'enphase');
		self::$gatewayId = (string) self::addGateway('Maison', array('host' => '192.0.2.10'))->getId();
		enphaseInventory::apply(self::inventory());
		$equipments = JeedomDouble::$db['eqLogic'];
		config::save('socketport', 55066, 'enphase'); // left by a version that used a port
		enphase_update();
		$this->assertSame('', config::byKey('socketport', 'enphase'));
		$this->assertEquals(120, config::byKey('general_s', 'enphase'));
		$this->assertSame($equipments, JeedomDouble::$db['eqLogic']);
	}

	public function testCadencesFallBackToSaneValues() {
		config::save('general_s', 'abc', 'enphase');
		config::save('devices_s', 2, 'enphase');

		$gateway = enphaseGateway::configurations()[0];

		$this->assertSame(60, $gateway['general_s']);
		$this->assertSame(300, $gateway['devices_s']);
	}

	public function testNoGatewayWithoutAnAddress() {
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('host', ' ');
		$gateway->save();

		$this->assertSame(array(), enphaseGateway::configurations());
	}
}
