<?php

/** What the Jeedom market and core read from the plugin's files. */
class PluginPackageTest extends EnphaseTestCase {
	public function testInfoJsonDeclaresTheDaemonDependenciesAndDocs() {
		$info = json_decode(file_get_contents(ENPHASE_REPO . '/plugin_info/info.json'), true);

		$this->assertSame('enphase', $info['id']);
		$this->assertSame('energy', $info['category']);
		$this->assertTrue($info['hasDependency']);
		$this->assertTrue($info['hasOwnDeamon']);
		$this->assertSame('4.4', $info['require']);
		$this->assertStringContainsString('#language#', $info['documentation']);
		$this->assertStringContainsString('#language#', $info['changelog']);
		$this->assertContains('fr_FR', $info['language']);
		$this->assertContains('en_US', $info['language']);
		$this->assertArrayHasKey('fr_FR', $info['description']);
	}

	public function testTheIconIsASmallPng() {
		$icon = ENPHASE_REPO . '/plugin_info/enphase_icon.png';

		$this->assertSame("\x89PNG", substr(file_get_contents($icon), 0, 4));
		$this->assertLessThan(20000, filesize($icon));
	}

	public function testEachKindShowsItsOwnPictureUnlessTheUserChoseOne() {
		enphaseInventory::apply(self::inventory());
		foreach (array('gateway', 'inverter', 'ac_battery', 'encharge', 'meter', 'enpower', 'qrelay') as $kind) {
			$this->assertFileExists(ENPHASE_REPO . '/desktop/img/' . $kind . '.png');
		}

		$this->assertSame('plugins/enphase/desktop/img/inverter.png', self::equipment('482301000001')->getImage());
		$this->assertSame('plugins/enphase/desktop/img/meter.png', self::equipment('122302045041_meter_production')->getImage());
		$custom = self::equipment('122302045041');
		$custom->setConfiguration('image::sha512', 'abc');
		$this->assertSame('plugins/enphase/plugin_info/enphase_icon.png', $custom->getImage(), 'the core decides');
	}

	public function testTheUserDocumentationExists() {
		foreach (array('docs/fr_FR/index.md', 'docs/fr_FR/changelog.md', 'docs/en_US/index.md') as $page) {
			$this->assertFileExists(ENPHASE_REPO . '/' . $page);
		}
	}
}
