<?php

/**
 * Where Synchronize puts what it creates: the gateway's object (room), else the plugin configuration's default;
 * what the Dashboard shows by default; the gateway's equipment follow it when it moves, unless the user moved them.
 */
class PlacementTest extends EnphaseTestCase {
	private static function objectOf($_logicalId) {
		return self::equipment($_logicalId)->getObject_id();
	}

	private static function placeGateway($_objectId) {
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setObject_id($_objectId);
		$gateway->save();
	}

	public function testNewEquipmentGoIntoTheGatewaysObject() {
		$house = jeeObject::add('Maison');
		config::save('default_object_id', jeeObject::add('Garage'), 'enphase');
		self::placeGateway($house);

		enphaseInventory::apply(self::inventory());

		foreach (array('122302045041', '482301000001', '482301000002', '122302045041_meter_production') as $logicalId) {
			$this->assertEquals($house, self::objectOf($logicalId), $logicalId);
		}
	}

	public function testWithoutAGatewayObjectThePluginDefaultIsUsedGatewayIncluded() {
		$garage = jeeObject::add('Garage');
		config::save('default_object_id', $garage, 'enphase');

		enphaseInventory::apply(self::inventory());

		foreach (array('122302045041', '482301000001', '122302045041_meter_production') as $logicalId) {
			$this->assertEquals($garage, self::objectOf($logicalId), $logicalId);
		}
	}

	public function testADefaultObjectRemovedSinceIsNotUsed() {
		$garage = jeeObject::add('Garage');
		config::save('default_object_id', $garage, 'enphase');
		jeeObject::byId($garage)->remove();

		enphaseInventory::apply(self::inventory());

		$this->assertNull(self::objectOf('482301000001'));
	}

	public function testTheDashboardShowsTheGatewayMetersAndBatteriesNotEachMicroinverter() {
		$inventory = self::inventory();
		$inventory['equipments'][] = array('logicalId' => '482301000077', 'kind' => 'encharge', 'name' => 'Batterie IQ 482301000077', 'commands' => array());
		enphaseInventory::apply($inventory);

		$shown = array();
		foreach (enphase::byType('enphase') as $eqLogic) {
			$this->assertEquals(1, $eqLogic->getIsEnable(), $eqLogic->getName());
			$shown[$eqLogic->getConfiguration('kind')][] = (int) $eqLogic->getIsVisible();
		}
		$this->assertSame(array(1), $shown['gateway']);
		$this->assertSame(array(1), $shown['meter']);
		$this->assertSame(array(1), $shown['encharge']);
		$this->assertSame(array(0, 0), $shown['inverter'], 'enabled and historized, not on the Dashboard');
	}

	public function testWhatTheUserChangedIsKeptAtTheNextSynchronize() {
		$house = jeeObject::add('Maison');
		self::placeGateway($house);
		enphaseInventory::apply(self::inventory());
		$inverter = self::equipment('482301000001');
		$inverter->setIsVisible(1);
		$inverter->setObject_id(null);
		$inverter->save();

		enphaseInventory::apply(self::inventory());

		$this->assertEquals(1, self::equipment('482301000001')->getIsVisible());
		$this->assertNull(self::objectOf('482301000001'));
	}

	public function testEquipmentFollowTheirGatewayUnlessTheUserMovedThem() {
		$house = jeeObject::add('Maison');
		$roof = jeeObject::add('Toit');
		$cellar = jeeObject::add('Cave');
		enphaseInventory::apply(self::inventory());  // no object yet: nothing is placed
		$this->assertNull(self::objectOf('482301000001'));
		$meter = self::equipment('122302045041_meter_production');
		$meter->setObject_id($cellar);
		$meter->save();

		self::placeGateway($house);

		$this->assertEquals($house, self::objectOf('482301000001'));
		$this->assertEquals($house, self::objectOf('482301000002'));
		$this->assertEquals($cellar, self::objectOf('122302045041_meter_production'), 'moved by the user: stays');

		$inverter = self::equipment('482301000002');
		$inverter->setObject_id($roof);
		$inverter->save();
		self::placeGateway(null);

		$this->assertNull(self::objectOf('482301000001'));
		$this->assertEquals($roof, self::objectOf('482301000002'));
		$this->assertEquals($cellar, self::objectOf('122302045041_meter_production'));
	}

	public function testANameTakenInTheObjectGetsItsGatewaysNameThenItsSerial() {
		$house = jeeObject::add('Maison');
		self::placeGateway($house);
		foreach (array('Micro-onduleur 482301000001', 'Micro-onduleur 482301000002', 'Micro-onduleur 482301000002 – Maison') as $name) {
			$other = new enphase();  // another gateway's, in the same room
			$other->setEqType_name('enphase');
			$other->setName($name);
			$other->setObject_id($house);
			$other->setConfiguration('kind', 'inverter');
			$other->save();
		}

		enphaseInventory::apply(self::inventory());

		$this->assertSame('Micro-onduleur 482301000001 – Maison', self::equipment('482301000001')->getName());
		$this->assertSame('Micro-onduleur 482301000002 (482301000002)', self::equipment('482301000002')->getName());
		$this->assertEquals($house, self::objectOf('482301000001'));
	}

	public function testSynchronizeSaysWhenWhatItCreatedHasNoObject() {
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory())),
			array('ok' => true, 'inventory' => array(self::inventory()))));
		$result = SyncWithCallback::ask();
		$this->assertStringContainsString('n’apparaissent donc pas sur le Dashboard', $result['message']);
	}

	public function testSynchronizeSaysNothingOfObjectsWhenTheGatewayHasOne() {
		self::placeGateway(jeeObject::add('Maison'));
		$this->startDaemonStandIn(array(array('ok' => true, 'inventory' => array(self::inventory()))));
		$result = SyncWithCallback::ask();
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 2 créé(s)', $result['message']);
		$this->assertStringNotContainsString('Dashboard', $result['message']);
	}

	/** A home battery's charge (generic type BATTERY, %) is not a worn sensor battery: no core battery alert. */
	public function testNoEquipmentRaisesTheCoresBatteryAlerts() {
		enphaseInventory::apply(self::inventory());
		foreach (enphase::byType('enphase') as $eqLogic) {
			$this->assertEquals(1, $eqLogic->getConfiguration('battery::disable'), $eqLogic->getName());
		}
		$gateway = self::equipment('122302045041');
		$gateway->setConfiguration('battery::disable', 0);  // the user's choice stays
		$gateway->save();
		enphaseInventory::apply(self::inventory());
		$this->assertEquals(0, self::equipment('122302045041')->getConfiguration('battery::disable'));
	}
}
