<?php

/**
 * The gateway's energy-flow widget: what toHtml hands the browser (the browser side is checked against a
 * real core in tests/e2e). Every other equipment, and a gateway set to the standard widget, keeps the core's.
 */
class FlowWidgetTest extends EnphaseTestCase {
	/** A gateway with the commands the flow draws, as a sync of a house with CTs and batteries creates them. */
	private static function gateway(array $_logicalIds = array('production_w', 'consumption_w', 'net_w', 'battery_power_w', 'battery_percent')) {
		$inventory = self::inventory();
		$commands = array();
		foreach ($_logicalIds as $i => $logicalId) {
			$commands[] = array('logicalId' => $logicalId, 'name' => array('fr_FR' => $logicalId), 'type' => 'info',
				'subType' => 'numeric', 'unit' => ($logicalId == 'battery_percent') ? '%' : 'W', 'order' => $i, 'isHistorized' => 1);
		}
		$inventory['equipments'][0]['commands'] = $commands;
		enphaseInventory::apply($inventory);
		return self::equipment('122302045041');
	}

	private static function state($_html) {
		preg_match("/window\\.enphaseFlow\\.init\\('[^']*', (\\{.*?\\}), (\\{.*?\\}), (true|false)\\)/", $_html, $match);
		return array(json_decode($match[1], true), json_decode($match[2], true), $match[3] == 'true');
	}

	public function testTheGatewayDrawsItsFlowFromItsInfoCommandsWithTheirCurrentValues() {
		$gateway = self::gateway();
		enphaseEvents::applyValues(array('type' => 'values', 'gateway' => self::$gatewayId, 'values' => array('122302045041' => array(
			'production_w' => 3200, 'consumption_w' => 900, 'net_w' => -1800, 'battery_power_w' => -500, 'battery_percent' => 64))));

		$html = $gateway->toHtml('dashboard');

		$this->assertStringContainsString('class="enphaseFlow"', $html);
		$this->assertStringContainsString('data-eqLogic_id="' . $gateway->getId() . '"', $html);
		list($state, $labels, $hasBattery) = self::state($html);
		$this->assertEquals(array('solar' => 3200, 'home' => 900, 'grid' => -1800, 'battery' => -500, 'percent' => 64), $state);
		$this->assertSame('Vente', $labels['export']);
		$this->assertTrue($hasBattery);
		// Live: one update function per command, naming this widget.
		foreach (array('production_w', 'consumption_w', 'net_w', 'battery_power_w', 'battery_percent') as $logicalId) {
			$this->assertStringContainsString("jeedom.cmd.addUpdateFunction('" . $gateway->getCmd('info', $logicalId)->getId() . "'", $html);
		}
		$this->assertDoesNotMatchRegularExpression('/#[a-z_]+#/', $html, 'every placeholder is replaced');
		$this->assertStringNotContainsString('{{', $html);
	}

	public function testWithoutConsumptionMeterOrBatteryTheFlowSaysSoInsteadOfInventing() {
		$gateway = self::gateway(array('production_w'));

		$html = $gateway->toHtml('dashboard');

		list($state, $labels, $hasBattery) = self::state($html);
		$this->assertNull($state['home']);
		$this->assertNull($state['grid']);
		$this->assertFalse($hasBattery);
		$this->assertStringContainsString('Pas de compteur de consommation', $labels['noMeter']);
		$this->assertStringContainsString("jeedom.cmd.addUpdateFunction('', ", $html, 'absent commands register nothing (the core ignores an empty id)');
	}

	public function testTheStandardWidgetOnRequestAndForEveryOtherEquipment() {
		$gateway = self::gateway();

		$this->assertStringContainsString('core-widget', self::equipment('482301000001')->toHtml('dashboard'));
		$gateway->setConfiguration('widget', 'standard');
		$gateway->save();
		$this->assertStringContainsString('core-widget', self::equipment('122302045041')->toHtml('dashboard'));
		// The core's own switch ("Template de widget" unticked in the advanced configuration) works too.
		$gateway = self::equipment('122302045041');
		$gateway->setConfiguration('widget', 'flow');
		$gateway->setDisplay('widgetTmpl', 0);
		$gateway->save();
		$this->assertStringContainsString('core-widget', self::equipment('122302045041')->toHtml('dashboard'));
	}

	public function testMobileHasTheSameFlowInItsOwnFrame() {
		$gateway = self::gateway();

		$html = $gateway->toHtml('mobile');

		$this->assertStringContainsString('class="enphaseFlow"', $html);
		$this->assertStringContainsString('data-version="mobile"', $html);
		$this->assertStringNotContainsString('allowResize', $html);
	}

	public function testADisabledGatewayShowsNothing() {
		$gateway = self::gateway();
		$gateway->setIsEnable(0);
		$gateway->save();

		$this->assertSame('', self::equipment('122302045041')->toHtml('dashboard'));
	}

	/** Jeedom marked the gateway stale (eqLogic::checkAlive): the widget says so, as the core's widgets do. */
	public function testAStaleGatewayShowsTheCoresAlertAndDimsItsValues() {
		$gateway = self::gateway();
		$this->assertStringContainsString('class="enphaseFlow"', $gateway->toHtml('dashboard'));

		$gateway->setStatus('timeout', 1);
		foreach (array('dashboard', 'mobile') as $version) {
			$html = $gateway->toHtml($version);
			$this->assertStringContainsString("<i class='far fa-clock'></i>", $html, $version);
			$this->assertStringContainsString('class="enphaseFlow enphaseFlow-stale"', $html, $version);
			$this->assertStringContainsString('ces valeurs ne sont plus à jour', $html, $version);
		}
	}

	/** Like the core's widgets: a historized value opens its history (the core's click handler on ".history"). */
	public function testEachValueOpensItsHistoryLikeCoreWidgets() {
		$gateway = self::gateway();
		$home = $gateway->getCmd('info', 'consumption_w');
		$home->setIsHistorized(0);
		$home->save();

		$html = $gateway->toHtml('dashboard');

		foreach (array('solar' => 'production_w', 'grid' => 'net_w', 'battery' => 'battery_power_w') as $node => $logicalId) {
			$id = $gateway->getCmd('info', $logicalId)->getId();
			$this->assertMatchesRegularExpression('/class="enphaseFlow-node history cursor" data-node="' . $node . '" data-cmd_id="' . $id . '"/', $html, $node);
		}
		$this->assertMatchesRegularExpression('/class="enphaseFlow-node " data-node="home"/', $html, 'not historized: nothing to open');
	}
}
