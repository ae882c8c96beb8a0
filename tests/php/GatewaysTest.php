<?php

/**
 * Several gateways, each added by hand and carrying its own address and credentials on its equipment (secrets
 * encrypted, never given back), each synchronized on its own. The plugin configuration holds no gateway.
 */
class GatewaysTest extends EnphaseTestCase {
	/** Changes the configuration of the gateway every test starts with ("Maison"), as its page would. */
	private static function configureHouse(array $_configuration) {
		$house = enphase::byId(self::$gatewayId);
		foreach ($_configuration as $key => $value) {
			$house->setConfiguration($key, $value);
		}
		$house->save();
		return $house;
	}

	/** The ids of the gateways the daemon is told to read, in id order. */
	private static function gatewayIds() {
		return self::sortedIds(enphaseGateway::configurations());
	}

	private static function sortedIds(array $_gateways) {
		$ids = array_column($_gateways, 'id');
		sort($ids);
		return $ids;
	}

	public function testAGatewayAddedByHandIsAnEnabledGatewayKnownByItsEquipmentId() {
		$garage = self::addGateway('Garage');

		$this->assertSame('gateway', $garage->getConfiguration('kind'));
		$this->assertSame((string) $garage->getId(), $garage->getConfiguration('gateway_id'));
		$this->assertEquals(1, $garage->getIsEnable());
		$this->assertSame(array(self::$gatewayId), self::gatewayIds(), 'no address yet: not read');
		$this->assertSame('', enphaseGateway::firstProblem(), 'the other gateway still works');
	}

	public function testEachGatewayCarriesItsOwnAddressCredentialsAndCadences() {
		self::configureHouse(array('auth_method' => 'token', 'token' => 'eyJ.house'));
		$garage = self::addGateway('Garage', array('host' => ' 192.0.2.21 ', 'auth_method' => 'token', 'token' => 'eyJ.garage', 'general_s' => 120));
		$barn = self::addGateway('Grange', array('host' => '192.0.2.22', 'auth_method' => 'envoy', 'password' => 'barn-pw'));
		$cloud = self::addGateway('Atelier', array('host' => '192.0.2.23', 'auth_method' => 'enlighten', 'enlighten_username' => 'me@example.com',
			'enlighten_password' => 'cloud-pw', 'serial' => '122302045099', 'token' => 'stale-token'));

		$gateways = array();
		foreach (enphaseGateway::configurations() as $gateway) {
			$this->assertIsString($gateway['id']);
			$gateways[$gateway['id']] = $gateway;
		}

		$ids = array_map('strval', array_keys($gateways));
		sort($ids);
		$expected = array(self::$gatewayId, (string) $garage->getId(), (string) $barn->getId(), (string) $cloud->getId());
		sort($expected);
		$this->assertSame($expected, $ids);
		$this->assertSame('192.0.2.10', $gateways[self::$gatewayId]['host']);
		$this->assertSame('eyJ.house', $gateways[self::$gatewayId]['token']);
		$garageGateway = $gateways[$garage->getId()];
		$this->assertSame('192.0.2.21', $garageGateway['host']);
		$this->assertSame('eyJ.garage', $garageGateway['token']);
		$this->assertSame(120, $garageGateway['general_s']);
		$this->assertSame(300, $garageGateway['devices_s'], 'an empty cadence is the plugin configuration\'s');
		$this->assertSame('barn-pw', $gateways[$barn->getId()]['password']);
		$this->assertArrayNotHasKey('token', $gateways[$barn->getId()]);
		$this->assertSame(array('me@example.com', 'cloud-pw', '122302045099'), array($gateways[$cloud->getId()]['username'],
			$gateways[$cloud->getId()]['enlighten_password'], $gateways[$cloud->getId()]['serial']));
		$this->assertArrayNotHasKey('token', $gateways[$cloud->getId()], 'only the credentials of the chosen method');
	}

	public function testSecretsOnAnEquipmentAreStoredEncryptedAndNeverGivenBackToAPage() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21', 'auth_method' => 'enlighten', 'enlighten_username' => 'me@example.com',
			'enlighten_password' => 'cloud-pw', 'serial' => '122302045099', 'password' => 'envoy-pw'));

		$raw = json_encode($garage->rawConfiguration());
		$this->assertStringNotContainsString('cloud-pw', $raw);
		$this->assertStringNotContainsString('envoy-pw', $raw);
		$this->assertSame('cloud-pw', enphase::byId($garage->getId())->getConfiguration('enlighten_password'));
		$page = json_encode($garage->toArray());
		$this->assertStringNotContainsString('cloud-pw', $page);
		$this->assertStringNotContainsString('envoy-pw', $page);
		$this->assertSame(enphase::SECRET_MASK, $garage->toArray()['configuration']['enlighten_password'], 'the page knows it is set');
		$this->assertSame('', $garage->toArray()['configuration']['token'] ?? '', 'and that this one is not');
	}

	public function testWhatAPageSendsBackKeepsTheSecretsAndAnEmptyValueForgetsOne() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21', 'password' => 'envoy-pw', 'token' => 'eyJ.garage'));

		// The core saves what the page sends: the shown values (masks) and an emptied field.
		$page = $garage->toArray();
		$eqLogic = enphase::byId($garage->getId());
		$eqLogic->setConfiguration('password', $page['configuration']['password']);
		$eqLogic->setConfiguration('token', '');
		$eqLogic->setName('Garage nord');
		$eqLogic->save();

		$eqLogic = enphase::byId($garage->getId());
		$this->assertSame('envoy-pw', $eqLogic->getConfiguration('password'));
		$this->assertSame('', $eqLogic->getConfiguration('token'));
	}

	public function testOnlyEnabledGatewaysWithAnAddressAreRead() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$barn = self::addGateway('Grange', array('host' => '192.0.2.22'));
		$barn->setIsEnable(0);
		$barn->save();

		$this->assertSame(array(self::$gatewayId, (string) $garage->getId()), self::gatewayIds());
		enphase::byId(self::$gatewayId)->remove();
		$this->assertSame(array((string) $garage->getId()), self::gatewayIds());
		$this->assertSame('', enphaseGateway::firstProblem(), 'one gateway is enough for the daemon');
		$garage->remove();
		$this->assertSame(array(), self::gatewayIds());
		$this->assertNotSame('', enphaseGateway::firstProblem());
	}

	public function testAGatewayWithoutItsTokenSaysWhereToPasteIt() {
		enphase::byId(self::$gatewayId)->remove();
		self::addGateway('Garage', array('host' => '192.0.2.21', 'auth_method' => 'token'));

		$this->assertStringContainsString('onglet Équipement', enphaseGateway::firstProblem());
		$this->assertStringContainsString('[Garage]', enphaseGateway::firstProblem());
	}

	public function testTheDemoGatewayNeedsNoCredentials() {
		enphase::byId(self::$gatewayId)->remove();
		$demo = self::addGateway('Démo', array('host' => 'demo', 'auth_method' => 'token'));

		$this->assertSame('', enphaseGateway::firstProblem());
		$this->assertSame(array(array('id' => (string) $demo->getId(), 'host' => 'demo', 'installer' => false, 'general_s' => 60, 'devices_s' => 300, 'paused' => false,
			'detail' => array('default' => false, 'on' => array(), 'off' => array()))),
			enphaseGateway::configurations());
	}

	public function testSavingRemovingOrDisablingAGatewayTellsARunningDaemonAndNothingElseDoes() {
		$this->daemonRunning(); // saves tell it at once
		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true), array('ok' => true), array('ok' => true)));

		$garage = self::addGateway('Garage', array('host' => '192.0.2.21', 'token' => 'eyJ.garage', 'auth_method' => 'token'));
		$garage->setName('Garage nord');
		$garage->save(); // a name is not the daemon's business
		enphaseEvents::applyStatus(array('type' => 'status', 'gateway' => (string) $garage->getId(), 'reachable' => true, 'error' => null));
		$garage = enphase::byId($garage->getId());
		$garage->setIsEnable(0);
		$garage->save();
		$garage->setIsEnable(1);
		$garage->save();
		$garage->remove();

		$configured = array_map(function ($message) {
			return self::sortedIds($message['gateways']);
		}, $received());
		$id = (string) $garage->getId();
		$house = self::$gatewayId;
		$this->assertSame(array(array($house, $id), array($house), array($house, $id), array($house)), $configured,
			'one configuration per change of the gateways: added, disabled, enabled, removed');
	}

	public function testSynchronizingOneGatewayNamesItAndItsEquipmentLearnsItsSerial() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$id = (string) $garage->getId();
		$inventory = array_merge(self::inventory(), array('gateway' => $id));
		$received = $this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array($inventory))));

		$result = SyncWithCallback::ask($id);

		$this->assertTrue($result['ok'], $result['message']);
		$this->assertSame(array('action' => 'sync', 'gateway' => $id), array_diff_key($received()[0], array('apikey' => 1)));
		$gateways = array_values(array_filter(enphase::byType('enphase'), function ($eqLogic) {
			return $eqLogic->getConfiguration('kind') == 'gateway';
		}));
		$this->assertCount(2, $gateways, 'Maison and Garage: the gateway added by hand is the synchronized one, not a third equipment');
		$synchronized = self::equipment('122302045041');
		$this->assertSame($id, (string) $synchronized->getId());
		$this->assertSame('Garage', $synchronized->getName());
		$this->assertSame($id, self::equipment('482301000001')->getConfiguration('gateway_id'));
		$this->assertSame(array('found' => 1, 'created' => 0), $result['kinds']['gateway']);
	}

	public function testAGatewayThatIsNotConfiguredIsNotAskedFor() {
		$garage = self::addGateway('Garage');

		$result = enphaseSync::ask((string) $garage->getId());

		$this->assertFalse($result['ok']);
		$this->assertStringContainsString('onglet Équipement', $result['message']);
	}

	public function testSynchronizingEveryGatewayReportsTheOnesThatFailedBesideTheOthers() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()),
			'errors' => array(array('gateway' => (string) $garage->getId(), 'code' => 'unreachable', 'message' => 'No answer from 192.0.2.21.')))));

		$result = SyncWithCallback::ask();

		$this->assertTrue($result['ok']);
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 2 créé(s)', $result['message']);
		$this->assertStringContainsString('[Garage] : La passerelle ne répond pas', $result['message']);
	}

	public function testValuesAndStatusesOfTwoGatewaysLandOnTheirOwnEquipment() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$id = (string) $garage->getId();
		enphaseInventory::apply(self::inventory());
		$second = self::inventory();
		$second['gateway'] = $id;
		$second['serial'] = '122302045099';
		$second['equipments'] = array($second['equipments'][0]);
		$second['equipments'][0]['logicalId'] = '122302045099';
		enphaseInventory::apply($second);

		enphaseEvents::handle(array(
			array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('122302045041' => array('production_w' => 1500))),
			array('type' => 'values', 'gateway' => $id, 'values' => array('122302045099' => array('production_w' => 700))),
			array('type' => 'status', 'gateway' => $id, 'serial' => '122302045099', 'reachable' => false, 'error' => array('code' => 'unreachable', 'message' => 'x')),
			array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'reachable' => true, 'error' => null),
		));

		$this->assertEquals(1500, self::command('122302045041', 'production_w')->execCmd());
		$this->assertEquals(700, self::command('122302045099', 'production_w')->execCmd());
		$this->assertSame('Garage', self::equipment('122302045099')->getName());
		$this->assertFalse(self::equipment('122302045099')->getConfiguration('status')['reachable']);
		$this->assertTrue(self::equipment('122302045041')->getConfiguration('status')['reachable']);
	}

	public function testAPastedTokenOfAGatewayEquipmentIsAnnouncedWithWhereToReplaceIt() {
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21', 'auth_method' => 'token', 'token' => 'eyJ.garage'));

		enphaseEvents::applyStatus(array('type' => 'status', 'gateway' => (string) $garage->getId(), 'reachable' => true,
			'token_expires' => time() + 3 * 86400, 'error' => null));

		$messages = array_column(JeedomDouble::$db['message'], 'message');
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('[Garage]', $messages[0]);
		$this->assertStringContainsString('onglet Équipement', $messages[0]);
	}

	public function testGatewaySettingsOnThePluginConfigurationAreNoGateway() {
		foreach (array('host' => '192.0.2.99', 'auth_method' => 'token', 'token' => 'eyJ.plugin') as $key => $value) {
			config::save($key, $value, 'enphase');
		}
		enphase::byId(self::$gatewayId)->remove();

		$this->assertSame(array(), enphaseGateway::configurations());
		$this->assertNotSame('', enphaseGateway::firstProblem());
	}

	/** Firmware < 7: the form's installer box reaches the daemon as "installer": true (envoy access only). */
	public function testTheInstallerBoxOfOldFirmwareReachesTheDaemon() {
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('auth_method', 'envoy');
		$gateway->setConfiguration('installer', '1');  // a ticked checkbox, as the page saves it
		$gateway->save();
		$this->assertTrue(enphaseGateway::configurations()[0]['installer']);
		$this->assertSame('installer', enphaseGateway::access(enphaseGateway::settingsOf(enphase::byId(self::$gatewayId))));

		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('installer', '0');
		$gateway->save();
		$this->assertFalse(enphaseGateway::configurations()[0]['installer']);

		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('installer', '1');
		$gateway->setConfiguration('auth_method', 'token');
		$gateway->setConfiguration('token', 'eyJ.pasted');
		$gateway->save();
		$this->assertFalse(enphaseGateway::configurations()[0]['installer'], 'a token says itself whose it is');
	}

	public function testTickingTheInstallerBoxTellsARunningDaemon() {
		$this->daemonRunning();
		$received = $this->startDaemonStandIn(array(array('ok' => true)));
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setConfiguration('installer', '1');
		$gateway->save();

		$this->assertSame('configure', $received()[0]['action']);
		$this->assertTrue($received()[0]['gateways'][0]['installer']);
	}

	/** The demo's hour on its page: none (the daemon's clear day from 13 h), one of the day, or the real time. */
	public function testTheDemoHourReachesTheDaemon() {
		enphase::byId(self::$gatewayId)->remove();
		$demo = self::addGateway('Démo', array('host' => 'demo'));
		$this->assertArrayNotHasKey('demo_hour', enphaseGateway::configurations()[0], 'the daemon\'s default');
		foreach (array('9' => 9, 'now' => 'now', '31' => null, 'noon' => null) as $chosen => $sent) {
			$gateway = enphase::byId($demo->getId());
			$gateway->setConfiguration('demo_hour', (string) $chosen);
			$gateway->save();
			$configuration = enphaseGateway::configurations()[0];
			$this->assertSame($sent, isset($configuration['demo_hour']) ? $configuration['demo_hour'] : null, $chosen);
		}
	}
}
