<?php

/**
 * The plugin's data folder (apikey, tokens, counters, diagnostics) is never served over HTTP. Apache serves the
 * plugin as Jeedom has it: AllowOverride All (Jeedom's security.conf), Debian's default modules, every file 775
 * and owned by the server's user (as the core's backups leave the web root), and without the core's own
 * .htaccess, so that the plugin's data/.htaccess alone is what stands in the way.
 */
class DataFolderHttpTest extends EnphaseTestCase {
	const APACHE = '/usr/sbin/apache2';
	const MODULES = array('mpm_prefork', 'authn_core', 'authz_core', 'authz_host', 'access_compat', 'alias', 'dir', 'mime');

	private $apache;
	private $folder;

	protected function tearDown(): void {
		if (is_resource($this->apache)) {
			proc_terminate($this->apache);
			proc_close($this->apache);
		}
		if ($this->folder !== null) {
			enphase_test_remove($this->folder);
		}
		parent::tearDown();
	}

	/** Serves $_root with Apache on a loopback port; the port. */
	private function startApache($_root) {
		$this->assertFileExists(self::APACHE, 'Apache is missing: `make php-tools` installs it (apt apache2-bin)');
		$port = self::freePort();
		$config = array(
			'ServerRoot ' . $this->folder,
			'DefaultRuntimeDir ' . $this->folder,
			'PidFile ' . $this->folder . '/apache.pid',
			'ErrorLog ' . $this->folder . '/error.log',
			'Listen 127.0.0.1:' . $port,
			'ServerName 127.0.0.1',
			'TypesConfig /dev/null',
		);
		foreach (self::MODULES as $module) {
			$config[] = 'LoadModule ' . $module . '_module /usr/lib/apache2/modules/mod_' . $module . '.so';
		}
		if (posix_geteuid() == 0) {
			$config[] = 'User www-data';
			$config[] = 'Group www-data';
		}
		$config = array_merge($config, array(
			'DocumentRoot ' . $_root,
			'AccessFileName .htaccess',
			'<Directory />', '  AllowOverride None', '  Require all denied', '</Directory>',
			'<Directory ' . $_root . '>', '  Options -Indexes -ExecCGI -FollowSymLinks', '  AllowOverride All', '  Require all granted', '</Directory>',
			'<FilesMatch "^\.ht">', '  Require all denied', '</FilesMatch>',
		));
		file_put_contents($this->folder . '/apache.conf', implode("\n", $config) . "\n");
		// In a session of its own: Apache stops by signalling its whole process group, phpunit included.
		$this->apache = proc_open(array('setsid', self::APACHE, '-f', $this->folder . '/apache.conf', '-DFOREGROUND'),
			array(0 => array('file', '/dev/null', 'r'), 1 => array('file', $this->folder . '/apache.out', 'w'), 2 => array('file', $this->folder . '/apache.out', 'a')), $pipes);
		for ($i = 0; $i < 200; $i++) {
			$probe = @stream_socket_client('tcp://127.0.0.1:' . $port, $errno, $errstr, 1);
			if ($probe !== false) {
				fclose($probe);
				return $port;
			}
			usleep(50000);
		}
		$this->fail('Apache did not start: ' . @file_get_contents($this->folder . '/apache.out') . @file_get_contents($this->folder . '/error.log'));
	}

	private static function status($_port, $_path) {
		$context = stream_context_create(array('http' => array('ignore_errors' => true, 'timeout' => 10)));
		$body = @file_get_contents('http://127.0.0.1:' . $_port . $_path, false, $context);
		preg_match('#HTTP/\S+ (\d+)#', isset($http_response_header[0]) ? $http_response_header[0] : '', $match);
		return array(isset($match[1]) ? (int) $match[1] : 0, (string) $body);
	}

	public function testApacheServesNothingOfTheDataFolder() {
		// The data folder as the plugin and its daemon fill it.
		enphaseDaemon::writeApikeyFile();
		$data = enphaseDaemon::dataDir();
		file_put_contents($data . '/token-12.json', '{"token":"eyJ.secret.token"}');
		file_put_contents($data . '/counters-12.json', '{}');
		@mkdir($data . '/diagnostics');
		file_put_contents($data . '/diagnostics/enphase-diagnostics-1223-20260501.zip', 'PK report');

		// A web root holding the plugin as shipped (its data/.htaccess included) with that data folder.
		$this->folder = sys_get_temp_dir() . '/enphase-apache-' . getmypid();
		$plugin = $this->folder . '/html/plugins/enphase';
		enphase_test_remove($this->folder);
		foreach (array('core', 'desktop', 'plugin_info') as $dir) {
			enphase_test_copy(ENPHASE_REPO . '/' . $dir, $plugin . '/' . $dir);
		}
		enphase_test_copy($data, $plugin . '/data');
		copy(ENPHASE_REPO . '/data/.htaccess', $plugin . '/data/.htaccess');
		$owner = posix_geteuid() == 0 ? ' && chown -R www-data:www-data ' . escapeshellarg($this->folder . '/html') : '';
		exec('chmod -R 775 ' . escapeshellarg($this->folder . '/html') . $owner, $output, $code);
		$this->assertSame(0, $code);
		$port = $this->startApache($this->folder . '/html');

		list($status, $body) = self::status($port, '/plugins/enphase/plugin_info/info.json');
		$this->assertSame(200, $status, 'Apache serves the plugin folder, so what follows is its rules at work');
		$this->assertStringContainsString('"id"', $body);
		foreach (array('apikey', 'token-12.json', 'counters-12.json', 'diagnostics/enphase-diagnostics-1223-20260501.zip', '', 'diagnostics/', '.htaccess') as $file) {
			list($status, $body) = self::status($port, '/plugins/enphase/data/' . $file);
			$this->assertContains($status, array(403, 404), 'data/' . $file . ' answered ' . $status);
			$this->assertStringNotContainsString(jeedom::getApiKey('enphase'), $body);
			$this->assertStringNotContainsString('secret', $body);
		}
	}
}
