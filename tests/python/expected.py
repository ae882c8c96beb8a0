"""Compare our Readings with a recorded gateway's expected.json (what pyenphase 3.2.1 produced).

`as_expected(readings, plan)` turns our readings into expected.json's vocabulary (EnvoyData field names,
pyenphase units), `expectations(doc)` gathers every value expected.json gives (snapshot `data`,
`asserts`, `inline_asserts`, the `v2_acb_mode_false` variant), and `differences(ours, wanted)` lists
where they disagree as "path: ours != expected" lines.
"""
import fnmatch
import math
from typing import Dict, List

PHASES = ("L1", "L2", "L3")


def _energy(energy):
    if energy is None:
        return None
    return {
        "watts_now": energy.watts_now,
        "watt_hours_today": energy.wh_today,
        "watt_hours_last_7_days": energy.wh_last_7_days,
        "watt_hours_lifetime": energy.wh_lifetime,
    }


def _phases(energies):
    return {PHASES[i]: _energy(e) for i, e in enumerate(energies)} or None


def _meter(meter, reading, phase=False):
    out = {
        "eid": int(meter.eid),
        "measurement_type": meter.measurement_type,
        "state": meter.state,
        "metering_status": meter.metering_status,
        "active_power": reading.active_power_w,
        "voltage": reading.voltage_v,
        "current": reading.current_a,
        "power_factor": reading.power_factor,
        "frequency": reading.frequency_hz,
        "energy_delivered": reading.energy_delivered_wh,
        "energy_received": reading.energy_received_wh,
    }
    if phase:
        del out["eid"]  # pyenphase gives each phase its channel's eid, which our model does not keep
    return out


def _milli(value):
    return None if value is None else value * 1000


def as_expected(readings, plan=None) -> dict:
    """Our readings in expected.json's shape (only what our model holds)."""
    r = readings
    out = {
        "system_production": _energy(r.production),
        "system_consumption": _energy(r.consumption),
        "system_net_consumption": _energy(r.net_consumption),
        "system_production_phases": _phases(r.production_phases),
        "system_consumption_phases": _phases(r.consumption_phases),
        "system_net_consumption_phases": _phases(r.net_consumption_phases),
        "inverters": {
            serial: {
                "serial_number": inv.serial,
                "last_report_watts": inv.watts_now,
                "max_report_watts": inv.max_watts,
                "last_report_date": inv.last_report_ts,
                "ac_voltage": inv.ac_voltage_v,
                "ac_current": inv.ac_current_a,
                "ac_frequency": inv.ac_frequency_hz,
                "dc_voltage": inv.dc_voltage_v,
                "dc_current": inv.dc_current_a,
                "temperature": inv.temperature_c,
                "energy_today": inv.energy_today_wh,
                "lifetime_energy": inv.lifetime_wh,
            }
            for serial, inv in r.inverters.items()
        },
        "ctmeters": {t: _meter(m, m.total) for t, m in r.meters.items()},
        "ctmeters_phases": {
            t: {PHASES[i]: _meter(m, p, phase=True) for i, p in enumerate(m.phases)} for t, m in r.meters.items() if m.phases
        },
        "acb_power": None,
        "acb_inventory": {
            serial: {
                "serial_num": b.serial,
                "percent_full": b.percent_full,
                "max_cell_temp": b.max_cell_temp_c,
                "sleep_enabled": b.sleep_enabled,
                "charge_status": b.charge_status,
                "communicating": b.communicating,
                "operating": b.operating,
                "producing": b.producing,
                "last_report_date": b.last_report_ts,
                "last_report_watts": b.watts_now,
                "max_report_watts": b.max_watts,
            }
            for serial, b in r.ac_batteries.items()
        } or None,
        "encharge_inventory": {
            serial: {
                "serial_number": b.serial,
                "percent_full": b.percent_full,
                "temperature": b.temperature_c,
                "max_cell_temp": b.max_cell_temp_c,
                "encharge_capacity": b.capacity_wh,
                "dc_switch_off": b.dc_switch_off,
                "communicating": b.communicating,
                "operating": b.operating,
                "admin_state_str": b.status,
                "led_status": b.led_status,
                "last_report_date": b.last_report_ts,
            }
            for serial, b in r.encharges.items()
        },
        "encharge_power": {
            serial: {"real_power_mw": _milli(b.watts_now), "apparent_power_mva": _milli(b.apparent_power_va),
                     "soc": b.percent_full}
            for serial, b in r.encharges.items()
        },
        "battery_aggregate": None,
        "encharge_aggregate": None,
        "enpower": None,
        "dry_contact_status": {c.id: {"id": c.id, "status": c.status} for c in r.dry_contacts.values()},
        "dry_contact_settings": {
            c.id: {"id": c.id, "load_name": c.settings.get("load_name"), "type": c.type, "mode": c.mode}
            for c in r.dry_contacts.values()
        },
        "generator": None,
        "tariff": None,
    }
    if r.ac_battery_total is not None:
        t = r.ac_battery_total
        out["acb_power"] = {"power": t.watts_now, "charge_wh": t.wh_now, "state_of_charge": t.percent_full,
                            "state": t.state, "batteries": t.count}
    if r.battery is not None:
        b = r.battery
        key = "battery_aggregate" if r.ac_battery_total is not None or r.ac_batteries else "encharge_aggregate"
        out[key] = {
            "state_of_charge": b.percent_full,
            "available_energy": b.available_energy_wh,
            "max_available_capacity": b.max_available_capacity_wh,
        }
        if key == "encharge_aggregate":
            out[key].update({
                "reserve_state_of_charge": b.reserve_percent,
                "configured_reserve_state_of_charge": b.configured_reserve_percent,
                "backup_reserve": b.backup_reserve_wh,
            })
    if r.enpower is not None:
        e = r.enpower
        out["enpower"] = {
            "serial_number": e.serial,
            "grid_mode": e.grid_mode,
            "mains_admin_state": e.mains_admin_state,
            "mains_oper_state": e.mains_oper_state,
            "communicating": e.communicating,
            "admin_state_str": e.status,
            "last_report_date": e.last_report_ts,
            # pyenphase keeps the gateway's Fahrenheit; we convert to Celsius
            "temperature": None if e.temperature_c is None else e.temperature_c * 9 / 5 + 32,
        }
    if r.generator is not None:
        g = r.generator
        out["generator"] = {"admin_state": g.admin_state, "oper_state": g.oper_state, "admin_mode": g.admin_mode,
                            "start_soc": g.start_percent, "stop_soc": g.stop_percent}
    if r.storage is not None:
        s = r.storage
        out["tariff"] = {"storage_settings": {"mode": s.mode, "reserved_soc": s.reserve_percent,
                                              "charge_from_grid": s.charge_from_grid,
                                              "very_low_soc": s.very_low_percent}}
    if plan is not None:
        out["phase_count"] = plan.phase_count
        out["ct_meter_count"] = len(plan.ct_meters)
        out["phase_mode"] = plan.phase_mode
    out["inverter_count"] = len(r.inverters)
    out["acb_count"] = (r.ac_battery_total.count if r.ac_battery_total else None) or 0
    return out


def expectations(doc: dict) -> dict:
    """Every value expected.json gives, in the shape of `as_expected` (v2_acb_mode=False: ACBs apart)."""
    wanted = dict(doc.get("data") or {})
    for key in ("asserts", "inline_asserts"):
        for name, value in (doc.get(key) or {}).items():
            if name in ("updaters", "envoy_model", "consumption_meter_type", "part_number",
                        "supported_features_includes", "acb_inventory_count"):
                continue
            if name == "dry_contact_types":
                wanted["dry_contact_settings"] = {i: {"type": t} for i, t in value.items()}
            elif name == "inverters_partial":
                wanted["inverters_partial"] = value
            elif name == "inverters_include":
                wanted["inverters_include"] = value
            elif name == "inverters_exclude":
                wanted["inverters_exclude"] = value
            else:
                wanted[name] = value
    settings = (wanted.get("tariff") or {}).get("storage_settings")
    wanted.pop("tariff", None)
    if settings:
        # Of the tariff, only the battery profile is ours; pyenphase renames "savings-mode" to "economy".
        wanted["tariff"] = {"storage_settings": {k: settings.get(k) for k in
                                                 ("mode", "reserved_soc", "charge_from_grid", "very_low_soc")}}
    v2_off = doc.get("v2_acb_mode_false")
    if v2_off:
        # pyenphase's default (v2_acb_mode) lists AC Batteries among the inverters; its other mode, like
        # us, keeps them apart: compare with that one.
        keep = set(v2_off["inverter_serials"])
        wanted["inverters"] = {s: v for s, v in (wanted.get("inverters") or {}).items() if s in keep}
        wanted["inverter_count"] = v2_off["inverter_count"]
        if v2_off.get("acb_inventory"):
            wanted["acb_inventory"] = v2_off["acb_inventory"]
    return wanted


def _same(ours, exp) -> bool:
    if isinstance(exp, bool) or isinstance(ours, bool):
        return ours == exp
    if isinstance(exp, (int, float)) and isinstance(ours, (int, float)):
        if isinstance(exp, int):
            # pyenphase rounds energies and powers, sometimes before adding two of them
            return abs(ours - exp) <= 1 + 1e-9
        return math.isclose(ours, exp, rel_tol=1e-9, abs_tol=1e-3)
    return ours == exp


def _walk(ours, exp, path: str, out: List[str], strict_keys: bool):
    if isinstance(exp, dict) and isinstance(ours, dict):
        if strict_keys and path.count(".") == 0 and path in _KEYED:
            for key in sorted(set(exp) ^ set(ours)):
                where = "ours" if key in ours else "expected"
                out.append(f"{path}.{key}: only in {where}")
        for key, value in exp.items():
            if key in ours:
                _walk(ours[key], value, f"{path}.{key}", out, strict_keys)
        return
    if isinstance(exp, dict) and ours in (None, {}):
        if exp:
            out.append(f"{path}: ours is None, expected {exp!r}"[:300])
        return
    if isinstance(exp, (list, dict)):
        return  # lists (status flags, schedules) are not part of our model
    if exp is None:
        return  # pyenphase has nothing there; having more is not a difference
    if not _same(ours, exp):
        out.append(f"{path}: ours {ours!r} != expected {exp!r}")


# Collections whose members must be the same on both sides (not just the values of common members).
_KEYED = {"inverters", "ctmeters", "encharge_inventory", "encharge_power", "acb_inventory",
          "dry_contact_status", "dry_contact_settings"}
# Energy flows: expected None must be None for us too (no invented production or consumption).
_PRESENCE = ("system_production", "system_consumption", "system_net_consumption")


def differences(ours: dict, wanted: dict) -> List[str]:
    out: List[str] = []
    for key, exp in wanted.items():
        if key == "inverters_include":
            out += [f"inverters.{s}: missing" for s in exp if s not in ours["inverters"]]
        elif key == "inverters_exclude":
            out += [f"inverters.{s}: should not be an inverter" for s in exp if s in ours["inverters"]]
        elif key == "inverters_partial":
            _walk(ours["inverters"], exp, "inverters", out, strict_keys=False)
        elif key in _PRESENCE and exp is None:
            if ours.get(key) is not None:
                out.append(f"{key}: ours {ours[key]!r}, expected None")
        elif key in ours:
            _walk(ours[key], exp, key, out, strict_keys=True)
    return out


def without_deliberate(diffs: List[str], fixture: str, deliberate: Dict[tuple, str]) -> List[str]:
    """Drop the differences matching a (fixture pattern, path pattern) of `deliberate`."""
    return [
        d for d in diffs
        if not any(fnmatch.fnmatch(fixture, f) and fnmatch.fnmatch(d.split(":")[0], p) for f, p in deliberate)
    ]
