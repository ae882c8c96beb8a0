<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * What the daemon says, checked again before Jeedom keeps it, and our text escaped where a page shows it.
 * The daemon already sends only checked strings (docs/protocol.md, "Strings"); this side does not rely on it
 * alone: an identifier without its shape is refused, free text loses what would be markup in the core's
 * widgets (they write values with innerHTML, some inside a quoted JavaScript string). A name the daemon gives
 * in both languages is taken in this Jeedom's.
 */
class enphaseText {
	/** Longest free text kept (the daemon sends at most 64 characters). */
	const TEXT_MAX = 255;

	/** An equipment or command logicalId as the daemon makes them: 122302045041, 122302045041_meter_net-consumption, power_w. */
	public static function isIdentifier($_value) {
		return is_string($_value) && preg_match('/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/D', $_value) === 1;
	}

	/**
	 * Free text shown as is: no character that makes markup, an entity or ends a quoted string (< > & " ' ` \),
	 * no control or invisible character, blanks squeezed, at most $_max characters. Not a string: ''.
	 */
	public static function plain($_value, $_max = self::TEXT_MAX) {
		if (!is_string($_value) && !is_int($_value) && !is_float($_value)) {
			return '';
		}
		$text = preg_replace('/[<>&"\'`\\\\]|[\p{C}\x{2028}\x{2029}]/u', ' ', (string) $_value);
		if ($text === null) { // not UTF-8
			$text = preg_replace('/[^A-Za-z0-9 ._:\/()+,%=@-]/', ' ', (string) $_value);
		}
		return trim(mb_substr(trim(preg_replace('/\s+/u', ' ', $text)), 0, $_max));
	}

	/**
	 * A sentence of the daemon's (an error's detail, in English): its quotes stay, markup and control characters
	 * go; the pages escape it where they show it.
	 */
	public static function sentence($_value, $_max = 500) {
		if (!is_string($_value)) {
			return '';
		}
		$text = preg_replace('/[<>\\\\]|[\p{C}\x{2028}\x{2029}]/u', ' ', $_value);
		return trim(mb_substr(trim(preg_replace('/\s+/u', ' ', (string) $text)), 0, $_max));
	}

	/** Text of ours or of the daemon's placed in a page's HTML (element or attribute). */
	public static function html($_value) {
		return htmlspecialchars((string) $_value, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
	}

	/** The name in the language of this Jeedom, from a {"fr_FR": ..., "en_US": ...} description. */
	public static function localized($_names, $_fallback = '') {
		if (is_string($_names) && $_names != '') {
			return $_names;
		}
		if (!is_array($_names) || count($_names) == 0) {
			return $_fallback;
		}
		$language = config::byKey('language', 'core', 'fr_FR');
		foreach (array($language, 'fr_FR', 'en_US') as $candidate) {
			if (isset($_names[$candidate]) && $_names[$candidate] != '') {
				return $_names[$candidate];
			}
		}
		return (string) reset($_names);
	}
}
