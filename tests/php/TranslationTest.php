<?php

/** Every French string of the plugin has its English translation, under the file the core looks it up for. */
class TranslationTest extends EnphaseTestCase {
	private static function sources() {
		$files = array();
		foreach (array('core/class', 'core/php', 'core/ajax', 'desktop/php', 'desktop/js', 'plugin_info') as $dir) {
			foreach (glob(ENPHASE_REPO . '/' . $dir . '/*.{php,js}', GLOB_BRACE) as $file) {
				$files['plugins/enphase/' . $dir . '/' . basename($file)] = file_get_contents($file);
			}
		}
		return $files;
	}

	/** The strings the core translates: {{...}} in pages and scripts, __('...', __FILE__) in PHP. */
	private static function strings($_source) {
		$strings = array();
		preg_match_all('/\{\{(.*?)\}\}/s', $_source, $matches);
		$strings = array_merge($strings, $matches[1]);
		preg_match_all("/__\\('((?:[^'\\\\]|\\\\.)*)',\\s*__FILE__\\)/", $_source, $matches);
		foreach ($matches[1] as $text) {
			$strings[] = str_replace("\\'", "'", $text);
		}
		return array_unique($strings);
	}

	public function testEveryStringHasAnEnglishTranslation() {
		$english = json_decode(file_get_contents(ENPHASE_REPO . '/core/i18n/en_US.json'), true);
		$this->assertIsArray($english, 'en_US.json is valid JSON');
		$missing = array();
		foreach (self::sources() as $name => $source) {
			foreach (self::strings($source) as $text) {
				if (!isset($english[$name][$text]) || trim($english[$name][$text]) === '') {
					$missing[] = $name . ': ' . $text;
				}
			}
		}
		$this->assertSame(array(), $missing);
	}

	public function testTranslationsKeepPlaceholdersAndDoNotBreakAttributes() {
		$english = json_decode(file_get_contents(ENPHASE_REPO . '/core/i18n/en_US.json'), true);
		foreach ($english as $name => $texts) {
			foreach ($texts as $french => $translation) {
				preg_match_all('/%[sd]/', $french, $a);
				preg_match_all('/%[sd]/', $translation, $b);
				$this->assertSame($a[0], $b[0], $french);
				if (strpos($french, '"') === false) {
					$this->assertStringNotContainsString('"', $translation, $french);
				}
				if (substr($name, -3) == '.js') {
					$this->assertStringNotContainsString("'", $translation, 'scripts quote their strings with \': ' . $french);
				}
			}
		}
	}
}
