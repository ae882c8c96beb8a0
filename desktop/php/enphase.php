<?php
if (!isConnect('admin')) {
	throw new Exception('{{401 - Accès non autorisé}}');
}
require_once __DIR__ . '/../../core/class/enphase.class.php';
$plugin = plugin::byId('enphase');
sendVarToJS('eqType', $plugin->getId());
$eqLogics = eqLogic::byType($plugin->getId());
// Equipment come from the gateway (Synchronize), grouped by kind.
$groups = enphaseKinds::groups();
$byGroup = array();
foreach ($eqLogics as $eqLogic) {
	$byGroup[enphaseKinds::group($eqLogic->getConfiguration('kind'))][] = $eqLogic;
}
?>

<div class="row row-overflow">
	<div class="col-xs-12 eqLogicThumbnailDisplay">
		<legend><i class="fas fa-cog"></i> {{Gestion}}</legend>
		<div class="eqLogicThumbnailContainer">
			<div class="cursor logoPrimary bt_enphaseSynchronize">
				<i class="fas fa-sync"></i>
				<br>
				<span>{{Synchroniser}}</span>
			</div>
			<div class="cursor eqLogicAction logoSecondary" data-action="add">
				<i class="fas fa-plus-circle"></i>
				<br>
				<span>{{Ajouter une passerelle}}</span>
			</div>
			<div class="cursor eqLogicAction logoSecondary" data-action="gotoPluginConf">
				<i class="fas fa-wrench"></i>
				<br>
				<span>{{Configuration}}</span>
			</div>
		</div>
		<?php
		if (count($eqLogics) == 0) {
			echo '<br><div class="text-center" style="font-size:1.2em;font-weight:bold;">{{Aucun équipement : ajoutez une passerelle, renseignez son adresse et son accès, démarrez le démon puis cliquez sur "Synchroniser"}}</div>';
		} else {
			echo '<div class="input-group" style="margin:5px;">';
			echo '<input class="form-control roundedLeft" placeholder="{{Rechercher}}" id="in_searchEqlogic">';
			echo '<div class="input-group-btn">';
			echo '<a id="bt_resetSearch" class="btn" style="width:30px"><i class="fas fa-times"></i></a>';
			echo '<a class="btn roundedRight hidden" id="bt_pluginDisplayAsTable" data-coreSupport="1" data-state="0"><i class="fas fa-grip-lines"></i></a>';
			echo '</div>';
			echo '</div>';
			foreach ($groups as $group => $definition) {
				if (!isset($byGroup[$group])) {
					continue;
				}
				echo '<legend><i class="' . $definition[1] . '"></i> ' . $definition[0] . ' (' . count($byGroup[$group]) . ')</legend>';
				echo '<div class="eqLogicThumbnailContainer">';
				foreach ($byGroup[$group] as $eqLogic) {
					$opacity = ($eqLogic->getIsEnable()) ? '' : 'disableCard';
					echo '<div class="eqLogicDisplayCard cursor ' . $opacity . '" data-eqLogic_id="' . (int) $eqLogic->getId() . '">';
					echo '<img src="' . enphaseText::html($eqLogic->getImage()) . '"/>';
					echo '<br>';
					echo '<span class="name">' . $eqLogic->getHumanName(true, true) . '</span>';
					echo '<span class="hiddenAsCard displayTableRight hidden">';
					echo '<span class="label label-info">' . enphaseText::html($eqLogic->getLogicalId()) . '</span> ';
					echo ($eqLogic->getIsVisible() == 1) ? '<i class="fas fa-eye" title="{{Equipement visible}}"></i>' : '<i class="fas fa-eye-slash" title="{{Equipement non visible}}"></i>';
					echo '</span>';
					echo '</div>';
				}
				echo '</div>';
			}
		}
		?>
	</div>

	<div class="col-xs-12 eqLogic" style="display: none;">
		<div class="input-group pull-right" style="display:inline-flex;">
			<span class="input-group-btn">
				<!-- The <a> tags close on the next line so that no space separates the buttons. -->
				<a class="btn btn-sm btn-default eqLogicAction roundedLeft" data-action="configure"><i class="fas fa-cogs"></i><span class="hidden-xs"> {{Configuration avancée}}</span>
				</a><a class="btn btn-sm btn-default bt_enphaseSynchronize"><i class="fas fa-sync"></i><span class="hidden-xs"> {{Synchroniser}}</span>
				</a><a class="btn btn-sm btn-success eqLogicAction" data-action="save"><i class="fas fa-check-circle"></i> {{Sauvegarder}}
				</a><a class="btn btn-sm btn-danger eqLogicAction roundedRight" data-action="remove"><i class="fas fa-minus-circle"></i> {{Supprimer}}
				</a>
			</span>
		</div>
		<ul class="nav nav-tabs" role="tablist">
			<li role="presentation"><a href="#" class="eqLogicAction" aria-controls="home" role="tab" data-toggle="tab" data-action="returnToThumbnailDisplay"><i class="fas fa-arrow-circle-left"></i></a></li>
			<li role="presentation" class="active"><a href="#eqlogictab" aria-controls="home" role="tab" data-toggle="tab"><i class="fas fa-tachometer-alt"></i> {{Equipement}}</a></li>
			<li role="presentation"><a href="#commandtab" aria-controls="home" role="tab" data-toggle="tab"><i class="fas fa-list"></i> {{Commandes}}</a></li>
		</ul>
		<div class="tab-content">
			<div role="tabpanel" class="tab-pane active" id="eqlogictab">
				<form class="form-horizontal">
					<fieldset>
						<div class="col-lg-6">
							<legend><i class="fas fa-wrench"></i> {{Paramètres généraux}}</legend>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Nom de l'équipement}}</label>
								<div class="col-sm-6">
									<input type="text" class="eqLogicAttr form-control" data-l1key="id" style="display:none;">
									<input type="text" class="eqLogicAttr form-control" data-l1key="name" placeholder="{{Nom de l'équipement}}">
								</div>
							</div>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Objet parent}}</label>
								<div class="col-sm-6">
									<select id="sel_object" class="eqLogicAttr form-control" data-l1key="object_id">
										<option value="">{{Aucun}}</option>
										<?php
										$options = '';
										foreach ((jeeObject::buildTree(null, false)) as $object) {
											$options .= '<option value="' . (int) $object->getId() . '">' . str_repeat('&nbsp;&nbsp;', (int) $object->getConfiguration('parentNumber')) . enphaseText::html($object->getName()) . '</option>';
										}
										echo $options;
										?>
									</select>
								</div>
							</div>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Catégorie}}</label>
								<div class="col-sm-6">
									<?php
									foreach (jeedom::getConfiguration('eqLogic:category') as $key => $value) {
										echo '<label class="checkbox-inline">';
										echo '<input type="checkbox" class="eqLogicAttr" data-l1key="category" data-l2key="' . $key . '" >' . $value['name'];
										echo '</label>';
									}
									?>
								</div>
							</div>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Options}}</label>
								<div class="col-sm-6">
									<label class="checkbox-inline"><input type="checkbox" class="eqLogicAttr" data-l1key="isEnable" checked>{{Activer}}</label>
									<label class="checkbox-inline"><input type="checkbox" class="eqLogicAttr" data-l1key="isVisible" checked>{{Visible}}</label>
								</div>
							</div>

							<div class="form-group enphaseNotGateway">
								<label class="col-sm-4 control-label">{{Détail}}
									<sup><i class="fas fa-question-circle tooltips" title="{{Tensions et courants AC et DC, fréquence, température et niveau CPL d’un micro-onduleur. Le retirer supprime ces commandes et leur historique.}}"></i></sup>
								</label>
								<div class="col-sm-6">
									<select class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="detail">
										<option value="">{{Comme la configuration du plugin}}</option>
										<option value="1">{{Oui}}</option>
										<option value="0">{{Non}}</option>
									</select>
								</div>
							</div>

							<div class="enphaseGateway">
								<legend><i class="fas fa-broadcast-tower"></i> {{Accès à la passerelle}}</legend>
								<div class="form-group">
									<label class="col-sm-4 control-label">{{Adresse IP ou nom}}
										<sup><i class="fas fa-question-circle tooltips" title="{{L'adresse de l'Envoy / IQ Gateway sur le réseau local, par exemple 192.168.1.21. « demo » lance une passerelle de démonstration.}}"></i></sup>
									</label>
									<div class="col-sm-6">
										<input class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="host" placeholder="192.168.1.21">
									</div>
								</div>
								<div class="form-group enphaseDemo">
									<label class="col-sm-4 control-label">{{Heure de la démonstration}}
										<sup><i class="fas fa-question-circle tooltips" title="{{La passerelle de démonstration joue une journée ensoleillée à partir de cette heure, quelle que soit l'heure qu'il est : de quoi voir le soleil le soir.}}"></i></sup>
									</label>
									<div class="col-sm-6">
										<select class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="demo_hour">
											<option value="">{{13 h, journée ensoleillée (par défaut)}}</option>
											<option value="7">7 h</option>
											<option value="8">8 h</option>
											<option value="9">9 h</option>
											<option value="10">10 h</option>
											<option value="11">11 h</option>
											<option value="12">12 h</option>
											<option value="14">14 h</option>
											<option value="15">15 h</option>
											<option value="16">16 h</option>
											<option value="17">17 h</option>
											<option value="18">18 h</option>
											<option value="19">19 h</option>
											<option value="now">{{L'heure réelle}}</option>
										</select>
									</div>
								</div>
								<div class="form-group">
									<label class="col-sm-4 control-label">{{Accès}}</label>
									<div class="col-sm-6">
										<select class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="auth_method" id="sel_enphaseEqAuthMethod">
											<option value="envoy">{{Firmware antérieur à 7 : mot de passe de la passerelle}}</option>
											<option value="token">{{Firmware 7 ou plus : jeton collé}}</option>
											<option value="enlighten">{{Firmware 7 ou plus : compte Enlighten}}</option>
										</select>
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="envoy">
									<label class="col-sm-4 control-label">{{Accès installateur}}
										<sup><i class="fas fa-question-circle tooltips" title="{{Donne les commandes réservées à l'installateur : autoriser ou couper la production, test de communication CPL. Le mot de passe installateur est calculé depuis le numéro de série si le champ ci-dessous est vide.}}"></i></sup>
									</label>
									<div class="col-sm-6">
										<label class="checkbox-inline"><input type="checkbox" class="eqLogicAttr" data-l1key="configuration" data-l2key="installer" id="cb_enphaseEqInstaller"> {{Se connecter en installateur (firmware antérieur à 7)}}</label>
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="envoy">
									<label class="col-sm-4 control-label">{{Mot de passe de la passerelle}}</label>
									<div class="col-sm-6">
										<input type="password" autocomplete="new-password" class="form-control enphaseEqSecret" data-key="password" data-empty="{{Vide : les 6 derniers caractères du numéro de série}}">
										<label class="checkbox-inline enphaseEqClear"><input type="checkbox" class="enphaseEqClearSecret" data-key="password"> {{Effacer la valeur enregistrée}}</label>
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="token">
									<label class="col-sm-4 control-label">{{Jeton}}</label>
									<div class="col-sm-6">
										<input type="password" autocomplete="new-password" class="form-control enphaseEqSecret" data-key="token" data-empty="{{Collez le jeton ici}}">
										<label class="checkbox-inline enphaseEqClear"><input type="checkbox" class="enphaseEqClearSecret" data-key="token"> {{Effacer la valeur enregistrée}}</label>
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="enlighten">
									<label class="col-sm-4 control-label">{{Identifiant Enlighten}}</label>
									<div class="col-sm-6">
										<input class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="enlighten_username" autocomplete="off" placeholder="nom@exemple.fr">
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="enlighten">
									<label class="col-sm-4 control-label">{{Mot de passe Enlighten}}</label>
									<div class="col-sm-6">
										<input type="password" autocomplete="new-password" class="form-control enphaseEqSecret" data-key="enlighten_password" data-empty="">
										<label class="checkbox-inline enphaseEqClear"><input type="checkbox" class="enphaseEqClearSecret" data-key="enlighten_password"> {{Effacer la valeur enregistrée}}</label>
									</div>
								</div>
								<div class="form-group enphaseEqAuth" data-method="enlighten">
									<label class="col-sm-4 control-label">{{Numéro de série de la passerelle}}</label>
									<div class="col-sm-6">
										<input class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="serial" placeholder="122302045041">
									</div>
								</div>
								<div class="form-group">
									<label class="col-sm-4 control-label">{{Cadences (secondes)}}
										<sup><i class="fas fa-question-circle tooltips" title="{{Générale puis équipements. Vides : celles de la configuration du plugin.}}"></i></sup>
									</label>
									<div class="col-sm-3">
										<input type="number" min="10" class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="general_s" placeholder="<?php echo enphaseText::html(enphaseGateway::defaultCadence('general_s')); ?>">
									</div>
									<div class="col-sm-3">
										<input type="number" min="10" class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="devices_s" placeholder="<?php echo enphaseText::html(enphaseGateway::defaultCadence('devices_s')); ?>">
									</div>
								</div>
								<div class="form-group">
									<label class="col-sm-4 control-label">{{Widget}}</label>
									<div class="col-sm-6">
										<select class="eqLogicAttr form-control" data-l1key="configuration" data-l2key="widget">
											<option value="flow">{{Flux d'énergie (solaire, maison, réseau, batterie)}}</option>
											<option value="standard">{{Standard (une tuile par commande)}}</option>
										</select>
									</div>
								</div>
							</div>
						</div>

						<div class="col-lg-6">
							<legend><i class="fas fa-info"></i> {{Informations}}</legend>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Type d'équipement}}</label>
								<div class="col-sm-6">
									<span class="label label-primary" id="span_enphaseKind"></span>
								</div>
							</div>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Numéro de série}}</label>
								<div class="col-sm-6">
									<span class="label label-info enphaseFact" data-fact="logicalId"></span>
								</div>
							</div>
							<div class="form-group enphaseNotGateway">
								<label class="col-sm-4 control-label">{{Passerelle}}</label>
								<div class="col-sm-6">
									<span class="label label-info enphaseFact" data-fact="gateway_serial"></span>
								</div>
							</div>
							<div class="form-group enphaseGateway">
								<label class="col-sm-4 control-label">{{Firmware}}</label>
								<div class="col-sm-6">
									<span class="label label-info enphaseFact" data-fact="firmware"></span>
								</div>
							</div>
							<div class="form-group enphaseGateway">
								<label class="col-sm-4 control-label">{{Référence}}</label>
								<div class="col-sm-6">
									<span class="label label-info enphaseFact" data-fact="part_number"></span>
								</div>
							</div>
							<div class="form-group enphaseGateway">
								<label class="col-sm-4 control-label">{{État de la passerelle}}</label>
								<div class="col-sm-6" id="div_enphaseStatus"></div>
							</div>
							<div class="form-group enphaseGateway">
								<label class="col-sm-4 control-label">{{Diagnostic}}
									<sup><i class="fas fa-question-circle tooltips" title="{{Enregistre les réponses brutes de la passerelle dans une archive à joindre à une demande d'aide. Numéros de série, adresses, e-mails, jetons et mots de passe en sont retirés.}}"></i></sup>
								</label>
								<div class="col-sm-6">
									<a class="btn btn-sm btn-default" id="bt_enphaseDiagnostics"><i class="fas fa-file-medical"></i> {{Télécharger un rapport de diagnostic}}</a>
								</div>
							</div>
							<div class="form-group">
								<label class="col-sm-4 control-label">{{Description}}</label>
								<div class="col-sm-6">
									<textarea class="form-control eqLogicAttr autogrow" data-l1key="comment"></textarea>
								</div>
							</div>
						</div>
					</fieldset>
				</form>
			</div>

			<div role="tabpanel" class="tab-pane" id="commandtab">
				<br>
				<div class="table-responsive">
					<table id="table_cmd" class="table table-bordered table-condensed">
						<thead>
							<tr>
								<th class="hidden-xs" style="min-width:50px;width:70px;">ID</th>
								<th style="min-width:200px;width:350px;">{{Nom}}</th>
								<th>{{Type}}</th>
								<th style="min-width:260px;">{{Options}}</th>
								<th>{{Etat}}</th>
								<th style="min-width:80px;width:200px;">{{Actions}}</th>
							</tr>
						</thead>
						<tbody>
						</tbody>
					</table>
				</div>
			</div>
		</div>
	</div>
</div>

<?php
$kindLabels = array();
foreach (array('gateway', 'inverter', 'ac_battery', 'encharge', 'meter', 'enpower', 'collar', 'qrelay', 'dry_contact', 'generator') as $kind) {
	$kindLabels[$kind] = enphaseKinds::label($kind, false);
}
sendVarToJS('enphaseKindLabels', $kindLabels);
include_file('desktop', 'enphase', 'js', 'enphase');
include_file('core', 'plugin.template', 'js');
?>
