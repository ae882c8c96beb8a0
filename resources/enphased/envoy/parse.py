"""Raw Envoy answers -> typed readings. Pure functions: no I/O, no clock, no logging.

`build_readings(info, responses)` takes what one cycle read (endpoint path as requested -> decoded JSON, or
the bytes of an HTML page, see `legacy_html.decoded`; an endpoint not read or failed is absent) and fills a
`Readings`. One small function per endpoint or device
kind: /info, production.json and the gateway's own settings here, the devices in parse_devices.py, the
ensemble (batteries, System Controller, generator, battery profile) in parse_ensemble.py. Nothing here
raises on bad data: every field is read through fields.py, so a value of the wrong type, a missing key,
"unknown" (sent after a reboot), NaN or infinity becomes None. Missing data is None, never 0.

Known gateway quirks are each handled in one place, named `_quirk_...`.

Every string kept is checked by `text.py` first (through fields.py): identifiers must have their shape (a
device whose serial is not one is left out, and named in `Readings.dropped` for the daemon to log), free text
is cleaned.
"""
from typing import Dict, List, Optional

from .endpoints import (  # noqa: F401  (tests also read the paths as parse.X)
    BATTERY_STATES,
    DEVICE_DATA,
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    GEN_MODE,
    GENERATOR,
    GRID_PROFILE,
    INVENTORY,
    INVERTERS_V1,
    METER_READINGS,
    METERS,
    PLC_LEVELS,
    PRODUCTION_JSON,
    PRODUCTION_PAGE,
    PRODUCTION_POWER,
    PRODUCTION_V1,
    TARIFF,
)
from . import text
from .fields import add_known, as_bool, as_dict, as_free_text, as_int, as_number, as_state, dicts_in, dropped_into
from .legacy_html import production_from_page
from .parse_devices import (apply_inventory, apply_plc_levels, inverters_from_device_data, inverters_from_v1,
                            meters_from, phase_count_from_meters)
from .parse_ensemble import (battery_aggregate, collar_from, dry_contacts_from, encharges_from, enpower_from,
                             generator_from, generator_mode_from, storage_settings_from)
from .readings import AcBatteryTotal, Energy, GatewayInfo, Readings

# ---------------------------------------------------------------------------------------------- /info


def _xml_root(xml: bytes):
    """The document's root element. The standard library's parser first: it costs a quarter of lxml's
    memory (the daemon's whole budget is about 30 MB); lxml's forgiving parser only for a document it
    refuses (a firmware that sends a stray character), loaded then."""
    import xml.etree.ElementTree as ElementTree

    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        # A gateway never sends a DTD; one that does wants entities expanded (huge, or from local files).
        raise ValueError("the gateway's /info declares a DTD")
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        pass
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        return etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        raise ValueError("the gateway's /info is not XML") from err


def parse_info(xml: bytes) -> GatewayInfo:
    """GET /info (XML). Raises ValueError when it is not an Envoy /info document (no serial)."""
    root = _xml_root(xml)
    device = root.find("device") if root is not None else None

    def tag_text(tag: str) -> Optional[str]:
        node = device.find(tag) if device is not None else None
        return node.text.strip() if node is not None and node.text and node.text.strip() else None

    serial = text.serial(tag_text("sn"))
    if not serial:
        raise ValueError("the gateway's /info has no valid serial number")
    # "D7.6.175", "R3.9.36", "M4.2.33": the letter is the build flavour, not part of the version.
    firmware = (tag_text("software") or "").lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return GatewayInfo(
        serial=serial,
        part_number=text.part_number(tag_text("pn")),
        firmware=text.firmware(firmware) or "",
        imeter=as_bool(tag_text("imeter")),
    )


def firmware_at_least(info: GatewayInfo, *version: int) -> bool:
    """Whether the firmware is `version` or newer (numeric parts compared; unknown parts count as 0)."""
    parts = []
    for piece in info.firmware.split("."):
        digits = "".join(c for c in piece if c.isdigit()) if piece else ""
        parts.append(int(digits) if digits else 0)
    return tuple(parts) >= tuple(version)


# ---------------------------------------------------------------------------------------------- production


def energy_from_section(section: dict) -> Energy:
    """One production.json section (or one of its `lines`): wNow, whToday, whLastSevenDays, whLifetime."""
    return Energy(
        watts_now=as_number(section.get("wNow")),
        wh_today=as_number(section.get("whToday")),
        wh_last_7_days=as_number(section.get("whLastSevenDays")),
        wh_lifetime=as_number(section.get("whLifetime")),
    )


def energy_from_v1(data) -> Optional[Energy]:
    """/api/v1/production."""
    data = as_dict(data)
    energy = Energy(
        watts_now=as_number(data.get("wattsNow")),
        wh_today=as_number(data.get("wattHoursToday")),
        wh_last_7_days=as_number(data.get("wattHoursSevenDays")),
        wh_lifetime=as_number(data.get("wattHoursLifetime")),
    )
    return None if energy == Energy() else energy


def v1_production_is_broken(data) -> bool:
    """Metered gateways without CTs answer /api/v1/production with all energy counters at 0."""
    counters = [v for k, v in as_dict(data).items() if k.startswith("wattHours")]
    return not counters or all(as_number(v) in (0, None) for v in counters)


def _section(sections, kind: str, measurement: Optional[str] = None) -> Optional[dict]:
    for section in dicts_in(sections):
        if section.get("type") != kind:
            continue
        if measurement is None or section.get("measurementType") == measurement:
            return section
    return None


def _active(section: Optional[dict]) -> bool:
    return section is not None and (as_number(section.get("activeCount")) or 0) > 0


def eim_production(data) -> Optional[dict]:
    """The production CT section of production.json when the CT is active; `activeCount` 0 = no CT."""
    section = _section(as_dict(data).get("production"), "eim")
    return section if _quirk_eim_active(section) else None


def _quirk_eim_active(section: Optional[dict]) -> bool:
    # Metered gateways list an "eim" section even without a CT (or with the CT disabled): its activeCount
    # is then 0 and its numbers come from an unconnected input, so they are not used at all.
    return _active(section)


def inverters_production(data) -> Optional[Energy]:
    """The microinverters' own total in production.json (no today / 7 days counters there)."""
    section = _section(as_dict(data).get("production"), "inverters")
    if not _active(section):
        return None
    return Energy(watts_now=as_number(section.get("wNow")), wh_lifetime=as_number(section.get("whLifetime")))


def consumption_section(data, measurement: str) -> Optional[dict]:
    """A consumption CT section ("total-consumption" / "net-consumption") when active."""
    section = _section(as_dict(data).get("consumption"), "eim", measurement)
    return section if _active(section) else None


def _active_lines(section: dict, phase_count: Optional[int]) -> List[dict]:
    """Per-phase lines. Recent firmware always sends 3 lines, the unused ones all zero."""
    lines = dicts_in(section.get("lines"))
    if phase_count:
        lines = lines[:phase_count]
    else:
        lines = [line for line in lines if any(as_number(v) for v in line.values())]
    return lines if len(lines) > 1 else []


def energy_phases(section: Optional[dict], phase_count: Optional[int]) -> List[Energy]:
    return [energy_from_section(line) for line in _active_lines(section, phase_count)] if section else []


def _quirk_total_is_net(total: Energy, net: Optional[Energy], production: Optional[Energy]) -> Energy:
    # Firmware 8.3.5433 copies net consumption's lifetime and power into total consumption. They cannot
    # be equal while something was ever produced, so total's are rebuilt as net + production; its today and 7
    # days are that copied lifetime too (5,649,402 Wh "today"): none.
    if (
        net is None
        or production is None
        or not production.wh_lifetime
        or total.wh_lifetime != net.wh_lifetime
        or total.watts_now != net.watts_now
        or total.wh_lifetime is None
    ):
        return total
    return Energy(
        watts_now=add_known(net.watts_now, production.watts_now),
        wh_lifetime=add_known(net.wh_lifetime, production.wh_lifetime),
    )


def apply_production_json(readings: Readings, data, phase_count: Optional[int]) -> None:
    """production.json?details=1: production, total and net consumption (+ phases), AC Battery total."""
    data = as_dict(data)
    eim = eim_production(data)
    if eim is not None:
        readings.production = energy_from_section(eim)
        readings.production_phases = energy_phases(eim, phase_count)

    total = consumption_section(data, "total-consumption")
    net = consumption_section(data, "net-consumption")
    if net is not None:
        readings.net_consumption = energy_from_section(net)
        readings.net_consumption_phases = energy_phases(net, phase_count)
    if total is not None:
        readings.consumption = _quirk_total_is_net(
            energy_from_section(total), readings.net_consumption, readings.production
        )
        net_phases = readings.net_consumption_phases
        prod_phases = readings.production_phases
        phases = energy_phases(total, phase_count)
        if len(net_phases) == len(phases) == len(prod_phases):
            phases = [_quirk_total_is_net(t, n, p) for t, n, p in zip(phases, net_phases, prod_phases)]
        readings.consumption_phases = phases

    readings.ac_battery_total = ac_battery_total(data)


def ac_battery_total(data) -> Optional[AcBatteryTotal]:
    """production.json storage[0]: all AC Batteries, when active (every gateway lists an inactive one). Some
    firmware leave out percentFull: power, state and stored energy are still the site's total."""
    storage = dicts_in(as_dict(data).get("storage"))
    if not storage or not _active(storage[0]):
        return None
    acb = storage[0]
    return AcBatteryTotal(
        count=as_int(acb.get("activeCount")),
        watts_now=as_number(acb.get("wNow")),
        wh_now=as_number(acb.get("whNow")),
        state=as_state(acb.get("state"), BATTERY_STATES),
        percent_full=as_number(acb.get("percentFull")),
    )


# ---------------------------------------------------------------------------------------------- settings


def grid_profile_from(data) -> Optional[str]:
    """/ivp/arf/profile: the grid code profile the installer chose, by name."""
    return as_free_text(as_dict(data).get("name"))


def production_enabled_from(data) -> Optional[bool]:
    """/ivp/mod/<gateway device id>/mode/power: {"powerForcedOff": bool}."""
    forced_off = as_bool(as_dict(data).get("powerForcedOff"))
    return None if forced_off is None else not forced_off


# ---------------------------------------------------------------------------------------------- all


def build_readings(info: GatewayInfo, responses: Dict[str, object], devices=None) -> Readings:
    """Everything one cycle read -> Readings. Sections whose endpoints are absent stay None / empty.
    `devices`: (inverters, ac_batteries, qrelays) an earlier build made of the per-device answers
    (/api/v1/production/inverters, /ivp/pdm/device_data, /inventory.json), which `responses` then does not give
    again (view.py keeps those devices, not 600 devices' answers)."""
    readings = Readings(gateway=info)
    token = dropped_into.set(readings.dropped)
    try:
        _build(readings, responses, devices)
    finally:
        dropped_into.reset(token)
    return readings


def _build(readings: Readings, responses: Dict[str, object], devices=None) -> None:
    get = responses.get
    meter_config = get(METERS)
    phase_count = phase_count_from_meters(meter_config)

    if PRODUCTION_JSON in responses:
        apply_production_json(readings, get(PRODUCTION_JSON), phase_count)
    if readings.production is None and not v1_production_is_broken(get(PRODUCTION_V1)):
        readings.production = energy_from_v1(get(PRODUCTION_V1))
    if readings.production is None and PRODUCTION_JSON in responses:
        readings.production = inverters_production(get(PRODUCTION_JSON))
    if readings.production is None and PRODUCTION_PAGE in responses:
        readings.production = production_from_page(get(PRODUCTION_PAGE))  # firmware 3.x

    if METER_READINGS in responses:
        readings.meters = meters_from(meter_config, get(METER_READINGS))

    if devices is not None:
        readings.inverters, readings.ac_batteries, readings.qrelays = devices
    else:
        readings.inverters, readings.ac_batteries = inverters_from_v1(get(INVERTERS_V1))
        if DEVICE_DATA in responses:
            readings.inverters = inverters_from_device_data(get(DEVICE_DATA)) or readings.inverters
        if INVENTORY in responses:
            apply_inventory(readings, get(INVENTORY))

    has_acb = readings.ac_battery_total is not None or bool(readings.ac_batteries)
    if ENSEMBLE_SECCTRL in responses:
        readings.battery = battery_aggregate(get(ENSEMBLE_SECCTRL), has_acb)
    if ENSEMBLE_INVENTORY in responses:
        readings.encharges = encharges_from(get(ENSEMBLE_INVENTORY), get(ENSEMBLE_POWER))
        readings.enpower = enpower_from(get(ENSEMBLE_INVENTORY))
        readings.collar = collar_from(get(ENSEMBLE_INVENTORY))
    if DRY_CONTACTS in responses or DRY_CONTACT_SETTINGS in responses:
        readings.dry_contacts = dry_contacts_from(get(DRY_CONTACTS), get(DRY_CONTACT_SETTINGS))
    if GENERATOR in responses:
        readings.generator = generator_from(get(GENERATOR))
    if readings.generator is not None and GEN_MODE in responses:
        readings.generator.mode = generator_mode_from(get(GEN_MODE))
    if TARIFF in responses:
        readings.storage = storage_settings_from(get(TARIFF))
    if GRID_PROFILE in responses:
        readings.grid_profile = grid_profile_from(get(GRID_PROFILE))
    if PRODUCTION_POWER in responses:
        readings.production_enabled = production_enabled_from(get(PRODUCTION_POWER))
    if PLC_LEVELS in responses:
        apply_plc_levels(readings, get(PLC_LEVELS))

