<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/*
 * What the daemon's callback (core/php/jeeEnphase.php) brings: inventories (enphaseInventory), values and
 * gateway statuses (docs/protocol.md), and the Jeedom messages a status calls for.
 */
class enphaseEvents {
	/** Error codes that only the user can fix: they also become a Jeedom message. */
	const USER_ACTION_CODES = array('auth_failed', 'token_expired', 'two_factor', 'login_throttled');
	/** A pasted token is announced this many days before it expires. */
	const TOKEN_WARNING_DAYS = 14;

	/** Applies the events of one callback POST; one bad event does not stop the others. */
	public static function handle(array $_events) {
		foreach ($_events as $event) {
			$type = (is_array($event) && isset($event['type'])) ? (string) $event['type'] : '';
			try {
				switch ($type) {
					case 'inventory':
						$report = enphaseInventory::apply($event);
						if ($report['commands_created'] > 0 || count(array_filter(array_column($report['kinds'], 'created'))) > 0) {
							log::add('enphase', 'info', enphaseSync::describeReport($report));
						}
						break;
					case 'values':
						self::applyValues($event);
						break;
					case 'status':
						self::applyStatus($event);
						break;
					default:
						log::add('enphase', 'info', __('Évènement inconnu ignoré :', __FILE__) . ' ' . substr($type, 0, 40));
				}
			} catch (Throwable $e) {
				log::add('enphase', 'error', __('Évènement non appliqué', __FILE__) . ' (' . $type . ') : ' . $e->getMessage());
			}
		}
	}

	/** VALUES: {eqLogicalId: {cmdLogicalId: value}}; the core fires an event only when a value changes. */
	public static function applyValues(array $_event) {
		$updated = 0;
		$values = (isset($_event['values']) && is_array($_event['values'])) ? $_event['values'] : array();
		foreach ($values as $eqLogicalId => $commands) {
			$eqLogic = eqLogic::byLogicalId((string) $eqLogicalId, 'enphase');
			if (!is_object($eqLogic)) {
				log::add('enphase', 'debug', __('Valeurs d\'un équipement inconnu ignorées (synchronisez) :', __FILE__) . ' ' . $eqLogicalId);
				continue;
			}
			if (!is_array($commands)) {
				continue;
			}
			// Its info commands in one query, not one per value (600 microinverters in a cycle).
			$cmds = array();
			foreach ($eqLogic->getCmd('info') as $cmd) {
				$cmds[$cmd->getLogicalId()] = $cmd;
			}
			foreach ($commands as $cmdLogicalId => $value) {
				// The core turns null into 0: an unknown value must leave the last one in place.
				if ($value === null || is_array($value)) {
					continue;
				}
				if (is_bool($value)) {
					$value = $value ? 1 : 0;
				}
				if (is_string($value)) {
					// The core's widgets write it with innerHTML, some inside a quoted JavaScript string.
					$value = enphaseText::plain($value);
				}
				if (!isset($cmds[(string) $cmdLogicalId])) {
					continue;
				}
				$cmd = $cmds[(string) $cmdLogicalId];
				$labels = $cmd->getConfiguration('valueLabels');
				if (is_array($labels) && is_string($value) && isset($labels[$value])) {
					$value = $labels[$value];
				}
				if ($eqLogic->checkAndUpdateCmd($cmd, $value)) {
					$updated++;
				}
			}
		}
		return $updated;
	}

	/** STATUS: shown on the gateway equipment, and a Jeedom message when the user must act. */
	public static function applyStatus(array $_event) {
		$gatewayId = isset($_event['gateway']) ? (string) $_event['gateway'] : '';
		$status = array('updated' => time());
		foreach (array('serial', 'reachable', 'firmware', 'auth', 'token_expires', 'last_success', 'error', 'requests_per_hour', 'errors_24h') as $key) {
			$status[$key] = isset($_event[$key]) ? $_event[$key] : null;
		}
		foreach (array('serial', 'firmware', 'auth') as $key) {
			$status[$key] = is_scalar($status[$key]) ? enphaseText::plain($status[$key], 64) : null;
		}
		if (is_array($status['error'])) {
			$error = $status['error'];
			$status['error'] = array(
				'code' => (isset($error['code']) && enphaseText::isIdentifier($error['code'])) ? $error['code'] : 'unknown',
				'message' => isset($error['message']) ? enphaseText::sentence($error['message']) : '');
			if (isset($error['reason']) && enphaseText::isIdentifier($error['reason'])) {
				$status['error']['reason'] = $error['reason'];
			}
		}
		$eqLogic = enphaseGateway::equipment($gatewayId, (string) $status['serial']);
		if (!is_object($eqLogic)) {
			// Removed while the daemon still read it: the daemon learns it, nothing is left to show it on.
			log::add('enphase', 'debug', __('État d\'une passerelle inconnue ignoré :', __FILE__) . ' ' . substr($gatewayId, 0, 40));
			return;
		}
		$code = (is_array($status['error']) && isset($status['error']['code'])) ? (string) $status['error']['code'] : '';
		$cause = (is_array($status['error']) && isset($status['error']['reason'])) ? (string) $status['error']['reason'] : '';
		// The sentence the pages show, in this Jeedom's language, for the access this gateway uses.
		$status['problem'] = ($code != '') ? enphaseDaemonError::sentence($code, $cause, enphaseGateway::access(enphaseGateway::settingsOf($eqLogic))) : '';
		$previous = $eqLogic->getConfiguration('status');
		if ($status['reachable'] === false) {
			// Since its last success; the daemon forgets it when restarted, the gateway's equipment does not.
			$since = (int) $status['last_success'];
			if ($since <= 0 && is_array($previous)) {
				$since = isset($previous['unreachable_since']) ? (int) $previous['unreachable_since'] : (int) (isset($previous['last_success']) ? $previous['last_success'] : 0);
			}
			$status['unreachable_since'] = ($since > 0) ? $since : time();
		}
		$eqLogic->setConfiguration('status', $status);
		if ($status['firmware'] != '') {
			$eqLogic->setConfiguration('firmware', $status['firmware']);
		}
		$eqLogic->save();
		$previousCode = (is_array($previous) && isset($previous['error']['code'])) ? (string) $previous['error']['code'] : '';
		$label = $eqLogic->getHumanName();
		if ($code != $previousCode) {
			// Logged when it changes, not every cycle.
			if ($code != '') {
				log::add('enphase', 'warning', $label . ' : ' . $status['problem']);
			} else {
				log::add('enphase', 'info', $label . ' : ' . __('la passerelle répond de nouveau', __FILE__));
			}
		}
		if (in_array($code, self::USER_ACTION_CODES)) {
			self::replaceMessage('status::' . $gatewayId . '::', $code, $label . ' : ' . $status['problem']);
		} else {
			message::removeAll('enphase', 'status::' . $gatewayId . '::', true);
		}
		self::checkTokenExpiry($gatewayId, $status, $eqLogic);
		self::checkOutage($gatewayId, $eqLogic);
		if ((int) $status['last_success'] > 0) {
			self::markFresh($eqLogic, (int) $status['last_success']);
		}
	}

	/**
	 * The gateway answered at $_time: its equipment are up to date although an unchanged value is not sent again
	 * (status events come at least every STATUS_REFRESH_S), so Jeedom does not mark them stale.
	 */
	private static function markFresh($_gateway, $_time) {
		// Not at every status: a site's 600 equipment are loaded for it. A third of the timeout keeps them fresh.
		$every = 20 * max(1, (int) $_gateway->getTimeout(enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($_gateway))));
		if ($_time - (int) $_gateway->getCache('freshMarked', 0) < $every) {
			return;
		}
		$_gateway->setCache('freshMarked', $_time);
		$when = date('Y-m-d H:i:s', min($_time, time()));
		foreach (array_merge(array($_gateway), enphaseGateway::devices($_gateway)) as $eqLogic) {
			if ($eqLogic->getIsEnable() && (string) $eqLogic->getStatus('lastCommunication', '') < $when) {
				$eqLogic->setStatus(array('lastCommunication' => $when, 'timeout' => 0));
			}
		}
	}

	/** When the gateway of this status stopped answering, or null while it answers. */
	private static function unreachableSince($_status) {
		if (!is_array($_status) || !isset($_status['reachable']) || $_status['reachable'] !== false) {
			return null;
		}
		return isset($_status['unreachable_since']) ? (int) $_status['unreachable_since'] : null;
	}

	/**
	 * One message per gateway unreachable for longer than its equipment's timeout (the time Jeedom takes to mark
	 * it stale; longer than its nightly silence), gone when it answers again.
	 */
	public static function checkOutage($_gatewayId, $_eqLogic) {
		$since = self::unreachableSince($_eqLogic->getConfiguration('status'));
		if ($since === null) {
			message::removeAll('enphase', 'outage::' . $_gatewayId . '::', true);
			return;
		}
		$limit = (int) $_eqLogic->getTimeout(enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($_eqLogic)));
		if (time() - $since >= max(1, $limit) * 60) {
			$text = sprintf(__('la passerelle ne répond plus depuis le %s : vérifiez qu’elle est allumée et sur le réseau ; ses valeurs ne sont plus à jour', __FILE__), date('d/m/Y H:i', $since));
			self::replaceMessage('outage::' . $_gatewayId . '::', 'unreachable', $_eqLogic->getHumanName() . ' : ' . $text);
		}
	}

	/** A gateway removed: its messages (status, token, outage) go with it. */
	public static function forget($_gatewayId) {
		foreach (array('status', 'token', 'outage') as $subject) {
			message::removeAll('enphase', $subject . '::' . $_gatewayId . '::', true);
		}
	}

	/** Time passes without any event while a gateway is silent: the cron looks at each one. */
	public static function checkOutages() {
		foreach (enphaseGateway::all() as $gatewayId => $eqLogic) {
			self::checkOutage((string) $gatewayId, $eqLogic);
		}
	}

	/** What the gateway's page says of it now: array('level' => success|warning|danger, 'text' => ...). */
	public static function state($_eqLogic) {
		if (enphaseDaemon::pid() <= 0) {
			return array('level' => 'danger', 'text' => __('Démon arrêté', __FILE__));
		}
		$status = $_eqLogic->getConfiguration('status');
		if (!is_array($status) || !isset($status['updated'])) {
			return array('level' => 'warning', 'text' => __('Pas encore de nouvelles du démon', __FILE__));
		}
		$since = self::unreachableSince($status);
		if ($since !== null) {
			return array('level' => 'danger', 'text' => sprintf(__('Injoignable depuis %s', __FILE__), self::duration(time() - $since)));
		}
		$code = (is_array($status['error']) && isset($status['error']['code'])) ? (string) $status['error']['code'] : '';
		$texts = array(
			'auth_failed' => __('Identifiants refusés', __FILE__),
			'token_expired' => __('Jeton expiré', __FILE__),
			'two_factor' => __('Compte Enlighten à double authentification', __FILE__),
			'login_throttled' => __('Connexions à Enphase suspendues', __FILE__),
			'bad_response' => __('Réponses inattendues', __FILE__),
		);
		if ($code != '') {
			return array('level' => 'danger', 'text' => isset($texts[$code]) ? $texts[$code] : __('En erreur', __FILE__));
		}
		return array('level' => 'success', 'text' => __('Joignable', __FILE__));
	}

	/**
	 * The plugin's rows of Jeedom's health page: per gateway, its state, its last successful read, its token's
	 * expiry, its requests per hour and its failed reads of the last day. Strings are HTML (the core prints them
	 * as they are): every name and sentence is escaped here.
	 */
	public static function health() {
		$rows = array();
		foreach (enphaseGateway::all() as $eqLogic) {
			$name = enphaseText::html($eqLogic->getName());
			$status = $eqLogic->getConfiguration('status');
			$status = is_array($status) ? $status : array();
			$state = self::state($eqLogic);
			$problem = isset($status['problem']) ? (string) $status['problem'] : '';
			$rows[] = self::healthRow($name, __('état', __FILE__), $state['text'], $state['level'] == 'success', ($state['level'] == 'success') ? '' : $problem);
			$last = isset($status['last_success']) ? (int) $status['last_success'] : 0;
			$stale = (int) $eqLogic->getTimeout(enphaseGateway::staleAfterMinutes(enphaseGateway::settingsOf($eqLogic))) * 60;
			$rows[] = self::healthRow($name, __('dernière lecture réussie', __FILE__),
				($last > 0) ? date('d/m/Y H:i:s', $last) : __('jamais', __FILE__), $last > 0 && time() - $last < max(60, $stale));
			$expires = isset($status['token_expires']) ? (int) $status['token_expires'] : 0;
			$rows[] = self::healthRow($name, __('expiration du jeton', __FILE__),
				($expires > 0) ? date('d/m/Y', $expires) : __('pas de jeton (firmware antérieur à 7)', __FILE__),
				$expires == 0 || $expires - time() > self::TOKEN_WARNING_DAYS * 86400);
			$perHour = isset($status['requests_per_hour']) && is_numeric($status['requests_per_hour']) ? (int) $status['requests_per_hour'] : null;
			$rows[] = self::healthRow($name, __('requêtes par heure', __FILE__),
				($perHour !== null) ? (string) $perHour : __('pas encore mesuré', __FILE__), true);
			$errors = isset($status['errors_24h']) && is_numeric($status['errors_24h']) ? (int) $status['errors_24h'] : 0;
			// A few failures a day are the gateway's nightly silence: the row is red only while it fails now.
			$rows[] = self::healthRow($name, __('lectures en échec sur 24 h', __FILE__), (string) $errors,
				$errors == 0 || $state['level'] == 'success', ($errors > 0) ? __('Quelques échecs par jour sont normaux : la passerelle se tait quelques minutes chaque soir', __FILE__) : '');
		}
		return $rows;
	}

	private static function healthRow($_name, $_what, $_result, $_ok, $_advice = '') {
		return array('test' => $_name . ' : ' . enphaseText::html($_what), 'result' => enphaseText::html($_result),
			'advice' => enphaseText::html($_advice), 'state' => (bool) $_ok);
	}

	/** A duration as a user reads it: "12 min", "3 h", "2 jours". */
	public static function duration($_seconds) {
		$minutes = (int) floor(max(0, $_seconds) / 60);
		if ($minutes < 1) {
			return __('moins d’une minute', __FILE__);
		}
		if ($minutes < 120) {
			return sprintf(__('%d min', __FILE__), $minutes);
		}
		if ($minutes < 48 * 60) {
			return sprintf(__('%d h', __FILE__), intdiv($minutes, 60));
		}
		return sprintf(__('%d jours', __FILE__), intdiv($minutes, 24 * 60));
	}

	/**
	 * One message per subject: the core keeps the first text of a logicalId and only counts repeats, so a new
	 * situation (another error, another expiry date) replaces the old message instead.
	 */
	private static function replaceMessage($_subject, $_situation, $_text) {
		if (count(message::byPluginLogicalId('enphase', $_subject . $_situation)) > 0) {
			return;
		}
		message::removeAll('enphase', $_subject, true);
		message::add('enphase', $_text, '', $_subject . $_situation);
	}

	/** A token the user pasted must be replaced by the user: say so two weeks ahead. */
	private static function checkTokenExpiry($_gatewayId, array $_status, $_eqLogic) {
		$expires = (int) $_status['token_expires'];
		$settings = enphaseGateway::settingsOf($_eqLogic);
		$pasted = !enphaseGateway::isDemo($settings) && enphaseGateway::authMethod($settings) == 'token';
		if ($pasted && $expires > time() && $expires - time() < self::TOKEN_WARNING_DAYS * 86400) {
			$text = __('le jeton expire le %s : collez un nouveau jeton dans l\'onglet Équipement de la passerelle', __FILE__);
			self::replaceMessage('token::' . $_gatewayId . '::', $expires, $_eqLogic->getHumanName() . ' : ' . sprintf($text, date('d/m/Y', $expires)));
		} else {
			message::removeAll('enphase', 'token::' . $_gatewayId . '::', true);
		}
	}

	/** Time passes without any status event: look at each gateway's last token expiry once a day. */
	public static function checkTokens() {
		foreach (enphaseGateway::all() as $gatewayId => $eqLogic) {
			$status = $eqLogic->getConfiguration('status');
			if (is_array($status) && isset($status['token_expires'])) {
				self::checkTokenExpiry((string) $gatewayId, $status, $eqLogic);
			}
		}
	}
}
