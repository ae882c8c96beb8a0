<?php
/*
 * A small stand-in for the parts of Jeedom core (4.4/4.5) that the enphase plugin calls, so that the
 * plugin's own logic can be tested without a database. Same names and signatures as the core; only the
 * behaviour the plugin relies on is reproduced (unique names, JSON attributes, encrypted configuration keys,
 * checkAndUpdateCmd's "event only on change", history of historized commands).
 *
 * State lives in JeedomDouble::$db. When JEEDOM_DOUBLE_STATE names a file (pages served by `php -S`), the
 * state is read from it when this file is included and written back at the end of the request, so a test
 * can prepare equipment, call a page over HTTP and look at what changed.
 */

final class JeedomDouble {
	/** @var array<string, array> tables: eqLogic, cmd, config (plugin::key => value), message, history, cache */
	public static $db = array();
	/** @var string '' (not logged in), 'user' or 'admin' */
	public static $profile = 'admin';
	/** @var array<int, array{0:string,1:string,2:string}> log lines: [log, level, message] */
	public static $logs = array();
	public static $language = 'fr_FR';
	public static $debianMajor = 12;
	public static $started = true;
	public static $root = '';
	/** @var array<string, int> what the plugin cost the database: 'queries' (equipment and command lookups), and the equipment and commands they loaded */
	public static $counted = array('queries' => 0, 'eqLogic' => 0, 'cmd' => 0);
	/** Jeedom's internal address (network::getNetworkAccess): a test serving pages with `php -S` sets its own. */
	public static $internalAddress = 'http://127.0.0.1:80';

	public static function reset() {
		self::$db = array('eqLogic' => array(), 'cmd' => array(), 'config' => array(), 'message' => array(),
			'history' => array(), 'cache' => array(), 'object' => array(), 'nextId' => 1);
		self::$profile = 'admin';
		self::$logs = array();
		self::$language = 'fr_FR';
		self::$started = true;
		self::$counted = array('queries' => 0, 'eqLogic' => 0, 'cmd' => 0);
		self::$internalAddress = 'http://127.0.0.1:80';
	}

	public static function nextId() {
		return self::$db['nextId']++;
	}

	public static function load($_file) {
		self::reset();
		if (is_file($_file)) {
			$state = json_decode(file_get_contents($_file), true);
			self::$db = $state['db'];
			self::$profile = $state['profile'];
			self::$logs = $state['logs'];
			self::$language = $state['language'];
		}
	}

	public static function store($_file) {
		$state = array('db' => self::$db, 'profile' => self::$profile, 'logs' => self::$logs, 'language' => self::$language);
		file_put_contents($_file, json_encode($state));
	}

	public static function logsOf($_log) {
		return array_values(array_filter(self::$logs, function ($line) use ($_log) {
			return $line[0] == $_log;
		}));
	}
}

class DoubleEntity {
	protected $id = '';

	public function getId() {
		return $this->id;
	}

	public function setId($_id) {
		$this->id = $_id;
		return $this;
	}

	protected static function getJson($_attr, $_key, $_default) {
		if (!is_array($_attr)) {
			$_attr = array();
		}
		if ($_key === '') {
			return $_attr;
		}
		return (isset($_attr[$_key]) && $_attr[$_key] !== '') ? $_attr[$_key] : $_default;
	}

	protected static function setJson($_attr, $_key, $_value) {
		if (!is_array($_attr)) {
			$_attr = array();
		}
		if (is_array($_key)) {
			foreach ($_key as $key => $value) {
				$_attr[$key] = $value;
			}
			return $_attr;
		}
		if ($_value === null) {
			unset($_attr[$_key]);
		} else {
			$_attr[$_key] = $_value;
		}
		return $_attr;
	}

	protected function row() {
		$row = array();
		foreach (static::$fields as $field) {
			$row[$field] = $this->$field;
		}
		return $row;
	}

	protected static function hydrate(array $_row, $_class) {
		$object = new $_class();
		foreach (static::$fields as $field) {
			if (array_key_exists($field, $_row)) {
				$object->$field = $_row[$field];
			}
		}
		return $object;
	}

	public function getCache($_key = '', $_default = '') {
		$cache = isset(JeedomDouble::$db['cache'][static::class . $this->id]) ? JeedomDouble::$db['cache'][static::class . $this->id] : array();
		if (is_array($_key)) {
			$return = array();
			foreach ($_key as $key) {
				$return[$key] = isset($cache[$key]) ? $cache[$key] : $_default;
			}
			return $return;
		}
		return self::getJson($cache, $_key, $_default);
	}

	public function setCache($_key, $_value = null) {
		$cache = isset(JeedomDouble::$db['cache'][static::class . $this->id]) ? JeedomDouble::$db['cache'][static::class . $this->id] : array();
		JeedomDouble::$db['cache'][static::class . $this->id] = self::setJson($cache, $_key, $_value);
		return $this;
	}
}

class eqLogic extends DoubleEntity {
	protected static $fields = array('id', 'name', 'logicalId', 'eqType_name', 'object_id', 'isEnable', 'isVisible',
		'configuration', 'category', 'display', 'status', 'comment', 'order', 'timeout', 'generic_type', 'tags');
	protected $name = '';
	protected $logicalId = '';
	protected $eqType_name = '';
	protected $object_id = null;
	protected $isEnable = 0;
	protected $isVisible = 0;
	protected $configuration = array();
	protected $category = array();
	protected $display = array();
	protected $status = array();
	protected $comment = '';
	protected $order = 9999;
	protected $timeout = null;
	protected $generic_type = null;
	protected $tags = null;

	private static function fromRow($_row) {
		JeedomDouble::$counted['eqLogic']++;
		$class = class_exists($_row['eqType_name']) ? $_row['eqType_name'] : 'eqLogic';
		$eqLogic = self::hydrate($_row, $class);
		// As the core's cast(): a plugin's decrypt() turns what the database holds back into clear values.
		if (method_exists($eqLogic, 'decrypt')) {
			$eqLogic->decrypt();
		}
		return $eqLogic;
	}

	public static function byId($_id) {
		JeedomDouble::$counted['queries']++;
		return isset(JeedomDouble::$db['eqLogic'][$_id]) ? self::fromRow(JeedomDouble::$db['eqLogic'][$_id]) : false;
	}

	public static function byLogicalId($_logicalId, $_eqType_name, $_multiple = false) {
		JeedomDouble::$counted['queries']++;
		$found = array();
		foreach (JeedomDouble::$db['eqLogic'] as $row) {
			if ($row['logicalId'] == $_logicalId && $row['eqType_name'] == $_eqType_name) {
				$found[] = self::fromRow($row);
			}
		}
		if ($_multiple) {
			return $found;
		}
		return count($found) > 0 ? $found[0] : false;
	}

	/** As the core: an array matches configurations that contain it (JSON_CONTAINS), a string is a LIKE on its JSON. */
	public static function byTypeAndSearchConfiguration($_eqType_name, $_configuration, $_onlyEnable = false, $_onlyVisible = false) {
		JeedomDouble::$counted['queries']++;
		$found = array();
		foreach (JeedomDouble::$db['eqLogic'] as $row) {
			if ($row['eqType_name'] != $_eqType_name || ($_onlyEnable && $row['isEnable'] != 1) || ($_onlyVisible && $row['isVisible'] != 1)) {
				continue;
			}
			$stored = $row['configuration'];
			if (!is_array($_configuration)) {
				$matches = strpos(json_encode($stored), $_configuration) !== false;
			} else {
				$matches = true;
				foreach ($_configuration as $key => $value) {
					$matches = $matches && isset($stored[$key]) && json_encode($stored[$key]) === json_encode($value);
				}
			}
			if ($matches) {
				$found[] = self::fromRow($row);
			}
		}
		usort($found, function ($a, $b) {
			return strcmp($a->getName(), $b->getName());
		});
		return $found;
	}

	public static function byType($_eqType_name, $_onlyEnable = false) {
		JeedomDouble::$counted['queries']++;
		$found = array();
		foreach (JeedomDouble::$db['eqLogic'] as $row) {
			if ($row['eqType_name'] == $_eqType_name && (!$_onlyEnable || $row['isEnable'] == 1)) {
				$found[] = self::fromRow($row);
			}
		}
		usort($found, function ($a, $b) {
			return strcmp($a->getName(), $b->getName());
		});
		return $found;
	}

	public function save($_direct = false) {
		if ($this->getName() == '') {
			throw new Exception('Le nom de l\'équipement ne peut pas être vide');
		}
		foreach (JeedomDouble::$db['eqLogic'] as $row) {
			// The core's unique index (name, object_id): NULL object ids never collide in MariaDB.
			if ($row['id'] != $this->id && $this->object_id !== null && $row['object_id'] == $this->object_id && $row['name'] == $this->name) {
				throw new Exception('Duplicate entry for key unique (eqLogic name, object_id): ' . $this->name);
			}
		}
		$new = ($this->id == '');
		// As the core's DB::save(): hooks unless direct, the row written encrypted, the object left in clear.
		if (!$_direct && method_exists($this, 'preSave')) {
			$this->preSave();
		}
		if ($new) {
			$this->configuration = self::setJson($this->configuration, 'createtime', date('Y-m-d H:i:s'));
			$this->id = JeedomDouble::nextId();
		}
		if (method_exists($this, 'encrypt')) {
			$this->encrypt();
		}
		JeedomDouble::$db['eqLogic'][$this->id] = $this->row();
		if (method_exists($this, 'decrypt')) {
			$this->decrypt();
		}
		if (!$_direct && $new && method_exists($this, 'postInsert')) {
			$this->postInsert();
		}
		if (!$_direct && method_exists($this, 'postSave')) {
			$this->postSave();
		}
		return true;
	}

	public function remove() {
		if (method_exists($this, 'preRemove')) {
			$this->preRemove();
		}
		foreach ($this->getCmd() as $cmd) {
			$cmd->remove();
		}
		unset(JeedomDouble::$db['eqLogic'][$this->id]);
		if (method_exists($this, 'postRemove')) {
			$this->postRemove();
		}
		return true;
	}

	/** Test helper: the configuration as the database holds it (secrets encrypted). */
	public function rawConfiguration() {
		return JeedomDouble::$db['eqLogic'][$this->id]['configuration'];
	}

	/** What utils::o2a() gives the pages: every field, status included. */
	public function toArray() {
		$array = $this->row();
		$array['status'] = $this->getStatus();
		return $array;
	}

	/** The core's replacements common to every widget (what a plugin's own template relies on). */
	public function preToHtml($_version = 'dashboard', $_default = array(), $_noCache = false) {
		if (!$this->getIsEnable()) {
			return '';
		}
		$refresh = $this->getCmd('action', 'refresh');
		return array('#id#' => $this->id, '#name#' => $this->name, '#name_display#' => $this->name, '#eqLink#' => '',
			'#category#' => 'energy', '#translate_category#' => '', '#style#' => '', '#logicalId#' => $this->logicalId,
			'#object_name#' => '', '#height#' => $this->getDisplay('height', 'auto'), '#width#' => $this->getDisplay('width', '230px'),
			'#uid#' => 'eqLogic' . $this->id . '__' . mt_rand() . '__', '#refresh_id#' => is_object($refresh) ? $refresh->getId() : '',
			'#version#' => $_version, '#eqType#' => $this->eqType_name, '#tags#' => '', '#class#' => '', '#divGraphInfo#' => '',
			// The core's alert of a stale equipment (status "timeout" set by eqLogic::checkAlive()).
			'#alert_name#' => $this->getStatus('timeout', 0) == 1 ? 'Timeout' : '', '#alert_icon#' => $this->getStatus('timeout', 0) == 1 ? 'far fa-clock' : '',
			'#background-color#' => $this->getStatus('timeout', 0) == 1 ? 'var(--al-danger-color)' : '');
	}

	/** The core's own widget: a marker the tests recognise, and one line per visible command. */
	public function toHtml($_version = 'dashboard') {
		$html = '<div class="eqLogic eqLogic-widget core-widget" data-eqLogic_id="' . $this->id . '">';
		foreach ($this->getCmd() as $cmd) {
			$html .= '<div class="cmd" data-cmd_id="' . $cmd->getId() . '"></div>';
		}
		return $html . '</div>';
	}

	public function postToHtml($_version, $_html) {
		return $_html;
	}

	public function getCmd($_type = null, $_logicalId = null, $_visible = null, $_multiple = false) {
		if ($_logicalId !== null) {
			$found = cmd::byEqLogicIdAndLogicalId($this->id, $_logicalId, $_multiple, $_type, $this);
			return $found;
		}
		return cmd::byEqLogicId($this->id, $_type, $_visible, $this);
	}

	public function checkAndUpdateCmd($_logicalId, $_value, $_updateTime = null) {
		if ($this->getIsEnable() == 0) {
			return false;
		}
		$cmd = is_object($_logicalId) ? $_logicalId : $this->getCmd('info', $_logicalId);
		if (!is_object($cmd)) {
			return false;
		}
		$oldValue = $cmd->execCmd();
		if ($oldValue !== $cmd->formatValue($_value) || $oldValue === '') {
			$cmd->event($_value, $_updateTime);
			return true;
		}
		$cmd->setCache('collectDate', date('Y-m-d H:i:s'));
		return false;
	}

	public function getHumanName($_tag = false, $_prettify = false) {
		return '[' . $this->name . ']';
	}

	public function getImage() {
		return 'plugins/' . $this->eqType_name . '/plugin_info/' . $this->eqType_name . '_icon.png';
	}

	public function getName() {
		return $this->name;
	}

	public function setName($_name) {
		$this->name = trim(substr(str_replace(array('&', '#', ']', '[', '%', "'", '\\', '/'), '', $_name), 0, 127));
		return $this;
	}

	public function getLogicalId() {
		return $this->logicalId;
	}

	public function setLogicalId($_logicalId) {
		$this->logicalId = $_logicalId;
		return $this;
	}

	public function getEqType_name() {
		return $this->eqType_name;
	}

	public function setEqType_name($_eqType_name) {
		$this->eqType_name = $_eqType_name;
		return $this;
	}

	public function getObject_id() {
		return $this->object_id;
	}

	public function setObject_id($_object_id = null) {
		$this->object_id = (!is_numeric($_object_id)) ? null : $_object_id;
		return $this;
	}

	public function getTimeout($_default = null) {
		return ($this->timeout === null || $this->timeout === '') ? $_default : $this->timeout;
	}

	public function setTimeout($_timeout) {
		$this->timeout = $_timeout;
		return $this;
	}

	public function getIsEnable($_default = 0) {
		return ($this->isEnable === '' || $this->isEnable === null) ? $_default : $this->isEnable;
	}

	public function setIsEnable($_isEnable) {
		$this->isEnable = $_isEnable;
		return $this;
	}

	public function getIsVisible($_default = 0) {
		return ($this->isVisible === '' || $this->isVisible === null) ? $_default : $this->isVisible;
	}

	public function setIsVisible($_isVisible) {
		$this->isVisible = $_isVisible;
		return $this;
	}

	public function getConfiguration($_key = '', $_default = '') {
		return self::getJson($this->configuration, $_key, $_default);
	}

	public function setConfiguration($_key, $_value) {
		$this->configuration = self::setJson($this->configuration, $_key, $_value);
		return $this;
	}

	public function getCategory($_key = '', $_default = '') {
		return self::getJson($this->category, $_key, $_default);
	}

	public function setCategory($_key, $_value) {
		$this->category = self::setJson($this->category, $_key, $_value);
		return $this;
	}

	public function getDisplay($_key = '', $_default = '') {
		return self::getJson($this->display, $_key, $_default);
	}

	public function setDisplay($_key, $_value) {
		$this->display = self::setJson($this->display, $_key, $_value);
		return $this;
	}

	public function getStatus($_key = '', $_default = '') {
		return self::getJson($this->status, $_key, $_default);
	}

	public function setStatus($_key, $_value = null) {
		$this->status = self::setJson($this->status, $_key, $_value);
		if ($this->id != '' && isset(JeedomDouble::$db['eqLogic'][$this->id])) {
			// The core keeps the status in the cache, outside save().
			JeedomDouble::$db['eqLogic'][$this->id]['status'] = $this->status;
		}
		return $this;
	}

	public function getComment() {
		return $this->comment;
	}

	public function setComment($_comment) {
		$this->comment = $_comment;
		return $this;
	}

	public function refreshWidget() {
	}
}

/** Jeedom's objects (rooms): the parent of equipment on the Dashboard. */
class jeeObject extends DoubleEntity {
	protected static $fields = array('id', 'name', 'father_id', 'isVisible', 'configuration');
	protected $name = '';
	protected $father_id = null;
	protected $isVisible = 1;
	protected $configuration = array();

	/** Test helper: a new object (room) of that name; its id. */
	public static function add($_name) {
		$object = new self();
		$object->name = $_name;
		$object->id = JeedomDouble::nextId();
		JeedomDouble::$db['object'][$object->id] = $object->row();
		return $object->id;
	}

	public static function byId($_id) {
		return isset(JeedomDouble::$db['object'][$_id]) ? self::hydrate(JeedomDouble::$db['object'][$_id], self::class) : false;
	}

	public static function buildTree($_object = null, $_visible = true) {
		return array_values(array_map(function ($row) {
			return self::hydrate($row, self::class);
		}, JeedomDouble::$db['object']));
	}

	public function remove() {
		unset(JeedomDouble::$db['object'][$this->id]);
		foreach (JeedomDouble::$db['eqLogic'] as $id => $row) {
			if ($row['object_id'] == $this->id) {
				JeedomDouble::$db['eqLogic'][$id]['object_id'] = null;  // the core's foreign key: ON DELETE SET NULL
			}
		}
	}

	public function getName() {
		return $this->name;
	}

	public function getConfiguration($_key = '', $_default = '') {
		return self::getJson($this->configuration, $_key, $_default);
	}
}

class cmd extends DoubleEntity {
	protected static $fields = array('id', 'eqLogic_id', 'eqType', 'logicalId', 'name', 'type', 'subType', 'unite',
		'generic_type', 'isHistorized', 'isVisible', 'order', 'configuration', 'template', 'display', 'value');
	protected $eqLogic_id = '';
	protected $eqType = '';
	protected $logicalId = '';
	protected $name = '';
	protected $type = '';
	protected $subType = '';
	protected $unite = '';
	protected $generic_type = null;
	protected $isHistorized = 0;
	protected $isVisible = 1;
	protected $order = 0;
	protected $configuration = array();
	protected $template = array();
	protected $display = array();
	protected $value = null;
	protected $_eqLogic = null;

	private static function fromRow($_row, $_eqLogic = null) {
		JeedomDouble::$counted['cmd']++;
		$class = class_exists($_row['eqType'] . 'Cmd') ? $_row['eqType'] . 'Cmd' : 'cmd';
		$cmd = self::hydrate($_row, $class);
		if ($_eqLogic !== null) {
			$cmd->setEqLogic($_eqLogic);
		}
		return $cmd;
	}

	private static function select($_filter, $_eqLogic = null) {
		JeedomDouble::$counted['queries']++;
		$found = array();
		foreach (JeedomDouble::$db['cmd'] as $row) {
			if ($_filter($row)) {
				$found[] = self::fromRow($row, $_eqLogic);
			}
		}
		usort($found, function ($a, $b) {
			return $a->getOrder() <=> $b->getOrder();
		});
		return $found;
	}

	public static function byId($_id) {
		return isset(JeedomDouble::$db['cmd'][$_id]) ? self::fromRow(JeedomDouble::$db['cmd'][$_id]) : false;
	}

	public static function byEqLogicId($_eqLogic_id, $_type = null, $_visible = null, $_eqLogic = null, $_has_generic_type = null) {
		return self::select(function ($row) use ($_eqLogic_id, $_type, $_visible) {
			// As the core: one equipment's id, or a list of them (one query for all).
			$ofIt = is_array($_eqLogic_id) ? in_array($row['eqLogic_id'], $_eqLogic_id) : $row['eqLogic_id'] == $_eqLogic_id;
			return $ofIt && ($_type === null || $row['type'] == $_type)
				&& ($_visible === null || $row['isVisible'] == $_visible);
		}, $_eqLogic);
	}

	public static function byEqLogicIdAndLogicalId($_eqLogic_id, $_logicalId, $_multiple = false, $_type = null, $_eqLogic = null) {
		$found = self::select(function ($row) use ($_eqLogic_id, $_logicalId, $_type) {
			return $row['eqLogic_id'] == $_eqLogic_id && $row['logicalId'] == $_logicalId && ($_type === null || $row['type'] == $_type);
		}, $_eqLogic);
		if ($_multiple) {
			return $found;
		}
		return count($found) > 0 ? $found[0] : null;
	}

	public static function byEqLogicIdCmdName($_eqLogic_id, $_cmd_name) {
		$found = self::select(function ($row) use ($_eqLogic_id, $_cmd_name) {
			return $row['eqLogic_id'] == $_eqLogic_id && $row['name'] == $_cmd_name;
		});
		return count($found) > 0 ? $found[0] : false;
	}

	public function save($_direct = false) {
		foreach (array('name', 'type', 'subType', 'eqLogic_id') as $required) {
			if ($this->$required == '') {
				throw new Exception('La commande doit avoir : ' . $required);
			}
		}
		foreach (JeedomDouble::$db['cmd'] as $row) {
			if ($row['id'] != $this->id && $row['eqLogic_id'] == $this->eqLogic_id && $row['name'] == $this->name) {
				throw new Exception('Duplicate entry for key unique (cmd eqLogic_id, name): ' . $this->name);
			}
		}
		if ($this->eqType == '') {
			$this->eqType = $this->getEqLogic()->getEqType_name();
		}
		if ($this->getTemplate('dashboard', '') == '') {
			$this->setTemplate('dashboard', 'core::default');
		}
		if ($this->getTemplate('mobile', '') == '') {
			$this->setTemplate('mobile', 'core::default');
		}
		if ($this->type == 'action' && $this->isHistorized == 1) {
			$this->isHistorized = 0;
		}
		if ($this->id == '') {
			$this->id = JeedomDouble::nextId();
		}
		JeedomDouble::$db['cmd'][$this->id] = $this->row();
		return true;
	}

	public function remove() {
		unset(JeedomDouble::$db['cmd'][$this->id]);
		return true;
	}

	public function formatValue($_value, $_quote = false) {
		if (is_array($_value) || is_object($_value)) {
			return '';
		}
		if ($_value === null) {
			$_value = 0;
		}
		if ($this->type != 'info') {
			return $_value;
		}
		switch ($this->subType) {
			case 'numeric':
				$number = floatval(str_replace(',', '.', trim((string) $_value)));
				$round = $this->getConfiguration('historizeRound');
				return (is_numeric($round) && $round >= 0) ? round($number, (int) $round) : $number;
			case 'binary':
				$text = strtolower(trim((string) $_value));
				return ($_value === true || (is_numeric($text) && intval($text) >= 1) || in_array($text, array('on', 'true'))) ? 1 : 0;
			default:
				return trim((string) $_value);
		}
	}

	public function execCmd($_options = null, $_sendNodeJsEvent = false, $_quote = false) {
		if ($this->type == 'info') {
			return $this->getCache('value', null);
		}
		$eqLogic = $this->getEqLogic();
		if (!is_object($eqLogic) || $eqLogic->getIsEnable() != 1) {
			throw new Exception('Equipement désactivé - impossible d\'exécuter la commande : ' . $this->getHumanName());
		}
		return $this->execute($_options === null ? array() : $_options);
	}

	public function execute($_options = array()) {
		return false;
	}

	public function event($_value, $_datetime = null, $_loop = 1) {
		if ($this->type != 'info') {
			return;
		}
		$eqLogic = $this->getEqLogic();
		if (!is_object($eqLogic) || $eqLogic->getIsEnable() == 0) {
			return;
		}
		$value = $this->formatValue($_value);
		$date = ($_datetime !== null && $_datetime !== false) ? $_datetime : date('Y-m-d H:i:s');
		$this->setCache(array('value' => $value, 'collectDate' => $date, 'valueDate' => $date));
		if ($this->isHistorized == 1) {
			JeedomDouble::$db['history'][] = array('cmd_id' => $this->id, 'value' => $value, 'datetime' => $date);
		}
	}

	public function getHumanName($_tag = false, $_prettify = false) {
		$eqLogic = $this->getEqLogic();
		return (is_object($eqLogic) ? $eqLogic->getHumanName() : '') . '[' . $this->name . ']';
	}

	public function getEqLogic() {
		if ($this->_eqLogic === null) {
			$this->_eqLogic = eqLogic::byId($this->eqLogic_id);
		}
		return $this->_eqLogic;
	}

	public function setEqLogic($_eqLogic) {
		$this->_eqLogic = $_eqLogic;
		return $this;
	}

	public function getEqLogic_id() {
		return $this->eqLogic_id;
	}

	public function setEqLogic_id($_eqLogic_id) {
		$this->eqLogic_id = $_eqLogic_id;
		return $this;
	}

	public function getEqType() {
		return $this->eqType;
	}

	public function setEqType($_eqType) {
		$this->eqType = $_eqType;
		return $this;
	}

	public function getLogicalId() {
		return $this->logicalId;
	}

	public function setLogicalId($_logicalId) {
		$this->logicalId = $_logicalId;
		return $this;
	}

	public function getName() {
		return $this->name;
	}

	public function setName($_name) {
		$this->name = trim(substr(str_replace(array('&', '#', ']', '[', '%', "'", '\\', '/'), '', $_name), 0, 127));
		return $this;
	}

	public function getType() {
		return $this->type;
	}

	public function setType($_type) {
		$this->type = $_type;
		return $this;
	}

	public function getSubType() {
		return $this->subType;
	}

	public function setSubType($_subType) {
		$this->subType = $_subType;
		return $this;
	}

	public function getUnite() {
		return $this->unite;
	}

	public function setUnite($_unite) {
		$this->unite = $_unite;
		return $this;
	}

	public function getGeneric_type() {
		return $this->generic_type;
	}

	public function setGeneric_type($_generic_type) {
		$this->generic_type = $_generic_type;
		return $this;
	}

	public function getIsHistorized() {
		return $this->isHistorized;
	}

	public function setIsHistorized($_isHistorized) {
		$this->isHistorized = $_isHistorized;
		return $this;
	}

	public function getIsVisible() {
		return $this->isVisible;
	}

	public function setIsVisible($_isVisible) {
		$this->isVisible = $_isVisible;
		return $this;
	}

	public function getOrder() {
		return $this->order;
	}

	public function setOrder($_order) {
		$this->order = $_order;
		return $this;
	}

	public function getValue() {
		return $this->value;
	}

	public function setValue($_value) {
		$this->value = $_value;
		return $this;
	}

	public function getConfiguration($_key = '', $_default = '') {
		return self::getJson($this->configuration, $_key, $_default);
	}

	public function setConfiguration($_key, $_value) {
		$this->configuration = self::setJson($this->configuration, $_key, $_value);
		return $this;
	}

	public function getTemplate($_key = '', $_default = '') {
		return self::getJson($this->template, $_key, $_default);
	}

	public function setTemplate($_key, $_value) {
		if (($_key == 'dashboard' || $_key == 'mobile') && strpos($_value, '::') === false) {
			$_value = 'core::' . $_value;
		}
		$this->template = self::setJson($this->template, $_key, $_value);
		return $this;
	}

	public function getDisplay($_key = '', $_default = '') {
		return self::getJson($this->display, $_key, $_default);
	}

	public function setDisplay($_key, $_value) {
		$this->display = self::setJson($this->display, $_key, $_value);
		return $this;
	}

	/** Test helper: the history of this command, oldest first. */
	public function historyValues() {
		$id = $this->id;
		return array_values(array_map(function ($row) {
			return $row['value'];
		}, array_filter(JeedomDouble::$db['history'], function ($row) use ($id) {
			return $row['cmd_id'] == $id;
		})));
	}
}

class utils {
	// Reversible and visibly different from the clear text: enough to check that secrets are stored encrypted.
	public static function encrypt($plaintext, $password = null) {
		if ($plaintext === '' || $plaintext === null) {
			return $plaintext;
		}
		return 'crypt:' . base64_encode(strrev((string) $plaintext));
	}

	public static function decrypt($ciphertext, $password = null) {
		if (!is_string($ciphertext) || strpos($ciphertext, 'crypt:') !== 0) {
			return $ciphertext;
		}
		return strrev(base64_decode(substr($ciphertext, 6)));
	}
}

class config {
	public static function save($_key, $_value, $_plugin = 'core') {
		$class = ($_plugin == 'core') ? 'config' : $_plugin;
		if (is_object($_value) || is_array($_value)) {
			$_value = json_encode($_value, JSON_UNESCAPED_UNICODE);
		}
		$function = 'preConfig_' . str_replace(array('::', ':', '-'), '_', $_key);
		if (method_exists($class, $function)) {
			$_value = $class::$function($_value);
		}
		if ($_plugin != 'core' && class_exists($class) && property_exists($class, '_encryptConfigKey') && in_array($_key, $class::$_encryptConfigKey)) {
			$_value = utils::encrypt($_value);
		}
		JeedomDouble::$db['config'][$_plugin . '::' . $_key] = $_value;
		$function = 'postConfig_' . str_replace(array('::', ':'), '_', $_key);
		if (method_exists($class, $function)) {
			$class::$function($_value);
		}
		return true;
	}

	public static function remove($_key, $_plugin = 'core') {
		unset(JeedomDouble::$db['config'][$_plugin . '::' . $_key]);
		return true;
	}

	public static function byKey($_key, $_plugin = 'core', $_default = '', $_forceFresh = false) {
		if ($_plugin == 'core' && $_key == 'language') {
			return JeedomDouble::$language;
		}
		$stored = isset(JeedomDouble::$db['config'][$_plugin . '::' . $_key]) ? JeedomDouble::$db['config'][$_plugin . '::' . $_key] : null;
		if ($stored === null || $stored === '') {
			return $_default;
		}
		if ($_plugin != 'core' && class_exists($_plugin) && property_exists($_plugin, '_encryptConfigKey') && in_array($_key, $_plugin::$_encryptConfigKey)) {
			$stored = utils::decrypt($stored);
		}
		$decoded = is_string($stored) ? json_decode($stored, true) : null;
		return is_array($decoded) ? $decoded : $stored;
	}

	/** Test helper: the value as stored in the database (encrypted when it is a secret). */
	public static function rawValue($_key, $_plugin) {
		return isset(JeedomDouble::$db['config'][$_plugin . '::' . $_key]) ? JeedomDouble::$db['config'][$_plugin . '::' . $_key] : null;
	}

	public static function genKey($_car = 32) {
		return bin2hex(random_bytes($_car / 2));
	}
}

class translate {
	public static function exec($_content, $_name = '', $_backslash = false) {
		return preg_replace('/\{\{(.*?)\}\}/s', '$1', $_content);
	}
}

function getTemplate($_folder, $_version, $_filename, $_plugin = '') {
	$path = ($_plugin == '') ? JeedomDouble::$root . '/' . $_folder . '/template/' . $_version . '/' . $_filename . '.html'
		: JeedomDouble::$root . '/plugins/' . $_plugin . '/core/template/' . $_version . '/' . $_filename . '.html';
	return file_exists($path) ? file_get_contents($path) : '';
}

/** As the core: the standard widget when the user turned the plugin's widget off ("Template de widget"). */
function template_replace($_array, $_subject) {
	if (isset($_array['#uid#']) && strpos($_array['#uid#'], 'eqLogic') !== false && isset($_array['#id#'])) {
		$eqLogic = eqLogic::byId($_array['#id#']);
		if (is_object($eqLogic) && ($eqLogic->getDisplay('widgetTmpl', 1) == 0 || $_subject == '')) {
			return (new ReflectionClass($eqLogic))->getParentClass()->getMethod('toHtml')->invokeArgs($eqLogic, array($_array['#version#']));
		}
	}
	return str_replace(array_keys($_array), array_values($_array), $_subject);
}

class jeedom {
	/** The core's own settings a page reads (the equipment categories of the plugin page). */
	public static function getConfiguration($_key = '', $_default = false) {
		$configuration = array('eqLogic:category' => array('energy' => array('name' => 'Energie'), 'light' => array('name' => 'Lumière')));
		return isset($configuration[$_key]) ? $configuration[$_key] : $_default;
	}

	/** As the core (measured on 4.5.3): every "#id#" of the keys, in what refers to commands, becomes its value. Here, in
	 * the configurations of commands and equipment (a virtual's formula, a scenario's trigger kept there by tests). */
	public static function replaceTag(array $_replaces) {
		foreach (array('cmd', 'eqLogic') as $table) {
			foreach (JeedomDouble::$db[$table] as $id => $row) {
				$row['configuration'] = json_decode(str_replace(array_keys($_replaces), array_values($_replaces), json_encode($row['configuration'])), true);
				JeedomDouble::$db[$table][$id] = $row;
			}
		}
	}

	public static function versionAlias($_version, $_lightMode = true) {
		if ($_version == 'mview') {
			return 'mobile';
		}
		return in_array($_version, array('dview', 'dplan', 'plan', 'view')) ? 'dashboard' : $_version;
	}

	public static function getApiKey($_plugin = 'core', $_mode = 'enable') {
		if (config::byKey('api', $_plugin) == '') {
			config::save('api', config::genKey(), $_plugin);
		}
		return config::byKey('api', $_plugin);
	}

	public static function apiAccess($_apikey = '', $_plugin = 'core') {
		if (trim($_apikey) == '' || strlen($_apikey) < 16) {
			return false;
		}
		$apikey = self::getApiKey($_plugin);
		return trim($apikey) != '' && $apikey === $_apikey;
	}

	public static function getTmpFolder($_plugin = '') {
		$folder = JeedomDouble::$root . '/tmp' . ($_plugin !== '' ? '/' . $_plugin : '');
		if (!file_exists($folder)) {
			mkdir($folder, 0774, true);
		}
		return $folder;
	}

	public static function isStarted() {
		return JeedomDouble::$started;
	}

	public static function version() {
		return '4.5.3';
	}
}

class log {
	private static $levels = array('debug' => 100, 'info' => 200, 'notice' => 250, 'warning' => 300, 'error' => 400, 'critical' => 500, 'alert' => 550, 'emergency' => 600, 'none' => 1000);

	public static function add($_log, $_type, $_message, $_logicalId = '') {
		if (trim($_message) == '') {
			return;
		}
		JeedomDouble::$logs[] = array($_log, strtolower($_type), $_message);
	}

	/** As the core: the log's own level ("log::level::<log>", the checked one of {"100": "1", ...}), else the global one. */
	public static function getLogLevel($_log) {
		$specific = config::byKey('log::level::' . $_log);
		if (is_array($specific) && empty($specific['default'])) {
			foreach ($specific as $level => $checked) {
				if (is_numeric($level) && $checked == 1) {
					return $level;
				}
			}
		}
		return config::byKey('log::level', 'core', 200);
	}

	public static function convertLogLevel($_level = 100) {
		if ($_level >= 600) {
			return 'none';
		}
		$name = array_search((int) $_level, self::$levels, true);
		return $name === false ? 'none' : $name;
	}

	public static function getPathToLog($_log = 'core') {
		return JeedomDouble::$root . '/log/' . $_log;
	}

	public static function exception($e) {
		return $e->getMessage();
	}
}

class message {
	public static function add($_type, $_message, $_action = '', $_logicalId = '', $_writeMessage = true, $_channel = null) {
		if (is_array($_message)) {
			$_message = json_encode($_message);
		}
		if ($_message == '') {
			return;
		}
		foreach (JeedomDouble::$db['message'] as $i => $row) {
			// Like the core: a message already there (same logicalId, or same text) only counts one more occurrence.
			if ($row['plugin'] == $_type && (($_logicalId != '' && $row['logicalId'] == $_logicalId) || ($_logicalId == '' && $row['message'] == $_message))) {
				JeedomDouble::$db['message'][$i]['occurrences']++;
				return;
			}
		}
		JeedomDouble::$db['message'][] = array('plugin' => $_type, 'message' => $_message, 'action' => $_action, 'logicalId' => $_logicalId, 'occurrences' => 1);
	}

	public static function removeAll($_plugin = '', $_logicalId = '', $_search = false) {
		JeedomDouble::$db['message'] = array_values(array_filter(JeedomDouble::$db['message'], function ($row) use ($_plugin, $_logicalId, $_search) {
			$sameId = $_search ? strpos($row['logicalId'], $_logicalId) !== false : $row['logicalId'] == $_logicalId;
			return !(($_plugin == '' || $row['plugin'] == $_plugin) && ($_logicalId == '' || $sameId));
		}));
		return true;
	}

	public static function byPluginLogicalId($_plugin, $_logicalId) {
		return array_values(array_filter(JeedomDouble::$db['message'], function ($row) use ($_plugin, $_logicalId) {
			return $row['plugin'] == $_plugin && $row['logicalId'] == $_logicalId;
		}));
	}

	/** Test helper. */
	public static function all() {
		return JeedomDouble::$db['message'];
	}
}

class system {
	public static function getCmdPython3($_plugin) {
		if (JeedomDouble::$debianMajor < 12) {
			return 'python3 ';
		}
		return JeedomDouble::$root . "/plugins/{$_plugin}/resources/python_venv/bin/python3 ";
	}

	public static function getCmdSudo() {
		return '';
	}

	/** As the core: the CLI php with these arguments (a page's background work). */
	public static function php($arguments, $_sudo = false) {
		return exec('php ' . $arguments);
	}

	public static function kill($_find = '', $_kill9 = true) {
		if (is_numeric($_find)) {
			@posix_kill((int) $_find, 15);
		}
		return true;
	}
}

class network {
	public static function getNetworkAccess($_mode = 'auto', $_protocol = '', $_default = '', $_test = false) {
		return JeedomDouble::$internalAddress;
	}
}

class ajax {
	public static function init($_allowGetAction = array()) {
		if (!headers_sent()) {
			header('Content-Type: application/json');
		}
		if (isset($_GET['action']) && !in_array($_GET['action'], $_allowGetAction)) {
			throw new Exception('Méthode non autorisée en GET : ' . $_GET['action']);
		}
	}

	public static function success($_data = '') {
		echo json_encode(array('state' => 'ok', 'result' => $_data));
		die();
	}

	public static function error($_data = '', $_errorCode = 0) {
		echo json_encode(array('state' => 'error', 'result' => $_data, 'code' => $_errorCode));
		die();
	}
}

class plugin {
	private $id;

	public static function byId($_id) {
		$plugin = new plugin();
		$plugin->id = $_id;
		return $plugin;
	}

	public function getId() {
		return $this->id;
	}
}

function __($_content, $_name = '', $_backslash = false) {
	return $_content;
}

function init($_name, $_default = '') {
	if (isset($_GET[$_name])) {
		return $_GET[$_name];
	}
	if (isset($_POST[$_name])) {
		return $_POST[$_name];
	}
	if (isset($_REQUEST[$_name])) {
		return $_REQUEST[$_name];
	}
	return $_default;
}

function isConnect($_right = '') {
	if (JeedomDouble::$profile == '') {
		return false;
	}
	return $_right == '' || JeedomDouble::$profile == $_right;
}

function include_file($_folder, $_fn, $_type, $_plugin = '') {
}

/** A page's variables for its JavaScript, as a script element (the core's does the same). */
function sendVarToJS($_varName, $_value = '') {
	$variables = is_array($_varName) ? $_varName : array($_varName => $_value);
	echo '<script>';
	foreach ($variables as $name => $value) {
		echo 'var ' . $name . ' = ' . json_encode($value, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT) . ";\n";
	}
	echo '</script>';
}

function displayException($e) {
	return $e->getMessage();
}

function is_json($_string, $_default = null) {
	$decoded = is_string($_string) ? json_decode($_string, true) : null;
	if ($_default !== null) {
		return is_array($decoded) ? $decoded : $_default;
	}
	return is_array($decoded);
}

// Like the core's autoloader: "enphase" and "enphaseCmd" come from plugins/enphase/core/class/enphase.class.php.
spl_autoload_register(function ($_classname) {
	$plugin = str_replace(array('Real', 'Cmd'), '', $_classname);
	$file = JeedomDouble::$root . '/plugins/' . $plugin . '/core/class/' . $plugin . '.class.php';
	if (preg_match('/^[A-Za-z0-9_]+$/', $plugin) && file_exists($file)) {
		require_once $file;
	}
});

JeedomDouble::reset();
JeedomDouble::$root = dirname(__DIR__, 2);
if (getenv('JEEDOM_DOUBLE_STATE')) {
	JeedomDouble::load(getenv('JEEDOM_DOUBLE_STATE'));
	register_shutdown_function(function () {
		JeedomDouble::store(getenv('JEEDOM_DOUBLE_STATE'));
	});
}
