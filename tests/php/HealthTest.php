<?php

/** Jeedom's health page: per gateway, what is true now and the figures a user or a helper asks for first. */
class HealthTest extends EnphaseTestCase {
	private static function status(array $_fields = array()) {
		enphaseEvents::applyStatus(array_merge(array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '122302045041',
			'reachable' => true, 'firmware' => '7.6.185', 'auth' => 'jwt-owner', 'token_expires' => time() + 300 * 86400,
			'last_success' => time() - 30, 'error' => null, 'requests_per_hour' => 240, 'errors_24h' => 3), $_fields));
	}

	/** The health rows, by what they tell: "Maison : requêtes par heure" => row. */
	private static function rows() {
		$rows = array();
		foreach (enphase::health() as $row) {
			$rows[$row['test']] = $row;
		}
		return $rows;
	}

	public function testEachGatewayShowsItsStateLastReadTokenRequestsAndFailures() {
		$this->daemonRunning();
		self::status();

		$rows = self::rows();
		$this->assertSame(array('Maison : état', 'Maison : dernière lecture réussie', 'Maison : expiration du jeton',
			'Maison : requêtes par heure', 'Maison : lectures en échec sur 24 h'), array_keys($rows));
		$this->assertSame('Joignable', $rows['Maison : état']['result']);
		$this->assertSame(date('d/m/Y H:i:s', time() - 30), $rows['Maison : dernière lecture réussie']['result']);
		$this->assertSame(date('d/m/Y', time() + 300 * 86400), $rows['Maison : expiration du jeton']['result']);
		$this->assertSame('240', $rows['Maison : requêtes par heure']['result']);
		$this->assertSame('3', $rows['Maison : lectures en échec sur 24 h']['result']);
		foreach ($rows as $test => $row) {
			$this->assertTrue($row['state'], $test . ': a gateway read a minute ago is healthy (3 failures a day: its nightly silence)');
		}
	}

	public function testWhatGoesWrongIsRedAndSaysWhy() {
		$this->daemonRunning();
		self::status(array('error' => array('code' => 'auth_failed', 'message' => 'refused'), 'last_success' => time() - 3 * 3600,
			'token_expires' => time() + 5 * 86400, 'errors_24h' => 180));

		$rows = self::rows();
		$this->assertSame('Identifiants refusés', $rows['Maison : état']['result']);
		$this->assertFalse($rows['Maison : état']['state']);
		$this->assertStringContainsString('mot de passe', $rows['Maison : état']['advice'], 'what to do, for the access it uses');
		$this->assertFalse($rows['Maison : dernière lecture réussie']['state']);
		$this->assertFalse($rows['Maison : expiration du jeton']['state'], 'five days left');
		$this->assertFalse($rows['Maison : lectures en échec sur 24 h']['state']);
	}

	public function testADaemonStoppedIsSaidAndNothingIsMadeUp() {
		$rows = self::rows();
		$this->assertSame('Démon arrêté', $rows['Maison : état']['result']);
		$this->assertSame('jamais', $rows['Maison : dernière lecture réussie']['result']);
		$this->assertSame('pas encore mesuré', $rows['Maison : requêtes par heure']['result']);
	}

	/** The core prints these strings as HTML: a gateway's name is escaped. */
	public function testNamesAreEscaped() {
		$gateway = enphase::byId(self::$gatewayId);
		$gateway->setName('<img src=x onerror=alert(1)>');
		$gateway->save();

		foreach (enphase::health() as $row) {
			$this->assertStringNotContainsString('<img', $row['test']);
			$this->assertStringContainsString('&lt;img', $row['test']);
		}
	}
}
