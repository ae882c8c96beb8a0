<?php

/** Removing a gateway removes everything that belonged to it: its equipment, its messages, the daemon's files of it. */
class RemovalTest extends EnphaseTestCase {
	public function testItsEquipmentAndMessagesGoWithItAndAnotherGatewayKeepsItsOwn() {
		enphaseInventory::apply(self::inventory());
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$garageInventory = self::inventory();
		$garageInventory['gateway'] = (string) $garage->getId();
		$garageInventory['serial'] = '122302049999';
		$garageInventory['equipments'] = array(array('logicalId' => '482301009999', 'kind' => 'inverter', 'name' => 'Micro-onduleur 482301009999',
			'commands' => array(array('logicalId' => 'power_w', 'name' => 'Puissance', 'type' => 'info', 'subType' => 'numeric'))));
		$garageInventory['kinds'] = array('inverter' => array('commands' => $garageInventory['equipments'][0]['commands']));
		enphaseInventory::apply($garageInventory);
		enphaseInventory::apply(array('type' => 'inventory', 'gateway' => self::$gatewayId, 'equipments' => array(),
			'kinds' => array('inverter' => array('commands' => array()))));
		$this->assertNotSame('', config::byKey('kinds::' . self::$gatewayId, 'enphase'), 'the kinds the daemon described are kept');
		foreach (array(self::$gatewayId, (string) $garage->getId()) as $id) {
			enphaseEvents::applyStatus(array('type' => 'status', 'gateway' => $id, 'reachable' => true,
				'error' => array('code' => 'auth_failed', 'message' => 'refused')));
		}
		$this->assertCount(2, JeedomDouble::$db['message'], 'one message per gateway');

		enphase::byId(self::$gatewayId)->remove();

		$left = array_map(function ($eqLogic) {
			return $eqLogic->getName();
		}, enphase::byType('enphase'));
		$this->assertSame(array('Garage', 'Micro-onduleur 482301009999'), $left, 'the other gateway and its microinverter only');
		$this->assertSame(array(), array_filter(JeedomDouble::$db['cmd'], function ($row) {
			return enphase::byId($row['eqLogic_id']) === false;
		}), 'no command of a removed equipment');
		$subjects = array_column(JeedomDouble::$db['message'], 'logicalId');
		$this->assertSame(array('status::' . $garage->getId() . '::auth_failed'), $subjects);
		$this->assertSame('', config::byKey('kinds::' . self::$gatewayId, 'enphase'), 'its kinds are forgotten');
		$this->assertNotSame('', config::byKey('kinds::' . $garage->getId(), 'enphase'), 'not the other gateway\'s');
	}

	public function testTheDaemonForgetsItsFilesAtOnceOrWhenItStarts() {
		enphaseInventory::apply(self::inventory());

		// Stopped: told at its next start.
		enphase::byId(self::$gatewayId)->remove();
		$this->assertSame(array(self::$gatewayId), config::byKey('forget', 'enphase'));

		$received = $this->startDaemonStandIn(array(array('ok' => true), array('ok' => true)));
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		enphaseDaemon::configure();
		$this->assertSame(array(self::$gatewayId), $received()[0]['forget']);
		$this->assertSame(array(), config::byKey('forget', 'enphase'), 'told once');

		// Running: told at once.
		$this->daemonRunning();
		$garage->remove();
		$this->assertSame(array((string) $garage->getId()), $received()[1]['forget']);
		$this->assertSame(array(), $received()[1]['gateways']);
		$this->assertSame(array(), config::byKey('forget', 'enphase'));
	}
}
