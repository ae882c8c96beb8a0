<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * An equipment's commands as the daemon describes them: created when missing, completed where still empty (the
 * user's choices stay), taken over from an earlier version's; detail commands removed when no longer wanted.
 */
class enphaseCommands {
	/** Decimals of numeric values (core "historizeRound": rounding of the value and of its scaled display). */
	const DISPLAY_DECIMALS = 2;

	/**
	 * Creates the described commands an equipment lacks; on existing ones, fills only what is still empty.
	 * Returns the number of commands created.
	 */
	public static function apply($_eqLogic, array $_commands) {
		$created = 0;
		// Its commands, loaded once (not one query per described command): by logicalId, and their names.
		$known = array('cmds' => array(), 'names' => array());
		foreach ($_eqLogic->getCmd() as $cmd) {
			$known['cmds'][$cmd->getType() . '::' . $cmd->getLogicalId()] = $cmd;
			$known['names'][$cmd->getName()] = true;
		}
		// Info commands first: an action names the info command it sets ("value").
		usort($_commands, function ($a, $b) {
			return ((isset($a['type']) && $a['type'] == 'action') ? 1 : 0) - ((isset($b['type']) && $b['type'] == 'action') ? 1 : 0);
		});
		foreach ($_commands as $description) {
			if (!is_array($description) || !isset($description['logicalId']) || !enphaseText::isIdentifier($description['logicalId'])) {
				continue;
			}
			if (self::applyCommand($_eqLogic, $description, $known)) {
				$created++;
			}
		}
		if ($_eqLogic->getConfiguration('kind') == 'gateway' && self::known($known, 'action', 'refresh') === null) {
			self::applyCommand($_eqLogic, array('logicalId' => 'refresh', 'name' => array('fr_FR' => 'Rafraîchir', 'en_US' => 'Refresh'),
				'type' => 'action', 'subType' => 'other', 'order' => 0, 'isVisible' => 1), $known);
			$created++;
		}
		return $created;
	}

	/**
	 * The user turned the detail off (for the plugin or on equipment): the detail commands of the equipment that
	 * no longer want it are removed, with their history; the daemon stops sending them (enphaseGateway::detailOf).
	 * Returns how many were removed.
	 */
	public static function dropUnwantedDetail($_eqLogics = null) {
		$removed = 0;
		foreach (($_eqLogics === null) ? eqLogic::byType('enphase') : $_eqLogics as $eqLogic) {
			if ($eqLogic->getConfiguration('kind') == 'gateway' || enphaseGateway::wantsDetail($eqLogic)) {
				continue;
			}
			foreach ($eqLogic->getCmd('info') as $cmd) {
				if ($cmd->getConfiguration('detail') == 1) {
					$cmd->remove();
					$removed++;
				}
			}
		}
		if ($removed > 0) {
			log::add('enphase', 'info', sprintf(__('%d commande(s) de détail supprimée(s) : le détail n’est plus demandé', __FILE__), $removed));
		}
		return $removed;
	}

	/** A command name free on this equipment (the core's unique index is equipment + name), among its $_known names. */
	private static function freeCommandName(array $_known, $_name, $_logicalId) {
		$candidates = array($_name, $_name . ' (' . $_logicalId . ')');
		for ($i = 2; $i < 100; $i++) {
			$candidates[] = $_name . ' ' . $i;
		}
		foreach ($candidates as $candidate) {
			if (!isset($_known['names'][$candidate])) {
				return $candidate;
			}
		}
		return $_name . ' ' . uniqid();
	}

	/** A command of the equipment among those loaded by apply ($_type null: either type), or null. */
	private static function known(array $_known, $_type, $_logicalId) {
		foreach ($_type === null ? array('info', 'action') : array($_type) as $type) {
			if (isset($_known['cmds'][$type . '::' . $_logicalId])) {
				return $_known['cmds'][$type . '::' . $_logicalId];
			}
		}
		return null;
	}

	/**
	 * A command's description with what the core shows or loads checked: a known subtype, a widget name that
	 * names no path, text without markup (units, labels, lists), numbers for bounds. What fails is left out.
	 */
	private static function checked(array $_description) {
		$subTypes = array('numeric', 'binary', 'string', 'other', 'slider', 'select', 'message', 'color');
		$checks = array(
			'subType' => function ($v) use ($subTypes) { return in_array($v, $subTypes, true) ? $v : null; },
			'template' => function ($v) { return (is_string($v) && preg_match('/^[a-z0-9_]+(::[a-z0-9_]+)?$/D', $v)) ? $v : null; },
			'genericType' => function ($v) { return (is_string($v) && preg_match('/^[A-Z0-9_]+$/D', $v)) ? $v : null; },
			'unit' => function ($v) { return enphaseText::plain($v, 16); },
			'listValue' => function ($v) { // one list, or one per language
				return is_array($v) ? array_map(function ($list) { return enphaseText::plain($list, 1000); }, $v) : enphaseText::plain($v, 1000);
			},
			'minValue' => function ($v) { return is_numeric($v) ? $v : null; },
			'maxValue' => function ($v) { return is_numeric($v) ? $v : null; },
			'value' => function ($v) { return enphaseText::isIdentifier($v) ? $v : null; },
		);
		foreach ($checks as $key => $check) {
			if (isset($_description[$key])) {
				$value = $check($_description[$key]);
				if ($value === null) {
					unset($_description[$key]);
				} else {
					$_description[$key] = $value;
				}
			}
		}
		if (isset($_description['valueLabels']) && is_array($_description['valueLabels'])) {
			$labels = array();
			foreach ($_description['valueLabels'] as $code => $names) {
				$names = is_array($names) ? array_map(function ($name) { return enphaseText::plain($name); }, $names) : enphaseText::plain($names);
				$labels[enphaseText::plain((string) $code)] = $names;
			}
			$_description['valueLabels'] = $labels;
		}
		return $_description;
	}

	/** The words of a select's "word|Label;word|Label" list. */
	private static function choiceWords($_list) {
		return array_map(function ($choice) {
			return explode('|', $choice, 2)[0];
		}, explode(';', $_list));
	}

	/** The commands of this equipment that the described command replaces (its "replaces": logicalIds of an earlier version). */
	private static function replacedCommands(array $_known, array $_description) {
		$found = array();
		$replaces = (isset($_description['replaces']) && is_array($_description['replaces'])) ? $_description['replaces'] : array();
		foreach ($replaces as $oldId) {
			if (!is_string($oldId) || $oldId === '' || $oldId === $_description['logicalId']) {
				continue;
			}
			$old = self::known($_known, 'info', $oldId);
			if (is_object($old)) {
				$found[] = $old;
			}
		}
		return $found;
	}

	/**
	 * A command of an earlier version and the one that replaces it both exist: every use of the old one (scenarios,
	 * virtuals, views, designs: the core's jeedom::replaceTag) and its generic type (Jeedom's energy panel finds the
	 * day's figures by it), unless the user gave the new one another, move to the new one; the old one, its history
	 * with it, is removed (docs/fr_FR/changelog.md says so).
	 */
	private static function replaceCommand($_old, $_new, array &$_known) {
		jeedom::replaceTag(array('#' . $_old->getId() . '#' => '#' . $_new->getId() . '#'));
		$generic = $_old->getGeneric_type();
		if ($generic != '' && in_array($_new->getGeneric_type(), array('', null, 'GENERIC_INFO'), true)) {
			$_new->setGeneric_type($generic);
			$_new->save();
		}
		log::add('enphase', 'info', sprintf(__('Commande %s supprimée : %s la remplace', __FILE__), $_old->getHumanName(), $_new->getLogicalId()));
		$_old->remove();
		unset($_known['cmds']['info::' . $_old->getLogicalId()], $_known['names'][$_old->getName()]);
	}

	private static function applyCommand($_eqLogic, array $_description, array &$_known) {
		$_description = self::checked($_description);
		$logicalId = (string) $_description['logicalId'];
		$type = (isset($_description['type']) && $_description['type'] == 'action') ? 'action' : 'info';
		$cmd = self::known($_known, null, $logicalId);
		$replaced = self::replacedCommands($_known, $_description);
		if (!is_object($cmd) && count($replaced) > 0) {
			// The command of an earlier version that this one replaces becomes it: its id, history, name and every
			// use of it stay.
			$cmd = array_shift($replaced);
			log::add('enphase', 'info', sprintf(__('Commande %s de %s : devient %s', __FILE__), $cmd->getLogicalId(), $_eqLogic->getName(), $logicalId));
			unset($_known['cmds']['info::' . $cmd->getLogicalId()]);
			$cmd->setLogicalId($logicalId);
			$cmd->save();
			$_known['cmds']['info::' . $logicalId] = $cmd;
		}
		foreach ($replaced as $old) {
			self::replaceCommand($old, $cmd, $_known);
		}
		$created = !is_object($cmd);
		if ($created) {
			$cmd = new enphaseCmd();
			$cmd->setEqLogic_id($_eqLogic->getId());
			$cmd->setEqType('enphase');
			$cmd->setLogicalId($logicalId);
			$name = enphaseText::plain(enphaseText::localized(isset($_description['name']) ? $_description['name'] : null, ''), 120);
			$cmd->setName(self::freeCommandName($_known, $name != '' ? $name : $logicalId, $logicalId));
			$cmd->setType($type);
			$cmd->setSubType(isset($_description['subType']) ? $_description['subType'] : ($type == 'action' ? 'other' : 'string'));
			$cmd->setIsVisible(isset($_description['isVisible']) ? (int) $_description['isVisible'] : 1);
			$cmd->setIsHistorized(($type == 'info' && !empty($_description['isHistorized'])) ? 1 : 0);
			if (isset($_description['order'])) {
				$cmd->setOrder((int) $_description['order']);
			}
			if (isset($_description['template']) && $_description['template'] != '') {
				$cmd->setTemplate('dashboard', $_description['template']);
				$cmd->setTemplate('mobile', $_description['template']);
			}
		}
		// On a command that already exists, only what is still empty is filled: the user's choices stay.
		$changed = $created;
		$name = enphaseText::localized(isset($_description['name']) ? $_description['name'] : null, $logicalId);
		if (!$created && $cmd->getName() !== $name && $cmd->getName() === str_replace('’', '', $name)
			&& !isset($_known['names'][$name])) {
			// Named when the catalog wrote "d'autoproduction", which Jeedom strips to "dautoproduction": not a
			// name the user chose, so it gets its apostrophe back (the typographic one, which Jeedom keeps).
			unset($_known['names'][$cmd->getName()]);
			$cmd->setName($name);
			$_known['names'][$name] = true;
			$changed = true;
		}
		$fill = array(
			'unit' => array('getUnite', 'setUnite'),
			'genericType' => array('getGeneric_type', 'setGeneric_type'),
		);
		foreach ($fill as $key => $accessors) {
			if (isset($_description[$key]) && $_description[$key] !== '' && ($cmd->{$accessors[0]}() === '' || $cmd->{$accessors[0]}() === null)) {
				$cmd->{$accessors[1]}($_description[$key]);
				$changed = true;
			}
		}
		// State codes (e.g. "discharging") shown in Jeedom's language; scenarios see the same label.
		if (isset($_description['valueLabels']) && is_array($_description['valueLabels'])) {
			$labels = array();
			foreach ($_description['valueLabels'] as $code => $names) {
				$labels[(string) $code] = enphaseText::localized($names, (string) $code);
			}
			if ($cmd->getConfiguration('valueLabels') != $labels) {
				$cmd->setConfiguration('valueLabels', $labels);
				$changed = true;
			}
		}
		// A detail command (Command.detail) goes when its equipment no longer wants the detail (dropUnwantedDetail).
		if (!empty($_description['detail']) && $cmd->getConfiguration('detail') === '') {
			$cmd->setConfiguration('detail', 1);
			$changed = true;
		}
		foreach (array('minValue', 'maxValue') as $key) {
			if (isset($_description[$key]) && $_description[$key] !== '' && $cmd->getConfiguration($key) === '') {
				$cmd->setConfiguration($key, $_description[$key]);
				$changed = true;
			}
		}
		// A select's choices ("word|Label;..."), labelled in this Jeedom's language. Labels follow the catalog
		// while the choices are the same words (the user did not change them).
		if (isset($_description['listValue'])) {
			$list = enphaseText::localized($_description['listValue'], '');
			$current = (string) $cmd->getConfiguration('listValue');
			if ($list !== '' && $list !== $current && ($current === '' || self::choiceWords($current) === self::choiceWords($list))) {
				$cmd->setConfiguration('listValue', $list);
				$changed = true;
			}
		}
		// The dashboard scales W, Wh, V... (kWh, MWh) and then shows every decimal: two read well everywhere.
		if ($cmd->getType() == 'info' && $cmd->getSubType() == 'numeric' && $cmd->getConfiguration('historizeRound') === '') {
			$cmd->setConfiguration('historizeRound', isset($_description['historizeRound']) ? (int) $_description['historizeRound'] : self::DISPLAY_DECIMALS);
			$changed = true;
		}
		if ($type == 'action' && isset($_description['value']) && $_description['value'] !== '' && $cmd->getValue() == '') {
			$info = self::known($_known, 'info', (string) $_description['value']);
			if (is_object($info)) {
				$cmd->setValue($info->getId());
				$changed = true;
			}
		}
		if ($changed) {
			$cmd->save();
		}
		$_known['cmds'][$cmd->getType() . '::' . $logicalId] = $cmd;
		$_known['names'][$cmd->getName()] = true;
		return $created;
	}
}
