<?php

/** Status events: shown on the gateway, a Jeedom message only when the user must act. */
class StatusTest extends EnphaseTestCase {
	protected function setUp(): void {
		parent::setUp();
		enphaseInventory::apply(self::inventory());
	}

	private static function status(array $_fields = array()) {
		return array_merge(array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '122302045041', 'reachable' => true,
			'firmware' => '7.6.185', 'auth' => 'jwt-owner', 'token_expires' => null, 'last_success' => 1764075000, 'error' => null), $_fields);
	}

	private static function userMessages() {
		return array_values(array_filter(message::all(), function ($row) {
			return $row['plugin'] == 'enphase';
		}));
	}

	public function testTheStatusIsShownOnTheGatewayEquipment() {
		enphaseEvents::applyStatus(self::status(array('reachable' => false, 'error' => array('code' => 'unreachable', 'message' => 'No answer'))));

		$gateway = self::equipment('122302045041');
		$status = $gateway->getConfiguration('status');
		$this->assertFalse($status['reachable']);
		$this->assertSame('jwt-owner', $status['auth']);
		$this->assertStringContainsString('La passerelle ne répond pas', $status['problem']);
		$this->assertSame('7.6.185', $gateway->getConfiguration('firmware'));
	}

	public function testAnUnreachableGatewayMakesNoMessageAndOneLogLine() {
		// A minute ago: a silence longer than the equipment's timeout is an outage (OutageTest).
		$down = self::status(array('reachable' => false, 'last_success' => time() - 60, 'error' => array('code' => 'unreachable', 'message' => 'No answer')));
		enphaseEvents::applyStatus($down);
		enphaseEvents::applyStatus($down);

		$this->assertCount(0, self::userMessages(), 'it goes quiet every night around 23:00');
		$warnings = array_filter(JeedomDouble::logsOf('enphase'), function ($line) {
			return $line[1] == 'warning';
		});
		$this->assertCount(1, $warnings);
	}

	public function testAWrongPasswordBecomesAMessageThatGoesWhenFixed() {
		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'auth_failed', 'message' => 'The gateway refused the password'))));
		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'auth_failed', 'message' => 'The gateway refused the password'))));

		$messages = self::userMessages();
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('[Maison]', $messages[0]['message']);
		$this->assertStringContainsString('refuse le mot de passe', $messages[0]['message']);

		enphaseEvents::applyStatus(self::status());

		$this->assertCount(0, self::userMessages());
		$this->assertSame('', self::equipment('122302045041')->getConfiguration('status')['problem']);
	}

	public function testAnotherProblemReplacesTheMessage() {
		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'auth_failed', 'message' => 'refused'))));

		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'token_expired', 'message' => 'expired'))));

		$messages = self::userMessages();
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('a expiré', $messages[0]['message']);
	}

	/** The gateway's access, as its equipment page sets it. */
	private static function access($_method) {
		$gateway = self::equipment('122302045041');
		$gateway->setConfiguration('auth_method', $_method);
		$gateway->setConfiguration('token', 'eyJ.pasted');
		$gateway->save();
	}

	public function testAPastedTokenAboutToExpireIsAnnounced() {
		self::access('token');

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 5 * 86400)));

		$messages = self::userMessages();
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('le jeton expire le ' . date('d/m/Y', time() + 5 * 86400), $messages[0]['message']);
		$this->assertStringContainsString('onglet Équipement', $messages[0]['message']);

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 300 * 86400)));
		$this->assertCount(0, self::userMessages(), 'a new token was pasted');
	}

	public function testATokenTheDaemonRenewsItselfIsNotAnnounced() {
		self::access('enlighten');

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 5 * 86400)));

		$this->assertCount(0, self::userMessages());
	}

	public function testTheDailyCheckAnnouncesATokenThatGotCloseToExpiry() {
		self::access('token');
		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 30 * 86400)));
		$this->assertCount(0, self::userMessages());

		// Days pass without a status event (the daemon stopped, say): the last one known is checked again.
		$gateway = self::equipment('122302045041');
		$status = $gateway->getConfiguration('status');
		$status['token_expires'] = time() + 3 * 86400;
		$gateway->setConfiguration('status', $status);
		$gateway->save();
		enphase::cronDaily();

		$this->assertCount(1, self::userMessages());
	}

	public function testAStatusBeforeAnySyncLandsOnTheGatewayAddedByHand() {
		JeedomDouble::reset();
		$gateway = self::addGateway('Garage', array('host' => '192.0.2.21'));

		enphaseEvents::applyStatus(self::status(array('gateway' => (string) $gateway->getId(), 'reachable' => false, 'serial' => null,
			'error' => array('code' => 'auth_failed', 'message' => 'x'))));

		$this->assertFalse(enphase::byId($gateway->getId())->getConfiguration('status')['reachable']);
		$this->assertStringContainsString('[Garage]', self::userMessages()[0]['message']);
	}

	public function testAStatusOfAGatewayWithoutEquipmentIsIgnored() {
		JeedomDouble::reset();

		enphaseEvents::applyStatus(self::status(array('gateway' => '99', 'serial' => '122399001234',
			'error' => array('code' => 'auth_failed', 'message' => 'x'))));

		$this->assertCount(0, self::userMessages(), 'a gateway removed while the daemon still read it');
		$this->assertSame(array(), enphase::byType('enphase'));
	}

	/** A second equipment set on the same gateway (trying another access) gets its own status, not the first's. */
	public function testAStatusGoesToItsOwnGatewayEquipmentWhateverItsSerial() {
		$second = self::addGateway('Essai', array('host' => '192.0.2.10', 'auth_method' => 'token', 'token' => 'eyJ.wrong'));

		enphaseEvents::applyStatus(self::status(array('gateway' => (string) $second->getId(), 'error' => array('code' => 'auth_failed', 'message' => 'refused'))));

		$this->assertSame('auth_failed', enphase::byId($second->getId())->getConfiguration('status')['error']['code']);
		$this->assertSame('', self::equipment('122302045041')->getConfiguration('status', ''), 'the first one heard nothing');
	}
}
