"""/inventory.json, /api/v1/production/inverters, /ivp/pdm/device_data, the CT meters and the power-line
check -> the site's devices (microinverters, AC Batteries, Q-Relays, CT meters). Pure, like parse.py."""
from typing import Dict, List, Optional, Tuple

from . import text
from .endpoints import DEV_TYPE_ACB, RELAY_STATES
from .fields import (as_bool, as_dict, as_free_text, as_int, as_number, as_serial, as_state, as_word, dicts_in,
                     from_milli)
from .readings import AcBattery, Inverter, Meter, MeterReading, QRelay, Readings

# ---------------------------------------------------------------------------------------------- inverters


def inverters_from_v1(data) -> Tuple[Dict[str, Inverter], Dict[str, AcBattery]]:
    """/api/v1/production/inverters: microinverters, and AC Batteries (devType 11), which report here too."""
    inverters: Dict[str, Inverter] = {}
    batteries: Dict[str, AcBattery] = {}
    for item in dicts_in(data):
        serial = as_serial(item.get("serialNumber"))
        if serial is None:
            continue
        report = {
            "watts_now": as_number(item.get("lastReportWatts")),
            "max_watts": as_number(item.get("maxReportWatts")),
            "last_report_ts": as_int(item.get("lastReportDate")),
        }
        if as_int(item.get("devType")) == DEV_TYPE_ACB:
            batteries[serial] = AcBattery(serial=serial, **report)
        else:
            inverters[serial] = Inverter(serial=serial, **report)
    return inverters, batteries


def device_data_is_complete(data) -> bool:
    """/ivp/pdm/device_data lists at most deviceDataLimit devices: when full, some may be missing."""
    data = as_dict(data)
    count, limit = as_number(data.get("deviceCount")), as_number(data.get("deviceDataLimit"))
    return count is not None and limit is not None and count < limit


def inverters_from_device_data(data) -> Dict[str, Inverter]:
    """/ivp/pdm/device_data (firmware 8.2+): per microinverter power, AC/DC values, temperature, energy."""
    inverters: Dict[str, Inverter] = {}
    for key, device in as_dict(data).items():
        if not isinstance(device, dict) or device.get("devName") != "pcu" or device.get("active") is not True:
            continue
        serial = as_serial(device.get("sn"))
        channels = dicts_in(device.get("channels"))
        if serial is None or not channels:
            continue
        channel = channels[0]
        reading = as_dict(channel.get("lastReading"))
        watts = as_dict(channel.get("watts"))
        lifetime_j = as_number(as_dict(channel.get("lifetime")).get("joulesProduced"))
        inverters[serial] = Inverter(
            serial=serial,
            watts_now=as_number(watts.get("now")),
            max_watts=as_number(watts.get("max")),
            last_report_ts=as_int(reading.get("endDate")),
            ac_voltage_v=from_milli(reading.get("acVoltageINmV")),
            ac_current_a=from_milli(reading.get("acCurrentInmA")),
            ac_frequency_hz=from_milli(reading.get("acFrequencyINmHz")),
            dc_voltage_v=from_milli(reading.get("dcVoltageINmV")),
            dc_current_a=from_milli(reading.get("dcCurrentINmA")),
            temperature_c=as_number(reading.get("channelTemp")),
            energy_today_wh=as_number(as_dict(channel.get("wattHours")).get("today")),
            lifetime_wh=lifetime_j / 3600.0 if lifetime_j is not None else None,
        )
    return inverters


# ---------------------------------------------------------------------------------------------- inventory


def _inventory_devices(data, kind: str) -> List[dict]:
    """Devices of one type in /inventory.json, without the decommissioned ones (admin_state 0)."""
    devices: List[dict] = []
    for group in dicts_in(data):
        if group.get("type") == kind:
            devices += [d for d in dicts_in(group.get("devices")) if as_int(d.get("admin_state")) != 0]
    return devices


def _set_status_flags(reading, device: dict) -> None:
    """The yes/no states /inventory.json gives a microinverter or an AC Battery."""
    reading.provisioned = as_bool(device.get("provisioned"))
    reading.communicating = as_bool(device.get("communicating"))
    reading.producing = as_bool(device.get("producing"))
    reading.operating = as_bool(device.get("operating"))


def apply_inventory(readings: Readings, data) -> None:
    """/inventory.json: microinverter status flags, AC Batteries, Q-Relays."""
    for device in _inventory_devices(data, "PCU"):
        serial = as_serial(device.get("serial_num"))
        if serial is None:
            continue
        inverter = readings.inverters.get(serial)
        if inverter is None:
            continue  # microinverters are those that report power; the inventory only adds their status
        _set_status_flags(inverter, device)

    for device in _inventory_devices(data, "ACB"):
        serial = as_serial(device.get("serial_num"))
        if serial is None:
            continue
        battery = readings.ac_batteries.get(serial) or AcBattery(serial=serial)
        battery.percent_full = as_number(device.get("percentFull"))
        battery.max_cell_temp_c = as_number(device.get("maxCellTemp"))
        battery.sleep_enabled = as_bool(device.get("sleep_enabled"))
        battery.charge_status = as_free_text(device.get("charge_status"))
        _set_status_flags(battery, device)
        readings.ac_batteries[serial] = battery

    for device in _inventory_devices(data, "NSRB"):
        serial = as_serial(device.get("serial_num"))
        if serial is None:
            continue
        lines = [as_bool(device.get(key)) for key in ("line1-connected", "line2-connected", "line3-connected")
                 if key in device]
        readings.qrelays[serial] = QRelay(
            serial=serial, relay_state=as_state(device.get("relay"), RELAY_STATES), line_states=lines,
            provisioned=as_bool(device.get("provisioned")), communicating=as_bool(device.get("communicating")),
            operating=as_bool(device.get("operating")),
        )


def apply_plc_levels(readings: Readings, data) -> None:
    """/installer/pcu_comm_check: {serial: level 0..5} for the devices on the power line."""
    for serial, level in as_dict(data).items():
        level = as_int(level)
        if level is None:
            continue
        for devices in (readings.inverters, readings.ac_batteries, readings.qrelays):
            device = devices.get(str(serial))
            if device is not None:
                device.plc_level = max(0, min(5, level))


# ---------------------------------------------------------------------------------------------- meters


def meters_config(data) -> Dict[str, dict]:
    """/ivp/meters: the enabled CTs by eid (as text). A disabled CT measures nothing worth showing."""
    return {
        as_serial(meter.get("eid")): meter
        for meter in dicts_in(data)
        if meter.get("state") == "enabled" and as_word(meter.get("measurementType")) and as_serial(meter.get("eid"))
    }


def phase_count_from_meters(data) -> Optional[int]:
    counts = [as_int(m.get("phaseCount")) or 1 for m in meters_config(data).values()]
    return max(counts) if counts else None


def meter_reading(channel: dict) -> MeterReading:
    return MeterReading(
        active_power_w=as_number(channel.get("activePower")),
        apparent_power_va=as_number(channel.get("apparentPower")),
        reactive_power_var=as_number(channel.get("reactivePower")),
        voltage_v=as_number(channel.get("voltage")),
        current_a=as_number(channel.get("current")),
        power_factor=as_number(channel.get("pwrFactor")),
        frequency_hz=as_number(channel.get("freq")),
        energy_delivered_wh=as_number(channel.get("actEnergyDlvd")),
        energy_received_wh=as_number(channel.get("actEnergyRcvd")),
    )


def _status_words(value) -> Optional[str]:
    """A CT's statusFlags: its words, comma-separated ("" for none; not a list: not said)."""
    if not isinstance(value, list):
        return None
    return ", ".join(word for word in (text.word(item) for item in value[:20]) if word is not None)


def meters_from(config_data, readings_data) -> Dict[str, Meter]:
    """/ivp/meters + /ivp/meters/readings, matched by eid (the two lists may differ in size and order)."""
    config = meters_config(config_data)
    meters: Dict[str, Meter] = {}
    for data in dicts_in(readings_data):
        eid = as_serial(data.get("eid"))
        ct = config.get(eid) if eid is not None else None
        if ct is None:
            continue  # unknown or disabled CT (8.3.5025 lists an unconfigured storage CT, all zeros)
        phase_count = as_int(ct.get("phaseCount"))
        channels = dicts_in(data.get("channels"))
        meter = Meter(
            eid=eid,
            measurement_type=as_word(ct["measurementType"]),
            state=as_state(ct.get("state"), ("enabled", "disabled")),
            phase_mode=as_free_text(ct.get("phaseMode")),
            phase_count=phase_count,
            metering_status=text.word(ct.get("meteringStatus")),
            status_flags=_status_words(ct.get("statusFlags")),
            total=meter_reading(data),
            phases=[meter_reading(c) for c in channels[: phase_count or 0]] if (phase_count or 0) > 1 else [],
        )
        meters[meter.measurement_type] = meter
    return meters

