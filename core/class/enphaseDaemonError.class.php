<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/**
 * A refusal of the daemon or of the gateway: getReason() is the protocol's error code (docs/protocol.md),
 * getCause() its reason when the daemon gave one, the message the sentence a user reads for them.
 */
class enphaseDaemonError extends Exception {
	private $reason;
	private $cause;

	public function __construct($_reason, $_cause = '', $_access = '') {
		$this->reason = $_reason;
		$this->cause = $_cause;
		parent::__construct(self::sentence($_reason, $_cause, $_access));
	}

	public function getReason() {
		return $this->reason;
	}

	/** Why the gateway refused (error.reason: installer_required, token_needed...), '' when not said. */
	public function getCause() {
		return $this->cause;
	}

	/**
	 * The sentence a user reads, in this Jeedom's language only, for an error code of the daemon or of the
	 * gateway (error.code), its reason (error.reason) and the gateway's access as its equipment sets it
	 * (enphaseGateway::access: envoy, installer, token, enlighten, demo): each points at what the user can
	 * change. The daemon's own English sentence goes to its log, never here.
	 */
	public static function sentence($_code, $_cause = '', $_access = '') {
		$daemon = array(
			'daemon_not_running' => __('Le démon Enphase n\'est pas démarré : démarrez-le depuis la page de configuration du plugin', __FILE__),
			'no_answer' => __('Le démon Enphase n\'a pas répondu à temps : consultez le log enphase_daemon', __FILE__),
			'timeout' => __('La passerelle n\'a pas fini à temps : la lecture continue en arrière-plan et les équipements apparaîtront d\'eux-mêmes', __FILE__),
			'unknown_gateway' => __('Le démon ne connaît pas cette passerelle : sauvegardez la configuration du plugin ou redémarrez le démon', __FILE__),
			'bad_request' => __('Le démon n\'a pas compris la demande : le plugin et le démon ne sont peut-être pas de la même version, redémarrez le démon', __FILE__),
			'bad_answer' => __('Le démon Enphase a répondu de façon illisible : redémarrez-le', __FILE__),
			'busy' => __('Le démon Enphase est occupé : réessayez dans un instant', __FILE__),
			'internal' => __('Le démon Enphase a échoué sur cette demande : consultez le log enphase_daemon', __FILE__),
			'forbidden' => __('Le démon Enphase a refusé la demande (clé API) : redémarrez-le', __FILE__),
			'unreachable' => __('La passerelle ne répond pas : vérifiez son adresse, qu\'elle est allumée et sur le même réseau', __FILE__),
			'two_factor' => __('Votre compte Enlighten demande une double authentification, que le plugin ne sait pas faire : choisissez l’accès par jeton collé', __FILE__),
			'login_throttled' => __('Enphase refuse pour le moment les connexions de ce compte (trop de tentatives) : le plugin attend avant de réessayer, pour que le compte ne soit pas bloqué', __FILE__),
			'bad_response' => __('La passerelle a donné une réponse inattendue : si cela dure, envoyez un rapport de diagnostic', __FILE__),
			'nothing_readable' => __('La passerelle répond, mais aucune de ses pages ne donne de mesure lisible : envoyez un rapport de diagnostic', __FILE__),
		);
		if (isset($daemon[$_code])) {
			return $daemon[$_code];
		}
		switch ($_code) {
			case 'auth_failed':
				return self::credentialsRefused($_cause, $_access);
			case 'token_expired':
				return ($_access == 'token')
					? __('Le jeton a expiré : collez-en un nouveau (entrez.enphaseenergy.com) ou passez à l’accès par compte Enlighten', __FILE__)
					: __('Le jeton d’Enphase a expiré et n’a pas pu être renouvelé : vérifiez le compte Enlighten de la passerelle', __FILE__);
			case 'refused':
				return self::commandRefused($_cause, $_access);
			case 'not_configured':
				return enphaseGateway::firstProblem();
		}
		return __('Erreur du démon Enphase : consultez le log enphase_daemon', __FILE__);
	}

	/** auth_failed: what to check depends on the access the gateway's equipment uses. */
	private static function credentialsRefused($_cause, $_access) {
		if ($_cause == 'token_needed') {
			return __('Cette passerelle (firmware 7 ou plus) demande un jeton : choisissez l’accès par jeton collé ou par compte Enlighten', __FILE__);
		}
		if ($_cause == 'token_invalid') {
			return __('Le jeton collé n’est pas un jeton Enphase (un long texte en trois parties séparées par des points) : copiez-le de nouveau en entier', __FILE__);
		}
		switch ($_access) {
			case 'envoy':
				return __('La passerelle refuse le mot de passe : laissez le champ vide pour le mot de passe d’origine (les 6 derniers caractères du numéro de série) ou saisissez celui que vous avez choisi', __FILE__);
			case 'installer':
				return __('La passerelle refuse l’accès installateur : saisissez le mot de passe installateur s’il a été changé, ou décochez l’accès installateur', __FILE__);
			case 'token':
				return __('La passerelle refuse le jeton : vérifiez qu’il a été créé pour le numéro de série de cette passerelle et collé en entier, ou passez à l’accès par compte Enlighten', __FILE__);
			case 'enlighten':
				return __('Le compte Enlighten est refusé : vérifiez l’identifiant, le mot de passe et le numéro de série de la passerelle', __FILE__);
		}
		return __('La passerelle refuse les identifiants : vérifiez l’accès choisi dans l’onglet Équipement de la passerelle', __FILE__);
	}

	/** refused: a command the gateway or the daemon would not carry out, and why. */
	private static function commandRefused($_cause, $_access) {
		switch ($_cause) {
			case 'installer_required':
				if ($_access == 'envoy') {
					return __('Cette commande demande l’accès installateur : cochez-le dans l’onglet Équipement de la passerelle', __FILE__);
				}
				if ($_access == 'token' || $_access == 'enlighten') {
					return __('Cette commande demande un jeton installateur : collez-en un dans l’onglet Équipement de la passerelle (un compte propriétaire n’y donne pas droit)', __FILE__);
				}
				return __('Cette commande demande les droits installateur', __FILE__);
			case 'firmware_ignores':
				return __('Ce firmware n’applique plus le profil ni la réserve des batteries envoyés par le réseau local : changez-les dans l’application Enphase', __FILE__);
			case 'not_applied':
				return __('La passerelle a accepté la commande mais ne l’applique pas pour le moment', __FILE__);
			case 'no_device':
				return __('Cette passerelle n’a pas l’équipement que demande cette commande : synchronisez-la', __FILE__);
			case 'no_control':
				return __('Cette passerelle ne propose pas cette commande (firmware trop ancien)', __FILE__);
			case 'bad_value':
				return __('Valeur refusée : choisissez l’une des valeurs proposées (de 0 à 100 pour un pourcentage)', __FILE__);
			case 'unknown_command':
				return __('Commande inconnue du démon : synchronisez la passerelle', __FILE__);
			case 'forbidden':
				return __('La passerelle a refusé la commande : elle demande peut-être les droits installateur', __FILE__);
		}
		return __('La passerelle a refusé la commande', __FILE__);
	}
}
