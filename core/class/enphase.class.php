<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the
 * implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU Affero General Public
 * License for more details.
 */

require_once __DIR__ . '/../../../../core/php/core.inc.php';
// The core autoloads only the class named like the plugin (and its Cmd): the others come with it.
require_once __DIR__ . '/enphaseText.class.php';
require_once __DIR__ . '/enphaseGateway.class.php';
require_once __DIR__ . '/enphaseDaemon.class.php';
require_once __DIR__ . '/enphaseDaemonError.class.php';
require_once __DIR__ . '/enphaseKinds.class.php';
require_once __DIR__ . '/enphasePlacement.class.php';
require_once __DIR__ . '/enphaseCommands.class.php';
require_once __DIR__ . '/enphaseInventory.class.php';
require_once __DIR__ . '/enphaseSync.class.php';
require_once __DIR__ . '/enphaseSyncJob.class.php';
require_once __DIR__ . '/enphaseEvents.class.php';
require_once __DIR__ . '/enphaseDiagnostics.class.php';

/*
 * Jeedom's hooks only: the daemon's life, the equipment's save and display. The PHP half stays thin: it keeps
 * the configuration (enphaseGateway), talks to the daemon (enphaseDaemon), creates the equipment and commands
 * that the daemon describes (enphaseInventory, enphaseCommands; the catalog lives in Python) and applies what
 * the daemon sends (enphaseEvents). It never talks to the gateway. The daemon <-> PHP protocol is in docs/protocol.md.
 */
class enphase extends eqLogic {
	/*     * ************************** Daemon **************************** */

	public static function deamon_info() {
		$return = array('log' => __CLASS__, 'state' => 'nok', 'launchable' => 'ok', 'launchable_message' => '');
		if (enphaseDaemon::pid() > 0) {
			$return['state'] = 'ok';
		}
		try {
			// The core asks every few minutes: the data folder is back to 0700 soon after a backup opened it.
			enphaseDaemon::dataDir();
			$problem = enphaseGateway::firstProblem();
		} catch (Exception $e) {
			$problem = $e->getMessage();
		}
		if ($problem != '') {
			$return['launchable'] = 'nok';
			$return['launchable_message'] = $problem;
		}
		return $return;
	}

	public static function deamon_start() {
		// Before deamon_stop() forgets it: the last run ended without being asked to (killed, crashed).
		$died = enphaseDaemon::endedUnexpectedly();
		self::deamon_stop();
		$info = self::deamon_info();
		if ($info['launchable'] != 'ok') {
			throw new Exception(__('Veuillez vérifier la configuration', __FILE__) . ' : ' . $info['launchable_message']);
		}
		$started = enphaseDaemon::launch();
		if ($died) {
			message::add('enphase', __('Le démon Enphase s’était arrêté sans qu’on le lui demande ; il vient d’être redémarré. Si cela se répète, consultez le log enphase_daemon', __FILE__), '', 'daemon::restarted');
		}
		return $started;
	}

	public static function deamon_stop() {
		enphaseDaemon::stop();
	}

	/** A gateway silent for longer than its equipment's timeout gets its message without waiting for an event. */
	public static function cron5() {
		enphaseEvents::checkOutages();
	}

	/** @var string|null the plugin's detail setting before the core saves a new one (preConfig_detail) */
	private static $_detailBefore = null;

	/** Called by the core before it saves the plugin configuration's "detail" (which the page saves every time). */
	public static function preConfig_detail($_value) {
		self::$_detailBefore = (string) config::byKey('detail', 'enphase', 0);
		return $_value;
	}

	/** ... and after: turned off, the detail commands of the equipment that followed it go; the daemon learns it. */
	public static function postConfig_detail($_value) {
		if (self::$_detailBefore !== null && self::$_detailBefore !== (string) $_value) {
			enphaseCommands::dropUnwantedDetail();
			enphaseDaemon::configurationChanged();
		}
		self::$_detailBefore = null;
	}

	/** Jeedom's health page: each gateway's state and figures (enphaseEvents::health). */
	public static function health() {
		return enphaseEvents::health();
	}

	/** Time passes without any status event: look at each gateway's stored token expiry once a day. */
	public static function cronDaily() {
		enphaseEvents::checkTokens();
	}

	/*     * ********************** Instance ****************************** */

	/** What an equipment's secret shows to a page once set: never its value. */
	const SECRET_MASK = '********';

	/** Called by the core before it writes the equipment: a gateway's secrets are stored encrypted. */
	public function encrypt() {
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if (is_string($value) && $value !== '') {
				$this->setConfiguration($key, utils::encrypt($value));
			}
		}
	}

	/** Called by the core after it read or wrote the equipment. */
	public function decrypt() {
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if (is_string($value) && $value !== '') {
				$this->setConfiguration($key, utils::decrypt($value));
			}
		}
	}

	/** What pages receive: a secret that is set shows as SECRET_MASK. */
	public function toArray() {
		$array = parent::toArray();
		if ($this->getConfiguration('kind') == 'gateway') {
			// What is true now (daemon stopped, credentials refused, unreachable since...), for the gateway's page.
			$array['enphase_state'] = enphaseEvents::state($this);
			$status = $this->getConfiguration('status');
			$array['enphase_auth'] = (is_array($status) && !empty($status['auth'])) ? enphaseGateway::authLabel((string) $status['auth']) : '';
		}
		foreach (enphaseGateway::SECRETS as $key) {
			if (isset($array['configuration'][$key]) && $array['configuration'][$key] !== '') {
				$array['configuration'][$key] = self::SECRET_MASK;
			}
		}
		return $array;
	}

	/** @var bool the gateway's address, credentials or cadences changed in this save: the daemon must know */
	private $_gatewayChanged = false;
	/** @var bool a device's own detail setting changed in this save */
	private $_detailChanged = false;
	/** @var int|null|false the gateway's object before this save (false: not a stored gateway) */
	private $_objectBefore = false;
	/** @var int|null the timeout its cadences gave before this save (null: not a stored gateway) */
	private $_staleBefore = null;

	public function preSave() {
		if ($this->getConfiguration('kind') == '') {
			// Added by hand from the plugin page: only gateways can be (devices come from their gateway).
			$this->setConfiguration('kind', 'gateway');
			$this->setCategory('energy', 1);
			if ($this->getId() == '') {
				$this->setIsEnable(1);
				$this->setIsVisible(1);
			}
		}
		$stored = ($this->getId() != '') ? self::byId($this->getId()) : null;
		if ($this->getConfiguration('kind') != 'gateway') {
			$this->_detailChanged = is_object($stored) && (string) $stored->getConfiguration('detail', '') !== (string) $this->getConfiguration('detail', '');
			return;
		}
		$this->_objectBefore = is_object($stored) ? $stored->getObject_id() : false;
		$this->_staleBefore = is_object($stored) ? enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($stored)) : null;
		foreach (enphaseGateway::SECRETS as $key) {
			$value = $this->getConfiguration($key);
			if ($value === self::SECRET_MASK) {
				// A page sent back what it was shown: the secret stays.
				$this->setConfiguration($key, is_object($stored) ? $stored->getConfiguration($key) : '');
			} elseif (is_string($value)) {
				$this->setConfiguration($key, trim($value));
			}
		}
		foreach (array('host', 'enlighten_username', 'serial') as $key) {
			$this->setConfiguration($key, trim((string) $this->getConfiguration($key)));
		}
		$before = is_object($stored) ? json_encode(array(enphaseGateway::settingsOf($stored), (int) $stored->getIsEnable())) : '';
		$after = json_encode(array(enphaseGateway::settingsOf($this), (int) $this->getIsEnable()));
		// Only a gateway with an address (now or before this save) is the daemon's business.
		$this->_gatewayChanged = ($before !== $after) && (enphaseGateway::hasAddress($this) || (is_object($stored) && enphaseGateway::hasAddress($stored)));
	}

	public function postSave() {
		if ($this->getConfiguration('kind') != 'gateway') {
			if ($this->_detailChanged) {
				// Its detail commands go, or the daemon describes them again (then Jeedom creates them).
				$this->_detailChanged = false;
				enphaseCommands::dropUnwantedDetail(array($this));
				enphaseDaemon::configurationChanged();
			}
			return;
		}
		if ($this->getConfiguration('gateway_id') === '') {
			// A gateway added by hand is known to the daemon by its equipment id.
			$this->setConfiguration('gateway_id', (string) $this->getId());
			$this->save(true);
		}
		if ($this->_objectBefore !== false && (string) $this->_objectBefore !== (string) $this->getObject_id()) {
			$from = $this->_objectBefore;
			$this->_objectBefore = false;
			enphasePlacement::followGateway($this, $from);
		}
		$stale = enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($this));
		if ($this->_staleBefore !== null && $this->_staleBefore != $stale) {
			// New cadences: the timeouts they gave follow; one the user set by hand stays.
			foreach (array_merge(array($this), enphaseGateway::devices($this)) as $eqLogic) {
				if ((int) $eqLogic->getTimeout() == $this->_staleBefore) {
					$eqLogic->setTimeout($stale);
					$eqLogic->save(true);
				}
			}
		}
		$this->_staleBefore = null;
		if ($this->_gatewayChanged) {
			$this->_gatewayChanged = false;
			enphaseDaemon::configurationChanged();
		}
	}

	public function postRemove() {
		if ($this->getConfiguration('kind') != 'gateway') {
			return;
		}
		// Everything that belonged to it goes: its equipment, its messages, and what the daemon kept of it.
		foreach (enphaseGateway::devices($this) as $device) {
			$device->remove();
		}
		enphaseEvents::forget(enphaseGateway::idOf($this));
		enphaseInventory::forget(enphaseGateway::idOf($this));
		enphaseDaemon::forget(enphaseGateway::idOf($this));
	}

	/** The widget's customisations stay with the user although the gateway has a widget of its own. */
	public static $_widgetPossibility = array('custom' => true);

	/** The gateway's info commands the energy-flow widget draws, by the role they play in it. */
	const FLOW_COMMANDS = array('solar' => 'production_w', 'home' => 'consumption_w', 'grid' => 'net_w',
		'battery' => 'battery_power_w', 'percent' => 'battery_percent');

	/** Whether this equipment shows the energy-flow widget (a gateway, unless the user chose the standard one). */
	public function usesFlowWidget() {
		return $this->getConfiguration('kind') == 'gateway' && $this->getConfiguration('widget', 'flow') == 'flow';
	}

	/**
	 * A gateway draws its energy flow (solar, home, grid, battery); every other equipment, and a gateway whose
	 * user chose the standard widget, has the core's widget.
	 */
	public function toHtml($_version = 'dashboard') {
		if (!$this->usesFlowWidget()) {
			return parent::toHtml($_version);
		}
		$replace = $this->preToHtml($_version);
		if (!is_array($replace)) {
			return $replace;
		}
		$version = jeedom::versionAlias($_version);
		if ($version != 'mobile' && $this->getDisplay('width', '') == '') {
			$replace['#width#'] = '312px';
			$replace['#height#'] = '276px';
		}
		$state = array();
		$hasBattery = false;
		foreach (self::FLOW_COMMANDS as $role => $logicalId) {
			$cmd = $this->getCmd('info', $logicalId);
			$replace['#id_' . $role . '#'] = is_object($cmd) ? $cmd->getId() : '';
			// Like the core's widgets: a historized value opens its history when clicked.
			$replace['#history_' . $role . '#'] = (is_object($cmd) && $cmd->getIsHistorized() == 1) ? 'history cursor' : '';
			$state[$role] = is_object($cmd) ? $cmd->execCmd() : null;
			$hasBattery = $hasBattery || (is_object($cmd) && in_array($role, array('battery', 'percent')));
		}
		$labels = array(
			'solar' => __('Solaire', __FILE__), 'home' => __('Maison', __FILE__), 'grid' => __('Réseau', __FILE__),
			'battery' => __('Batterie', __FILE__), 'import' => __('Achat', __FILE__), 'export' => __('Vente', __FILE__),
			'charge' => __('Charge', __FILE__), 'discharge' => __('Décharge', __FILE__), 'idle' => __('Au repos', __FILE__),
			'no_meter' => __('Pas de compteur de consommation : maison et réseau inconnus', __FILE__),
		);
		foreach ($labels as $key => $label) {
			$replace['#label_' . $key . '#'] = htmlspecialchars($label, ENT_QUOTES);
		}
		$labels['noMeter'] = $labels['no_meter'];
		$json = JSON_HEX_TAG | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_HEX_AMP | JSON_UNESCAPED_UNICODE;
		$replace['#flow_state#'] = json_encode($state, $json);
		$replace['#flow_labels#'] = json_encode($labels, $json);
		$replace['#flow_has_battery#'] = $hasBattery ? 'true' : 'false';
		$stale = ($this->getStatus('timeout', 0) == 1);
		$replace['#flow_stale#'] = $stale ? ' enphaseFlow-stale' : '';
		$replace['#flow_stale_title#'] = $stale ? enphaseText::html(__('Pas de nouvelles de la passerelle : ces valeurs ne sont plus à jour', __FILE__)) : '';
		$replace['#flow#'] = template_replace($replace, getTemplate('core', 'dashboard', 'flow.body', __CLASS__));
		$html = template_replace($replace, getTemplate('core', $version, 'flow', __CLASS__));
		return $this->postToHtml($_version, translate::exec($html, 'plugins/enphase/core/template/' . $version . '/flow.html'));
	}

	/** Each kind has its own picture, unless the user chose one. */
	public function getImage() {
		if ($this->getConfiguration('image::sha512') != '') {
			return parent::getImage();
		}
		$kind = $this->getConfiguration('kind');
		if (preg_match('/^[a-z0-9_]+$/', $kind) && file_exists(__DIR__ . '/../../desktop/img/' . $kind . '.png')) {
			return 'plugins/enphase/desktop/img/' . $kind . '.png';
		}
		return parent::getImage();
	}
}

class enphaseCmd extends cmd {
	/** Action commands go to the daemon, which talks to the gateway; the new state comes back by callback. */
	public function execute($_options = array()) {
		if ($this->getType() != 'action') {
			return;
		}
		$eqLogic = $this->getEqLogic();
		$gatewayId = (string) $eqLogic->getConfiguration('gateway_id');
		try {
			if ($this->getLogicalId() == 'refresh') {
				enphaseDaemon::request(array('action' => 'refresh', 'gateway' => $gatewayId));
				return;
			}
			$value = null;
			$options = is_array($_options) ? $_options : array();
			foreach (array('slider', 'select', 'message', 'color') as $key) {
				if ($this->getSubType() == $key && isset($options[$key])) {
					$value = $options[$key];
				}
			}
			enphaseDaemon::request(array(
				'action' => 'execute',
				'gateway' => $gatewayId,
				'target' => $eqLogic->getLogicalId(),
				'command' => $this->getLogicalId(),
				'value' => $value,
			));
		} catch (enphaseDaemonError $e) {
			// Said for the access this gateway uses (an installer token to paste, the installer box to tick...).
			$gateway = enphaseGateway::equipment($gatewayId);
			$access = is_object($gateway) ? enphaseGateway::access(enphaseGateway::settingsOf($gateway)) : '';
			// The core shows it in a toast (innerHTML) and it may quote the gateway: text, never markup.
			throw new Exception(htmlspecialchars($this->getHumanName() . ' : ' . enphaseDaemonError::sentence($e->getReason(), $e->getCause(), $access),
				ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'));
		}
	}
}
