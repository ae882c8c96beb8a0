<?php

/**
 * Synchronize serialized and followed: one process at a time creates equipment (a lock around lookup, create,
 * save), and the page follows a background job that counts what the callback creates.
 */
class SyncJobTest extends EnphaseTestCase {
	public function testApplyingAnInventoryWaitsForTheProcessApplyingOne() {
		$state = ENPHASE_TEST_ROOT . '/apply-state.json';
		$inventory = tempnam(sys_get_temp_dir(), 'enphase-inventory');
		file_put_contents($inventory, json_encode(self::inventory()));
		JeedomDouble::store($state);
		// Another process is between its lookup and its save.
		$lock = fopen(jeedom::getTmpFolder('enphase') . '/inventory.lock', 'c');
		$this->assertTrue(flock($lock, LOCK_EX));

		$child = proc_open(array(PHP_BINARY, __DIR__ . '/support/apply_inventory.php', ENPHASE_TEST_ROOT, $inventory),
			array(1 => array('pipe', 'w'), 2 => array('pipe', 'w')), $pipes, null, array_merge(getenv(), array('JEEDOM_DOUBLE_STATE' => $state)));
		usleep(800000);
		$waiting = proc_get_status($child)['running'];
		flock($lock, LOCK_UN);
		fclose($lock);
		$output = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
		proc_close($child);
		JeedomDouble::load($state);
		unlink($state);
		unlink($inventory);

		$this->assertTrue($waiting, 'the second process waited for the lock: ' . $output);
		$this->assertSame("applied\n", $output);
		$this->assertCount(4, enphase::byType('enphase'), 'then it applied the inventory');
	}

	public function testTheJobCountsWhatTheCallbackCreatesAndASecondClickFollowsIt() {
		$job = SyncJobInBackground::start('');
		$this->assertTrue($job['ok']);
		$this->assertFalse($job['done']);
		$this->assertStringContainsString('la passerelle est interrogée', $job['message']);

		enphaseInventory::apply(self::inventory());
		$again = SyncJobInBackground::start('');

		$this->assertSame($job['job'], $again['job'], 'the running job is followed, not started twice');
		$this->assertSame(1, SyncJobInBackground::$launched);
		$this->assertStringContainsString('4 équipement(s) reçu(s) de la passerelle dont 3 créé(s), 11 commande(s) créée(s)', $again['message']);
		$this->assertStringContainsString('4 équipement(s)', enphaseSyncJob::progress('', $job['job'])['message']);

		// An inventory that says how many equipment it has in all: how far the job got.
		$inventory = self::inventory();
		$inventory['count'] = 8;
		enphaseInventory::apply($inventory);
		$this->assertStringContainsString('8 équipement(s) reçu(s) sur 8', enphaseSyncJob::progress('', $job['job'])['message']);
	}

	public function testADaemonOutOfTimeIsFollowedUntilEveryEquipmentArrived() {
		$this->startDaemonStandIn(array(array('ok' => false, 'error' => array('code' => 'timeout', 'message' => 'Gateway 12 did not finish'))));
		$job = SyncJobInBackground::start('');
		$inventory = self::inventory();
		$inventory['count'] = 4; // its callback delivered all of it, the daemon's answer came too late
		enphaseInventory::apply($inventory);

		enphaseSyncJob::run('all', $job['job']);

		$done = json_decode(file_get_contents(jeedom::getTmpFolder('enphase') . '/sync-all.json'), true);
		$this->assertSame('done', $done['state']);
		$this->assertTrue($done['ok']);
		$this->assertStringContainsString('Synchronisation terminée : 4 équipement(s) reçu(s), dont 3 créé(s)', $done['message']);
	}

	public function testAJobWhoseProcessNeverRanEndsWithASentence() {
		$job = SyncJobInBackground::start(self::$gatewayId);
		$file = jeedom::getTmpFolder('enphase') . '/sync-gw-' . self::$gatewayId . '.json';
		$stored = json_decode(file_get_contents($file), true);
		$stored['started'] -= enphaseSyncJob::START_TIMEOUT_S + 1;
		file_put_contents($file, json_encode($stored));

		$progress = enphaseSyncJob::progress(self::$gatewayId, $job['job']);

		$this->assertTrue($progress['done']);
		$this->assertFalse($progress['ok']);
		$this->assertStringContainsString('interrompue', $progress['message']);
		$this->assertNotSame($job['job'], SyncJobInBackground::start(self::$gatewayId)['job'], 'a new click starts anew');
	}

	protected function tearDown(): void {
		foreach (glob(jeedom::getTmpFolder('enphase') . '/sync-*.json') as $file) {
			unlink($file);
		}
		SyncJobInBackground::$launched = 0;
		parent::tearDown();
	}
}

/** A job whose process is not started: the test plays what it and the callback do. */
class SyncJobInBackground extends enphaseSyncJob {
	public static $launched = 0;

	protected static function launch($_scope, $_id) {
		self::$launched++;
	}
}
