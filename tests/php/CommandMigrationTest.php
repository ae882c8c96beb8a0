<?php

/**
 * Upgrading from version 0.1: "Production du jour (compteur)" and "Consommation du jour (compteur)" duplicated the
 * day's figures. Synchronize moves what used them onto the one command of the day (its "replaces") and removes them.
 */
class CommandMigrationTest extends EnphaseTestCase {
	/** The gateway of a 0.1 inventory: the day's figure of the gateway and, when $_withToday, the counted duplicate. */
	private static function version01($_withToday) {
		$commands = array(
			array('logicalId' => 'production_day_wh', 'name' => array('fr_FR' => 'Production du jour (compteur)', 'en_US' => 'Production today (counter)'),
				'type' => 'info', 'subType' => 'numeric', 'unit' => 'Wh', 'genericType' => 'DAILY_PRODUCTION', 'isHistorized' => 1, 'order' => 12),
		);
		if ($_withToday) {
			$commands[] = array('logicalId' => 'production_today_wh', 'name' => array('fr_FR' => 'Production du jour', 'en_US' => 'Production today'),
				'type' => 'info', 'subType' => 'numeric', 'unit' => 'Wh', 'genericType' => 'GENERIC_INFO', 'isHistorized' => 1, 'order' => 11);
		}
		return self::withGatewayCommands($commands);
	}

	private static function version02() {
		return self::withGatewayCommands(array(
			array('logicalId' => 'production_today_wh', 'name' => array('fr_FR' => 'Production du jour', 'en_US' => 'Production today'),
				'type' => 'info', 'subType' => 'numeric', 'unit' => 'Wh', 'genericType' => 'DAILY_PRODUCTION', 'isHistorized' => 1,
				'order' => 11, 'replaces' => array('production_day_wh')),
		));
	}

	private static function withGatewayCommands(array $_commands) {
		$inventory = self::inventory();
		$inventory['equipments'][0]['commands'] = $_commands;
		return $inventory;
	}

	private static function record($_logicalId, $_value) {
		enphaseEvents::applyValues(array('type' => 'values', 'gateway' => self::$gatewayId,
			'values' => array('122302045041' => array($_logicalId => $_value))));
	}

	public function testTheDuplicateIsRemovedAndWhatUsedItUsesTheDaysCommand() {
		enphaseInventory::apply(self::version01(true));
		self::record('production_today_wh', 3330);
		self::record('production_day_wh', 7);
		$today = self::command('122302045041', 'production_today_wh');
		$duplicate = self::command('122302045041', 'production_day_wh');
		// A formula of the user's (a virtual, a scenario) reads the duplicate.
		$user = self::command('482301000001', 'watts_now');
		$user->setConfiguration('calcul', '#' . $duplicate->getId() . '# / 1000');
		$user->save();

		enphaseInventory::apply(self::version02());

		$this->assertNull(self::command('122302045041', 'production_day_wh'), 'the duplicate is gone');
		$kept = self::command('122302045041', 'production_today_wh');
		$this->assertSame($today->getId(), $kept->getId());
		$this->assertEquals(array(3330.0), $kept->historyValues(), 'its history stays');
		$this->assertSame('DAILY_PRODUCTION', $kept->getGeneric_type(), 'the energy panel finds the day by it');
		$this->assertSame('#' . $kept->getId() . '# / 1000', self::command('482301000001', 'watts_now')->getConfiguration('calcul'));

		enphaseInventory::apply(self::version02());  // a second Synchronize changes nothing
		$this->assertSame($today->getId(), self::command('122302045041', 'production_today_wh')->getId());
	}

	public function testWithoutTheGatewaysFigureTheCountedCommandBecomesTheDaysCommand() {
		// A gateway without a production CT had only the counted figure in version 0.1.
		enphaseInventory::apply(self::version01(false));
		self::record('production_day_wh', 12000);
		$duplicate = self::command('122302045041', 'production_day_wh');

		$report = enphaseInventory::apply(self::version02());

		$kept = self::command('122302045041', 'production_today_wh');
		$this->assertSame($duplicate->getId(), $kept->getId(), 'same command: its history and uses stay');
		$this->assertEquals(array(12000.0), $kept->historyValues());
		$this->assertSame('DAILY_PRODUCTION', $kept->getGeneric_type());
		$this->assertNull(self::command('122302045041', 'production_day_wh'));
		$this->assertSame(0, $report['commands_created']);
	}
}
