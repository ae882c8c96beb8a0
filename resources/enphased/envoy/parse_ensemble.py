"""/ivp/ensemble/* and the settings behind them -> IQ Batteries, the IQ System Controller (Enpower), the IQ
Meter Collar, the site's battery aggregate, dry contacts, the generator and the battery profile (tariff).
Pure, like parse.py."""
from typing import Dict, List, Optional

from .endpoints import GENERATOR_MODES, RELAY_STATES, STORAGE_MODE_OLD_NAMES, STORAGE_MODES
from .fields import (add_known, as_bool, as_device_id, as_dict, as_free_text, as_int, as_number, as_serial, as_state,
                     as_text, dicts_in, first_known, from_milli)
from .readings import BatteryAggregate, Collar, DryContact, Encharge, Enpower, Generator, StorageSettings

def ensemble_devices(data, kind: str) -> List[dict]:
    devices: List[dict] = []
    for group in dicts_in(data):
        if group.get("type") == kind:
            devices += dicts_in(group.get("devices"))
    return devices


def encharges_from(inventory_data, power_data) -> Dict[str, Encharge]:
    """/ivp/ensemble/inventory ENCHARGE devices + /ivp/ensemble/power (milliwatts, list key "devices:")."""
    power = {}
    for item in dicts_in(as_dict(power_data).get("devices:")):
        serial = as_serial(item.get("serial_num"))
        if serial is not None:
            power[serial] = item
    batteries: Dict[str, Encharge] = {}
    for device in ensemble_devices(inventory_data, "ENCHARGE"):
        serial = as_serial(device.get("serial_num"))
        if serial is None:
            continue
        live = power.get(serial, {})
        batteries[serial] = Encharge(
            serial=serial,
            # /ivp/ensemble/power's soc is live and agrees with the site aggregate; the inventory's
            # percentFull can lag behind.
            percent_full=first_known(as_number(live.get("soc")), as_number(device.get("percentFull"))),
            watts_now=from_milli(live.get("real_power_mw")),
            apparent_power_va=from_milli(live.get("apparent_power_mva")),
            temperature_c=as_number(device.get("temperature")),
            max_cell_temp_c=as_number(device.get("maxCellTemp")),
            capacity_wh=as_number(device.get("encharge_capacity")),
            dc_switch_off=as_bool(device.get("dc_switch_off")),
            communicating=as_bool(device.get("communicating")),
            provisioned=as_bool(device.get("provisioned")),
            operating=as_bool(device.get("operating")),
            status=as_free_text(device.get("admin_state_str")),
            led_status=as_int(device.get("led_status")),
            last_report_ts=as_int(device.get("last_rpt_date")),
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
    number = as_number(value)
    return round((number - 32) * 5 / 9, 1) if number is not None else None


def enpower_from(inventory_data) -> Optional[Enpower]:
    """/ivp/ensemble/inventory ENPOWER (IQ System Controller); its temperature is in Fahrenheit."""
    devices = ensemble_devices(inventory_data, "ENPOWER")
    if not devices:
        return None
    device = devices[0]
    serial = as_serial(device.get("serial_num"))
    if serial is None:
        return None
    grid_mode = as_free_text(device.get("Enpwr_grid_mode"))
    return Enpower(
        serial=serial,
        grid_mode=grid_mode,
        grid_state=_grid_state(grid_mode),
        mains_admin_state=as_state(device.get("mains_admin_state"), RELAY_STATES),
        mains_oper_state=as_state(device.get("mains_oper_state"), RELAY_STATES),
        temperature_c=_fahrenheit_to_c(device.get("temperature")),
        communicating=as_bool(device.get("communicating")),
        status=as_free_text(device.get("admin_state_str")),
        last_report_ts=as_int(device.get("last_rpt_date")),
    )


def collar_from(inventory_data) -> Optional[Collar]:
    """/ivp/ensemble/inventory COLLAR (IQ Meter Collar); its temperature is in Celsius."""
    devices = ensemble_devices(inventory_data, "COLLAR")
    serial = as_serial(devices[0].get("serial_num")) if devices else None
    if serial is None:
        return None
    device = devices[0]
    mid_state = as_text(device.get("mid_state"))
    return Collar(
        serial=serial,
        grid_state=_grid_state((as_text(device.get("grid_state")) or "").replace("_", "-") or None),
        relay_closed=None if mid_state is None else mid_state in ("close", "closed"),
        temperature_c=as_number(device.get("temperature")),
        communicating=as_bool(device.get("communicating")),
        status=as_free_text(device.get("admin_state_str")),
        last_report_ts=as_int(device.get("last_rpt_date")),
    )


def battery_aggregate(secctrl, has_acb: bool) -> Optional[BatteryAggregate]:
    """/ivp/ensemble/secctrl. With AC Batteries, the whole site (agg_soc, Max_energy); else the Encharges.

    A site without batteries answers all zeros: that is no battery, not an empty one.
    """
    data = as_dict(secctrl)
    if has_acb:
        capacity = as_number(data.get("Max_energy"))
        available = add_known(as_number(data.get("ENC_agg_avail_energy")), as_number(data.get("ACB_agg_energy")))
        percent = as_number(data.get("agg_soc"))
    else:
        capacity = as_number(data.get("Enc_max_available_capacity"))
        available = as_number(data.get("ENC_agg_avail_energy"))
        percent = as_number(data.get("ENC_agg_soc"))
    if not capacity:
        return None
    return BatteryAggregate(
        percent_full=percent,
        available_energy_wh=available,
        max_available_capacity_wh=capacity,
        reserve_percent=as_number(data.get("adjusted_backup_soc")),
        configured_reserve_percent=as_number(data.get("configured_backup_soc")),
        backup_reserve_wh=as_number(data.get("ENC_agg_backup_energy")),
    )


def dry_contacts_from(status_data, settings_data) -> Dict[str, DryContact]:
    """/ivp/ensemble/dry_contacts (status) + /ivp/ss/dry_contact_settings (kept whole for safe writes)."""
    contacts: Dict[str, DryContact] = {}
    for item in dicts_in(as_dict(settings_data).get("dry_contacts")):
        contact_id = as_device_id(item.get("id"))
        if contact_id is None:
            continue
        contacts[contact_id] = DryContact(
            id=contact_id,
            name=as_free_text(item.get("load_name")),
            type=as_free_text(item.get("type")),
            mode=as_free_text(item.get("mode")),
            settings=dict(item),
        )
    for item in dicts_in(as_dict(status_data).get("dry_contacts")):
        contact_id = as_device_id(item.get("id"))
        if contact_id is None:
            continue
        contact = contacts.setdefault(contact_id, DryContact(id=contact_id))
        contact.status = as_state(item.get("status"), RELAY_STATES)
    return contacts


def generator_from(data) -> Optional[Generator]:
    """/ivp/ensemble/generator. An empty answer or one without a present generator is no generator."""
    data = as_dict(data)
    if not data or "error" in data or "err" in data or as_bool(data.get("present")) is False:
        return None
    oper_state = as_state(data.get("oper_state"), RELAY_STATES)
    return Generator(
        admin_state=as_state(data.get("admin_state"), RELAY_STATES),
        oper_state=oper_state,
        # "close" on some firmware (8.2.127, recorded while the generator ran), "closed" on others.
        running=None if oper_state is None else oper_state in ("closed", "close"),
        admin_mode=as_int(data.get("admin_mode")),
        start_percent=_threshold(data.get("start_soc")),
        stop_percent=_threshold(data.get("stop_soc")),
    )


def _threshold(value) -> Optional[float]:
    """A generator's charge threshold, in %; the gateway writes an unset one as -1 (8.2.127): none."""
    percent = as_number(value)
    return percent if percent is not None and 0 <= percent <= 100 else None


def generator_mode_from(data) -> Optional[str]:
    """/ivp/ss/gen_mode: the generator mode last asked for ("off", "on", "auto")."""
    mode = as_text(as_dict(data).get("gen_cmd"))
    return mode.lower() if mode and mode.lower() in GENERATOR_MODES else None


def storage_mode_from(settings: dict) -> Optional[str]:
    """One of STORAGE_MODES from a tariff's storage_settings, whichever name the firmware uses."""
    mode = as_text(settings.get("mode"))
    return as_state(STORAGE_MODE_OLD_NAMES.get(mode, mode), STORAGE_MODES)


def storage_settings_from(tariff_data) -> Optional[StorageSettings]:
    """/admin/lib/tariff storage_settings (battery profile)."""
    settings = as_dict(as_dict(as_dict(tariff_data).get("tariff")).get("storage_settings"))
    if not settings:
        return None
    return StorageSettings(
        mode=storage_mode_from(settings),
        reserve_percent=as_number(settings.get("reserved_soc")),
        charge_from_grid=as_bool(settings.get("charge_from_grid")),
        very_low_percent=as_number(settings.get("very_low_soc")),
    )

