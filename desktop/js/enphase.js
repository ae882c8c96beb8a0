/* This file is part of the enphase plugin for Jeedom.
 *
 * This program is free software: you can redistribute it and/or modify it under the terms of the GNU Affero
 * General Public License as published by the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 */

/* One action of the plugin's ajax page; `onOk` gets the result, a refusal is shown as the page's alert. */
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

/*
 * Synchronize: the daemon probes the gateway and Jeedom creates what it found. The request is answered at once;
 * the job goes on in the background and the page shows how far it got, every second, until its report.
 * From an equipment's page, only that equipment's gateway; from the list, every gateway.
 */
function enphaseSynchronize(_event) {
  const inEquipment = _event && _event.currentTarget && _event.currentTarget.closest('.eqLogic') !== null
  const id = inEquipment ? document.querySelector('.eqLogicAttr[data-l1key="id"]').jeeValue() : ''
  enphaseAjax({ action: 'synchronize', id: id }, function(job) {
    enphaseFollowSync(id, job)
  })
}

function enphaseFollowSync(_id, _job) {
  if (_job.done) {
    jeedomUtils.hideAlert()
    jeeDialog.alert(enphaseEscape(_job.message), function() {
      jeedomUtils.loadPage('index.php?v=d&m=enphase&p=enphase' + (_id != '' ? '&id=' + _id : ''))
    })
    return
  }
  jeedomUtils.showAlert({ message: enphaseEscape(_job.message), level: 'warning' })
  setTimeout(function() {
    enphaseAjax({ action: 'syncProgress', id: _id, job: _job.job }, function(job) {
      enphaseFollowSync(_id, job)
    })
  }, 1000)
}

document.querySelectorAll('.bt_enphaseSynchronize').forEach(function(button) {
  button.addEventListener('click', enphaseSynchronize)
})

/*
 * Diagnostics: the daemon records every answer of the gateway, redacted; the answer names a one-time download
 * (core/php/enphaseDiagnostics.php) that the browser saves. A real URL, not a blob: Jeedom's one-page loader
 * takes every link clicked in the page for a page to load, except those marked noOnePageLoad.
 */
function enphaseDiagnostics() {
  const id = document.querySelector('.eqLogicAttr[data-l1key="id"]').value
  jeedomUtils.showAlert({ message: '{{Rapport de diagnostic en cours : la passerelle est interrogée point par point, cela peut prendre quelques minutes...}}', level: 'warning' })
  enphaseAjax({ action: 'diagnostics', id: id }, function(result) {
    const link = document.createElement('a')
    link.href = result.url
    link.download = result.name
    link.classList.add('noOnePageLoad')
    document.body.appendChild(link)
    link.click()
    link.remove()
    jeedomUtils.showAlert({ message: '{{Rapport prêt : votre navigateur l’enregistre ; joignez-le à votre message sur le forum}}', level: 'success' })
  })
}

document.getElementById('bt_enphaseDiagnostics').addEventListener('click', enphaseDiagnostics)

/* Commands come from the daemon's catalog: their type is fixed, their display is the user's. */
if (typeof jQuery === 'function' && typeof $.fn.sortable === 'function') {
  $('#table_cmd').sortable({ axis: 'y', cursor: 'move', items: '.cmd', placeholder: 'ui-state-highlight', tolerance: 'intersect', forcePlaceholderSize: true })
}

function addCmdToTable(_cmd) {
  if (!isset(_cmd)) {
    var _cmd = { configuration: {} }
  }
  if (!isset(_cmd.configuration)) {
    _cmd.configuration = {}
  }
  let tr = '<td class="hidden-xs"><span class="cmdAttr" data-l1key="id"></span></td>'
  tr += '<td>'
  tr += '<div class="input-group">'
  tr += '<input class="cmdAttr form-control input-sm roundedLeft" data-l1key="name" placeholder="{{Nom de la commande}}">'
  tr += '<span class="input-group-btn"><a class="cmdAction btn btn-sm btn-default" data-l1key="chooseIcon" title="{{Choisir une icône}}"><i class="fas fa-icons"></i></a></span>'
  tr += '<span class="cmdAttr input-group-addon roundedRight" data-l1key="display" data-l2key="icon" style="font-size:19px;padding:0 5px 0 0!important;"></span>'
  tr += '</div>'
  tr += '<select class="cmdAttr form-control input-sm" data-l1key="value" style="display:none;margin-top:5px;" title="{{Commande info liée}}">'
  tr += '<option value="">{{Aucune}}</option>'
  tr += '</select>'
  tr += '</td>'
  tr += '<td>'
  tr += '<span class="type" type="' + enphaseEscape(init(_cmd.type)) + '">' + jeedom.cmd.availableType() + '</span>'
  tr += '<span class="subType" subType="' + enphaseEscape(init(_cmd.subType)) + '"></span>'
  tr += '<span class="cmdAttr label label-default" data-l1key="logicalId" title="{{Identifiant logique}}"></span>'
  tr += '</td>'
  tr += '<td>'
  tr += '<label class="checkbox-inline"><input type="checkbox" class="cmdAttr" data-l1key="isVisible" checked/>{{Afficher}}</label> '
  tr += '<label class="checkbox-inline"><input type="checkbox" class="cmdAttr" data-l1key="isHistorized" checked/>{{Historiser}}</label> '
  tr += '<label class="checkbox-inline"><input type="checkbox" class="cmdAttr" data-l1key="display" data-l2key="invertBinary"/>{{Inverser}}</label> '
  tr += '<div style="margin-top:7px;">'
  tr += '<input class="tooltips cmdAttr form-control input-sm" data-l1key="configuration" data-l2key="minValue" placeholder="{{Min}}" title="{{Min}}" style="width:30%;max-width:80px;display:inline-block;margin-right:2px;">'
  tr += '<input class="tooltips cmdAttr form-control input-sm" data-l1key="configuration" data-l2key="maxValue" placeholder="{{Max}}" title="{{Max}}" style="width:30%;max-width:80px;display:inline-block;margin-right:2px;">'
  tr += '<input class="tooltips cmdAttr form-control input-sm" data-l1key="unite" placeholder="{{Unité}}" title="{{Unité}}" style="width:30%;max-width:80px;display:inline-block;margin-right:2px;">'
  tr += '</div>'
  tr += '</td>'
  tr += '<td><span class="cmdAttr" data-l1key="htmlstate"></span></td>'
  tr += '<td>'
  if (is_numeric(_cmd.id)) {
    tr += '<a class="btn btn-default btn-xs cmdAction" data-action="configure"><i class="fas fa-cogs"></i></a> '
    tr += '<a class="btn btn-default btn-xs cmdAction" data-action="test"><i class="fas fa-rss"></i> {{Tester}}</a>'
  }
  tr += '<i class="fas fa-minus-circle pull-right cmdAction cursor" data-action="remove" title="{{Supprimer la commande (la synchronisation la recrée)}}"></i>'
  tr += '</td>'

  let newRow = document.createElement('tr')
  newRow.innerHTML = tr
  newRow.classList.add('cmd')
  newRow.setAttribute('data-cmd_id', init(_cmd.id))
  document.getElementById('table_cmd').querySelector('tbody').appendChild(newRow)
  // The type of a command is the daemon's: shown, not editable.
  newRow.querySelectorAll('.type select, .subType select').forEach(function(select) { select.disabled = true })

  jeedom.eqLogic.buildSelectCmd({
    id: document.querySelector('.eqLogicAttr[data-l1key="id"]').jeeValue(),
    filter: { type: 'info' },
    error: function(error) {
      jeedomUtils.showAlert({ message: error.message, level: 'danger' })
    },
    success: function(result) {
      newRow.querySelector('.cmdAttr[data-l1key="value"]').insertAdjacentHTML('beforeend', result)
      newRow.setJeeValues(_cmd, '.cmdAttr')
      jeedom.cmd.changeType(newRow, init(_cmd.subType))
      newRow.querySelectorAll('.type select, .subType select').forEach(function(select) { select.disabled = true })
    }
  })
}

/* A gateway's access: only the fields of the chosen method. */
function enphaseShowEqAuthFields() {
  const method = document.getElementById('sel_enphaseEqAuthMethod').value || 'envoy'
  document.querySelectorAll('.enphaseEqAuth').forEach(function(group) {
    group.getAttribute('data-method') == method ? group.seen() : group.unseen()
  })
  // Firmware < 7: an empty password means the factory one, the envoy user's or the installer's.
  const password = document.querySelector('.enphaseEqSecret[data-key="password"]')
  const installer = document.getElementById('cb_enphaseEqInstaller')
  if (password && installer && password.getAttribute('placeholder') != '{{Enregistré : laissez vide pour le garder}}') {
    password.setAttribute('placeholder', installer.checked ? '{{Vide : le mot de passe installateur calculé depuis le numéro de série}}' : password.getAttribute('data-empty'))
  }
}
document.getElementById('sel_enphaseEqAuthMethod')?.addEventListener('change', enphaseShowEqAuthFields)

/* The demo gateway's hour: only for the address "demo". */
function enphaseShowDemoFields() {
  const host = document.querySelector('.eqLogicAttr[data-l2key="host"]')
  const demo = host && host.value.trim().toLowerCase() == 'demo'
  document.querySelectorAll('.enphaseDemo').forEach(function(group) { demo ? group.seen() : group.unseen() })
}
document.querySelector('.eqLogicAttr[data-l2key="host"]')?.addEventListener('input', enphaseShowDemoFields)
document.getElementById('cb_enphaseEqInstaller')?.addEventListener('change', enphaseShowEqAuthFields)

/* What the page shows of a secret once set (never its value): see enphase::SECRET_MASK. */
var ENPHASE_SECRET_MASK = '********'

/*
 * Secrets are typed into fields the core does not fill: an empty field keeps the stored value, a ticked box
 * forgets it. Called by the core before it saves the equipment.
 */
function saveEqLogic(_eqLogic) {
  if (!_eqLogic.configuration) {
    _eqLogic.configuration = {}
  }
  document.querySelectorAll('.enphaseEqSecret').forEach(function(input) {
    if (input.value != '') {
      _eqLogic.configuration[input.getAttribute('data-key')] = input.value
    }
  })
  document.querySelectorAll('.enphaseEqClearSecret').forEach(function(input) {
    if (input.checked) {
      _eqLogic.configuration[input.getAttribute('data-key')] = ''
    }
  })
  return _eqLogic
}

/* The equipment tab: kind, and for a gateway its access, its widget and its last known status. */
function printEqLogic(_eqLogic) {
  const configuration = _eqLogic.configuration || {}
  const kind = configuration.kind || ''
  const isGateway = (kind == 'gateway')
  document.getElementById('span_enphaseKind').textContent = enphaseKindLabels[kind] || kind
  // What the gateway said of itself, as text: the core fills an eqLogicAttr span with innerHTML.
  document.querySelectorAll('.enphaseFact').forEach(function(span) {
    const key = span.getAttribute('data-fact')
    span.textContent = (key == 'logicalId' ? _eqLogic.logicalId : configuration[key]) || ''
  })
  document.querySelectorAll('.enphaseGateway').forEach(function(el) { isGateway ? el.seen() : el.unseen() })
  document.querySelectorAll('.enphaseNotGateway').forEach(function(el) { isGateway ? el.unseen() : el.seen() })
  if (isGateway && !configuration.widget) {
    document.querySelector('.eqLogicAttr[data-l2key="widget"]').value = 'flow'
  }
  if (isGateway && !configuration.auth_method) {
    document.getElementById('sel_enphaseEqAuthMethod').value = 'envoy'
  }
  document.querySelectorAll('.enphaseEqSecret').forEach(function(input) {
    const stored = configuration[input.getAttribute('data-key')] === ENPHASE_SECRET_MASK
    input.value = ''
    input.setAttribute('placeholder', stored ? '{{Enregistré : laissez vide pour le garder}}' : input.getAttribute('data-empty'))
    const clear = input.parentNode.querySelector('.enphaseEqClear')
    clear.querySelector('input').checked = false
    stored ? clear.seen() : clear.unseen()
  })
  enphaseShowEqAuthFields()
  enphaseShowDemoFields()
  const container = document.getElementById('div_enphaseStatus')
  container.empty()
  if (!isGateway) {
    return
  }
  // What is true now, said by PHP (enphaseEvents::state): daemon stopped, credentials refused, unreachable since...
  const state = _eqLogic.enphase_state || { level: 'warning', text: '{{Pas encore de nouvelles du démon}}' }
  const level = ['success', 'warning', 'danger'].includes(state.level) ? state.level : 'default'
  const lines = ['<span class="label label-' + level + '">' + enphaseEscape(state.text) + '</span>']
  const status = configuration.status || {}
  if (_eqLogic.enphase_auth) {
    lines.push('{{Authentification}} : ' + enphaseEscape(_eqLogic.enphase_auth))
  }
  if (status.last_success) {
    lines.push('{{Dernière lecture réussie}} : ' + new Date(status.last_success * 1000).toLocaleString())
  }
  if (status.token_expires) {
    lines.push('{{Expiration du jeton}} : ' + new Date(status.token_expires * 1000).toLocaleDateString())
  }
  if (status.problem) {
    lines.push('<span class="text-danger">' + enphaseEscape(status.problem) + '</span>')
  }
  container.innerHTML = lines.join('<br>')
}

/* Text placed in HTML built as a string, as an element's text or an attribute's value: never markup. */
function enphaseEscape(_text) {
  return String(_text).replace(/[&<>"']/g, function(c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]
  })
}
