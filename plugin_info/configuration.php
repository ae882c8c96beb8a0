<?php
/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

require_once __DIR__ . '/../../../core/php/core.inc.php';
require_once __DIR__ . '/../core/class/enphase.class.php';
include_file('core', 'authentification', 'php');
if (!isConnect()) {
	include_file('desktop', '404', 'php');
	die();
}

/*
 * Plain settings are core "configKey" fields. Secrets are not: the core would send them back to the browser
 * in clear. They are typed into empty fields, sent once by enphase_postSaveConfiguration() below and stored
 * encrypted; the page only learns whether each one is set.
 */
$secrets = enphaseGateway::secretsState();
$secretInput = function ($_key, $_placeholder) use ($secrets) {
	$placeholder = $secrets[$_key] ? '{{Enregistré : laissez vide pour le garder}}' : $_placeholder;
	$html = '<input type="password" autocomplete="new-password" class="form-control enphaseSecret" data-key="' . $_key . '" placeholder="' . $placeholder . '">';
	if ($secrets[$_key]) {
		$html .= '<label class="checkbox-inline"><input type="checkbox" class="enphaseClearSecret" data-key="' . $_key . '"> {{Effacer la valeur enregistrée}}</label>';
	}
	return $html;
};
$status = config::byKey('status::' . enphaseGateway::SINGLE_GATEWAY_ID, 'enphase', array());
// Once its equipment took the gateway of this page over, the gateway is set on that equipment only.
$takenOver = enphaseGateway::takenOver();
$statusLabel = function ($_status) {
	if (!is_array($_status) || !isset($_status['reachable'])) {
		return '<span class="label label-default">{{Pas encore de nouvelles du démon}}</span>';
	}
	$html = $_status['reachable'] ? '<span class="label label-success">{{Joignable}}</span>' : '<span class="label label-danger">{{Injoignable}}</span>';
	if (!empty($_status['problem'])) {
		$html .= ' <span class="text-danger">' . htmlspecialchars($_status['problem']) . '</span>';
	}
	return $html;
};
?>
<form class="form-horizontal">
	<fieldset>
		<legend><i class="fas fa-broadcast-tower"></i> {{Passerelle}}</legend>
		<?php if (is_object($takenOver)) { ?>
		<div class="form-group">
			<div class="col-md-8 col-md-offset-2 alert alert-info">
				{{La passerelle de cette page se règle désormais sur son équipement :}}
				<a href="index.php?v=d&m=enphase&p=enphase&id=<?php echo $takenOver->getId(); ?>"><?php echo $takenOver->getHumanName(true); ?></a>
			</div>
		</div>
		<?php } else { ?>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Adresse IP ou nom de la passerelle}}
				<sup><i class="fas fa-question-circle tooltips" title="{{L'adresse de l'Envoy / IQ Gateway sur le réseau local, par exemple 192.168.1.20 ou envoy.local. « demo » lance une passerelle de démonstration.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input class="configKey form-control" data-l1key="host" placeholder="192.168.1.20">
			</div>
		</div>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Accès à la passerelle}}
				<sup><i class="fas fa-question-circle tooltips" title="{{La version du firmware est affichée sur la page web de la passerelle et dans l'application Enphase.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<select class="configKey form-control" data-l1key="auth_method" id="sel_enphaseAuthMethod">
					<option value="envoy">{{Firmware antérieur à 7 : mot de passe de la passerelle}}</option>
					<option value="token">{{Firmware 7 ou plus : jeton collé}}</option>
					<option value="enlighten">{{Firmware 7 ou plus : compte Enlighten}}</option>
				</select>
			</div>
		</div>
		<div class="form-group enphaseAuth" data-method="envoy">
			<label class="col-md-4 control-label">{{Mot de passe de la passerelle}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Par défaut, les 6 derniers caractères du numéro de série de la passerelle. Laissez vide pour utiliser cette valeur par défaut.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<?php echo $secretInput('password', '{{Vide : les 6 derniers caractères du numéro de série}}'); ?>
			</div>
		</div>
		<div class="form-group enphaseAuth" data-method="token">
			<label class="col-md-4 control-label">{{Jeton}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Jeton « propriétaire » obtenu sur entrez.enphaseenergy.com avec votre compte Enlighten ; valable environ un an. Voir la documentation.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<?php echo $secretInput('token', '{{Collez le jeton ici}}'); ?>
			</div>
		</div>
		<div class="form-group enphaseAuth" data-method="enlighten">
			<label class="col-md-4 control-label">{{Identifiant Enlighten}}
				<sup><i class="fas fa-question-circle tooltips" title="{{L'adresse e-mail de votre compte Enphase Enlighten. Le démon obtient et renouvelle le jeton lui-même.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input class="configKey form-control" data-l1key="enlighten_username" autocomplete="off" placeholder="nom@exemple.fr">
			</div>
		</div>
		<div class="form-group enphaseAuth" data-method="enlighten">
			<label class="col-md-4 control-label">{{Mot de passe Enlighten}}</label>
			<div class="col-md-4">
				<?php echo $secretInput('enlighten_password', ''); ?>
			</div>
		</div>
		<div class="form-group enphaseAuth" data-method="enlighten">
			<label class="col-md-4 control-label">{{Numéro de série de la passerelle}}
				<sup><i class="fas fa-question-circle tooltips" title="{{12 chiffres, sur l'étiquette de la passerelle ou dans l'application Enphase.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input class="configKey form-control" data-l1key="serial" placeholder="122302045041">
			</div>
		</div>
		<?php } ?>
		<?php
		// Gateways set on their own equipment (page of the plugin, "Ajouter une passerelle").
		$others = array_filter(enphaseGateway::equipments(), function ($eqLogic) {
			return enphaseGateway::ownsSettings($eqLogic);
		});
		if (count($others) > 0) {
			echo '<div class="form-group"><label class="col-md-4 control-label">{{Passerelles réglées sur leur équipement}}</label><div class="col-md-6">';
			foreach ($others as $eqLogic) {
				echo '<div><a href="index.php?v=d&m=enphase&p=enphase&id=' . $eqLogic->getId() . '">' . $eqLogic->getHumanName(true) . '</a> ';
				echo '<span class="label label-info">' . htmlspecialchars($eqLogic->getConfiguration('host')) . '</span> ';
				echo $eqLogic->getIsEnable() ? $statusLabel(config::byKey('status::' . enphaseGateway::idOf($eqLogic), 'enphase', array())) : '<span class="label label-default">{{Désactivée}}</span>';
				echo '</div>';
			}
			echo '</div></div>';
		}
		?>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Autres passerelles}}</label>
			<div class="col-md-6">
				<a class="btn btn-default btn-sm" href="index.php?v=d&m=enphase&p=enphase"><i class="fas fa-plus-circle"></i> {{Ajouter une passerelle depuis la page du plugin}}</a>
			</div>
		</div>

		<legend><i class="fas fa-clock"></i> {{Lecture}}</legend>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Cadence générale (secondes)}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Production, consommation, batteries et compteurs. 60 secondes par défaut ; la passerelle a un processeur modeste, ne descendez pas trop.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="number" min="10" class="configKey form-control" data-l1key="general_s" placeholder="60">
			</div>
		</div>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Cadence des équipements (secondes)}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Micro-onduleurs et détails par équipement. 300 secondes par défaut : les micro-onduleurs ne remontent leurs valeurs qu'environ toutes les 5 minutes.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="number" min="10" class="configKey form-control" data-l1key="devices_s" placeholder="300">
			</div>
		</div>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Port du démon}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Port local (127.0.0.1) où le démon écoute Jeedom. À changer seulement s'il est déjà pris par un autre plugin.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="number" min="1024" max="65535" class="configKey form-control" data-l1key="socketport" placeholder="<?php echo enphaseDaemon::DEFAULT_SOCKET_PORT; ?>">
			</div>
		</div>

		<legend><i class="fas fa-sync"></i> {{Synchronisation}}</legend>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Équipements}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Crée ou complète la passerelle, les micro-onduleurs, batteries et compteurs. Sauvegardez et démarrez le démon d'abord.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<a class="btn btn-default" id="bt_enphaseSynchronizeConf"><i class="fas fa-sync"></i> {{Synchroniser}}</a>
			</div>
		</div>
		<div class="form-group">
			<label class="col-md-4 control-label">{{État de la passerelle}}</label>
			<div class="col-md-4">
				<?php echo $statusLabel($status); ?>
			</div>
		</div>
	</fieldset>
</form>

<script>
  function enphaseShowAuthFields() {
    const select = document.getElementById('sel_enphaseAuthMethod')
    const method = (select && select.value) || 'envoy'
    document.querySelectorAll('.enphaseAuth').forEach(function(group) {
      group.getAttribute('data-method') == method ? group.seen() : group.unseen()
    })
  }
  document.getElementById('sel_enphaseAuthMethod')?.addEventListener('change', enphaseShowAuthFields)
  enphaseShowAuthFields()

  /* As in desktop/js/enphase.js (not loaded on this page): one action of the plugin's ajax page; `onOk` gets the result, a refusal is shown as the page's alert. */
  function enphaseAjax(_data, onOk) {
    domUtils.ajax({
      type: 'POST',
      url: 'plugins/enphase/core/ajax/enphase.ajax.php',
      data: _data,
      dataType: 'json',
      global: false,
      error: function(request, status, error) {
        domUtils.handleAjaxError(request, status, error)
      },
      success: function(data) {
        if (data.state != 'ok') {
          jeedomUtils.showAlert({ message: data.result, level: 'danger' })
          return
        }
        onOk(data.result)
      }
    })
  }

  /* Called by the core once it saved the configKey fields: store the typed secrets, then tell the daemon. */
  function enphase_postSaveConfiguration() {
    const secrets = {}
    const clear = []
    document.querySelectorAll('.enphaseSecret').forEach(function(input) {
      if (input.value != '') secrets[input.getAttribute('data-key')] = input.value
    })
    document.querySelectorAll('.enphaseClearSecret').forEach(function(input) {
      if (input.checked) clear.push(input.getAttribute('data-key'))
    })
    enphaseAjax({ action: 'saveConfiguration', secrets: JSON.stringify(secrets), clear: JSON.stringify(clear) }, function(result) {
      document.querySelectorAll('.enphaseSecret').forEach(function(input) {
        input.value = ''
        if (result.secrets[input.getAttribute('data-key')]) {
          input.setAttribute('placeholder', '{{Enregistré : laissez vide pour le garder}}')
        }
      })
      if (result.message != '') {
        jeedomUtils.showAlert({ message: result.message, level: 'warning' })
      } else if (result.sent) {
        jeedomUtils.showAlert({ message: '{{Configuration sauvegardée et envoyée au démon}}', level: 'success' })
      }
    })
  }

  document.getElementById('bt_enphaseSynchronizeConf').addEventListener('click', function() {
    jeedomUtils.showAlert({ message: '{{Synchronisation en cours : la passerelle est interrogée, cela peut prendre une minute...}}', level: 'warning' })
    enphaseAjax({ action: 'synchronize' }, function(result) {
      jeedomUtils.showAlert({ message: result.message, level: 'success' })
    })
  })
</script>
