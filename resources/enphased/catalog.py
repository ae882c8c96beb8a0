"""Every equipment kind and its commands, as data: the one place that says what Jeedom shows.

A command's `read` takes the equipment's reading (the whole `Readings` for the gateway, the device's
dataclass for the others) and returns its value, or None when this reading does not have it (then nothing
is published for it, and a sync does not create it). Adding a reading is one `Command(...)` line.
"""
import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import controls
from envoy.endpoints import DRY_CONTACT_MODES, GENERATOR_MODES, STORAGE_MODES
from envoy.readings import Readings


class Command(NamedTuple):
    logical_id: str
    fr: str
    en: str
    subtype: str  # info: numeric | binary | string; action: other | slider | select
    unit: str = ""
    generic: str = "GENERIC_INFO"  # Jeedom generic type
    historized: bool = False
    template: str = ""  # Jeedom dashboard widget; "" = Jeedom's default for the subtype
    read: Optional[Callable[[Any], Any]] = None  # info: the equipment's reading -> value or None
    cadence: str = "general"  # which cadence's readings carry it: "general" (60 s) or "devices" (300 s)
    visible: bool = True
    type: str = "info"
    # Action commands: run(poller, equipment logicalId, value) inside the gateway's worker (controls.py).
    run: Optional[Callable[[Any, str, Any], None]] = None
    min_value: Optional[float] = None
    max_value: Optional[float] = None
    list_value: str = ""  # "a|Label;b|Label" for select
    value: str = ""  # logicalId of the info command this action sets
    # String states: ((value, French label, English label), ...); Jeedom shows the label in its language.
    labels: Tuple[Tuple[str, str, str], ...] = ()


class Kind(NamedTuple):
    kind: str
    fr: str  # equipment name prefix
    en: str
    commands: Tuple[Command, ...]


def _get(obj, *names):
    """obj.a.b... or None as soon as a link is missing."""
    for name in names:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _setting(name: str):
    """One field of a device's raw settings object (kept whole to write it back); read_command drops a
    value that does not suit the command's subtype."""
    return lambda device: device.settings.get(name)


def _count(*groups):
    """Number of devices in the given lists, None when this reading listed none (not read, or none there)."""
    total = sum(len(group) for group in groups)
    return total or None


def _storage_ct(r: Readings):
    storage = r.meters.get("storage")
    return storage if storage is not None and storage.state != "disabled" else None


def _battery_power_w(r: Readings):
    # Positive = discharging, whatever the source. A storage CT measures every battery at once; without
    # one, add the AC Batteries' total (production.json) and the IQ Batteries (ensemble power).
    storage = _storage_ct(r)
    if storage is not None:
        return storage.total.active_power_w
    parts = [_get(r, "ac_battery_total", "watts_now")]
    if r.encharges:
        watts = [e.watts_now for e in r.encharges.values()]
        parts.append(None if None in watts else sum(watts))
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def _battery_state(r: Readings):
    # AC Batteries say it themselves; with IQ Batteries or a storage CT, it follows the power's sign.
    state = _get(r, "ac_battery_total", "state")
    if state and not r.encharges and _storage_ct(r) is None:
        return state
    watts = _battery_power_w(r)
    if watts is None:
        return None
    return "discharging" if watts > 0 else "charging" if watts < 0 else "idle"


def _battery_percent(r: Readings):
    aggregate = _get(r, "battery", "percent_full")
    return aggregate if aggregate is not None else _get(r, "ac_battery_total", "percent_full")


def _action(logical_id: str, fr: str, en: str, run, value: str = "", subtype: str = "other",
            generic: str = "GENERIC_ACTION", cadence: str = "general", **options) -> Command:
    """An action command: `run` lives in controls.py, `value` names the info command showing what it sets."""
    return Command(logical_id, fr, en, subtype, generic=generic, type="action", run=run, value=value,
                   cadence=cadence, **options)


def _state_is(attr: str, wanted: str):
    """Binary: the device's `attr` equals `wanted` (None when the gateway did not say)."""
    return lambda d: None if getattr(d, attr) is None else getattr(d, attr) == wanted


_PERCENT = dict(min_value=0, max_value=100)


def _select(words, labels: Dict[str, str]) -> str:
    """A select's list ("word|Label;..."): the gateway's `words` in their order, each with its label."""
    if set(labels) != set(words):
        raise ValueError(f"labels for {sorted(labels)}, but the gateway's words are {list(words)}")
    return ";".join(f"{word}|{labels[word]}" for word in words)


STORAGE_MODE_LIST = _select(STORAGE_MODES, {"self-consumption": "Autoconsommation (self-consumption)",
                                            "economy": "Économies (savings)",
                                            "backup": "Secours intégral (full backup)"})


def _energy(flow: str, attr: str, label_fr: str, label_en: str, now_generic: str, daily_generic: str,
            total_generic: str) -> List[Command]:
    """The four readings of one energy flow of the site (production, consumption, net)."""
    return [
        Command(f"{flow}_w", f"{label_fr} instantanée", f"Instant {label_en}", "numeric", "W",
                now_generic, True, "core::tile", lambda r: _get(r, attr, "watts_now")),
        Command(f"{flow}_today_wh", f"{label_fr} du jour", f"{label_en.capitalize()} today", "numeric", "Wh",
                daily_generic, True, "core::tile", lambda r: _get(r, attr, "wh_today")),
        Command(f"{flow}_7days_wh", f"{label_fr} 7 jours", f"{label_en.capitalize()} last 7 days", "numeric",
                "Wh", "GENERIC_INFO", False, "core::tile", lambda r: _get(r, attr, "wh_last_7_days")),
        Command(f"{flow}_lifetime_wh", f"{label_fr} totale", f"Lifetime {label_en}", "numeric", "Wh",
                total_generic, True, "core::tile", lambda r: _get(r, attr, "wh_lifetime")),
    ]


def _counted() -> List[Command]:
    """The figures of the day that counters.py counts from the lifetime counters (docs/counters.md). They
    have no `read`: no single reading holds them; the poller adds them to the gateway's values."""
    out = []
    for flow, fr, en, generic in (("production", "Production", "Production", "DAILY_PRODUCTION"),
                                  ("consumption", "Consommation", "Consumption", "DAILY_CONSUMPTION"),
                                  ("grid_import", "Import réseau", "Grid import", "GENERIC_INFO"),
                                  ("grid_export", "Export réseau", "Grid export", "GENERIC_INFO")):
        # The gateway's own "today" is already named "Production du jour": these say where they come from.
        mark_fr, mark_en = (" (compteur)", " (counter)") if flow in ("production", "consumption") else ("", "")
        out += [
            Command(f"{flow}_day_wh", f"{fr} du jour{mark_fr}", f"{en} today{mark_en}", "numeric", "Wh", generic,
                    True, "core::tile"),
            Command(f"{flow}_yesterday_wh", f"{fr} de la veille{mark_fr}", f"{en} yesterday{mark_en}", "numeric",
                    "Wh", "GENERIC_INFO", True, "core::tile"),
        ]
    return out + [
        Command("self_consumption_day_pct", "Taux d'autoconsommation du jour", "Self-consumption today", "numeric",
                "%", "GENERIC_INFO", True, "core::tile"),
        Command("self_sufficiency_day_pct", "Taux d'autoproduction du jour", "Self-sufficiency today", "numeric",
                "%", "GENERIC_INFO", True, "core::tile"),
    ]


COUNTED = _counted()

# The day's production and consumption generic types go to the counted figures (COUNTED), which every
# gateway has and which survive late resets: Jeedom's energy apps must find one command per type.
GATEWAY = Kind("gateway", "Passerelle", "Gateway", tuple(
    _energy("production", "production", "Production", "production",
            "PRODUCTION", "GENERIC_INFO", "PRODUCTION")
    + _energy("consumption", "consumption", "Consommation", "consumption",
              "POWER", "GENERIC_INFO", "CONSUMPTION")
    + _energy("net", "net_consumption", "Consommation nette", "net consumption",
              "POWER", "GENERIC_INFO", "GENERIC_INFO")
    + COUNTED
    + [
        Command("battery_percent", "Charge batteries", "Battery charge", "numeric", "%", "BATTERY", True,
                "core::gauge", _battery_percent),
        Command("battery_power_w", "Puissance batteries", "Battery power", "numeric", "W", "POWER", True,
                "core::tile", _battery_power_w),
        Command("battery_state", "État batteries", "Battery state", "string", "", "GENERIC_INFO", False,
                "core::line", _battery_state, labels=(("charging", "En charge", "Charging"),
                                                      ("discharging", "En décharge", "Discharging"),
                                                      ("idle", "En veille", "Idle"))),
        Command("inverters_count", "Nombre de micro-onduleurs", "Number of microinverters", "numeric", "",
                "GENERIC_INFO", False, "core::line", lambda r: _count(r.inverters), "devices"),
        Command("batteries_count", "Nombre de batteries", "Number of batteries", "numeric", "",
                "GENERIC_INFO", False, "core::line", lambda r: _count(r.ac_batteries, r.encharges), "devices"),
        # Batteries of the site together (/ivp/ensemble/secctrl) and their profile (/admin/lib/tariff).
        Command("battery_available_wh", "Énergie disponible batteries", "Battery available energy", "numeric", "Wh",
                "GENERIC_INFO", True, "core::tile", lambda r: _get(r, "battery", "available_energy_wh")),
        Command("battery_capacity_wh", "Capacité batteries", "Battery capacity", "numeric", "Wh", "GENERIC_INFO",
                False, "core::tile", lambda r: _get(r, "battery", "max_available_capacity_wh"), "general", False),
        Command("battery_reserve_percent", "Réserve batteries appliquée", "Battery reserve in force", "numeric", "%",
                "GENERIC_INFO", False, "core::tile", lambda r: _get(r, "battery", "reserve_percent")),
        Command("battery_backup_wh", "Énergie de secours", "Backup energy", "numeric", "Wh", "GENERIC_INFO", False,
                "core::tile", lambda r: _get(r, "battery", "backup_reserve_wh"), "general", False),
        Command("storage_mode", "Profil batteries", "Battery profile", "string", "", "GENERIC_INFO", False,
                "core::line", lambda r: _get(r, "storage", "mode"), "devices"),
        Command("storage_reserve_percent", "Réserve batteries", "Battery reserve", "numeric", "%", "GENERIC_INFO",
                False, "core::tile", lambda r: _get(r, "storage", "reserve_percent"), "devices"),
        Command("charge_from_grid", "Charge depuis le réseau", "Charge from grid", "binary", "", "GENERIC_INFO",
                False, "core::line", lambda r: _get(r, "storage", "charge_from_grid"), "devices"),
        Command("grid_profile", "Profil réseau", "Grid profile", "string", "", "GENERIC_INFO", False, "core::line",
                lambda r: r.grid_profile, "devices"),
        Command("production_enabled", "Production autorisée", "Production allowed", "binary", "", "GENERIC_INFO",
                False, "core::line", lambda r: r.production_enabled, "devices"),
        _action("set_storage_mode", "Choisir le profil batteries", "Set battery profile", controls.storage_mode,
                "storage_mode", "select", list_value=STORAGE_MODE_LIST),
        _action("set_storage_reserve", "Régler la réserve batteries", "Set battery reserve", controls.storage_reserve,
                "storage_reserve_percent", "slider", **_PERCENT),
        _action("production_on", "Autoriser la production", "Allow production", controls.production(True),
                "production_enabled"),
        _action("production_off", "Couper la production", "Force production off", controls.production(False),
                "production_enabled"),
        _action("plc_check", "Tester la communication CPL", "Check power-line communication", controls.plc_check,
                cadence="devices", visible=False),
        _action("pause", "Suspendre le relevé", "Pause polling", controls.polling(False), visible=False),
        _action("resume", "Reprendre le relevé", "Resume polling", controls.polling(True), visible=False),
    ]
))


# Commands several device kinds share, word for word.
_PROVISIONED = Command("provisioned", "Provisionné", "Provisioned", "binary", "", "GENERIC_INFO", False,
                       "core::line", lambda d: d.provisioned, "devices")
_COMMUNICATING = Command("communicating", "Communique", "Communicating", "binary", "", "GENERIC_INFO", False,
                         "core::line", lambda d: d.communicating, "devices")
_PRODUCING = Command("producing", "Produit", "Producing", "binary", "", "GENERIC_INFO", False, "core::line",
                     lambda d: d.producing, "devices")
_MAX_POWER = Command("max_power_w", "Puissance max", "Max power", "numeric", "W", "GENERIC_INFO", False,
                     "core::tile", lambda d: d.max_watts, "devices")
_TEMPERATURE = Command("temperature_c", "Température", "Temperature", "numeric", "°C", "TEMPERATURE", True,
                       "core::tile", lambda d: d.temperature_c, "devices")
_PLC_LEVEL = Command("plc_level", "Niveau CPL", "PLC level", "numeric", "", "GENERIC_INFO", False, "core::tile",
                     lambda d: d.plc_level, "devices")
_GRID_ON = Command("grid_on", "Sur le réseau", "On grid", "binary", "", "GENERIC_INFO", True, "core::line",
                   _state_is("grid_state", "on-grid"), "devices")
_STATUS = Command("status", "État", "Status", "string", "", "GENERIC_INFO", False, "core::line", lambda d: d.status,
                  "devices", False)
_DEVICE_STATE = [_PROVISIONED, _COMMUNICATING]  # yes/no states from /inventory.json


INVERTER = Kind("inverter", "Micro-onduleur", "Microinverter", tuple(_DEVICE_STATE + [
    _PRODUCING,
    Command("power_w", "Puissance", "Power", "numeric", "W", "PRODUCTION", True, "core::tile",
            lambda d: d.watts_now, "devices"),
    _MAX_POWER,
    # Firmware 8.2+ (/ivp/pdm/device_data) only; absent elsewhere, so never created there.
    Command("energy_today_wh", "Production du jour", "Production today", "numeric", "Wh", "DAILY_PRODUCTION",
            True, "core::tile", lambda d: d.energy_today_wh, "devices"),
    Command("lifetime_wh", "Production totale", "Lifetime production", "numeric", "Wh", "GENERIC_INFO",
            False, "core::tile", lambda d: d.lifetime_wh, "devices", False),
    Command("ac_voltage_v", "Tension AC", "AC voltage", "numeric", "V", "VOLTAGE", True, "core::tile",
            lambda d: d.ac_voltage_v, "devices", False),
    Command("dc_voltage_v", "Tension DC", "DC voltage", "numeric", "V", "VOLTAGE", False, "core::tile",
            lambda d: d.dc_voltage_v, "devices", False),
    Command("dc_current_a", "Courant DC", "DC current", "numeric", "A", "GENERIC_INFO", False, "core::tile",
            lambda d: d.dc_current_a, "devices", False),
    Command("temperature_c", "Température", "Temperature", "numeric", "°C", "TEMPERATURE", True, "core::tile",
            lambda d: d.temperature_c, "devices", False),
    # Microinverter details of firmware 8.2+, and the power-line level an installer's check gives.
    Command("ac_current_a", "Courant AC", "AC current", "numeric", "A", "GENERIC_INFO", False, "core::tile",
            lambda d: d.ac_current_a, "devices", False),
    Command("ac_frequency_hz", "Fréquence AC", "AC frequency", "numeric", "Hz", "GENERIC_INFO", False,
            "core::tile", lambda d: d.ac_frequency_hz, "devices", False),
    _PLC_LEVEL,
]))

AC_BATTERY = Kind("ac_battery", "Batterie AC", "AC Battery", tuple(_DEVICE_STATE + [
    _PRODUCING,
    Command("power_w", "Puissance", "Power", "numeric", "W", "POWER", True, "core::tile",
            lambda d: d.watts_now, "devices"),
    _MAX_POWER,
    Command("percent", "Charge", "Charge", "numeric", "%", "BATTERY", True, "core::gauge",
            lambda d: d.percent_full, "devices"),
    Command("max_temperature_c", "Température max", "Max temperature", "numeric", "°C", "TEMPERATURE", True,
            "core::tile", lambda d: d.max_cell_temp_c, "devices"),
    _PLC_LEVEL,
]))

_ENCHARGE_STATES = (
    ("ENCHG_STATE_READY", "Prête", "Ready"),
    ("ENCHG_STATE_IDLE", "En veille", "Idle"),
    ("ENCHG_STATE_CHARGING", "En charge", "Charging"),
    ("ENCHG_STATE_DISCHARGING", "En décharge", "Discharging"),
    ("ENCHG_STATE_SLEEP", "En sommeil", "Asleep"),
    ("ENCHG_STATE_FAULT", "En défaut", "Fault"),
)

ENCHARGE = Kind("encharge", "Batterie IQ", "IQ Battery", tuple(_DEVICE_STATE + [
    Command("operating", "En service", "Operating", "binary", "", "GENERIC_INFO", False, "core::line",
            lambda d: d.operating, "devices"),
    Command("power_w", "Puissance", "Power", "numeric", "W", "POWER", True, "core::tile",
            lambda d: d.watts_now, "devices"),
    Command("apparent_power_va", "Puissance apparente", "Apparent power", "numeric", "VA", "GENERIC_INFO",
            False, "core::tile", lambda d: d.apparent_power_va, "devices", False),
    Command("percent", "Charge", "Charge", "numeric", "%", "BATTERY", True, "core::gauge",
            lambda d: d.percent_full, "devices"),
    _TEMPERATURE,
    Command("max_temperature_c", "Température max", "Max temperature", "numeric", "°C", "TEMPERATURE",
            False, "core::tile", lambda d: d.max_cell_temp_c, "devices"),
    Command("capacity_wh", "Capacité", "Capacity", "numeric", "Wh", "GENERIC_INFO", False, "core::tile",
            lambda d: d.capacity_wh, "devices", False),
    Command("status", "État", "Status", "string", "", "GENERIC_INFO", False, "core::line",
            lambda d: d.status, "devices", labels=_ENCHARGE_STATES),
    Command("dc_switch_off", "Interrupteur DC ouvert", "DC switch off", "binary", "", "GENERIC_INFO", False,
            "core::line", lambda d: d.dc_switch_off, "devices"),
]))


def _phase(index: int, name: str):
    return lambda m: _get(m.phases[index], name) if len(m.phases) > index else None


METER = Kind("meter", "Compteur", "CT meter", tuple([
    Command("power_w", "Puissance", "Power", "numeric", "W", "POWER", True, "core::tile",
            lambda m: m.total.active_power_w),
    Command("voltage_v", "Tension", "Voltage", "numeric", "V", "VOLTAGE", True, "core::tile",
            lambda m: m.total.voltage_v),
    Command("current_a", "Courant", "Current", "numeric", "A", "GENERIC_INFO", False, "core::tile",
            lambda m: m.total.current_a),
    Command("energy_delivered_wh", "Énergie délivrée", "Energy delivered", "numeric", "Wh", "CONSUMPTION",
            True, "core::tile", lambda m: m.total.energy_delivered_wh),
    Command("energy_received_wh", "Énergie reçue", "Energy received", "numeric", "Wh", "GENERIC_INFO", True,
            "core::tile", lambda m: m.total.energy_received_wh),
    Command("apparent_power_va", "Puissance apparente", "Apparent power", "numeric", "VA", "GENERIC_INFO",
            False, "core::tile", lambda m: m.total.apparent_power_va, visible=False),
    Command("reactive_power_var", "Puissance réactive", "Reactive power", "numeric", "var", "GENERIC_INFO",
            False, "core::tile", lambda m: m.total.reactive_power_var, visible=False),
    Command("power_factor", "Facteur de puissance", "Power factor", "numeric", "", "GENERIC_INFO", False,
            "core::tile", lambda m: m.total.power_factor, visible=False),
    Command("frequency_hz", "Fréquence", "Frequency", "numeric", "Hz", "GENERIC_INFO", False, "core::tile",
            lambda m: m.total.frequency_hz, visible=False),
    Command("state", "État", "State", "string", "", "GENERIC_INFO", False, "core::line", lambda m: m.state,
            visible=False, labels=(("enabled", "Activé", "Enabled"), ("disabled", "Désactivé", "Disabled"))),
] + [
    Command(f"l{i + 1}_{key}", f"{fr} L{i + 1}", f"{en} L{i + 1}", "numeric", unit, generic, False, "core::tile",
            _phase(i, attr), visible=False)
    for i in range(3)
    for key, fr, en, unit, generic, attr in (
        ("power_w", "Puissance", "Power", "W", "POWER", "active_power_w"),
        ("voltage_v", "Tension", "Voltage", "V", "VOLTAGE", "voltage_v"),
        ("current_a", "Courant", "Current", "A", "GENERIC_INFO", "current_a"),
    )
] + [
    # Power factor and frequency per phase, for production, net and storage CTs alike.
    Command(f"l{i + 1}_{key}", f"{fr} L{i + 1}", f"{en} L{i + 1}", "numeric", unit, "GENERIC_INFO", False,
            "core::tile", _phase(i, attr), visible=False)
    for i in range(3)
    for key, fr, en, unit, attr in (
        ("power_factor", "Facteur de puissance", "Power factor", "", "power_factor"),
        ("frequency_hz", "Fréquence", "Frequency", "Hz", "frequency_hz"),
    )
]))


ENPOWER = Kind("enpower", "Contrôleur système IQ", "IQ System Controller", (
    _GRID_ON,
    Command("grid_mode", "Mode réseau", "Grid mode", "string", "", "GENERIC_INFO", False, "core::line",
            lambda d: d.grid_mode, "devices"),
    Command("relay_closed", "Relais réseau fermé", "Grid relay closed", "binary", "", "GENERIC_INFO", False,
            "core::line", _state_is("mains_admin_state", "closed"), "devices"),
    Command("relay_oper_closed", "Relais réseau fermé (mesuré)", "Grid relay closed (actual)", "binary", "",
            "GENERIC_INFO", False, "core::line", _state_is("mains_oper_state", "closed"), "devices", False),
    _TEMPERATURE,
    _COMMUNICATING,
    _STATUS,
    _action("grid_connect", "Connecter au réseau", "Connect to the grid", controls.grid(True), "relay_closed"),
    _action("grid_disconnect", "Déconnecter du réseau", "Disconnect from the grid", controls.grid(False),
            "relay_closed"),
))

COLLAR = Kind("collar", "Collier compteur IQ", "IQ Meter Collar", (
    _GRID_ON,
    Command("relay_closed", "Relais réseau fermé", "Grid relay closed", "binary", "", "GENERIC_INFO", False,
            "core::line", lambda d: d.relay_closed, "devices"),
    _TEMPERATURE,
    _COMMUNICATING,
    _STATUS,
))

QRELAY = Kind("qrelay", "Q-Relay", "Q-Relay", tuple([
    Command("relay_closed", "Relais fermé", "Relay closed", "binary", "", "GENERIC_INFO", True, "core::line",
            _state_is("relay_state", "closed"), "devices"),
] + [
    Command(f"l{i + 1}_connected", f"Phase L{i + 1} connectée", f"Line L{i + 1} connected", "binary", "",
            "GENERIC_INFO", False, "core::line",
            (lambda i: lambda d: d.line_states[i] if len(d.line_states) > i else None)(i), "devices", False)
    for i in range(3)
] + _DEVICE_STATE + [
    Command("operating", "En service", "Operating", "binary", "", "GENERIC_INFO", False, "core::line",
            lambda d: d.operating, "devices"),
    _PLC_LEVEL,
]))

DRY_CONTACT = Kind("dry_contact", "Contact sec", "Dry contact", (
    Command("closed", "Fermé", "Closed", "binary", "", "GENERIC_INFO", True, "core::line",
            _state_is("status", "closed"), "devices"),
    Command("load_name", "Charge", "Load", "string", "", "GENERIC_INFO", False, "core::line",
            lambda d: d.name, "devices"),
    Command("type", "Type", "Type", "string", "", "GENERIC_INFO", False, "core::line", lambda d: d.type,
            "devices", False),
    Command("mode", "Mode", "Mode", "string", "", "GENERIC_INFO", False, "core::line", lambda d: d.mode, "devices"),
    Command("soc_low", "Seuil bas", "Low threshold", "numeric", "%", "GENERIC_INFO", False, "core::tile",
            _setting("soc_low"), "devices", False),
    Command("soc_high", "Seuil haut", "High threshold", "numeric", "%", "GENERIC_INFO", False, "core::tile",
            _setting("soc_high"), "devices", False),
    Command("grid_action", "Action sur réseau", "Action on grid", "string", "", "GENERIC_INFO", False,
            "core::line", _setting("grid_action"), "devices", False),
    Command("micro_grid_action", "Action hors réseau", "Action off grid", "string", "", "GENERIC_INFO", False,
            "core::line", _setting("micro_grid_action"), "devices", False),
    Command("gen_action", "Action sur générateur", "Action on generator", "string", "", "GENERIC_INFO", False,
            "core::line", _setting("gen_action"), "devices", False),
    _action("close", "Fermer", "Close", controls.dry_contact(True), "closed"),
    _action("open", "Ouvrir", "Open", controls.dry_contact(False), "closed"),
    _action("set_mode", "Choisir le mode", "Set mode", controls.dry_contact_setting("mode"), "mode", "select",
            list_value=_select(DRY_CONTACT_MODES, {"manual": "Manuel (manual)",
                                                "soc": "Selon la charge batteries (battery charge)"}), visible=False),
    _action("set_soc_low", "Régler le seuil bas", "Set low threshold", controls.dry_contact_setting("soc_low"),
            "soc_low", "slider", visible=False, **_PERCENT),
    _action("set_soc_high", "Régler le seuil haut", "Set high threshold", controls.dry_contact_setting("soc_high"),
            "soc_high", "slider", visible=False, **_PERCENT),
))

GENERATOR = Kind("generator", "Générateur", "Generator", (
    Command("running", "En marche", "Running", "binary", "", "GENERIC_INFO", True, "core::line",
            lambda g: g.running, "devices"),
    Command("mode", "Mode", "Mode", "string", "", "GENERIC_INFO", False, "core::line", lambda g: g.mode, "devices"),
    Command("relay_state", "Relais demandé", "Relay asked", "string", "", "GENERIC_INFO", False, "core::line",
            lambda g: g.admin_state, "devices", False),
    Command("start_percent", "Démarrage sous", "Start below", "numeric", "%", "GENERIC_INFO", False, "core::tile",
            lambda g: g.start_percent, "devices", False),
    Command("stop_percent", "Arrêt au-dessus de", "Stop above", "numeric", "%", "GENERIC_INFO", False,
            "core::tile", lambda g: g.stop_percent, "devices", False),
    _action("set_mode", "Choisir le mode", "Set mode", controls.generator_mode, "mode", "select",
            list_value=_select(GENERATOR_MODES, {"off": "Arrêt (off)", "on": "Marche (on)",
                                              "auto": "Automatique (auto)"})),
))

KINDS = {k.kind: k for k in (GATEWAY, INVERTER, AC_BATTERY, ENCHARGE, METER, ENPOWER, COLLAR, QRELAY,
                             DRY_CONTACT, GENERATOR)}

_METER_NAMES = {
    "production": ("production", "production"),
    "net-consumption": ("consommation nette", "net consumption"),
    "total-consumption": ("consommation totale", "total consumption"),
    "storage": ("stockage", "storage"),
}


class Equipment(NamedTuple):
    kind: Kind
    logical_id: str
    fr: str
    en: str
    reading: Any  # what the kind's commands read


def equipments(r: Readings) -> List[Equipment]:
    """The gateway and every device this reading lists, each with what its commands read."""
    serial = r.gateway.serial
    found = [Equipment(GATEWAY, serial, f"Passerelle {serial}", f"Gateway {serial}", r)]
    for kind, devices in ((INVERTER, r.inverters), (AC_BATTERY, r.ac_batteries), (ENCHARGE, r.encharges)):
        found += [Equipment(kind, s, f"{kind.fr} {s}", f"{kind.en} {s}", d) for s, d in sorted(devices.items())]
    for measurement, meter in sorted(r.meters.items()):
        fr, en = _METER_NAMES.get(measurement, (measurement, measurement))
        found.append(Equipment(METER, f"{serial}_meter_{measurement}", f"Compteur {fr} {serial}",
                               f"CT meter {en} {serial}", meter))
    if r.enpower is not None:
        s = r.enpower.serial
        found.append(Equipment(ENPOWER, s, f"{ENPOWER.fr} {s}", f"{ENPOWER.en} {s}", r.enpower))
    if r.collar is not None:
        s = r.collar.serial
        found.append(Equipment(COLLAR, s, f"{COLLAR.fr} {s}", f"{COLLAR.en} {s}", r.collar))
    found += [Equipment(QRELAY, s, f"Q-Relay {s}", f"Q-Relay {s}", d) for s, d in sorted(r.qrelays.items())]
    # Dry contacts and the generator hang on the IQ System Controller, but each is its own equipment: each
    # drives its own load or machine, which the user puts in its own room and uses in its own scenarios.
    if r.enpower is not None:
        found += [Equipment(DRY_CONTACT, f"{serial}_dry_contact_{c}", f"Contact sec {c} {serial}",
                            f"Dry contact {c} {serial}", d) for c, d in sorted(r.dry_contacts.items())]
    if r.generator is not None:
        found.append(Equipment(GENERATOR, f"{serial}_generator", f"Générateur {serial}", f"Generator {serial}",
                               r.generator))
    return found


# Decimals worth showing per unit: the gateway's own resolution, without float noise (Jeedom turns
# 7007.282 Wh into "7.007282 kWh" otherwise). Units not listed keep 3 decimals.
_DECIMALS = {"W": 0, "Wh": 0, "VA": 0, "var": 0, "%": 0, "V": 1, "°C": 1, "A": 2, "Hz": 2}


def _json_value(value, unit: str = ""):
    """Jeedom-friendly value: binary as 1/0, numbers rounded to their unit's resolution."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        value = round(value, _DECIMALS.get(unit, 3))
        return int(value) if value.is_integer() else value
    return value


def read_command(command: Command, reading) -> Any:
    """A command's value from its equipment's reading; None when absent or when the reading is odd."""
    if command.read is None:
        return None
    try:
        value = command.read(reading)
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None  # a reading shaped differently than expected: publish nothing rather than stop
    if value is None or not _fits(command.subtype, value):
        return None  # e.g. a number where a settings object should hold a word: Jeedom gets nothing odd
    return _json_value(value, command.unit)


def _fits(subtype: str, value) -> bool:
    """Does a value suit the command's subtype (what Jeedom stores and shows)?"""
    if subtype == "numeric":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if subtype == "binary":
        return isinstance(value, bool) or value in (0, 1)
    if subtype == "string":
        return isinstance(value, str)
    return True


def equipment_values(eq: Equipment) -> Dict[str, Any]:
    """{command logicalId: value} of one equipment, for the commands its reading has."""
    out = {}
    for command in eq.kind.commands:
        value = read_command(command, eq.reading)
        if value is not None:
            out[command.logical_id] = value
    return out


def values(r: Readings) -> Dict[str, Dict[str, Any]]:
    """{equipment logicalId: {command logicalId: value}} for everything this reading has."""
    out = {}
    for eq in equipments(r):
        found = equipment_values(eq)
        if found:
            out[eq.logical_id] = found
    return out


def present_commands(kind: Kind, info_ids) -> List[str]:
    """Commands worth creating: the info commands that have a value (`info_ids`), and the action commands
    whose info command is there (or that set none)."""
    return [c.logical_id for c in kind.commands
            if c.logical_id in info_ids or (c.type == "action" and (not c.value or c.value in info_ids))]


def describe_command(command: Command, order: int) -> Dict[str, Any]:
    """One command as the protocol's inventory lists it."""
    out = {"logicalId": command.logical_id, "name": {"fr_FR": command.fr, "en_US": command.en},
           "type": command.type, "subType": command.subtype, "unit": command.unit,
           "genericType": command.generic, "isHistorized": int(command.historized),
           "template": command.template, "order": order, "isVisible": int(command.visible)}
    if command.labels:
        out["valueLabels"] = {value: {"fr_FR": fr, "en_US": en} for value, fr, en in command.labels}
    if command.type == "action":
        for key, value in (("minValue", command.min_value), ("maxValue", command.max_value),
                           ("listValue", command.list_value), ("value", command.value)):
            if value not in (None, ""):
                out[key] = value
    return out


def describe_equipment(kind: Kind, logical_id: str, fr: str, en: str, command_ids,
                       configuration=None) -> Dict[str, Any]:
    """One equipment of an inventory, with those of its kind's commands named in `command_ids`."""
    commands = [describe_command(c, order) for order, c in enumerate(kind.commands) if c.logical_id in command_ids]
    return {"logicalId": logical_id, "kind": kind.kind, "name": {"fr_FR": fr, "en_US": en},
            "configuration": configuration or {}, "commands": commands}


def find_command(kind: str, logical_id: str) -> Optional[Command]:
    for command in KINDS[kind].commands if kind in KINDS else ():
        if command.logical_id == logical_id:
            return command
    return None
