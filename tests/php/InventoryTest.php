<?php

/** Synchronize: equipment and commands are created as the daemon describes them, once, and the user's changes stay. */
class InventoryTest extends EnphaseTestCase {
	public function testInventoryCreatesEachEquipmentWithItsKindAndGateway() {
		$report = enphaseInventory::apply(self::inventory());

		$this->assertCount(4, enphase::byType('enphase'));
		$gateway = self::equipment('122302045041');
		$this->assertSame(self::$gatewayId, (string) $gateway->getId(), 'the gateway added by hand learns its serial');
		$this->assertSame('Maison', $gateway->getName(), 'and keeps its name');
		$this->assertSame('gateway', $gateway->getConfiguration('kind'));
		$this->assertSame(self::$gatewayId, $gateway->getConfiguration('gateway_id'));
		$this->assertSame('Micro-onduleur 482301000001', self::equipment('482301000001')->getName());
		$this->assertSame(self::$gatewayId, self::equipment('482301000001')->getConfiguration('gateway_id'));
		$this->assertSame('7.6.175', $gateway->getConfiguration('firmware'));
		$this->assertEquals(1, $gateway->getIsEnable());
		$this->assertEquals(1, $gateway->getIsVisible());
		$this->assertEquals(1, $gateway->getCategory('energy'));
		$this->assertSame('122302045041', self::equipment('482301000001')->getConfiguration('gateway_serial'));
		$this->assertSame(array('found' => 1, 'created' => 0), $report['kinds']['gateway']);
		$this->assertSame(array('found' => 2, 'created' => 2), $report['kinds']['inverter']);
		$this->assertSame(array('found' => 1, 'created' => 1), $report['kinds']['meter']);
	}

	public function testCommandsAreCreatedExactlyAsDescribed() {
		enphaseInventory::apply(self::inventory());

		$power = self::command('122302045041', 'production_w');
		$this->assertInstanceOf(enphaseCmd::class, $power);
		$this->assertSame('Production instantanée', $power->getName());
		$this->assertSame('info', $power->getType());
		$this->assertSame('numeric', $power->getSubType());
		$this->assertSame('W', $power->getUnite());
		$this->assertSame('PRODUCTION', $power->getGeneric_type());
		$this->assertEquals(1, $power->getIsHistorized());
		$this->assertSame('core::tile', $power->getTemplate('dashboard'));
		$this->assertSame('core::tile', $power->getTemplate('mobile'));
		$this->assertEquals(10, $power->getOrder());
		$this->assertEquals(2, $power->getConfiguration('historizeRound'), 'kWh and MWh read with two decimals');
		$this->assertSame('', self::command('482301000001', 'producing')->getConfiguration('historizeRound'));

		$slider = self::command('122302045041', 'reserve_set');
		$this->assertSame('action', $slider->getType());
		$this->assertSame('slider', $slider->getSubType());
		$this->assertEquals(0, $slider->getConfiguration('minValue'));
		$this->assertEquals(100, $slider->getConfiguration('maxValue'));
		$this->assertEquals(0, $slider->getIsHistorized());

		$gridOn = self::command('122302045041', 'grid_on');
		$this->assertEquals(self::command('122302045041', 'grid_state')->getId(), $gridOn->getValue(), 'the action shows the info it sets');
	}

	public function testTheGatewayGetsARefreshActionWhenTheDaemonDoesNotDescribeOne() {
		enphaseInventory::apply(self::inventory());

		$refresh = self::command('122302045041', 'refresh');
		$this->assertSame('action', $refresh->getType());
		$this->assertSame('other', $refresh->getSubType());
		$this->assertSame('Rafraîchir', $refresh->getName());
		$this->assertNull(self::command('482301000001', 'refresh'), 'only the gateway has it');
	}

	public function testInventoryAppliedTwiceCreatesNothingTwice() {
		enphaseInventory::apply(self::inventory());
		$equipments = count(JeedomDouble::$db['eqLogic']);
		$commands = count(JeedomDouble::$db['cmd']);

		$report = enphaseInventory::apply(self::inventory());

		$this->assertSame($equipments, count(JeedomDouble::$db['eqLogic']));
		$this->assertSame($commands, count(JeedomDouble::$db['cmd']));
		$this->assertSame(0, $report['commands_created']);
		foreach ($report['kinds'] as $counts) {
			$this->assertSame(0, $counts['created']);
		}
		$this->assertSame(2, $report['kinds']['inverter']['found']);
	}

	public function testARenamedEquipmentKeepsItsNameAndEverythingTheUserSet() {
		enphaseInventory::apply(self::inventory());
		$inverter = self::equipment('482301000001');
		$inverter->setName('Toit sud 1');
		$inverter->setObject_id(7);
		$inverter->setIsVisible(0);
		$inverter->setIsEnable(0);
		$inverter->setCategory('energy', 0);
		$inverter->setCategory('light', 1);
		$inverter->save();
		$power = self::command('482301000001', 'watts_now');
		$power->setName('Watts toit');
		$power->setIsHistorized(0);
		$power->setIsVisible(0);
		$power->setUnite('kW');
		$power->setTemplate('dashboard', 'core::line');
		$power->setGeneric_type('CONSUMPTION');
		$power->setOrder(42);
		$power->setConfiguration('historizeRound', 0);
		$power->save();

		enphaseInventory::apply(self::inventory());

		$inverter = self::equipment('482301000001');
		$this->assertSame('Toit sud 1', $inverter->getName());
		$this->assertEquals(7, $inverter->getObject_id());
		$this->assertEquals(0, $inverter->getIsVisible());
		$this->assertEquals(0, $inverter->getIsEnable());
		$this->assertEquals(1, $inverter->getCategory('light'));
		$this->assertEquals(0, $inverter->getCategory('energy'));
		$power = self::command('482301000001', 'watts_now');
		$this->assertSame('Watts toit', $power->getName());
		$this->assertEquals(0, $power->getIsHistorized());
		$this->assertEquals(0, $power->getIsVisible());
		$this->assertSame('kW', $power->getUnite());
		$this->assertSame('core::line', $power->getTemplate('dashboard'));
		$this->assertSame('CONSUMPTION', $power->getGeneric_type());
		$this->assertEquals(42, $power->getOrder());
		$this->assertSame(0, $power->getConfiguration('historizeRound'));
	}

	public function testNothingIsDeletedAndHistoryStays() {
		enphaseInventory::apply(self::inventory());
		$power = self::command('482301000001', 'watts_now');
		enphaseEvents::applyValues(array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('482301000001' => array('watts_now' => 250))));

		// The daemon no longer describes the meter nor the inverter's "producing" command.
		$inventory = self::inventory();
		array_pop($inventory['equipments']);
		$inventory['equipments'][1]['commands'] = array($inventory['equipments'][1]['commands'][0]);
		enphaseInventory::apply($inventory);

		$this->assertNotNull(self::equipment('122302045041_meter_production'));
		$this->assertNotNull(self::command('482301000001', 'producing'));
		$same = self::command('482301000001', 'watts_now');
		$this->assertSame($power->getId(), $same->getId());
		$this->assertEquals(array(250.0), $same->historyValues());
	}

	public function testANewCommandOfTheCatalogIsAddedToExistingEquipment() {
		enphaseInventory::apply(self::inventory());
		$voltage = array('logicalId' => 'ac_voltage_v', 'name' => array('fr_FR' => 'Tension AC', 'en_US' => 'AC voltage'),
			'type' => 'info', 'subType' => 'numeric', 'unit' => 'V', 'genericType' => 'VOLTAGE', 'isHistorized' => 0, 'order' => 3);

		$report = enphaseInventory::apply(self::inventory(array($voltage)));

		$this->assertSame(2, $report['commands_created']);
		$this->assertSame('V', self::command('482301000002', 'ac_voltage_v')->getUnite());
	}

	public function testANameTakenByTheUserIsNotTakenTwice() {
		enphaseInventory::apply(self::inventory());
		$producing = self::command('482301000001', 'producing');
		$producing->setName('Tension AC');
		$producing->save();
		$voltage = array('logicalId' => 'ac_voltage_v', 'name' => array('fr_FR' => 'Tension AC'), 'type' => 'info', 'subType' => 'numeric');

		enphaseInventory::apply(self::inventory(array($voltage)));

		$this->assertSame('Tension AC', self::command('482301000001', 'producing')->getName());
		$this->assertSame('Tension AC (ac_voltage_v)', self::command('482301000001', 'ac_voltage_v')->getName());
	}

	public function testAnEnglishJeedomGetsEnglishNames() {
		JeedomDouble::$language = 'en_US';

		enphaseInventory::apply(self::inventory());

		$this->assertSame('Microinverter 482301000001', self::equipment('482301000001')->getName());
		$this->assertSame('Instant production', self::command('122302045041', 'production_w')->getName());
		$this->assertSame('Refresh', self::command('122302045041', 'refresh')->getName());
	}

	public function testAnEquipmentWithoutIdentifierIsIgnoredAndTheRestApplied() {
		$inventory = self::inventory();
		array_unshift($inventory['equipments'], array('kind' => 'inverter', 'name' => array('fr_FR' => 'Sans numéro')));

		enphaseInventory::apply($inventory);

		$this->assertCount(4, enphase::byType('enphase'));
		$this->assertNotEmpty(array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return $line[1] == 'warning';
		}));
	}

	public function testMalformedDescriptionsAreSkippedAndTheRestApplied() {
		$inventory = self::inventory();
		$inventory['equipments'][] = array('logicalId' => array('not', 'a', 'serial'), 'kind' => 'inverter');
		$inventory['equipments'][] = 'not an equipment';
		$inventory['equipments'][] = array('logicalId' => '482301000099', 'kind' => array('x'), 'name' => 42,
			'commands' => array('junk', array('logicalId' => array()), array('logicalId' => 'ok_cmd', 'name' => 'OK')));

		enphaseEvents::handle(array($inventory, array('type' => 'values', 'values' => 'not a map'), 'junk'));

		$this->assertCount(5, enphase::byType('enphase'));
		$odd = self::equipment('482301000099');
		$this->assertSame('other', $odd->getConfiguration('kind'));
		$this->assertSame('Autre équipement 482301000099', $odd->getName());
		$this->assertSame('OK', self::command('482301000099', 'ok_cmd')->getName());
		$this->assertSame('string', self::command('482301000099', 'ok_cmd')->getSubType());
	}

	public function testTheReportTellsCountsPerKindInPlainWords() {
		$report = enphaseInventory::apply(self::inventory());

		$text = enphaseSync::describeReport($report);

		$this->assertStringContainsString('Passerelles : 1 trouvé(s), 0 créé(s)', $text);
		$this->assertStringContainsString('Micro-onduleurs : 2 trouvé(s), 2 créé(s)', $text);
		$this->assertStringContainsString('Compteurs : 1 trouvé(s), 1 créé(s)', $text);
		$this->assertStringContainsString('11 commande(s) créée(s)', $text);
	}

	public function testAnInventoryOfAGatewayWithoutEquipmentCreatesNothing() {
		$inventory = self::inventory();
		enphase::byId(self::$gatewayId)->remove();

		$report = enphaseInventory::apply($inventory);

		$this->assertCount(0, enphase::byType('enphase'), 'a removed gateway does not come back from a late callback');
		$this->assertSame(array(), $report['kinds']);
		$this->assertNotEmpty(array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return $line[1] == 'warning' && strpos($line[2], 'passerelle inconnue') !== false;
		}));
	}

	public function testEachKindIsDescribedOnceAndItsEquipmentNameTheCommandsTheyHave() {
		$full = self::inventory();
		$inventory = array('type' => 'inventory', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'count' => 3,
			'kinds' => array('inverter' => array('commands' => $full['equipments'][1]['commands'])),
			'equipments' => array(
				array('logicalId' => '482301000001', 'kind' => 'inverter', 'name' => array('fr_FR' => 'Micro-onduleur …0001')),
				array('logicalId' => '482301000002', 'kind' => 'inverter', 'name' => array('fr_FR' => 'Micro-onduleur …0002'),
					'commands' => array('producing', 'not_described', 42)),
			));

		$report = enphaseInventory::apply($inventory);

		$this->assertSame(array('found' => 2, 'created' => 2), $report['kinds']['inverter']);
		$this->assertSame(3, $report['commands_created']);
		$this->assertSame('Puissance', self::command('482301000001', 'watts_now')->getName(), 'every command of its kind');
		$this->assertNotNull(self::command('482301000001', 'producing'));
		$this->assertNull(self::command('482301000002', 'watts_now'), 'only those it names');
		$this->assertSame('numeric', self::command('482301000001', 'watts_now')->getSubType());
		$this->assertNotNull(self::command('482301000002', 'producing'));
	}

	public function testAKindDescribedByAnEarlierPostOfTheInventoryIsKeptForTheNextOnes() {
		$full = self::inventory();
		$post = function ($_serials, $_kinds) {
			$event = array('type' => 'inventory', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'count' => 3,
				'equipments' => array());
			foreach ($_serials as $serial) {
				$event['equipments'][] = array('logicalId' => $serial, 'kind' => 'inverter', 'name' => array('fr_FR' => 'Micro-onduleur ' . $serial));
			}
			if ($_kinds !== null) {
				$event['kinds'] = $_kinds;
			}
			return $event;
		};
		$first = $post(array('482301000001'), array('inverter' => array('commands' => $full['equipments'][1]['commands'])));
		$second = $post(array('482301000002', '482301000003'), null);
		$this->assertSame(array('inverter'), enphaseInventory::missingKinds($second), 'nothing described yet');

		enphaseInventory::apply($first);
		$this->assertSame(array(), enphaseInventory::missingKinds($second));
		$report = enphaseInventory::apply($second);

		$this->assertSame(array('found' => 2, 'created' => 2), $report['kinds']['inverter']);
		$this->assertSame('Puissance', self::command('482301000003', 'watts_now')->getName(), 'its kind\'s commands, described by the first POST');
		$this->assertSame(count(self::equipment('482301000001')->getCmd()), count(self::equipment('482301000003')->getCmd()));

		// Another gateway's kinds are its own: described for one, unknown to the other.
		$garage = self::addGateway('Garage', array('host' => '192.0.2.21'));
		$other = $second;
		$other['gateway'] = (string) $garage->getId();
		$this->assertSame(array('inverter'), enphaseInventory::missingKinds($other));
		// An equipment that describes its commands itself (the earlier form), or names none, needs no kind.
		$other['equipments'] = array(array('logicalId' => '482301000009', 'kind' => 'inverter', 'commands' => $full['equipments'][1]['commands']),
			array('logicalId' => '482301000010', 'kind' => 'inverter', 'commands' => array()));
		$this->assertSame(array(), enphaseInventory::missingKinds($other));
	}
}
