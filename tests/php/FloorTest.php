<?php

/**
 * PHP at the core's floor: a callback loads each equipment's commands in one query (not one per value), a
 * status and the crons' checks look at the gateways without loading a site's 600 equipment, Synchronize
 * looks each equipment's commands up once. Counted by the core double (JeedomDouble::$counted).
 */
class FloorTest extends EnphaseTestCase {
	/** A site: the test's gateway and $_count microinverters. */
	private static function site($_count) {
		$inventory = self::inventory();
		$inverter = $inventory['equipments'][1];
		$inventory['equipments'] = array($inventory['equipments'][0]);
		for ($i = 0; $i < $_count; $i++) {
			$inventory['equipments'][] = array_merge($inverter, array('logicalId' => sprintf('48230100%04d', $i), 'name' => 'Micro-onduleur ' . $i));
		}
		return $inventory;
	}

	private static function counting(callable $_work) {
		JeedomDouble::$counted = array('queries' => 0, 'eqLogic' => 0, 'cmd' => 0);
		$_work();
		return JeedomDouble::$counted;
	}

	public function testACallbackLoadsEachEquipmentAndItsCommandsOnce() {
		enphaseInventory::apply(self::site(20));
		$values = array();
		for ($i = 0; $i < 20; $i++) {
			$values[sprintf('48230100%04d', $i)] = array('watts_now' => 100 + $i, 'producing' => 1, 'not_created' => 3);
		}

		$counted = self::counting(function () use ($values) {
			enphaseEvents::handle(array(array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => $values)));
		});

		$this->assertEquals(119, self::command('482301000019', 'watts_now')->execCmd());
		$this->assertSame(40, $counted['queries'], 'per equipment: itself, and its commands');
		$this->assertSame(20, $counted['eqLogic']);
	}

	public function testAStatusAndTheCronsLookAtTheGatewaysAlone() {
		enphaseInventory::apply(self::site(50));
		$status = array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'reachable' => true,
			'last_success' => time(), 'token_expires' => time() + 86400 * 300, 'error' => null);
		enphaseEvents::applyStatus($status); // the first marks the site's equipment fresh

		$counted = self::counting(function () use ($status) {
			enphaseEvents::applyStatus(array_merge($status, array('last_success' => time() + 60)));
			enphase::cron5();
			enphase::cronDaily();
		});

		$this->assertLessThan(10, $counted['eqLogic'], 'the gateway, not its 50 microinverters: ' . json_encode($counted));
		$this->assertSame(0, $counted['cmd']);
	}

	public function testSynchronizingLooksEachEquipmentsCommandsUpOnce() {
		enphaseInventory::apply(self::site(20));

		$counted = self::counting(function () {
			enphaseInventory::apply(self::site(20));
		});

		// Per equipment: itself and its commands; the gateway and its room once.
		$this->assertLessThan(2 * 21 + 8, $counted['queries'], json_encode($counted));
	}
}
