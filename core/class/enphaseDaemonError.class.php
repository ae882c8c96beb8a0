<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/**
 * A refusal of the daemon or of the gateway: getReason() is the protocol's error code (docs/protocol.md), the
 * message the sentence a user reads for it.
 */
class enphaseDaemonError extends Exception {
	private $reason;

	public function __construct($_reason, $_detail = '') {
		$this->reason = $_reason;
		parent::__construct(self::sentence($_reason, $_detail));
	}

	public function getReason() {
		return $this->reason;
	}

	/**
	 * The sentence a user reads for an error code of the daemon or of the gateway (protocol: error.code).
	 * The daemon's own sentence (English, no secret in it) is added as the detail.
	 */
	public static function sentence($_code, $_detail = '') {
		switch ($_code) {
			case 'daemon_not_running':
				$text = __('Le démon Enphase n\'est pas démarré : démarrez-le depuis la page de configuration du plugin', __FILE__);
				break;
			case 'no_answer':
				$text = __('Le démon Enphase n\'a pas répondu à temps : consultez le log enphase_daemon', __FILE__);
				break;
			case 'timeout':
				$text = __('La passerelle n\'a pas fini à temps : la lecture continue en arrière-plan et les équipements apparaîtront d\'eux-mêmes', __FILE__);
				break;
			case 'unknown_gateway':
				$text = __('Le démon ne connaît pas cette passerelle : sauvegardez la configuration du plugin ou redémarrez le démon', __FILE__);
				break;
			case 'bad_request':
				$text = __('Le démon n\'a pas compris la demande : le plugin et le démon ne sont peut-être pas de la même version, redémarrez le démon', __FILE__);
				break;
			case 'bad_answer':
				$text = __('Le démon Enphase a répondu de façon illisible : redémarrez-le', __FILE__);
				break;
			case 'busy':
				$text = __('Le démon Enphase est occupé : réessayez dans un instant', __FILE__);
				break;
			case 'internal':
				$text = __('Le démon Enphase a échoué sur cette demande : consultez le log enphase_daemon', __FILE__);
				break;
			case 'forbidden':
				$text = __('Le démon Enphase a refusé la demande (clé API) : redémarrez-le', __FILE__);
				break;
			case 'unreachable':
				$text = __('La passerelle ne répond pas : vérifiez son adresse, qu\'elle est allumée et sur le même réseau', __FILE__);
				break;
			case 'auth_failed':
				$text = __('La passerelle refuse les identifiants : vérifiez le mot de passe (par défaut les 6 derniers caractères du numéro de série) ou le jeton', __FILE__);
				break;
			case 'token_expired':
				$text = __('Le jeton a expiré : collez un nouveau jeton ou renseignez vos identifiants Enlighten', __FILE__);
				break;
			case 'two_factor':
				$text = __('Votre compte Enlighten demande une double authentification : collez un jeton obtenu sur le site d\'Enphase', __FILE__);
				break;
			case 'login_throttled':
				$text = __('Enphase refuse pour le moment les connexions de ce compte (trop de tentatives) : patientez avant de réessayer', __FILE__);
				break;
			case 'bad_response':
				$text = __('La passerelle a donné une réponse inattendue', __FILE__);
				break;
			case 'refused':
				$text = __('La passerelle a refusé la commande', __FILE__);
				break;
			case 'nothing_readable':
				$text = __('La passerelle répond, mais aucune de ses pages ne donne de mesure lisible : envoyez un rapport de diagnostic', __FILE__);
				break;
			case 'not_configured':
				$text = enphaseGateway::firstProblem();
				break;
			default:
				$text = __('Erreur du démon Enphase', __FILE__) . ($_code != '' ? ' (' . $_code . ')' : '');
		}
		return ($_detail != '') ? $text . ' (' . $_detail . ')' : $text;
	}
}
