<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * Where each gateway's address, credentials and cadences live. A gateway equipment carries its own (added by
 * hand from the plugin page, its id is the equipment's id); the plugin configuration page describes the
 * first gateway of a single-gateway install, with the id "default", until its equipment takes its settings
 * over (migrate()). Secrets kept on an equipment are encrypted by enphase::encrypt() like the core does for
 * the plugin configuration.
 */
class enphaseGateway {
	const AUTH_METHODS = array('envoy', 'token', 'enlighten');
	/** Plain settings of one gateway. */
	const SETTINGS = array('host', 'auth_method', 'enlighten_username', 'serial', 'general_s', 'devices_s');
	/** Its secrets: stored encrypted, never given back to a page. */
	const SECRETS = array('password', 'token', 'enlighten_password');
	/** Configuration id of the gateway set on the plugin configuration page. */
	const SINGLE_GATEWAY_ID = 'default';
	/** Seconds between reads when neither the gateway nor the plugin configuration says. */
	const DEFAULT_CADENCES = array('general_s' => 60, 'devices_s' => 300);

	/** The settings of the plugin configuration page (the "default" gateway). */
	public static function pluginSettings() {
		$settings = array();
		foreach (array_merge(self::SETTINGS, self::SECRETS) as $key) {
			$settings[$key] = config::byKey($key, 'enphase');
		}
		return $settings;
	}

	/** The settings an equipment carries. */
	public static function equipmentSettings($_eqLogic) {
		$settings = array();
		foreach (array_merge(self::SETTINGS, self::SECRETS) as $key) {
			$settings[$key] = $_eqLogic->getConfiguration($key);
		}
		return $settings;
	}

	/** A gateway equipment that carries its own address (not the plugin configuration's). */
	public static function ownsSettings($_eqLogic) {
		return $_eqLogic->getConfiguration('kind') == 'gateway' && trim((string) $_eqLogic->getConfiguration('host')) != '';
	}

	/** The gateway id of a gateway equipment: the configuration's, else (made by hand, not saved yet) its own id. */
	public static function idOf($_eqLogic) {
		$id = (string) $_eqLogic->getConfiguration('gateway_id');
		return ($id !== '') ? $id : (string) $_eqLogic->getId();
	}

	/**
	 * Every gateway to read: id => array('settings' => ..., 'eqLogic' => its equipment or null). A disabled
	 * gateway equipment is not read; the plugin configuration's gateway counts while no equipment took it over.
	 */
	public static function all() {
		$all = array();
		$claimed = array();
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			if (!self::ownsSettings($eqLogic)) {
				continue;
			}
			$id = self::idOf($eqLogic);
			$claimed[$id] = true;
			if ($eqLogic->getIsEnable()) {
				$all[$id] = array('settings' => self::equipmentSettings($eqLogic), 'eqLogic' => $eqLogic);
			}
		}
		$plugin = self::pluginSettings();
		if (!isset($claimed[self::SINGLE_GATEWAY_ID]) && trim((string) $plugin['host']) != '') {
			$all = array(self::SINGLE_GATEWAY_ID => array('settings' => $plugin, 'eqLogic' => null)) + $all;
		}
		return $all;
	}

	/** The gateway equipment that took the plugin configuration's gateway over (migrate()), or null. */
	public static function takenOver() {
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			if (self::ownsSettings($eqLogic) && self::idOf($eqLogic) == self::SINGLE_GATEWAY_ID) {
				return $eqLogic;
			}
		}
		return null;
	}

	/** Every gateway equipment, for the pages. */
	public static function equipments() {
		return array_values(array_filter(eqLogic::byType('enphase'), function ($eqLogic) {
			return $eqLogic->getConfiguration('kind') == 'gateway';
		}));
	}

	/** The settings of one gateway id, or null when no such gateway is configured. */
	public static function settings($_id) {
		$all = self::all();
		return isset($all[(string) $_id]) ? $all[(string) $_id]['settings'] : null;
	}

	/** Whether a gateway id's settings are those of the plugin configuration page. */
	public static function inPluginConfiguration($_id) {
		$all = self::all();
		return isset($all[(string) $_id]) && $all[(string) $_id]['eqLogic'] === null;
	}

	public static function authMethod(array $_settings) {
		$method = isset($_settings['auth_method']) ? $_settings['auth_method'] : '';
		return in_array($method, self::AUTH_METHODS) ? $method : 'envoy';
	}

	/** The demo gateway needs no credentials. */
	public static function isDemo(array $_settings) {
		return strtolower(trim((string) $_settings['host'])) == 'demo';
	}

	/**
	 * Why a gateway cannot be read with these settings, in words the user can act on ('' when it can).
	 * $_onEquipment: the settings are on the gateway's equipment (else on the plugin configuration page).
	 */
	public static function problem(array $_settings, $_onEquipment) {
		if (trim((string) $_settings['host']) == '') {
			return $_onEquipment ? __('Renseignez l\'adresse IP ou le nom de la passerelle dans son onglet Équipement', __FILE__)
				: __('Renseignez l\'adresse IP ou le nom de la passerelle dans la configuration du plugin', __FILE__);
		}
		if (self::isDemo($_settings)) {
			return '';
		}
		$method = self::authMethod($_settings);
		if ($method == 'token' && trim((string) $_settings['token']) == '') {
			return $_onEquipment ? __('Collez le jeton de la passerelle dans son onglet Équipement', __FILE__)
				: __('Collez le jeton de la passerelle dans la configuration du plugin', __FILE__);
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

	/** A cadence of the plugin configuration: every gateway's default ('general_s' or 'devices_s'). */
	public static function defaultCadence($_key) {
		return self::cadence(config::byKey($_key, 'enphase', self::DEFAULT_CADENCES[$_key]), self::DEFAULT_CADENCES[$_key]);
	}

	/**
	 * Why the daemon cannot run with the current configuration, in words the user can act on; '' when it can:
	 * at least one gateway (plugin configuration or gateway equipment) must be readable.
	 */
	public static function firstProblem() {
		$gateways = self::all();
		if (count($gateways) == 0) {
			return self::problem(self::pluginSettings(), false);
		}
		$first = '';
		foreach ($gateways as $id => $gateway) {
			$problem = self::problem($gateway['settings'], $gateway['eqLogic'] !== null);
			if ($problem == '') {
				return '';
			}
			if ($first == '') {
				$first = ($gateway['eqLogic'] !== null) ? $gateway['eqLogic']->getHumanName() . ' : ' . $problem : $problem;
			}
		}
		return $first;
	}

	/**
	 * The gateways the daemon must read, as the protocol's GATEWAY objects (secrets included: this only travels
	 * over the loopback socket): the plugin configuration's ("default") and every enabled gateway equipment
	 * that carries its own address (its id is the equipment's).
	 */
	public static function configurations() {
		$general = self::defaultCadence('general_s');
		$devices = self::defaultCadence('devices_s');
		$gateways = array();
		foreach (self::all() as $id => $gateway) {
			$gateways[] = self::describe($id, $gateway['settings'], $general, $devices);
		}
		return $gateways;
	}

	/** The gateway equipment of a configured gateway, by serial or else by configuration id. */
	public static function equipment($_gatewayId, $_serial = '') {
		if ($_serial != '') {
			$eqLogic = eqLogic::byLogicalId($_serial, 'enphase');
			if (is_object($eqLogic)) {
				return $eqLogic;
			}
		}
		foreach (eqLogic::byType('enphase') as $eqLogic) {
			if ($eqLogic->getConfiguration('kind') == 'gateway' && (string) $eqLogic->getConfiguration('gateway_id') === (string) $_gatewayId) {
				return $eqLogic;
			}
		}
		return null;
	}

	/** How messages and logs name a gateway: its equipment, else its id. */
	public static function label($_gatewayId, $_eqLogic) {
		if (is_object($_eqLogic)) {
			return $_eqLogic->getHumanName();
		}
		return __('Passerelle Enphase', __FILE__) . ($_gatewayId != self::SINGLE_GATEWAY_ID ? ' ' . $_gatewayId : '');
	}

	/**
	 * Stores the secrets typed on the configuration page. Empty fields keep the stored value (the page never
	 * receives secrets back); $_clear lists the secrets to forget.
	 */
	public static function saveSecrets(array $_secrets, array $_clear = array()) {
		foreach (self::SECRETS as $key) {
			if (in_array($key, $_clear)) {
				config::remove($key, 'enphase');
			} elseif (isset($_secrets[$key]) && trim($_secrets[$key]) != '') {
				config::save($key, trim($_secrets[$key]), 'enphase');
			}
		}
	}

	/** Which secrets are stored, never their values: what the configuration page may show. */
	public static function secretsState() {
		$state = array();
		foreach (self::SECRETS as $key) {
			$state[$key] = (config::byKey($key, 'enphase') != '');
		}
		return $state;
	}

	/** The protocol's GATEWAY object (secrets included: it only travels over the loopback socket). */
	public static function describe($_id, array $_settings, $_generalS, $_devicesS) {
		$gateway = array(
			'id' => (string) $_id,
			'host' => trim((string) $_settings['host']),
			'installer' => false,
			'general_s' => self::cadence($_settings['general_s'], $_generalS),
			'devices_s' => self::cadence($_settings['devices_s'], $_devicesS),
			'paused' => false,
		);
		if (self::isDemo($_settings)) {
			$gateway['host'] = 'demo';
			return $gateway;
		}
		// Only the credentials of the chosen method: stale ones of another method must not be tried.
		switch (self::authMethod($_settings)) {
			case 'envoy':
				$gateway['password'] = (string) $_settings['password'];
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

	/**
	 * Moves the plugin configuration's gateway onto its equipment, which keeps the id "default": the daemon
	 * sees the same gateway (same tokens, same memory) and the plugin configuration page is free again.
	 * Cadences stay on the plugin page, where they are every gateway's defaults.
	 */
	public static function migrate($_eqLogic) {
		if ($_eqLogic->getConfiguration('kind') != 'gateway' || self::idOf($_eqLogic) != self::SINGLE_GATEWAY_ID) {
			throw new Exception(__('Seule la passerelle de la configuration du plugin peut y reprendre ses réglages', __FILE__));
		}
		$plugin = self::pluginSettings();
		if (trim((string) $plugin['host']) == '') {
			throw new Exception(__('La configuration du plugin ne décrit aucune passerelle', __FILE__));
		}
		foreach (array_merge(self::SETTINGS, self::SECRETS) as $key) {
			if (in_array($key, array('general_s', 'devices_s'))) {
				continue;
			}
			$_eqLogic->setConfiguration($key, (string) $plugin[$key]);
		}
		$_eqLogic->setConfiguration('gateway_id', self::SINGLE_GATEWAY_ID);
		$_eqLogic->save();
		foreach (array_merge(self::SETTINGS, self::SECRETS) as $key) {
			if (!in_array($key, array('general_s', 'devices_s'))) {
				config::remove($key, 'enphase');
			}
		}
		log::add('enphase', 'info', $_eqLogic->getHumanName() . ' : ' . __('réglages repris de la configuration du plugin', __FILE__));
	}
}
