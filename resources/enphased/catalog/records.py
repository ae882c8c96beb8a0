"""The records the catalog is made of, and how Jeedom gets them: a Command is one Jeedom command of an
equipment kind, a Kind the commands of one kind of equipment, an Equipment one equipment of a site with the
reading its commands read. Records are frozen and built by keyword only (Home Assistant's entity
descriptions are the model), so nobody counts positions.
"""
import functools
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, NamedTuple, Optional, Set, Tuple

log = logging.getLogger("enphased.catalog")

from envoy.text import free_text


def keyword_only(cls):
    """A dataclass built by keyword only (Python 3.9 has no dataclass(kw_only=True))."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, **fields):
        init(self, **fields)
    cls.__init__ = __init__
    return cls


class Range(NamedTuple):
    low: float
    high: float


# What each quantity of an Enphase site can read, with a wide margin: a value outside its range is a glitch or a
# hostile answer (1e15 W), dropped by read_command and logged once, never published. A command's quantity is its
# unit's (UNIT_QUANTITIES) unless it names one. counters.py bounds how fast a site's energy counters can rise by the
# same figures: the site's devices' power and its CTs'.
QUANTITIES: Dict[str, Range] = {
    "power": Range(-2e6, 2e6),  # W, VA, var of the site or one of its CTs: the largest Envoy site gives a few 100 kW
    "device_power": Range(-2000.0, 2000.0),  # one microinverter or AC Battery: the largest gives under 500 W
    "battery_power": Range(-20_000.0, 20_000.0),  # one IQ Battery: 3.84 kW (7.68 kW peak) for the largest
    "energy": Range(-1e12, 1e12),  # Wh: 1 TWh, a century of a megawatt site
    "voltage": Range(0.0, 1500.0),  # a CT's total adds its phases' (3 x 277 V)
    "current": Range(-10_000.0, 10_000.0),
    "frequency": Range(0.0, 100.0),  # 50 or 60 Hz; 0 from a sleeping device
    "temperature": Range(-60.0, 150.0),
    "percent": Range(0.0, 100.0),
    "power_factor": Range(-3.0, 3.0),  # a CT's total adds its phases' (-1 to 1 each)
}
UNIT_QUANTITIES = {"W": "power", "VA": "power", "var": "power", "Wh": "energy", "V": "voltage", "A": "current",
                   "Hz": "frequency", "°C": "temperature", "%": "percent"}

# Jeedom's dashboard widget for an info command of each subtype, unless the command says otherwise.
_TEMPLATES = {"numeric": "core::tile", "binary": "core::line", "string": "core::line"}


@keyword_only
@dataclass(frozen=True)
class Command:
    logical_id: str
    fr: str
    en: str
    subtype: str  # info: numeric | binary | string; action: other | slider | select
    type: str = "info"  # info | action
    unit: str = ""
    generic: str = ""  # Jeedom generic type; "" = GENERIC_INFO or GENERIC_ACTION by type
    historized: bool = False
    template: Optional[str] = None  # Jeedom dashboard widget; None = by subtype (actions: Jeedom's own)
    # Info: the equipment's reading -> value or None (None: nothing published, and a sync does not create it).
    read: Optional[Callable[[Any], Any]] = None
    cadence: str = "general"  # which cadence's readings carry it: "general" (60 s) or "devices" (300 s)
    visible: bool = True
    # A lifetime counter: counters.py publishes it never going down, and counts the day's figures from it.
    monotonic: bool = False
    # Detail (a microinverter's volts, amps, frequency, temperature): created and published only for the
    # equipment whose user asked for it (plugin setting, or the equipment's own), not on 600 of them by default.
    detail: bool = False
    # String states, and a select's choices: ((value, French label, English label), ...); Jeedom shows the
    # label in its language (a select sends the value).
    labels: Tuple[Tuple[str, str, str], ...] = ()
    # logicalIds of commands of earlier versions that this one replaces: Synchronize moves their uses (scenarios,
    # generic type...) onto it and removes them (core/class/enphaseCommands.class.php, docs/fr_FR/changelog.md).
    replaces: Tuple[str, ...] = ()
    # Actions: run(poller, equipment logicalId, value) inside the gateway's worker (controls.py).
    run: Optional[Callable[[Any, str, Any], None]] = None
    value: str = ""  # logicalId of the info command showing what the action sets
    min_value: Optional[float] = None  # slider
    max_value: Optional[float] = None
    quantity: str = ""  # numeric info: its key in QUANTITIES; "" = its unit's ("" for a count: no range)

    def __post_init__(self):
        if not self.quantity and self.subtype == "numeric":
            object.__setattr__(self, "quantity", UNIT_QUANTITIES.get(self.unit, ""))
        if self.quantity and self.quantity not in QUANTITIES:
            raise ValueError(f"{self.logical_id}: no range for quantity {self.quantity!r}")
        if not self.generic:
            object.__setattr__(self, "generic", "GENERIC_ACTION" if self.type == "action" else "GENERIC_INFO")
        if self.template is None:
            object.__setattr__(self, "template", _TEMPLATES.get(self.subtype, "") if self.type == "info" else "")


def action(**fields) -> Command:
    """An action command: `run` (controls.py) does it, `value` names the info command showing what it sets."""
    return Command(type="action", subtype=fields.pop("subtype", "other"), **fields)


@keyword_only
@dataclass(frozen=True)
class Kind:
    kind: str
    fr: str  # the name of its equipment begins with this
    en: str
    commands: Tuple[Command, ...]

    def equipment(self, logical_id: str, ident: str, reading: Any, detail_fr: str = "",
                  detail_en: str = "") -> "Equipment":
        """One equipment of this kind, named after its kind: "<kind> [<detail>] [<ident>]" (ident: the end of
        its serial, "…0054"; none for what there is one of per gateway and kind of CT)."""
        if detail_fr or detail_en or not ident:
            fr = " ".join(part for part in (self.fr, detail_fr, ident) if part)
            en = " ".join(part for part in (self.en, detail_en, ident) if part)
        else:  # every microinverter of a site, every cycle: kept cheap
            fr, en = f"{self.fr} {ident}", f"{self.en} {ident}"
        return Equipment(self, logical_id, fr, en, reading)

    def attached_id(self, serial: str, key: str = "") -> str:
        """The logicalId of an equipment with no serial of its own (a CT, a dry contact, the generator):
        the gateway's serial, its kind, and which one."""
        return f"{serial}_{self.kind}_{key}" if key else f"{serial}_{self.kind}"

    def find(self, logical_id: str) -> Optional[Command]:
        return next((c for c in self.commands if c.logical_id == logical_id), None)

    def published(self, detail: bool) -> Tuple[Command, ...]:
        """Its commands an equipment gets: all of them with the detail, else those that are not detail."""
        if detail:
            return self.commands
        basic = self.__dict__.get("_basic")
        if basic is None:  # computed once per kind
            basic = tuple(c for c in self.commands if not c.detail)
            object.__setattr__(self, "_basic", basic)
        return basic


class Equipment(NamedTuple):
    """One equipment of a site (a value of each cycle, not a description: a plain tuple, cheap to make)."""

    kind: Kind
    logical_id: str
    fr: str
    en: str
    reading: Any  # what the kind's commands read


def nested(obj, *names):
    """obj.a.b... or None as soon as a link is missing."""
    for name in names:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


# Decimals worth showing per unit: the gateway's own resolution, without float noise (Jeedom turns
# 7007.282 Wh into "7.007282 kWh" otherwise). Units not listed keep 3 decimals.
_DECIMALS = {"W": 0, "Wh": 0, "VA": 0, "var": 0, "%": 0, "V": 1, "°C": 1, "A": 2, "Hz": 2}


def json_value(value, unit: str = ""):
    """Jeedom-friendly value: binary as 1/0, numbers rounded to their unit's resolution."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return _rounded(value, unit)
    return value


def _rounded(value: float, unit: str):
    value = round(value, _DECIMALS.get(unit, 3))
    return int(value) if value.is_integer() else value


def _fits(subtype: str, value) -> bool:
    """Does a value suit the command's subtype (what Jeedom stores and shows)?"""
    if subtype == "numeric":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if subtype == "binary":
        return isinstance(value, bool) or value in (0, 1)
    if subtype == "string":
        return isinstance(value, str)
    return True


# (equipment, command) whose value is out of range now: said once, again only after a value in range.
_implausible: Set[Tuple[str, str]] = set()


def _in_range(command: Command, value, source: str) -> bool:
    """The value is within its quantity's range; one that is not is said once, again only after one that is."""
    limits = QUANTITIES[command.quantity]
    if limits.low <= value <= limits.high:
        if _implausible:
            _implausible.discard((source, command.logical_id))
        return True
    key = (source, command.logical_id)
    if key not in _implausible:
        _implausible.add(key)
        log.warning("%s %s: %g %s is outside what it can read (%g to %g); not published", source or "-",
                    command.logical_id, value, command.unit, limits.low, limits.high)
    return False


def read_command(command: Command, reading, source: str = "") -> Any:
    """A command's value from its equipment's reading (`source`: the equipment's logicalId, for the log); None
    when absent, when the reading is odd, or when the value is out of its quantity's range."""
    if command.read is None:
        return None
    try:
        value = command.read(reading)
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None  # a reading shaped differently than expected: publish nothing rather than stop
    if value is None:
        return None
    # Most values of a cycle (thousands on a large site) are a number for a numeric command or a yes/no for a
    # binary one: the steps below (_fits, the range, json_value) made without those they do not need.
    kind = type(value)
    if (kind is int or kind is float) and command.subtype == "numeric":
        if not math.isfinite(value) or (command.quantity and not _in_range(command, value, source)):
            return None
        return value if kind is int else _rounded(value, command.unit)
    if kind is bool and command.subtype == "binary" and not command.quantity:
        return int(value)
    if isinstance(value, str):
        # The parsers clean what they type; a settings object is kept raw for writes: this is the last gate,
        # so that every string Jeedom gets is one its widgets can show (envoy/text.py).
        value = free_text(value)
    if value is None or not _fits(command.subtype, value):
        return None  # e.g. a number where a settings object should hold a word: Jeedom gets nothing odd
    if command.quantity and not _in_range(command, value, source):
        return None
    return json_value(value, command.unit)


def describe_command(command: Command, order: int) -> Dict[str, Any]:
    """One command as the protocol's inventory lists it; what goes without saying (an info command, no unit,
    not historized, visible) is not said."""
    out: Dict[str, Any] = {"logicalId": command.logical_id, "name": {"fr_FR": command.fr, "en_US": command.en},
                           "subType": command.subtype, "genericType": command.generic, "order": order}
    for key, value, default in (("type", command.type, "info"), ("unit", command.unit, ""),
                                ("isHistorized", int(command.historized), 0), ("template", command.template, ""),
                                ("isVisible", int(command.visible), 1)):
        if value != default:
            out[key] = value
    if command.detail:
        out["detail"] = 1
    if command.replaces:
        out["replaces"] = list(command.replaces)
    if command.labels and command.type == "info":
        out["valueLabels"] = {value: {"fr_FR": fr, "en_US": en} for value, fr, en in command.labels}
    if command.labels and command.subtype == "select":  # Jeedom's "value|Label;value|Label", in each language
        out["listValue"] = {"fr_FR": ";".join(f"{value}|{fr}" for value, fr, _ in command.labels),
                            "en_US": ";".join(f"{value}|{en}" for value, _, en in command.labels)}
    if command.type == "action":
        for key, value in (("minValue", command.min_value), ("maxValue", command.max_value),
                           ("value", command.value)):
            if value not in (None, ""):
                out[key] = value
    return out


class Described(NamedTuple):
    """One equipment as an inventory describes it: its kind, the logicalIds of the commands it has, its names."""

    kind: Kind
    logical_id: str
    fr: str
    en: str
    command_ids: Any  # a set of its kind's command logicalIds
    configuration: Optional[Dict[str, Any]] = None


def describe_inventory(described) -> Dict[str, Any]:
    """The `kinds` and `equipments` of an INVENTORY (docs/protocol.md): each kind's commands described once, for
    all its equipment (600 microinverters on a site). An equipment names its commands only when they are not
    every command described for its kind."""
    used: Dict[str, set] = {}
    for d in described:
        used.setdefault(d.kind.kind, set()).update(d.command_ids)
    kinds: Dict[str, Any] = {}
    equipments = []
    for d in described:
        kind = d.kind
        if kind.kind not in kinds:
            kinds[kind.kind] = {"commands": [describe_command(c, order) for order, c in enumerate(kind.commands)
                                             if c.logical_id in used[kind.kind]]}
        out: Dict[str, Any] = {"logicalId": d.logical_id, "kind": kind.kind, "name": {"fr_FR": d.fr, "en_US": d.en}}
        if d.configuration:
            out["configuration"] = d.configuration
        if set(d.command_ids) != used[kind.kind]:
            out["commands"] = [c.logical_id for c in kind.commands if c.logical_id in d.command_ids]
        equipments.append(out)
    return {"kinds": kinds, "equipments": equipments}
