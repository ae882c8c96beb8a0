<?php
/*
 * Lays out a miniature Jeedom the way the plugin's require_once paths expect it:
 *   <root>/core/php/core.inc.php   the test double of the core (tests/php/double)
 *   <root>/plugins/enphase/...      a copy of the plugin's PHP side, its daemon and venv (links to the repository's)
 * and loads the plugin class from there. Pages are served from the same tree by `php -S` (PagesTest).
 */
$repo = dirname(__DIR__, 2);
$root = sys_get_temp_dir() . '/enphase-jeedom-' . getmypid();

function enphase_test_copy($_from, $_to) {
	if (is_dir($_from)) {
		@mkdir($_to, 0777, true);
		foreach (scandir($_from) as $entry) {
			if ($entry != '.' && $entry != '..') {
				enphase_test_copy($_from . '/' . $entry, $_to . '/' . $entry);
			}
		}
	} else {
		copy($_from, $_to);
	}
}

function enphase_test_remove($_path) {
	if (is_dir($_path) && !is_link($_path)) {
		foreach (scandir($_path) as $entry) {
			if ($entry != '.' && $entry != '..') {
				enphase_test_remove($_path . '/' . $entry);
			}
		}
		rmdir($_path);
	} elseif (file_exists($_path) || is_link($_path)) {
		unlink($_path);
	}
}

enphase_test_remove($root);
mkdir($root . '/core/php', 0777, true);
mkdir($root . '/log', 0777, true);
copy(__DIR__ . '/double/core.inc.php', $root . '/core/php/core.inc.php');
foreach (array('core', 'desktop', 'plugin_info') as $dir) {
	if (is_dir($repo . '/' . $dir)) {
		enphase_test_copy($repo . '/' . $dir, $root . '/plugins/enphase/' . $dir);
	}
}
// The daemon itself (PHP reads its jeedom/timeouts.json) and the venv Jeedom installs its dependencies into
// (the repository's, `make venv`).
mkdir($root . '/plugins/enphase/resources', 0777, true);
symlink($repo . '/resources/enphased', $root . '/plugins/enphase/resources/enphased');
symlink($repo . '/.venv', $root . '/plugins/enphase/resources/python_venv');
define('ENPHASE_REPO', $repo);
define('ENPHASE_TEST_ROOT', $root);
register_shutdown_function(function () use ($root) {
	enphase_test_remove($root);
});

require_once $root . '/plugins/enphase/core/class/enphase.class.php';
require_once __DIR__ . '/EnphaseTestCase.php';
