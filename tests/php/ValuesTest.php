<?php

/** Values events: each value lands on its command, an event only when it changes. */
class ValuesTest extends EnphaseTestCase {
	protected function setUp(): void {
		parent::setUp();
		enphaseInventory::apply(self::inventory());
	}

	private static function values(array $_values) {
		return array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => $_values);
	}

	public function testValuesUpdateTheirCommands() {
		$updated = enphaseEvents::applyValues(self::values(array(
			'122302045041' => array('production_w' => 3120.5, 'production_today_wh' => 10450, 'grid_state' => true),
			'482301000002' => array('watts_now' => 245, 'producing' => false),
		)));

		$this->assertSame(5, $updated);
		$this->assertSame(3120.5, self::command('122302045041', 'production_w')->execCmd());
		$this->assertSame(10450.0, self::command('122302045041', 'production_today_wh')->execCmd());
		$this->assertSame(1, self::command('122302045041', 'grid_state')->execCmd());
		$this->assertSame(245.0, self::command('482301000002', 'watts_now')->execCmd());
		$this->assertSame(0, self::command('482301000002', 'producing')->execCmd());
	}

	public function testNumericValuesKeepTwoDecimals() {
		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => 289.94449, 'production_today_wh' => 7007.282))));

		$this->assertSame(289.94, self::command('122302045041', 'production_w')->execCmd());
		$this->assertSame(7007.28, self::command('122302045041', 'production_today_wh')->execCmd());
	}

	public function testAnUnchangedValueMakesNoNewEvent() {
		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => 1000))));
		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => 1000))));
		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => 1200))));

		$this->assertEquals(array(1000.0, 1200.0), self::command('122302045041', 'production_w')->historyValues());
	}

	public function testAnUnknownValueLeavesTheLastOneInPlace() {
		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => 1000))));

		enphaseEvents::applyValues(self::values(array('122302045041' => array('production_w' => null))));

		$this->assertSame(1000.0, self::command('122302045041', 'production_w')->execCmd());
	}

	public function testValuesOfAnUnknownEquipmentOrCommandAreSkipped() {
		$updated = enphaseEvents::applyValues(self::values(array(
			'999999999999' => array('watts_now' => 12),
			'482301000001' => array('no_such_command' => 3, 'watts_now' => 100),
		)));

		$this->assertSame(1, $updated);
		$this->assertCount(4, enphase::byType('enphase'), 'values never create equipment');
		$this->assertNotEmpty(array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return strpos($line[2], '999999999999') !== false;
		}));
	}

	public function testADisabledEquipmentIsNotUpdated() {
		$inverter = self::equipment('482301000001');
		$inverter->setIsEnable(0);
		$inverter->save();

		enphaseEvents::applyValues(self::values(array('482301000001' => array('watts_now' => 100))));

		$this->assertNull(self::command('482301000001', 'watts_now')->execCmd());
	}

	public function testAStateCodeIsShownInJeedomsLanguage() {
		$inventory = self::inventory(array(
			array('logicalId' => 'state', 'name' => array('fr_FR' => 'État', 'en_US' => 'State'), 'type' => 'info',
				'subType' => 'string', 'valueLabels' => array(
					'discharging' => array('fr_FR' => 'En décharge', 'en_US' => 'Discharging'),
					'idle' => array('fr_FR' => 'En veille', 'en_US' => 'Idle'))),
		));
		enphaseInventory::apply($inventory);

		enphaseEvents::applyValues(self::values(array('482301000001' => array('state' => 'discharging'))));
		$this->assertSame('En décharge', self::command('482301000001', 'state')->execCmd());

		enphaseEvents::applyValues(self::values(array('482301000001' => array('state' => 'ENCHG_NEW_STATE'))));
		$this->assertSame('ENCHG_NEW_STATE', self::command('482301000001', 'state')->execCmd(), 'an unknown code is shown as is');
	}
}
