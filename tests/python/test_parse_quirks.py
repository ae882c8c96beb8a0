"""One test per gateway quirk that parse.py / probe.py handle, and robustness against bad data."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from envoy import parse, probe
from envoy.readings import GatewayInfo

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

P = parse.PRODUCTION_JSON


def info(firmware="7.6.175", imeter=True):
    return GatewayInfo(serial="122302045041", firmware=firmware, imeter=imeter)


def section(kind, active, w_now, lifetime, today=None, week=None, measurement=None, lines=None):
    out = {"type": kind, "activeCount": active, "wNow": w_now, "whLifetime": lifetime}
    if today is not None:
        out.update(whToday=today, whLastSevenDays=week)
    if measurement:
        out["measurementType"] = measurement
    if lines is not None:
        out["lines"] = lines
    return out


def production_json(eim_active=1, consumption=True):
    data = {"production": [section("inverters", 10, 900, 5_000_000),
                           section("eim", eim_active, 1000.4, 6_000_000.6, 3000, 70_000, "production")]}
    if consumption:
        data["consumption"] = [
            section("eim", 1, 1500, 9_000_000, 8000, 90_000, "total-consumption"),
            section("eim", 1, 500, 3_000_000, 0, 0, "net-consumption"),
        ]
    return data


def test_parse_info_strips_the_build_letter_and_reads_imeter():
    xml = (b"<?xml version='1.0'?><envoy_info><device><sn>122302045041</sn><pn>800-00654-r08</pn>"
           b"<software>D8.2.4264</software><imeter>true</imeter></device></envoy_info>")
    gw = parse.parse_info(xml)
    assert (gw.serial, gw.part_number, gw.firmware, gw.imeter) == ("122302045041", "800-00654-r08", "8.2.4264", True)
    assert gw.firmware_major == 8
    old = parse.parse_info(b"<envoy_info><device><sn>1</sn><software>R3.9.36</software></device></envoy_info>")
    assert old.firmware == "3.9.36" and old.imeter is None


def test_parse_info_refuses_what_is_not_an_envoy():
    for body in (b"", b"<html>login</html>", b"not xml at all", b"<envoy_info><device/></envoy_info>"):
        try:
            parse.parse_info(body)
        except ValueError:
            continue
        raise AssertionError(f"accepted {body!r}")


def test_eim_with_active_count_zero_is_no_production_ct():
    data = production_json(eim_active=0, consumption=False)
    readings = parse.build_readings(info(), {P: data})
    assert readings.production.watts_now == 900 and readings.production.wh_lifetime == 5_000_000
    assert readings.production.wh_today is None and readings.production.wh_last_7_days is None
    assert readings.consumption is None and readings.net_consumption is None


def test_total_consumption_copied_from_net_is_rebuilt_from_net_plus_production():
    data = production_json()
    data["consumption"][0].update(wNow=500, whLifetime=3_000_000)  # 8.3.5433: total := net
    total = parse.build_readings(info("8.3.5433"), {P: data}).consumption
    assert total.watts_now == 500 + 1000.4 and total.wh_lifetime == 3_000_000 + 6_000_000.6
    genuine = parse.build_readings(info("8.3.5433"), {P: production_json()}).consumption
    assert genuine.watts_now == 1500 and genuine.wh_lifetime == 9_000_000


def test_unknown_after_reboot_and_nan_become_none_never_zero():
    data = production_json()
    data["production"][1].update(wNow="unknown", whToday=float("nan"), whLastSevenDays=None,
                                 whLifetime=float("inf"))
    production = parse.build_readings(info(), {P: data}).production
    assert production.watts_now is None and production.wh_today is None
    assert production.wh_last_7_days is None and production.wh_lifetime is None


def test_v1_production_all_zero_counters_is_broken_and_not_used():
    broken = {"wattsNow": 689, "wattHoursToday": 0, "wattHoursSevenDays": 0, "wattHoursLifetime": 0}
    data = production_json(eim_active=0, consumption=False)
    plan = probe.plan_from(info("7.3.466"), {P: data, parse.PRODUCTION_V1: broken})
    assert plan.sources["production"] == P + " inverters"
    assert plan.paths["general"] == (P,)
    readings = parse.build_readings(info(), {P: data, parse.PRODUCTION_V1: broken})
    assert readings.production.watts_now == 900


def test_v1_production_stalls_on_metered_gateways_without_ct_from_8_2_4264():
    v1 = {"wattsNow": 4, "wattHoursToday": 0, "wattHoursSevenDays": 1583, "wattHoursLifetime": 1583}
    data = production_json(eim_active=0, consumption=False)
    assert probe.plan_from(info("8.2.4264"), {P: data, parse.PRODUCTION_V1: v1}).sources["production"] == \
        P + " inverters"
    assert probe.plan_from(info("8.2.4263"), {P: data, parse.PRODUCTION_V1: v1}).sources["production"] == \
        parse.PRODUCTION_V1
    assert probe.plan_from(info("8.2.4264", imeter=False), {P: data, parse.PRODUCTION_V1: v1}).sources[
        "production"] == parse.PRODUCTION_V1


def test_unused_phase_lines_are_dropped():
    lines = [{"wNow": 10, "whLifetime": 1}, {"wNow": 20, "whLifetime": 2},
             {"wNow": 0.0, "whLifetime": 0.0, "whToday": 0, "whLastSevenDays": 0}]
    data = production_json()
    data["production"][1]["lines"] = lines
    assert [e.watts_now for e in parse.build_readings(info(), {P: data}).production_phases] == [10, 20]
    # one phase is no phase split
    data["production"][1]["lines"] = lines[:1]
    assert parse.build_readings(info(), {P: data}).production_phases == []


def test_meters_match_by_eid_and_ignore_unknown_or_disabled_cts():
    config = [{"eid": 1, "state": "enabled", "measurementType": "production", "phaseCount": 2},
              {"eid": 2, "state": "disabled", "measurementType": "net-consumption", "phaseCount": 2}]
    channel = {"activePower": 5, "voltage": 120, "actEnergyDlvd": 7}
    readings_data = [{"eid": 3, "activePower": 0}, {"eid": 2, "activePower": 9},
                     {"eid": 1, "activePower": 10, "voltage": 240, "channels": [channel, channel, channel]}]
    plan = probe.plan_from(info(), {parse.METERS: config})
    merged = {**plan.carried, parse.METER_READINGS: readings_data}  # /ivp/meters carried from the probe
    meters = parse.build_readings(info(), merged).meters
    assert list(meters) == ["production"]
    assert meters["production"].total.active_power_w == 10 and len(meters["production"].phases) == 2
    assert meters["production"].phases[0].energy_delivered_wh == 7


def test_encharge_power_is_in_milliwatts_under_the_key_devices_colon():
    inventory = [{"type": "ENCHARGE", "devices": [{"serial_num": "E1", "percentFull": 10}]}]
    power = {"devices:": [{"serial_num": "E1", "real_power_mw": -121000, "apparent_power_mva": 5000, "soc": 54}]}
    battery = parse.build_readings(info(), {parse.ENSEMBLE_INVENTORY: inventory,
                                            parse.ENSEMBLE_POWER: power}).encharges["E1"]
    assert battery.watts_now == -121 and battery.apparent_power_va == 5 and battery.percent_full == 54


def test_ac_batteries_are_not_inverters_and_decommissioned_ones_are_skipped():
    v1 = [{"serialNumber": "P1", "devType": 1, "lastReportWatts": 200, "maxReportWatts": 300,
           "lastReportDate": 1700000000},
          {"serialNumber": "A1", "devType": 11, "lastReportWatts": -50, "maxReportWatts": 270,
           "lastReportDate": 1700000001}]
    inventory = [{"type": "ACB", "devices": [
        {"serial_num": "A1", "percentFull": 40, "communicating": True, "admin_state": 2},
        {"serial_num": "A0", "percentFull": 0, "admin_state": 0}]}]
    readings = parse.build_readings(info(), {parse.INVERTERS_V1: v1, parse.INVENTORY: inventory})
    assert list(readings.inverters) == ["P1"]
    assert list(readings.ac_batteries) == ["A1"]
    assert readings.ac_batteries["A1"].watts_now == -50 and readings.ac_batteries["A1"].percent_full == 40


def test_all_zero_battery_aggregate_is_no_battery():
    zeros = {"agg_soc": 0, "Max_energy": 0, "ENC_agg_soc": 0, "ENC_agg_avail_energy": 0,
             "Enc_max_available_capacity": 0, "configured_backup_soc": 0}
    assert parse.build_readings(info(), {parse.ENSEMBLE_SECCTRL: zeros}).battery is None


def test_legacy_savings_mode_is_economy():
    tariff = {"tariff": {"storage_settings": {"mode": "savings-mode", "reserved_soc": 20.0,
                                              "charge_from_grid": "false", "very_low_soc": 5}}}
    storage = parse.build_readings(info(), {parse.TARIFF: tariff}).storage
    assert (storage.mode, storage.reserve_percent, storage.charge_from_grid) == ("economy", 20.0, False)


def test_missing_endpoints_leave_readings_empty():
    readings = parse.build_readings(info(), {})
    assert readings.production is None and readings.inverters == {} and readings.battery is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.just("unknown"),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["production", "consumption", "storage", "type", "eim", "activeCount", "wNow",
                         "lines", "devices", "devices:", "serial_num", "eid", "channels", "state", "tariff",
                         "storage_settings", "dry_contacts", "id", "measurementType", "devName", "sn",
                         "active", "deviceCount", "deviceDataLimit", "serialNumber", "devType"]),
        inner, max_size=5),
    max_leaves=20,
)
PATHS = list(probe.PROBE_PATHS) + [parse.METER_READINGS, parse.ENSEMBLE_SECCTRL, parse.ENSEMBLE_POWER,
                                   parse.DRY_CONTACTS, parse.DRY_CONTACT_SETTINGS, parse.GENERATOR]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(PATHS), JSON, max_size=len(PATHS)))
def test_bad_data_never_raises(responses):
    readings = parse.build_readings(info(), responses)
    plan = probe.plan_from(info(), responses)
    assert set(plan.paths) == {"general", "devices"}
    if readings.production is not None and readings.production.watts_now is not None:
        assert math.isfinite(readings.production.watts_now)


def _device_data(count, limit):
    pcu = {"devName": "pcu", "sn": "P1", "active": True,
           "channels": [{"watts": {"now": 150, "max": 300}, "wattHours": {"today": 900},
                         "lifetime": {"joulesProduced": 36_000_000},
                         "lastReading": {"endDate": 1700000000, "acVoltageINmV": 240500, "channelTemp": 31}}]}
    return {"1": pcu, "deviceCount": count, "deviceDataLimit": limit}


def test_full_device_data_may_miss_inverters_so_the_v1_list_is_used():
    v1 = [{"serialNumber": "P1", "lastReportWatts": 150, "maxReportWatts": 300, "lastReportDate": 1}]
    complete = probe.plan_from(info("8.2.4345"), {parse.DEVICE_DATA: _device_data(1, 64), parse.INVERTERS_V1: v1})
    assert complete.sources["inverters"] == parse.DEVICE_DATA
    full = probe.plan_from(info("8.2.4345"), {parse.DEVICE_DATA: _device_data(64, 64), parse.INVERTERS_V1: v1})
    assert full.sources["inverters"] == parse.INVERTERS_V1
    inverter = parse.build_readings(info(), {parse.DEVICE_DATA: _device_data(1, 64)}).inverters["P1"]
    assert (inverter.watts_now, inverter.ac_voltage_v, inverter.lifetime_wh, inverter.energy_today_wh) == \
        (150, 240.5, 10_000, 900)


def test_probe_skips_what_old_firmware_cannot_have():
    assert parse.ENSEMBLE_INVENTORY not in probe.probe_paths(info("4.10.35"))
    assert parse.DEVICE_DATA not in probe.probe_paths(info("8.1.41"))
    assert set(probe.probe_paths(info("8.2.4382"))) == set(probe.PROBE_PATHS)


def test_enpower_grid_state_and_celsius():
    inventory = [{"type": "ENPOWER", "devices": [{"serial_num": "S1", "Enpwr_grid_mode": "multimode-offgrid",
                                                  "temperature": 212, "mains_oper_state": "open"}]}]
    enpower = parse.build_readings(info(), {parse.ENSEMBLE_INVENTORY: inventory}).enpower
    assert (enpower.grid_state, enpower.temperature_c, enpower.mains_oper_state) == ("off-grid", 100.0, "open")
