<?php

/**
 * What a user reads: French only (the daemon's English stays in its log), each error pointing at the access the
 * gateway actually uses, every word of the protocol (auth modes, a select's choices) in the user's language.
 */
class MessagesTest extends EnphaseTestCase {
	/** The test's gateway set to one access, as its equipment page does. */
	private static function access(array $_configuration) {
		$gateway = enphase::byId(self::$gatewayId);
		foreach ($_configuration as $key => $value) {
			$gateway->setConfiguration($key, $value);
		}
		$gateway->save();
	}

	private static function problemAfter($_code, $_reason = '') {
		$error = array('code' => $_code, 'message' => 'The gateway refused the token; check that it was made for this gateway\'s serial number.');
		if ($_reason !== '') {
			$error['reason'] = $_reason;
		}
		enphaseEvents::applyStatus(array('type' => 'status', 'gateway' => self::$gatewayId, 'serial' => '', 'reachable' => true,
			'firmware' => '8.2.4345', 'auth' => 'jwt-owner', 'token_expires' => null, 'last_success' => time(), 'error' => $error));
		return enphase::byId(self::$gatewayId)->getConfiguration('status')['problem'];
	}

	public function testARefusedTokenSaysTokenNotThePasswordOfOldFirmware() {
		self::access(array('auth_method' => 'token', 'token' => 'eyJ.pasted'));
		$problem = self::problemAfter('auth_failed');

		$this->assertStringContainsString('refuse le jeton', $problem);
		$this->assertStringNotContainsString('6 derniers caractères', $problem);
		$this->assertStringNotContainsString('mot de passe', $problem);
	}

	public function testEachAccessGetsItsOwnAdvice() {
		$advice = array(
			array(array('auth_method' => 'envoy'), '6 derniers caractères du numéro de série'),
			array(array('auth_method' => 'envoy', 'installer' => 1), 'accès installateur'),
			array(array('auth_method' => 'enlighten', 'enlighten_username' => 'a@b.fr', 'enlighten_password' => 'x', 'serial' => '122302045041'), 'compte Enlighten'),
			array(array('auth_method' => 'token', 'token' => 'eyJ.pasted'), 'jeton'),
		);
		foreach ($advice as list($configuration, $words)) {
			self::access($configuration);
			$this->assertStringContainsString($words, self::problemAfter('auth_failed'), json_encode($configuration));
		}
		self::access(array('auth_method' => 'envoy', 'installer' => 0));
		$this->assertStringContainsString('demande un jeton', self::problemAfter('auth_failed', 'token_needed'),
			'a password on firmware 7: the password is not the problem');
	}

	public function testAnInstallerCommandSaysWhatToDoForTheAccessInUse() {
		enphaseInventory::apply(self::inventory());
		$answers = array(array('ok' => false, 'error' => array('code' => 'refused', 'reason' => 'installer_required',
			'message' => 'Turning production on or off needs installer rights: give an installer token (firmware 7 and later).')));
		foreach (array('envoy' => 'cochez-le', 'token' => 'collez-en un') as $method => $words) {
			self::access(array('auth_method' => $method, 'token' => 'eyJ.pasted'));
			$this->startDaemonStandIn($answers);
			try {
				self::command('122302045041', 'grid_on')->execute(array());
				$this->fail('refused');
			} catch (Exception $e) {
				$this->assertStringContainsString($words, $e->getMessage(), $method);
				$this->assertStringNotContainsString('installer rights', $e->getMessage());
			}
		}
	}

	/** Every sentence, for every code, reason and access: French words only, nothing of the daemon's English. */
	public function testNoSentenceCarriesEnglish() {
		$codes = array('daemon_not_running', 'no_answer', 'timeout', 'unknown_gateway', 'bad_request', 'bad_answer', 'busy',
			'internal', 'forbidden', 'unreachable', 'auth_failed', 'token_expired', 'two_factor', 'login_throttled', 'bad_response',
			'nothing_readable', 'refused', 'something_new');
		$english = '/\b(the|gateway|refused|check|token|password|please|needs|enter|paste|failed|error|rights|firmware \d+ and later)\b/i';
		foreach ($codes as $code) {
			foreach (array_merge(array(''), self::daemonReasons()) as $reason) {
				foreach (array('', 'envoy', 'installer', 'token', 'enlighten', 'demo') as $access) {
					$sentence = enphaseDaemonError::sentence($code, $reason, $access);
					$this->assertNotSame('', $sentence);
					$this->assertDoesNotMatchRegularExpression($english, $sentence, "$code/$reason/$access");
					$this->assertStringNotContainsString($code, $sentence, 'a raw code');
				}
			}
		}
	}

	/** The daemon's reasons (resources/enphased/envoy/errors.py REASONS): each has a sentence of its own here. */
	private static function daemonReasons() {
		$source = file_get_contents(ENPHASE_REPO . '/resources/enphased/envoy/errors.py');
		preg_match('/^REASONS = \((.*?)^\)/ms', $source, $block);
		preg_match_all('/^\s*"([a-z_]+)",/m', $block[1], $reasons);
		return $reasons[1];
	}

	public function testEveryReasonOfTheDaemonHasItsOwnSentence() {
		$reasons = self::daemonReasons();
		$this->assertContains('installer_required', $reasons);
		$generic = array(enphaseDaemonError::sentence('refused'), enphaseDaemonError::sentence('auth_failed'));
		foreach ($reasons as $reason) {
			$said = array(enphaseDaemonError::sentence('refused', $reason), enphaseDaemonError::sentence('auth_failed', $reason));
			$this->assertNotSame($generic, $said, $reason . ' is said like no reason at all');
		}
	}

	public function testTheAuthModeIsShownInWords() {
		foreach (array('jwt-owner', 'jwt-installer', 'digest-envoy', 'digest-installer', 'none') as $auth) {
			$label = enphaseGateway::authLabel($auth);
			$this->assertNotSame(__('Inconnue', ''), $label, $auth);
			$this->assertStringNotContainsString($auth, strtolower($label));
		}
		self::problemAfter('auth_failed');
		$this->assertSame('Jeton propriétaire', enphase::byId(self::$gatewayId)->toArray()['enphase_auth'], 'what the page shows');
	}

	public function testASelectsChoicesAreLabelledInThisJeedomsLanguage() {
		$inventory = self::inventory();
		$inventory['equipments'][0]['commands'][] = array('logicalId' => 'set_storage_mode', 'name' => array('fr_FR' => 'Choisir le profil batteries'),
			'type' => 'action', 'subType' => 'select', 'listValue' => array(
				'fr_FR' => 'self-consumption|Autoconsommation;economy|Économies;backup|Secours intégral',
				'en_US' => 'self-consumption|Self-consumption;economy|Savings;backup|Full backup'));
		enphaseInventory::apply($inventory);
		$this->assertSame('self-consumption|Autoconsommation;economy|Économies;backup|Secours intégral',
			self::command('122302045041', 'set_storage_mode')->getConfiguration('listValue'));

		// A list from an older version (English in brackets) takes the new labels; one the user changed stays.
		$cmd = self::command('122302045041', 'set_storage_mode');
		$cmd->setConfiguration('listValue', 'self-consumption|Autoconsommation (self-consumption);economy|Économies (savings);backup|Secours intégral (full backup)');
		$cmd->save();
		enphaseInventory::apply($inventory);
		$this->assertSame('self-consumption|Autoconsommation;economy|Économies;backup|Secours intégral',
			self::command('122302045041', 'set_storage_mode')->getConfiguration('listValue'));
		$cmd = self::command('122302045041', 'set_storage_mode');
		$cmd->setConfiguration('listValue', 'backup|Secours seulement');
		$cmd->save();
		enphaseInventory::apply($inventory);
		$this->assertSame('backup|Secours seulement', self::command('122302045041', 'set_storage_mode')->getConfiguration('listValue'));
	}

	/** Every French text of the plugin (en_US.json's keys): no English in brackets, no raw word of the protocol. */
	public function testNoFrenchTextOfThePluginMixesLanguages() {
		$english = json_decode(file_get_contents(ENPHASE_REPO . '/core/i18n/en_US.json'), true);
		$raw = array('jwt-owner', 'jwt-installer', 'digest-envoy', 'digest-installer', 'self-consumption', 'economy', 'multimode');
		foreach ($english as $file => $texts) {
			foreach (array_keys($texts) as $french) {
				preg_match_all('/\(([^)]*)\)/', $french, $brackets);
				foreach ($brackets[1] as $inside) {
					$this->assertDoesNotMatchRegularExpression('/\b(the|and|of|for|with|token|gateway|off|on|auto|manual|savings|backup)\b/i', $inside, "$file: $french");
				}
				foreach ($raw as $word) {
					$this->assertStringNotContainsString($word, $french, "$file: $french");
				}
			}
		}
	}

	/** Jeedom strips ' from names: the catalog writes ’, and a name stripped by an older version gets it back. */
	public function testACommandNameStrippedOfItsApostropheGetsItBack() {
		$inventory = self::inventory();
		$rate = array('logicalId' => 'self_sufficiency_day_pct', 'name' => array('fr_FR' => 'Taux d’autoproduction du jour'),
			'type' => 'info', 'subType' => 'numeric', 'unit' => '%');
		$inventory['equipments'][0]['commands'][] = $rate;
		enphaseInventory::apply($inventory);
		$this->assertSame('Taux d’autoproduction du jour', self::command('122302045041', 'self_sufficiency_day_pct')->getName());

		$cmd = self::command('122302045041', 'self_sufficiency_day_pct');
		$cmd->setName('Taux dautoproduction du jour');  // what Jeedom made of "Taux d'autoproduction du jour"
		$cmd->save();
		enphaseInventory::apply($inventory);
		$this->assertSame('Taux d’autoproduction du jour', self::command('122302045041', 'self_sufficiency_day_pct')->getName());

		$cmd = self::command('122302045041', 'self_sufficiency_day_pct');
		$cmd->setName('Autonomie');  // the user's own name stays
		$cmd->save();
		enphaseInventory::apply($inventory);
		$this->assertSame('Autonomie', self::command('122302045041', 'self_sufficiency_day_pct')->getName());
	}
}
