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
if (!isConnect('admin')) {
	include_file('desktop', '404', 'php');
	die();
}

/*
 * Every gateway's default cadences and the default room of what Synchronize creates, as core "configKey"
 * fields (the daemon needs no setting: it meets PHP on a socket in the data folder). A gateway itself is
 * configured on its own equipment (plugin page, "Ajouter une passerelle").
 */
?>
<form class="form-horizontal">
	<fieldset>
		<legend><i class="fas fa-broadcast-tower"></i> {{Passerelles}}</legend>
		<div class="form-group">
			<div class="col-md-8 col-md-offset-2 alert alert-info">
				{{Chaque passerelle se règle sur son équipement : adresse, accès et, si besoin, ses propres cadences.}}
				<a class="btn btn-default btn-sm" href="index.php?v=d&m=enphase&p=enphase"><i class="fas fa-plus-circle"></i> {{Ajouter une passerelle depuis la page du plugin}}</a>
			</div>
		</div>

		<div class="form-group">
			<label class="col-md-4 control-label">{{Objet parent par défaut}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Où Synchroniser range les équipements d'une passerelle qui n'a pas d'objet parent. Ceux d'une passerelle rangée la suivent.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<select class="configKey form-control" data-l1key="default_object_id">
					<option value="">{{Aucun}}</option>
					<?php
					foreach (jeeObject::buildTree(null, false) as $object) {
						echo '<option value="' . (int) $object->getId() . '">' . str_repeat('&nbsp;&nbsp;', (int) $object->getConfiguration('parentNumber')) . enphaseText::html($object->getName()) . '</option>';
					}
					?>
				</select>
			</div>
		</div>

		<div class="form-group">
			<label class="col-md-4 control-label">{{Détail des micro-onduleurs}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Tensions et courants AC et DC, fréquence, température (et niveau CPL) de chaque micro-onduleur. Sans le détail, un micro-onduleur a ses états, sa puissance et son énergie : 600 micro-onduleurs ne pèsent pas sur toute la box. Chaque équipement peut aussi le choisir pour lui-même. Décocher supprime ces commandes et leur historique.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="checkbox" class="configKey" data-l1key="detail">
			</div>
		</div>

		<legend><i class="fas fa-clock"></i> {{Lecture}}</legend>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Cadence générale (secondes)}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Production, consommation, batteries et compteurs. 60 secondes par défaut ; la passerelle a un processeur modeste, ne descendez pas trop.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="number" min="10" class="configKey form-control" data-l1key="general_s" placeholder="<?php echo enphaseGateway::DEFAULT_CADENCES['general_s']; ?>">
			</div>
		</div>
		<div class="form-group">
			<label class="col-md-4 control-label">{{Cadence des équipements (secondes)}}
				<sup><i class="fas fa-question-circle tooltips" title="{{Micro-onduleurs et détails par équipement. 300 secondes par défaut : les micro-onduleurs ne remontent leurs valeurs qu'environ toutes les 5 minutes.}}"></i></sup>
			</label>
			<div class="col-md-4">
				<input type="number" min="10" class="configKey form-control" data-l1key="devices_s" placeholder="<?php echo enphaseGateway::DEFAULT_CADENCES['devices_s']; ?>">
			</div>
		</div>
	</fieldset>
</form>

<script>
  /* Called by the core once it saved the configKey fields: a running daemon reads the new defaults at once. */
  function enphase_postSaveConfiguration() {
    domUtils.ajax({
      type: 'POST',
      url: 'plugins/enphase/core/ajax/enphase.ajax.php',
      data: { action: 'sendConfiguration' },
      dataType: 'json',
      global: false,
      error: function(request, status, error) {
        domUtils.handleAjaxError(request, status, error)
      },
      success: function(data) {
        if (data.state != 'ok') {
          jeedomUtils.showAlert({ message: data.result, level: 'danger' })
        } else if (data.result.message != '') {
          // Plain text that may quote the daemon; the toast writes innerHTML.
          const span = document.createElement('span')
          span.textContent = data.result.message
          jeedomUtils.showAlert({ message: span.innerHTML, level: 'warning' })
        } else if (data.result.sent) {
          jeedomUtils.showAlert({ message: '{{Configuration sauvegardée et envoyée au démon}}', level: 'success' })
        }
      }
    })
  }
</script>
