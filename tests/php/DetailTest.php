<?php

/**
 * A footprint chosen for the whole box: a microinverter's detail (volts, amps, frequency, temperature) only where
 * the user asked for it, for every equipment (plugin configuration) or one (its own setting); turned off, its
 * commands go and the daemon stops sending them.
 */
class DetailTest extends EnphaseTestCase {
	/** An inventory whose microinverters have a detail command. */
	private static function inventoryWithDetail() {
		return self::inventory(array(
			array('logicalId' => 'temperature_c', 'name' => array('fr_FR' => 'Température', 'en_US' => 'Temperature'), 'type' => 'info',
				'subType' => 'numeric', 'unit' => '°C', 'isHistorized' => 1, 'order' => 9, 'isVisible' => 0, 'detail' => 1),
		));
	}

	private static function configured() {
		return enphaseGateway::configurations()[0]['detail'];
	}

	public function testTheDaemonIsToldWhoGetsTheDetail() {
		enphaseInventory::apply(self::inventory());
		$this->assertSame(array('default' => false, 'on' => array(), 'off' => array()), self::configured(), 'none by default');

		config::save('detail', 1, 'enphase');
		$one = self::equipment('482301000001');
		$one->setConfiguration('detail', '0');
		$one->save();
		$this->assertSame(array('default' => true, 'on' => array(), 'off' => array('482301000001')), self::configured());

		config::save('detail', 0, 'enphase');
		$two = self::equipment('482301000002');
		$two->setConfiguration('detail', '1');
		$two->save();
		$this->assertSame(array('default' => false, 'on' => array('482301000002'), 'off' => array('482301000001')), self::configured());
		$this->assertFalse(enphaseGateway::wantsDetail(self::equipment('482301000001')));
		$this->assertTrue(enphaseGateway::wantsDetail(self::equipment('482301000002')));
		$this->assertFalse(enphaseGateway::wantsDetail(self::equipment('122302045041_meter_production')));
	}

	public function testTurningTheDetailOffRemovesItsCommandsWhereItIsNoLongerWanted() {
		config::save('detail', 1, 'enphase');
		enphaseInventory::apply(self::inventoryWithDetail());
		$kept = self::equipment('482301000002');
		$kept->setConfiguration('detail', '1');
		$kept->save();
		$this->assertEquals(1, self::command('482301000001', 'temperature_c')->getConfiguration('detail'));
		$this->daemonRunning();
		$received = $this->startDaemonStandIn(array(array('ok' => true)));

		config::save('detail', 0, 'enphase');

		$this->assertNull(self::command('482301000001', 'temperature_c'), 'gone where the plugin setting decided');
		$this->assertNotNull(self::command('482301000001', 'watts_now'), 'the rest stays');
		$this->assertNotNull(self::command('482301000002', 'temperature_c'), 'kept where the equipment asked for it');
		$this->assertSame('configure', $received()[0]['action']);
		$this->assertSame(array('default' => false, 'on' => array('482301000002'), 'off' => array()), $received()[0]['gateways'][0]['detail']);
	}

	public function testTheConfigurationPageSavingTheSameValueRemovesNothing() {
		config::save('detail', 1, 'enphase');
		enphaseInventory::apply(self::inventoryWithDetail());

		config::save('detail', 1, 'enphase');

		$this->assertNotNull(self::command('482301000001', 'temperature_c'));
	}

	public function testOneEquipmentTurningItOffLosesItsDetailAlone() {
		config::save('detail', 1, 'enphase');
		enphaseInventory::apply(self::inventoryWithDetail());
		$this->daemonRunning();
		$received = $this->startDaemonStandIn(array(array('ok' => true)));

		$one = self::equipment('482301000001');
		$one->setConfiguration('detail', '0');
		$one->save();

		$this->assertNull(self::command('482301000001', 'temperature_c'));
		$this->assertNotNull(self::command('482301000002', 'temperature_c'));
		$this->assertSame(array('482301000001'), $received()[0]['gateways'][0]['detail']['off']);
	}

	public function testAnUpdateKeepsTheDetailOfAnInstallationThatHadItAndANewOneStartsWithout() {
		require_once ENPHASE_TEST_ROOT . '/plugins/enphase/plugin_info/install.php';
		enphaseInventory::apply(self::inventoryWithDetail());
		config::remove('detail', 'enphase'); // a version before the setting
		enphase_update();
		$this->assertEquals(1, config::byKey('detail', 'enphase'));

		JeedomDouble::reset();
		enphase_install();
		$this->assertEquals(0, config::byKey('detail', 'enphase'));
	}
}
