"""Raw Envoy answers -> typed readings. Pure functions: no I/O, no clock, no logging.

`build_readings(info, responses)` takes what one cycle read (endpoint path as requested -> decoded JSON, or
the bytes of an HTML page, see `legacy_html.decoded`; an endpoint not read or failed is absent) and fills a
`Readings`. One small function per endpoint or device kind. Nothing here raises on bad data: a value of the
wrong type, a missing key, "unknown" (sent after a reboot), NaN or infinity becomes None. Missing data is
None, never 0.

Known gateway quirks are each handled in one place, named `_quirk_...`.

Every string kept is checked by `text.py` first: identifiers must have their shape (a device whose serial is
not one is left out, and named in `Readings.dropped` for the client to log), free text is cleaned.
"""
import contextvars
import math
from typing import Dict, List, Optional, Tuple

from . import text

from .legacy_html import production_from_page
from .readings import (
    AcBattery,
    AcBatteryTotal,
    BatteryAggregate,
    Collar,
    DryContact,
    Encharge,
    Energy,
    Enpower,
    GatewayInfo,
    Generator,
    Inverter,
    Meter,
    MeterReading,
    QRelay,
    Readings,
    StorageSettings,
)
from .endpoints import (  # noqa: F401  (the paths are also read as parse.X by tests)
    BATTERY_STATES,
    DEV_TYPE_ACB,
    DEVICE_DATA,
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_SECCTRL,
    GEN_MODE,
    GENERATOR,
    GENERATOR_MODES,
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
    RELAY_STATES,
    STORAGE_MODE_OLD_NAMES,
    STORAGE_MODES,
    TARIFF,
)

# ---------------------------------------------------------------------------------------------- values


def _num(value) -> Optional[float]:
    """A finite number, or None ("unknown", "", NaN, inf, bool, dict...). Numeric strings are accepted."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return None


def _int(value) -> Optional[int]:
    number = _num(value)
    return int(number) if number is not None else None


def _bool(value) -> Optional[bool]:
    """JSON booleans, and the "true"/"false" strings some settings use."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _str(value) -> Optional[str]:
    return value if isinstance(value, str) and value != "" else None


def _text(value) -> Optional[str]:
    """Free text of the gateway (a status, a mode, a name), cleaned to be shown (text.free_text)."""
    return text.free_text(value)


# What build_readings left out because an identifier did not have its shape (the list is the one of the
# Readings being built; the parsers called on their own record nothing).
_DROPPED: "contextvars.ContextVar[Optional[List[str]]]" = contextvars.ContextVar("dropped", default=None)


def _identifier(shape, value, what: str) -> Optional[str]:
    """`value` if it has its `shape` (a text.py check); a value given without it is recorded as dropped."""
    found = shape(value)
    if found is None and value not in (None, ""):
        dropped = _DROPPED.get()
        if dropped is not None and len(dropped) < 100:
            dropped.append(f"a {what} that is not one: {text.shown(value)}")
    return found


def _state(value, known: Tuple[str, ...]) -> Optional[str]:
    """One of `known`, else None: "unknown" after a reboot, or a word of a firmware this code does not know,
    is no state. Relays say "close" as often as "closed"."""
    text = _str(value)
    if text is None:
        return None
    text = text.strip().lower()
    text = "closed" if text == "close" else text
    return text if text in known else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dicts(value) -> List[dict]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _first(*values):
    return next((v for v in values if v is not None), None)


def _milli(value) -> Optional[float]:
    number = _num(value)
    return number / 1000.0 if number is not None else None


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
    imeter = tag_text("imeter")
    return GatewayInfo(
        serial=serial,
        part_number=text.part_number(tag_text("pn")),
        firmware=text.firmware(firmware) or "",
        imeter=_bool(imeter),
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
        watts_now=_num(section.get("wNow")),
        wh_today=_num(section.get("whToday")),
        wh_last_7_days=_num(section.get("whLastSevenDays")),
        wh_lifetime=_num(section.get("whLifetime")),
    )


def energy_from_v1(data) -> Optional[Energy]:
    """/api/v1/production."""
    data = _dict(data)
    energy = Energy(
        watts_now=_num(data.get("wattsNow")),
        wh_today=_num(data.get("wattHoursToday")),
        wh_last_7_days=_num(data.get("wattHoursSevenDays")),
        wh_lifetime=_num(data.get("wattHoursLifetime")),
    )
    return None if energy == Energy() else energy


def v1_production_is_broken(data) -> bool:
    """Metered gateways without CTs answer /api/v1/production with all energy counters at 0."""
    counters = [v for k, v in _dict(data).items() if k.startswith("wattHours")]
    return not counters or all(_num(v) in (0, None) for v in counters)


def _section(sections, kind: str, measurement: Optional[str] = None) -> Optional[dict]:
    for section in _dicts(sections):
        if section.get("type") != kind:
            continue
        if measurement is None or section.get("measurementType") == measurement:
            return section
    return None


def _active(section: Optional[dict]) -> bool:
    return section is not None and (_num(section.get("activeCount")) or 0) > 0


def eim_production(data) -> Optional[dict]:
    """The production CT section of production.json when the CT is active; `activeCount` 0 = no CT."""
    section = _section(_dict(data).get("production"), "eim")
    return section if _quirk_eim_active(section) else None


def _quirk_eim_active(section: Optional[dict]) -> bool:
    # Metered gateways list an "eim" section even without a CT (or with the CT disabled): its activeCount
    # is then 0 and its numbers come from an unconnected input, so they are not used at all.
    return _active(section)


def inverters_production(data) -> Optional[Energy]:
    """The microinverters' own total in production.json (no today / 7 days counters there)."""
    section = _section(_dict(data).get("production"), "inverters")
    if not _active(section):
        return None
    return Energy(watts_now=_num(section.get("wNow")), wh_lifetime=_num(section.get("whLifetime")))


def consumption_section(data, measurement: str) -> Optional[dict]:
    """A consumption CT section ("total-consumption" / "net-consumption") when active."""
    section = _section(_dict(data).get("consumption"), "eim", measurement)
    return section if _active(section) else None


def _active_lines(section: dict, phase_count: Optional[int]) -> List[dict]:
    """Per-phase lines. Recent firmware always sends 3 lines, the unused ones all zero."""
    lines = _dicts(section.get("lines"))
    if phase_count:
        lines = lines[:phase_count]
    else:
        lines = [line for line in lines if any(_num(v) for v in line.values())]
    return lines if len(lines) > 1 else []


def energy_phases(section: Optional[dict], phase_count: Optional[int]) -> List[Energy]:
    return [energy_from_section(line) for line in _active_lines(section, phase_count)] if section else []


def _quirk_total_is_net(total: Energy, net: Optional[Energy], production: Optional[Energy]) -> Energy:
    # Firmware 8.3.5433 copies net consumption's lifetime and power into total consumption. They cannot
    # be equal while something was ever produced, so total's are rebuilt as net + production.
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
        watts_now=_add(net.watts_now, production.watts_now),
        wh_today=total.wh_today,
        wh_last_7_days=total.wh_last_7_days,
        wh_lifetime=_add(net.wh_lifetime, production.wh_lifetime),
    )


def _add(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a + b if a is not None and b is not None else None


def apply_production_json(readings: Readings, data, phase_count: Optional[int]) -> None:
    """production.json?details=1: production, total and net consumption (+ phases), AC Battery total."""
    data = _dict(data)
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
    """production.json storage[0]: all AC Batteries. Without percentFull the section is not a real ACB."""
    storage = _dicts(_dict(data).get("storage"))
    if not storage or not _active(storage[0]) or "percentFull" not in storage[0]:
        return None
    acb = storage[0]
    return AcBatteryTotal(
        count=_int(acb.get("activeCount")),
        watts_now=_num(acb.get("wNow")),
        wh_now=_num(acb.get("whNow")),
        state=_state(acb.get("state"), BATTERY_STATES),
        percent_full=_num(acb.get("percentFull")),
    )


# ---------------------------------------------------------------------------------------------- inverters


def inverters_from_v1(data) -> Tuple[Dict[str, Inverter], Dict[str, AcBattery]]:
    """/api/v1/production/inverters: microinverters, and AC Batteries (devType 11), which report here too."""
    inverters: Dict[str, Inverter] = {}
    batteries: Dict[str, AcBattery] = {}
    for item in _dicts(data):
        serial = _serial(item.get("serialNumber"))
        if serial is None:
            continue
        report = {
            "watts_now": _num(item.get("lastReportWatts")),
            "max_watts": _num(item.get("maxReportWatts")),
            "last_report_ts": _int(item.get("lastReportDate")),
        }
        if _int(item.get("devType")) == DEV_TYPE_ACB:
            batteries[serial] = AcBattery(serial=serial, **report)
        else:
            inverters[serial] = Inverter(serial=serial, **report)
    return inverters, batteries


def _serial(value) -> Optional[str]:
    """A device serial or CT id (text.serial); one without the shape is recorded as dropped."""
    return _identifier(text.serial, value, "serial")


def device_data_is_complete(data) -> bool:
    """/ivp/pdm/device_data lists at most deviceDataLimit devices: when full, some may be missing."""
    data = _dict(data)
    count, limit = _num(data.get("deviceCount")), _num(data.get("deviceDataLimit"))
    return count is not None and limit is not None and count < limit


def inverters_from_device_data(data) -> Dict[str, Inverter]:
    """/ivp/pdm/device_data (firmware 8.2+): per microinverter power, AC/DC values, temperature, energy."""
    inverters: Dict[str, Inverter] = {}
    for key, device in _dict(data).items():
        if not isinstance(device, dict) or device.get("devName") != "pcu" or device.get("active") is not True:
            continue
        serial = _serial(device.get("sn"))
        channels = _dicts(device.get("channels"))
        if serial is None or not channels:
            continue
        channel = channels[0]
        reading = _dict(channel.get("lastReading"))
        watts = _dict(channel.get("watts"))
        lifetime_j = _num(_dict(channel.get("lifetime")).get("joulesProduced"))
        inverters[serial] = Inverter(
            serial=serial,
            watts_now=_num(watts.get("now")),
            max_watts=_num(watts.get("max")),
            last_report_ts=_int(reading.get("endDate")),
            ac_voltage_v=_milli(reading.get("acVoltageINmV")),
            ac_current_a=_milli(reading.get("acCurrentInmA")),
            ac_frequency_hz=_milli(reading.get("acFrequencyINmHz")),
            dc_voltage_v=_milli(reading.get("dcVoltageINmV")),
            dc_current_a=_milli(reading.get("dcCurrentINmA")),
            temperature_c=_num(reading.get("channelTemp")),
            energy_today_wh=_num(_dict(channel.get("wattHours")).get("today")),
            lifetime_wh=lifetime_j / 3600.0 if lifetime_j is not None else None,
        )
    return inverters


# ---------------------------------------------------------------------------------------------- inventory


def _inventory_devices(data, kind: str) -> List[dict]:
    """Devices of one type in /inventory.json, without the decommissioned ones (admin_state 0)."""
    devices: List[dict] = []
    for group in _dicts(data):
        if group.get("type") == kind:
            devices += [d for d in _dicts(group.get("devices")) if _int(d.get("admin_state")) != 0]
    return devices


def _status_flags(device: dict) -> dict:
    return {
        "provisioned": _bool(device.get("provisioned")),
        "communicating": _bool(device.get("communicating")),
        "producing": _bool(device.get("producing")),
        "operating": _bool(device.get("operating")),
    }


def apply_inventory(readings: Readings, data) -> None:
    """/inventory.json: microinverter status flags, AC Batteries, Q-Relays."""
    for device in _inventory_devices(data, "PCU"):
        serial = _serial(device.get("serial_num"))
        if serial is None:
            continue
        inverter = readings.inverters.get(serial)
        if inverter is None:
            continue  # microinverters are those that report power; the inventory only adds their status
        for name, value in _status_flags(device).items():
            setattr(inverter, name, value)

    for device in _inventory_devices(data, "ACB"):
        serial = _serial(device.get("serial_num"))
        if serial is None:
            continue
        battery = readings.ac_batteries.get(serial) or AcBattery(serial=serial)
        battery.percent_full = _num(device.get("percentFull"))
        battery.max_cell_temp_c = _num(device.get("maxCellTemp"))
        battery.sleep_enabled = _bool(device.get("sleep_enabled"))
        battery.charge_status = _text(device.get("charge_status"))
        for name, value in _status_flags(device).items():
            setattr(battery, name, value)
        readings.ac_batteries[serial] = battery

    for device in _inventory_devices(data, "NSRB"):
        serial = _serial(device.get("serial_num"))
        if serial is None:
            continue
        flags = _status_flags(device)
        flags.pop("producing")
        lines = [_bool(device.get(key)) for key in ("line1-connected", "line2-connected", "line3-connected")
                 if key in device]
        readings.qrelays[serial] = QRelay(
            serial=serial, relay_state=_state(device.get("relay"), RELAY_STATES), line_states=lines, **flags
        )


# ---------------------------------------------------------------------------------------------- meters


def _measurement(ct: dict) -> Optional[str]:
    """A CT's measurement type ("net-consumption"...): part of its equipment's logicalId."""
    return _identifier(text.word, ct.get("measurementType"), "CT measurement type")


def meters_config(data) -> Dict[str, dict]:
    """/ivp/meters: the enabled CTs by eid (as text). A disabled CT measures nothing worth showing."""
    return {
        _serial(meter.get("eid")): meter
        for meter in _dicts(data)
        if meter.get("state") == "enabled" and _measurement(meter) and _serial(meter.get("eid"))
    }


def phase_count_from_meters(data) -> Optional[int]:
    counts = [_int(m.get("phaseCount")) or 1 for m in meters_config(data).values()]
    return max(counts) if counts else None


def meter_reading(channel: dict) -> MeterReading:
    return MeterReading(
        active_power_w=_num(channel.get("activePower")),
        apparent_power_va=_num(channel.get("apparentPower")),
        reactive_power_var=_num(channel.get("reactivePower")),
        voltage_v=_num(channel.get("voltage")),
        current_a=_num(channel.get("current")),
        power_factor=_num(channel.get("pwrFactor")),
        frequency_hz=_num(channel.get("freq")),
        energy_delivered_wh=_num(channel.get("actEnergyDlvd")),
        energy_received_wh=_num(channel.get("actEnergyRcvd")),
    )


def meters_from(config_data, readings_data) -> Dict[str, Meter]:
    """/ivp/meters + /ivp/meters/readings, matched by eid (the two lists may differ in size and order)."""
    config = meters_config(config_data)
    meters: Dict[str, Meter] = {}
    for data in _dicts(readings_data):
        eid = _serial(data.get("eid"))
        ct = config.get(eid) if eid is not None else None
        if ct is None:
            continue  # unknown or disabled CT (8.3.5025 lists an unconfigured storage CT, all zeros)
        phase_count = _int(ct.get("phaseCount"))
        channels = _dicts(data.get("channels"))
        meter = Meter(
            eid=eid,
            measurement_type=_measurement(ct),
            state=_state(ct.get("state"), ("enabled", "disabled")),
            phase_mode=_text(ct.get("phaseMode")),
            phase_count=phase_count,
            metering_status=_text(ct.get("meteringStatus")),
            total=meter_reading(data),
            phases=[meter_reading(c) for c in channels[: phase_count or 0]] if (phase_count or 0) > 1 else [],
        )
        meters[meter.measurement_type] = meter
    return meters


# ---------------------------------------------------------------------------------------------- ensemble


def ensemble_devices(data, kind: str) -> List[dict]:
    devices: List[dict] = []
    for group in _dicts(data):
        if group.get("type") == kind:
            devices += _dicts(group.get("devices"))
    return devices


def encharges_from(inventory_data, power_data) -> Dict[str, Encharge]:
    """/ivp/ensemble/inventory ENCHARGE devices + /ivp/ensemble/power (milliwatts, list key "devices:")."""
    power = {}
    for item in _dicts(_dict(power_data).get("devices:")):
        serial = _serial(item.get("serial_num"))
        if serial is not None:
            power[serial] = item
    batteries: Dict[str, Encharge] = {}
    for device in ensemble_devices(inventory_data, "ENCHARGE"):
        serial = _serial(device.get("serial_num"))
        if serial is None:
            continue
        live = power.get(serial, {})
        batteries[serial] = Encharge(
            serial=serial,
            # /ivp/ensemble/power's soc is live and agrees with the site aggregate; the inventory's
            # percentFull can lag behind.
            percent_full=_first(_num(live.get("soc")), _num(device.get("percentFull"))),
            watts_now=_milli(live.get("real_power_mw")),
            apparent_power_va=_milli(live.get("apparent_power_mva")),
            temperature_c=_num(device.get("temperature")),
            max_cell_temp_c=_num(device.get("maxCellTemp")),
            capacity_wh=_num(device.get("encharge_capacity")),
            dc_switch_off=_bool(device.get("dc_switch_off")),
            communicating=_bool(device.get("communicating")),
            provisioned=_bool(device.get("provisioned")),
            operating=_bool(device.get("operating")),
            status=_text(device.get("admin_state_str")),
            led_status=_int(device.get("led_status")),
            last_report_ts=_int(device.get("last_rpt_date")),
        )
    return batteries


def _grid_state(grid_mode: Optional[str]) -> Optional[str]:
    if grid_mode is None:
        return None
    mode = grid_mode.lower()
    if "offgrid" in mode or "off-grid" in mode:
        return "off-grid"
    if "ongrid" in mode or "on-grid" in mode or "grid-tied" in mode:
        return "on-grid"
    return None


def _fahrenheit_to_c(value) -> Optional[float]:
    number = _num(value)
    return round((number - 32) * 5 / 9, 1) if number is not None else None


def enpower_from(inventory_data) -> Optional[Enpower]:
    """/ivp/ensemble/inventory ENPOWER (IQ System Controller); its temperature is in Fahrenheit."""
    devices = ensemble_devices(inventory_data, "ENPOWER")
    if not devices:
        return None
    device = devices[0]
    serial = _serial(device.get("serial_num"))
    if serial is None:
        return None
    grid_mode = _text(device.get("Enpwr_grid_mode"))
    return Enpower(
        serial=serial,
        grid_mode=grid_mode,
        grid_state=_grid_state(grid_mode),
        mains_admin_state=_state(device.get("mains_admin_state"), RELAY_STATES),
        mains_oper_state=_state(device.get("mains_oper_state"), RELAY_STATES),
        temperature_c=_fahrenheit_to_c(device.get("temperature")),
        communicating=_bool(device.get("communicating")),
        status=_text(device.get("admin_state_str")),
        last_report_ts=_int(device.get("last_rpt_date")),
    )


def collar_from(inventory_data) -> Optional[Collar]:
    """/ivp/ensemble/inventory COLLAR (IQ Meter Collar); its temperature is in Celsius."""
    devices = ensemble_devices(inventory_data, "COLLAR")
    serial = _serial(devices[0].get("serial_num")) if devices else None
    if serial is None:
        return None
    device = devices[0]
    mid_state = _str(device.get("mid_state"))
    return Collar(
        serial=serial,
        grid_state=_grid_state((_str(device.get("grid_state")) or "").replace("_", "-") or None),
        relay_closed=None if mid_state is None else mid_state in ("close", "closed"),
        temperature_c=_num(device.get("temperature")),
        communicating=_bool(device.get("communicating")),
        status=_text(device.get("admin_state_str")),
        last_report_ts=_int(device.get("last_rpt_date")),
    )


def battery_aggregate(secctrl, has_acb: bool) -> Optional[BatteryAggregate]:
    """/ivp/ensemble/secctrl. With AC Batteries, the whole site (agg_soc, Max_energy); else the Encharges.

    A site without batteries answers all zeros: that is no battery, not an empty one.
    """
    data = _dict(secctrl)
    if has_acb:
        capacity = _num(data.get("Max_energy"))
        available = _add(_num(data.get("ENC_agg_avail_energy")), _num(data.get("ACB_agg_energy")))
        percent = _num(data.get("agg_soc"))
    else:
        capacity = _num(data.get("Enc_max_available_capacity"))
        available = _num(data.get("ENC_agg_avail_energy"))
        percent = _num(data.get("ENC_agg_soc"))
    if not capacity:
        return None
    return BatteryAggregate(
        percent_full=percent,
        available_energy_wh=available,
        max_available_capacity_wh=capacity,
        reserve_percent=_num(data.get("adjusted_backup_soc")),
        configured_reserve_percent=_num(data.get("configured_backup_soc")),
        backup_reserve_wh=_num(data.get("ENC_agg_backup_energy")),
    )


def dry_contacts_from(status_data, settings_data) -> Dict[str, DryContact]:
    """/ivp/ensemble/dry_contacts (status) + /ivp/ss/dry_contact_settings (kept whole for safe writes)."""
    contacts: Dict[str, DryContact] = {}
    for item in _dicts(_dict(settings_data).get("dry_contacts")):
        contact_id = _identifier(text.device_id, item.get("id"), "dry contact id")
        if contact_id is None:
            continue
        contacts[contact_id] = DryContact(
            id=contact_id,
            name=_text(item.get("load_name")),
            type=_text(item.get("type")),
            mode=_text(item.get("mode")),
            settings=dict(item),
        )
    for item in _dicts(_dict(status_data).get("dry_contacts")):
        contact_id = _identifier(text.device_id, item.get("id"), "dry contact id")
        if contact_id is None:
            continue
        contact = contacts.setdefault(contact_id, DryContact(id=contact_id))
        contact.status = _state(item.get("status"), RELAY_STATES)
    return contacts


def generator_from(data) -> Optional[Generator]:
    """/ivp/ensemble/generator. An empty answer or one without a present generator is no generator."""
    data = _dict(data)
    if not data or "error" in data or "err" in data or _bool(data.get("present")) is False:
        return None
    oper_state = _state(data.get("oper_state"), RELAY_STATES)
    return Generator(
        admin_state=_state(data.get("admin_state"), RELAY_STATES),
        oper_state=oper_state,
        # "close" on some firmware (8.2.127, recorded while the generator ran), "closed" on others.
        running=None if oper_state is None else oper_state in ("closed", "close"),
        admin_mode=_int(data.get("admin_mode")),
        start_percent=_num(data.get("start_soc")),
        stop_percent=_num(data.get("stop_soc")),
    )


def generator_mode_from(data) -> Optional[str]:
    """/ivp/ss/gen_mode: the generator mode last asked for ("off", "on", "auto")."""
    mode = _str(_dict(data).get("gen_cmd"))
    return mode.lower() if mode and mode.lower() in GENERATOR_MODES else None


def grid_profile_from(data) -> Optional[str]:
    """/ivp/arf/profile: the grid code profile the installer chose, by name."""
    return _text(_dict(data).get("name"))


def production_enabled_from(data) -> Optional[bool]:
    """/ivp/mod/<gateway device id>/mode/power: {"powerForcedOff": bool}."""
    forced_off = _bool(_dict(data).get("powerForcedOff"))
    return None if forced_off is None else not forced_off


def apply_plc_levels(readings: Readings, data) -> None:
    """/installer/pcu_comm_check: {serial: level 0..5} for the devices on the power line."""
    for serial, level in _dict(data).items():
        level = _int(level)
        if level is None:
            continue
        for devices in (readings.inverters, readings.ac_batteries, readings.qrelays):
            device = devices.get(str(serial))
            if device is not None:
                device.plc_level = max(0, min(5, level))


def storage_mode_from(settings: dict) -> Optional[str]:
    """One of STORAGE_MODES from a tariff's storage_settings, whichever name the firmware uses."""
    mode = _str(settings.get("mode"))
    return _state(STORAGE_MODE_OLD_NAMES.get(mode, mode), STORAGE_MODES)


def storage_settings_from(tariff_data) -> Optional[StorageSettings]:
    """/admin/lib/tariff storage_settings (battery profile)."""
    settings = _dict(_dict(_dict(tariff_data).get("tariff")).get("storage_settings"))
    if not settings:
        return None
    return StorageSettings(
        mode=storage_mode_from(settings),
        reserve_percent=_num(settings.get("reserved_soc")),
        charge_from_grid=_bool(settings.get("charge_from_grid")),
        very_low_percent=_num(settings.get("very_low_soc")),
    )


# ---------------------------------------------------------------------------------------------- all


def build_readings(info: GatewayInfo, responses: Dict[str, object]) -> Readings:
    """Everything one cycle read -> Readings. Sections whose endpoints are absent stay None / empty."""
    readings = Readings(gateway=info)
    token = _DROPPED.set(readings.dropped)
    try:
        _build(readings, responses)
    finally:
        _DROPPED.reset(token)
    return readings


def _build(readings: Readings, responses: Dict[str, object]) -> None:
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
