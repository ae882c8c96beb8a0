"""The grid side of battery sites: the IQ System Controller (Enpower) with its dry contacts and generator,
and the IQ Meter Collar. Each is its own equipment; their commands read the device's own reading."""
import controls
from envoy.endpoints import DRY_CONTACT_MODES, GENERATOR_MODES

from .devices import COMMUNICATING, LAST_REPORT, TEMPERATURE, state_is
from .gateway import PERCENT, select
from .records import Command, Kind, action

_GRID_ON = Command(logical_id="grid_on", fr="Sur le réseau", en="On grid", subtype="binary", historized=True,
                   read=state_is("grid_state", "on-grid"), cadence="devices")
# The states the gateway reports for these devices (admin_state_str), as recorded gateways give them.
_STATUS = Command(logical_id="status", fr="État", en="Status", subtype="string", read=lambda d: d.status,
                  cadence="devices", visible=False, labels=(
                      ("ENPWR_STATE_OPER_CLOSED", "Relais réseau fermé", "Grid relay closed"),
                      ("ENPWR_STATE_OPER_OPEN", "Relais réseau ouvert", "Grid relay open"),
                      ("ENPWR_STATE_OPER_GEN_CLOSE", "Sur le générateur", "On the generator"),
                      ("ENCMN_MDE_ON_GRID", "Sur le réseau", "On grid"),
                      ("ENCMN_MDE_OFF_GRID", "Hors réseau", "Off grid"),
                      ("ENCMN_MDE_ENCHARGE_READY", "Batteries prêtes", "Batteries ready"),
                      ("ENCMN_C6_CC_READY", "Prêt", "Ready"),
                      ("ENCMN_C6_RGM_DEV_CONNECTED", "Connecté", "Connected"),
                      ("ENS_DEVICE_STATE_READY", "Prêt", "Ready")))
# What a dry contact does when the grid goes, when off grid, when the generator runs.
_LOAD_ACTIONS = (("none", "Aucune", "None"), ("apply", "Appliquée", "Applied"), ("shed", "Délestage", "Shed"),
                 ("schedule", "Programmée", "Scheduled"))
DRY_CONTACT_MODE_LABELS = select(DRY_CONTACT_MODES, {"manual": ("Manuel", "Manual"),
                                                     "soc": ("Selon la charge des batteries", "By battery charge")})
GENERATOR_MODE_LABELS = select(GENERATOR_MODES, {"off": ("Arrêt", "Off"), "on": ("Marche", "On"),
                                                 "auto": ("Automatique", "Automatic")})


def _setting(name: str):
    """One field of a device's raw settings object (kept whole to write it back); read_command drops a
    value that does not suit the command's subtype."""
    return lambda device: device.settings.get(name)


def _on_grid_measured(enpower):
    """On the grid when its measured relay (mains_oper_state) is closed. Its grid mode alone can say on-grid
    while that relay is open (8.2.127_with_generator_running): only where the relay is not said."""
    if enpower.mains_oper_state is not None:
        return enpower.mains_oper_state == "closed"
    return None if enpower.grid_state is None else enpower.grid_state == "on-grid"


ENPOWER = Kind(kind="enpower", fr="Contrôleur système IQ", en="IQ System Controller", commands=(
    Command(logical_id="grid_on", fr="Sur le réseau", en="On grid", subtype="binary", historized=True,
            read=_on_grid_measured, cadence="devices"),
    Command(logical_id="grid_mode", fr="Mode réseau", en="Grid mode", subtype="string", read=lambda d: d.grid_mode,
            cadence="devices", labels=(("multimode-ongrid", "Sur le réseau", "On grid"),
                                       ("multimode-offgrid", "Hors réseau (îloté)", "Off grid (islanded)"),
                                       ("grid-tied", "Raccordé au réseau", "Grid-tied"))),
    Command(logical_id="relay_closed", fr="Relais réseau fermé", en="Grid relay closed", subtype="binary",
            read=state_is("mains_admin_state", "closed"), cadence="devices"),
    Command(logical_id="relay_oper_closed", fr="Relais réseau fermé (mesuré)", en="Grid relay closed (actual)",
            subtype="binary", read=state_is("mains_oper_state", "closed"), cadence="devices", visible=False),
    TEMPERATURE,
    COMMUNICATING,
    _STATUS,
    LAST_REPORT,
    action(logical_id="grid_connect", fr="Connecter au réseau", en="Connect to the grid", run=controls.grid(True),
           value="relay_closed"),
    action(logical_id="grid_disconnect", fr="Déconnecter du réseau", en="Disconnect from the grid",
           run=controls.grid(False), value="relay_closed"),
))

COLLAR = Kind(kind="collar", fr="Collier compteur IQ", en="IQ Meter Collar", commands=(
    _GRID_ON,
    Command(logical_id="relay_closed", fr="Relais réseau fermé", en="Grid relay closed", subtype="binary",
            read=lambda d: d.relay_closed, cadence="devices"),
    TEMPERATURE,
    COMMUNICATING,
    _STATUS,
    LAST_REPORT,
))

DRY_CONTACT = Kind(kind="dry_contact", fr="Contact sec", en="Dry contact", commands=(
    Command(logical_id="closed", fr="Fermé", en="Closed", subtype="binary", historized=True,
            read=state_is("status", "closed"), cadence="devices"),
    Command(logical_id="load_name", fr="Charge", en="Load", subtype="string", read=lambda d: d.name,
            cadence="devices"),
    Command(logical_id="type", fr="Type", en="Type", subtype="string", read=lambda d: d.type, cadence="devices",
            visible=False, labels=(("NONE", "Non utilisé", "Not used"), ("LOAD", "Charge", "Load"),
                                   ("PV", "Production", "Production"), ("3RD-PV", "Production tierce",
                                                                        "Third-party production"))),
    Command(logical_id="mode", fr="Mode", en="Mode", subtype="string", read=lambda d: d.mode, cadence="devices",
            labels=DRY_CONTACT_MODE_LABELS),
    Command(logical_id="soc_low", fr="Seuil bas", en="Low threshold", subtype="numeric", unit="%",
            read=_setting("soc_low"), cadence="devices", visible=False),
    Command(logical_id="soc_high", fr="Seuil haut", en="High threshold", subtype="numeric", unit="%",
            read=_setting("soc_high"), cadence="devices", visible=False),
    Command(logical_id="grid_action", fr="Action sur réseau", en="Action on grid", subtype="string",
            read=_setting("grid_action"), cadence="devices", visible=False, labels=_LOAD_ACTIONS),
    Command(logical_id="micro_grid_action", fr="Action hors réseau", en="Action off grid", subtype="string",
            read=_setting("micro_grid_action"), cadence="devices", visible=False, labels=_LOAD_ACTIONS),
    Command(logical_id="gen_action", fr="Action sur générateur", en="Action on generator", subtype="string",
            read=_setting("gen_action"), cadence="devices", visible=False, labels=_LOAD_ACTIONS),
    action(logical_id="close", fr="Fermer", en="Close", run=controls.dry_contact(True), value="closed"),
    action(logical_id="open", fr="Ouvrir", en="Open", run=controls.dry_contact(False), value="closed"),
    action(logical_id="set_mode", fr="Choisir le mode", en="Set mode", run=controls.dry_contact_setting("mode"),
           value="mode", subtype="select", visible=False,
           labels=DRY_CONTACT_MODE_LABELS),
    action(logical_id="set_soc_low", fr="Régler le seuil bas", en="Set low threshold",
           run=controls.dry_contact_setting("soc_low"), value="soc_low", subtype="slider", visible=False, **PERCENT),
    action(logical_id="set_soc_high", fr="Régler le seuil haut", en="Set high threshold",
           run=controls.dry_contact_setting("soc_high"), value="soc_high", subtype="slider", visible=False,
           **PERCENT),
))

GENERATOR = Kind(kind="generator", fr="Générateur", en="Generator", commands=(
    Command(logical_id="running", fr="En marche", en="Running", subtype="binary", historized=True,
            read=lambda g: g.running, cadence="devices"),
    Command(logical_id="mode", fr="Mode", en="Mode", subtype="string", read=lambda g: g.mode, cadence="devices",
            labels=GENERATOR_MODE_LABELS),
    Command(logical_id="relay_state", fr="Relais demandé", en="Relay asked", subtype="string",
            read=lambda g: g.admin_state, cadence="devices", visible=False,
            labels=(("closed", "Fermé", "Closed"), ("open", "Ouvert", "Open"))),
    Command(logical_id="start_percent", fr="Démarrage sous", en="Start below", subtype="numeric", unit="%",
            read=lambda g: g.start_percent, cadence="devices", visible=False),
    Command(logical_id="stop_percent", fr="Arrêt au-dessus de", en="Stop above", subtype="numeric", unit="%",
            read=lambda g: g.stop_percent, cadence="devices", visible=False),
    action(logical_id="set_mode", fr="Choisir le mode", en="Set mode", run=controls.generator_mode, value="mode",
           subtype="select", labels=GENERATOR_MODE_LABELS),
))
