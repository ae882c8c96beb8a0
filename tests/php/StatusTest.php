<?php

/** Status events: shown on the gateway, a Jeedom message only when the user must act. */
class StatusTest extends EnphaseTestCase {
	protected function setUp(): void {
		parent::setUp();
		enphaseInventory::apply(self::inventory());
	}

	private static function status(array $_fields = array()) {
		return array_merge(array('type' => 'status', 'gateway' => 'default', 'serial' => '122302045041', 'reachable' => true,
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
		$this->assertSame($status, config::byKey('status::default', 'enphase'), 'the configuration page shows it too');
	}

	public function testAnUnreachableGatewayMakesNoMessageAndOneLogLine() {
		$down = self::status(array('reachable' => false, 'error' => array('code' => 'unreachable', 'message' => 'No answer')));
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
		$this->assertStringContainsString('Passerelle 122302045041', $messages[0]['message']);
		$this->assertStringContainsString('refuse les identifiants', $messages[0]['message']);

		enphaseEvents::applyStatus(self::status());

		$this->assertCount(0, self::userMessages());
		$this->assertSame('', self::equipment('122302045041')->getConfiguration('status')['problem']);
	}

	public function testAnotherProblemReplacesTheMessage() {
		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'auth_failed', 'message' => 'refused'))));

		enphaseEvents::applyStatus(self::status(array('error' => array('code' => 'token_expired', 'message' => 'expired'))));

		$messages = self::userMessages();
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('Le jeton a expiré', $messages[0]['message']);
	}

	public function testAPastedTokenAboutToExpireIsAnnounced() {
		config::save('auth_method', 'token', 'enphase');

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 5 * 86400)));

		$messages = self::userMessages();
		$this->assertCount(1, $messages);
		$this->assertStringContainsString('le jeton expire le ' . date('d/m/Y', time() + 5 * 86400), $messages[0]['message']);

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 300 * 86400)));
		$this->assertCount(0, self::userMessages(), 'a new token was pasted');
	}

	public function testATokenTheDaemonRenewsItselfIsNotAnnounced() {
		config::save('auth_method', 'enlighten', 'enphase');

		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 5 * 86400)));

		$this->assertCount(0, self::userMessages());
	}

	public function testTheDailyCheckAnnouncesATokenThatGotCloseToExpiry() {
		config::save('auth_method', 'token', 'enphase');
		enphaseEvents::applyStatus(self::status(array('token_expires' => time() + 30 * 86400)));
		$this->assertCount(0, self::userMessages());

		$status = config::byKey('status::default', 'enphase');
		$status['token_expires'] = time() + 3 * 86400;
		config::save('status::default', $status, 'enphase');
		enphase::cronDaily();

		$this->assertCount(1, self::userMessages());
	}

	public function testAStatusBeforeAnySyncIsKeptForThePage() {
		JeedomDouble::reset();

		enphaseEvents::applyStatus(self::status(array('reachable' => false, 'serial' => null, 'error' => array('code' => 'auth_failed', 'message' => 'x'))));

		$this->assertFalse(config::byKey('status::default', 'enphase')['reachable']);
		$this->assertStringContainsString('Passerelle Enphase', self::userMessages()[0]['message']);
	}
}
