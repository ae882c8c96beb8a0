<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * A gateway is configured in one place: its equipment (kind "gateway", added by hand from the plugin page),
 * which carries its address, credentials and cadences; its id for the daemon is the equipment's id. The
 * plugin configuration holds only every gateway's default cadences. Secrets are encrypted by
 * enphase::encrypt() like the core does for a plugin's configuration.
 */
class enphaseGateway {
	const AUTH_METHODS = array('envoy', 'token', 'enlighten');
	/** Plain settings of one gateway. */
	const SETTINGS = array('host', 'auth_method', 'installer', 'enlighten_username', 'serial', 'general_s', 'devices_s', 'demo_hour');
	/** Its secrets: stored encrypted, never given back to a page. */
	const SECRETS = array('password', 'token', 'enlighten_password');
	/** Seconds between reads when neither the gateway nor the plugin configuration says. */
	const DEFAULT_CADENCES = array('general_s' => 60, 'devices_s' => 300);

	/** The settings an equipment carries. */
	public static function settingsOf($_eqLogic) {
		$settings = array();
		foreach (array_merge(self::SETTINGS, self::SECRETS) as $key) {
			$settings[$key] = $_eqLogic->getConfiguration($key);
		}
		return $settings;
	}

	/** A gateway equipment that the daemon reads, or would once enabled: it has an address. */
	public static function hasAddress($_eqLogic) {
		return $_eqLogic->getConfiguration('kind') == 'gateway' && trim((string) $_eqLogic->getConfiguration('host')) != '';
	}

	/** The gateway id of a gateway equipment: the configuration's, else (made by hand, not saved yet) its own id. */
	public static function idOf($_eqLogic) {
		$id = (string) $_eqLogic->getConfiguration('gateway_id');
		return ($id !== '') ? $id : (string) $_eqLogic->getId();
	}

	/** The plugin's gateway equipment, enabled or not: one query that leaves their devices out (600 on a site). */
	public static function gateways() {
		return array_values(array_filter(eqLogic::byTypeAndSearchConfiguration('enphase', array('kind' => 'gateway')), function ($_eqLogic) {
			return $_eqLogic->getConfiguration('kind') == 'gateway';
		}));
	}

	/** Every gateway to read: id => its equipment, enabled and with an address. */
	public static function all() {
		$all = array();
		foreach (self::gateways() as $eqLogic) {
			if (self::hasAddress($eqLogic) && $eqLogic->getIsEnable()) {
				$all[self::idOf($eqLogic)] = $eqLogic;
			}
		}
		return $all;
	}

	/** The settings of one gateway id, or null when no such gateway is read. */
	public static function settings($_id) {
		$all = self::all();
		return isset($all[(string) $_id]) ? self::settingsOf($all[(string) $_id]) : null;
	}

	public static function authMethod(array $_settings) {
		$method = isset($_settings['auth_method']) ? $_settings['auth_method'] : '';
		return in_array($method, self::AUTH_METHODS) ? $method : 'envoy';
	}

	/**
	 * How this gateway is reached, as error sentences name it: envoy (its password), installer (its installer
	 * login, firmware < 7), token (pasted), enlighten (an account) or demo.
	 */
	public static function access(array $_settings) {
		if (self::isDemo($_settings)) {
			return 'demo';
		}
		$method = self::authMethod($_settings);
		return ($method == 'envoy' && self::wantsInstaller($_settings)) ? 'installer' : $method;
	}

	/** Firmware < 7: the installer login (its password computed from the serial unless one is given). */
	public static function wantsInstaller(array $_settings) {
		return isset($_settings['installer']) && in_array((string) $_settings['installer'], array('1', 'true'), true);
	}

	/** How the daemon logged in, in words (the protocol's status.auth: jwt-owner, digest-envoy...). */
	public static function authLabel($_auth) {
		$labels = array(
			'jwt-owner' => __('Jeton propriétaire', __FILE__),
			'jwt-installer' => __('Jeton installateur', __FILE__),
			'digest-envoy' => __('Mot de passe de la passerelle', __FILE__),
			'digest-installer' => __('Accès installateur', __FILE__),
			'none' => __('Sans identifiants (firmware ancien)', __FILE__),
		);
		return isset($labels[$_auth]) ? $labels[$_auth] : __('Inconnue', __FILE__);
	}

	/** The demo gateway needs no credentials. */
	public static function isDemo(array $_settings) {
		return strtolower(trim((string) $_settings['host'])) == 'demo';
	}

	/** Why a gateway cannot be read with these settings, in words the user can act on ('' when it can). */
	public static function problem(array $_settings) {
		if (trim((string) $_settings['host']) == '') {
			return __('Renseignez l\'adresse IP ou le nom de la passerelle dans son onglet Équipement', __FILE__);
		}
		if (self::isDemo($_settings)) {
			return '';
		}
		$method = self::authMethod($_settings);
		if ($method == 'token' && trim((string) $_settings['token']) == '') {
			return __('Collez le jeton de la passerelle dans son onglet Équipement', __FILE__);
		}
		if ($method == 'enlighten') {
			foreach (array('enlighten_username', 'enlighten_password', 'serial') as $key) {
				if (trim((string) $_settings[$key]) == '') {
					return __('Renseignez l\'identifiant Enlighten, son mot de passe et le numéro de série de la passerelle', __FILE__);
				}
			}
		}
		return '';
	}

	/** Seconds between reads: at least 10 (the gateway's CPU is weak), else the default. */
	public static function cadence($_value, $_default) {
		$seconds = (int) $_value;
		return $seconds >= 10 ? $seconds : $_default;
	}

	/** Seconds between two status events of a gateway being read, at most (resources/enphased/poller.py). */
	const STATUS_REFRESH_S = 600;

	/**
	 * The equipment timeout (Jeedom's "stale" marker, in minutes) that these settings give: three of the slowest
	 * cadence, and never less than a status interval and 5 minutes, since an unchanged value is not sent again
	 * and the status events keep equipment fresh meanwhile. 15 minutes with the default cadences, longer than
	 * the few minutes a gateway goes silent every night.
	 */
	public static function staleAfterMinutes(array $_settings) {
		$slowest = max(self::cadence($_settings['general_s'], self::defaultCadence('general_s')),
			self::cadence($_settings['devices_s'], self::defaultCadence('devices_s')));
		return (int) max(ceil((self::STATUS_REFRESH_S + 300) / 60), ceil(3 * $slowest / 60));
	}

	/** A cadence of the plugin configuration: every gateway's default ('general_s' or 'devices_s'). */
	public static function defaultCadence($_key) {
		return self::cadence(config::byKey($_key, 'enphase', self::DEFAULT_CADENCES[$_key]), self::DEFAULT_CADENCES[$_key]);
	}

	/**
	 * Why the daemon cannot run with the current configuration, in words the user can act on; '' when it can:
	 * at least one enabled gateway equipment must be readable.
	 */
	public static function firstProblem() {
		$first = '';
		foreach (self::all() as $eqLogic) {
			$problem = self::problem(self::settingsOf($eqLogic));
			if ($problem == '') {
				return '';
			}
			if ($first == '') {
				$first = $eqLogic->getHumanName() . ' : ' . $problem;
			}
		}
		return ($first != '') ? $first
			: __('Ajoutez une passerelle depuis la page du plugin et renseignez son adresse dans son onglet Équipement', __FILE__);
	}

	/**
	 * The gateways the daemon must read, as the protocol's GATEWAY objects (secrets included: this only travels
	 * over the loopback socket): every enabled gateway equipment with an address, known by its equipment id.
	 */
	public static function configurations() {
		$general = self::defaultCadence('general_s');
		$devices = self::defaultCadence('devices_s');
		$gateways = array();
		foreach (self::all() as $id => $eqLogic) {
			$gateways[] = self::describe($id, self::settingsOf($eqLogic), $general, $devices, self::detailOf($eqLogic));
		}
		return $gateways;
	}

	/**
	 * The gateway equipment of a configured gateway, by configuration id or else by serial. The id first: two
	 * equipment may be set on one gateway (a test of another access), and each must get its own status.
	 */
	public static function equipment($_gatewayId, $_serial = '') {
		foreach (self::gateways() as $eqLogic) {
			if ((string) $eqLogic->getConfiguration('gateway_id') === (string) $_gatewayId) {
				return $eqLogic;
			}
		}
		if ($_serial != '') {
			$eqLogic = eqLogic::byLogicalId($_serial, 'enphase');
			if (is_object($eqLogic)) {
				return $eqLogic;
			}
		}
		return null;
	}

	/** The equipment a gateway equipment found (microinverters, batteries, meters...), itself excluded. */
	public static function devices($_gateway) {
		$devices = array();
		foreach (eqLogic::byTypeAndSearchConfiguration('enphase', array('gateway_id' => self::idOf($_gateway))) as $eqLogic) {
			if ($eqLogic->getConfiguration('kind') != 'gateway' && (string) $eqLogic->getConfiguration('gateway_id') === self::idOf($_gateway)) {
				$devices[] = $eqLogic;
			}
		}
		return $devices;
	}

	/** How messages and logs name a gateway: its equipment, else its id. */
	public static function label($_gatewayId, $_eqLogic) {
		if (is_object($_eqLogic)) {
			return $_eqLogic->getHumanName();
		}
		return __('Passerelle Enphase', __FILE__) . ' ' . $_gatewayId;
	}

	/**
	 * Whether an equipment gets its kind's detail commands (a microinverter's volts, amps, frequency, temperature):
	 * its own setting ('1' or '0'), else the plugin configuration's ('detail').
	 */
	public static function wantsDetail($_eqLogic) {
		$own = (string) $_eqLogic->getConfiguration('detail', '');
		return ($own === '') ? (bool) config::byKey('detail', 'enphase', 0) : ($own === '1');
	}

	/** The GATEWAY's "detail" (docs/protocol.md): the plugin's choice, and its equipment that chose otherwise. */
	public static function detailOf($_gateway) {
		$detail = array('default' => (bool) config::byKey('detail', 'enphase', 0), 'on' => array(), 'off' => array());
		foreach (self::devices($_gateway) as $device) {
			$own = (string) $device->getConfiguration('detail', '');
			if ($own === '1' || $own === '0') {
				$detail[$own === '1' ? 'on' : 'off'][] = (string) $device->getLogicalId();
			}
		}
		return $detail;
	}

	/** The protocol's GATEWAY object (secrets included: it only travels over the loopback socket). */
	public static function describe($_id, array $_settings, $_generalS, $_devicesS, $_detail = null) {
		$gateway = array(
			'id' => (string) $_id,
			'host' => trim((string) $_settings['host']),
			'installer' => false,
			'general_s' => self::cadence($_settings['general_s'], $_generalS),
			'devices_s' => self::cadence($_settings['devices_s'], $_devicesS),
			'paused' => false,
		);
		if ($_detail !== null) {
			$gateway['detail'] = $_detail;
		}
		if (self::isDemo($_settings)) {
			$gateway['host'] = 'demo';
			// The hour its clear day starts at (empty: the daemon's, 13 h), or "now" for the real time.
			$hour = isset($_settings['demo_hour']) ? trim((string) $_settings['demo_hour']) : '';
			if ($hour === 'now') {
				$gateway['demo_hour'] = 'now';
			} elseif (ctype_digit($hour) && (int) $hour < 24) {
				$gateway['demo_hour'] = (int) $hour;
			}
			return $gateway;
		}
		// Only the credentials of the chosen method: stale ones of another method must not be tried.
		switch (self::authMethod($_settings)) {
			case 'envoy':
				$gateway['password'] = (string) $_settings['password'];
				$gateway['installer'] = self::wantsInstaller($_settings);
				break;
			case 'token':
				$gateway['token'] = trim((string) $_settings['token']);
				break;
			case 'enlighten':
				$gateway['username'] = trim((string) $_settings['enlighten_username']);
				$gateway['enlighten_password'] = (string) $_settings['enlighten_password'];
				$gateway['serial'] = trim((string) $_settings['serial']);
				break;
		}
		return $gateway;
	}
}
