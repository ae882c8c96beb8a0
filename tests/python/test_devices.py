"""Every device kind on the recorded gateways that have it, as Jeedom gets it: the recorded gateway served
over a real socket (its controls working on an overlay of its recording), the daemon's core over its
socket, Jeedom's callback a real receiver. Then the controls of each recorded kind, round trip."""
from datetime import datetime

import pytest

from conftest import fixtures_dir
from site_helpers import Site, commands
from jeedom_receiver import expanded
from simulator.writable import WritableRecorded


@pytest.fixture
def site(tmp_path):
    sites = []

    def start(name, **options):
        """A recorded gateway by name, or a gateway already made."""
        gateway = WritableRecorded(fixtures_dir() / name) if isinstance(name, str) else name
        sites.append(Site(tmp_path / str(len(sites)), gateway, **options))
        return sites[-1]
    yield start
    for one in sites:
        one.close()


def kinds(inventory):
    found = {}
    for logical_id, equipment in inventory.items():
        found.setdefault(equipment["kind"], []).append(logical_id)
    return found


def refused(answer, *words):
    assert answer["ok"] is False and answer["error"]["code"] == "refused", answer
    assert all(word in answer["error"]["message"] for word in words), answer["error"]["message"]
    return True


# --------------------------------------------------------------------------------------------- reading


def test_enpower_and_its_dry_contacts(site):
    s = site("7.3.517")  # IQ System Controller, 3 IQ Batteries, 4 dry contacts all closed
    inventory = s.sync()
    found = kinds(inventory)
    assert found["enpower"] == ["122029016399"] and len(found["encharge"]) == 3
    assert sorted(found["dry_contact"]) == [f"{s.serial}_dry_contact_{c}" for c in ("NC1", "NC2", "NO1", "NO2")]
    assert "generator" not in found  # the page answers, but no generator is set up
    enpower = s.values()["122029016399"]
    assert enpower["grid_on"] == 1 and enpower["relay_closed"] == 1 and enpower["communicating"] == 1
    assert enpower["grid_mode"] == "multimode-ongrid" and enpower["temperature_c"] == 31.1  # 88 °F
    assert {"grid_connect", "grid_disconnect"} <= commands(inventory["122029016399"], "action")
    contact = s.values()[f"{s.serial}_dry_contact_NO1"]
    assert contact["closed"] == 1 and contact["mode"] in ("manual", "soc") and "soc_low" in contact


def test_battery_figures_come_every_minute(site):
    """The site's battery power, state and charge, and each IQ Battery's power and charge, with every general
    cycle: from the one request that carries them (/ivp/ensemble/power here, no storage CT); the aggregate of
    /ivp/ensemble/secctrl every 5 minutes."""
    s = site("8.2.127_with_generator_running")  # one IQ Battery charging at 1250 W, 98 %
    s.sync()
    poller = s.daemon.pollers["12"]
    power = s.gateway.recorded_json("/ivp/ensemble/power")
    power["devices:"][0].update(real_power_mw=-103_000, apparent_power_mva=-103_000, soc=97)
    s.gateway.overlay["/ivp/ensemble/power"] = power
    served = len(s.simulator.requests)
    poller.submit(lambda: poller.cycle(["general"])).result(timeout=30)
    site_values, battery = s.values()[s.serial], s.values()["492234001350"]
    assert (site_values["battery_power_w"], site_values["battery_state"], site_values["battery_percent"]) == \
        (-103, "charging", 97)
    assert (battery["power_w"], battery["percent"]) == (-103, 97)
    general = [r.path for r in s.simulator.requests[served:] if r.path != "/auth/check_jwt"]
    assert general == list(poller.envoy.plan.paths["general"]) and "/ivp/ensemble/power" in general
    assert "/ivp/ensemble/secctrl" in poller.envoy.plan.paths["devices"]
    # The flow adds up with the battery of this minute: solar + grid + battery = home.
    assert abs(site_values["production_w"] + site_values["net_w"] + site_values["battery_power_w"]
               - site_values["consumption_w"]) <= 1.5


def test_ac_batteries_without_percent_full_still_give_the_site_total(site):
    """An AC Battery site whose production.json storage section lacks percentFull: power, state and charge (its
    stored energy over the aggregate's capacity) every minute from production.json alone; /ivp/ensemble/secctrl,
    which holds that capacity, every 5 minutes."""
    gateway = WritableRecorded(fixtures_dir() / "8.2.4382_ACB_2")
    production = gateway.recorded_json("/production.json?details=1") or gateway.recorded_json("/production.json")
    del production["storage"][0]["percentFull"]
    production["storage"][0].update(wNow=-180, whNow=206, state="charging")
    for path in ("/production.json?details=1", "/production.json"):
        gateway.overlay[path] = production
    s = site(gateway)
    s.sync()
    values = s.values()[s.serial]
    assert (values["battery_power_w"], values["battery_state"]) == (-180, "charging")
    assert values["battery_percent"] == round(100 * 206 / 412)  # Max_energy of its secctrl
    plan = s.daemon.pollers["12"].envoy.plan
    assert plan.paths["general"] == ("/production.json?details=1",)
    assert "/ivp/ensemble/secctrl" in plan.paths["devices"]


def test_iq_battery_and_the_site_battery_aggregate(site):
    s = site("7.6.185_with_cts_and_battery_3t")
    inventory = s.sync()
    battery = s.values()["122249097612"]
    assert inventory["122249097612"]["kind"] == "encharge"
    assert battery == dict(battery, percent=15, power_w=0, apparent_power_va=0, temperature_c=29, capacity_wh=3500,
                           dc_switch_off=0, communicating=1, status="ENCHG_STATE_READY")
    assert {"max_temperature_c", "last_report"} <= set(battery)
    # The seed's "producing" and maximum power, and "provisioned", the gateway does not give for an IQ Battery.
    assert not {"producing", "max_power_w", "provisioned"} & set(battery)
    gateway = s.values()[s.serial]
    assert gateway == dict(gateway, battery_percent=15, battery_available_wh=525, battery_capacity_wh=3500,
                           battery_reserve_percent=15, battery_backup_wh=525, storage_mode="self-consumption",
                           storage_reserve_percent=15, charge_from_grid=1)


def test_ac_batteries(site):
    s = site("8.3.5169_ACB_inventory")  # the ACB recording that has /inventory.json too
    found = kinds(s.sync())
    assert found["ac_battery"]
    for serial in found["ac_battery"]:
        acb = s.values()[serial]
        # Every battery item of the seed (provisioned, communicating, producing, power, max power, charge, max
        # temperature), and its last report.
        assert {"provisioned", "communicating", "producing", "power_w", "max_power_w", "percent", "max_temperature_c",
                "last_report"} <= set(acb), sorted(acb)


@pytest.mark.parametrize("name, running, mode", [("8.2.127_with_generator_running", 1, None),
                                                  ("8.3.5169_with_generator", 0, "on")])
def test_generator(site, name, running, mode):
    s = site(name)
    inventory = s.sync()
    generator = s.values()[f"{s.serial}_generator"]
    assert generator["running"] == running  # "close" on 8.2.127 is a running generator
    assert generator.get("mode") == mode  # /ivp/ss/gen_mode was recorded on 8.3.5169 only
    assert ("set_mode" in commands(inventory[f"{s.serial}_generator"])) == (mode is not None)


def test_grid_on_follows_the_measured_relay_and_an_unset_threshold_is_nothing(site):
    s = site("8.2.127_with_generator_running")  # the generator runs: the grid relay is open, the mode still "ongrid"
    s.sync()
    enpower, generator = s.values()["122210043898"], s.values()[f"{s.serial}_generator"]
    assert enpower["grid_mode"] == "multimode-ongrid" and enpower["relay_oper_closed"] == 0
    assert enpower["grid_on"] == 0 and enpower["relay_closed"] == 1  # asked closed, measured open: off grid
    assert generator["start_percent"] == 100 and "stop_percent" not in generator  # recorded stop_soc: -1


def test_ct_metering_status_and_flags(site):
    gateway = WritableRecorded(fixtures_dir() / "7.6.175_with_cts")
    meters = gateway.recorded_json("/ivp/meters")
    production = next(m for m in meters if m["measurementType"] == "production")
    production.update(meteringStatus="check-wiring", statusFlags=["negative-production", "power-on-unused-phase"])
    gateway.overlay["/ivp/meters"] = meters
    s = site(gateway)
    inventory = s.sync()
    ct, net = s.values()[f"{s.serial}_meter_production"], s.values()[f"{s.serial}_meter_net-consumption"]
    assert (ct["metering_status"], ct["status_flags"]) == ("check-wiring", "negative-production, power-on-unused-phase")
    assert (net["metering_status"], net["status_flags"]) == ("normal", "none")  # as recorded: no flag
    described = {c["logicalId"]: c for c in inventory[f"{s.serial}_meter_production"]["commands"]}
    assert described["metering_status"]["valueLabels"]["check-wiring"] == {"fr_FR": "Vérifier le câblage",
                                                                          "en_US": "Check wiring"}


@pytest.mark.parametrize("name, device, field", [
    ("7.6.175", "122146078718", "lastReportDate"),  # a microinverter (/api/v1/production/inverters)
    ("8.2.4382_ACB_2", "122000000001", "lastReportDate"),  # an AC Battery (the same list, devType 11)
    ("7.6.185_with_cts_and_battery_3t", "122249097612", "last_rpt_date"),  # an IQ Battery (ensemble inventory)
    ("7.3.517", "122029016399", "last_rpt_date"),  # an IQ System Controller
])
def test_each_device_s_last_report_as_a_jeedom_date(site, name, device, field):
    s = site(name, detail={"default": True})  # a microinverter's is a detail
    inventory = s.sync()
    recorded = _recorded_field(s.gateway, device, field)
    assert s.values()[device]["last_report"] == datetime.fromtimestamp(recorded).strftime("%Y-%m-%d %H:%M:%S")
    described = {c["logicalId"]: c for c in inventory[device]["commands"]}["last_report"]
    assert (described["type"], described["subType"]) == ("info", "string")


def _recorded_field(gateway, serial, field):
    """`field` of the device `serial` wherever the recording lists it (a list of devices, or groups of them)."""
    for path in ("/api/v1/production/inverters", "/ivp/ensemble/inventory"):
        for item in gateway.recorded_json(path) or []:
            for device in item.get("devices", [item]):
                if str(device.get("serialNumber", device.get("serial_num"))) == serial and field in device:
                    return device[field]
    raise AssertionError(f"{serial} has no {field} in the recording")


def test_iq_meter_collar(site):
    s = site("8.3.1598_collar")
    found = kinds(s.sync())
    assert found["collar"] == ["482520020939"] and "enpower" not in found
    # Its last report (last_rpt_date 1752939759) as Jeedom shows a date: local time, "Y-m-d H:i:s".
    reported = datetime.fromtimestamp(1752939759).strftime("%Y-%m-%d %H:%M:%S")
    assert s.values()["482520020939"] == dict(grid_on=1, relay_closed=1, temperature_c=42, communicating=1,
                                              status="ENCMN_MDE_ON_GRID", last_report=reported)


def test_three_phase_cts_per_phase(site):
    s = site("7.6.175_with_cts_3phase")
    found = kinds(s.sync())
    assert sorted(found["meter"]) == [f"{s.serial}_meter_net-consumption", f"{s.serial}_meter_production"]
    for meter in found["meter"]:
        values = s.values()[meter]
        for line in ("l1", "l2", "l3"):
            for reading in ("power_w", "voltage_v", "current_a", "power_factor", "frequency_hz"):
                assert f"{line}_{reading}" in values, (meter, line, reading)
        assert values["l2_frequency_hz"] == 50 and 180 < values["l1_voltage_v"] < 260  # as recorded


MICROINVERTER_DETAIL = {"ac_voltage_v", "ac_current_a", "ac_frequency_hz", "dc_voltage_v", "dc_current_a",
                        "temperature_c"}


def test_microinverter_details_only_where_asked(site):
    s = site("8.2.4345_with_device_data")
    inventory = s.sync()
    inverters = kinds(inventory)["inverter"]
    # By default what a user looks at: the seed's five and the energy; no volts, amps, frequency, temperature.
    for serial in inverters:
        assert {"power_w", "max_power_w", "energy_today_wh", "lifetime_wh"} <= commands(inventory[serial]) <= {
            "provisioned", "communicating", "producing", "power_w", "max_power_w", "energy_today_wh", "lifetime_wh"}
        assert set(s.values()[serial]) == commands(inventory[serial]), "nothing else is sent"


def test_microinverter_details_for_every_inverter_or_one(site):
    everywhere = site("8.2.4345_with_device_data", detail={"default": True})
    inventory = everywhere.sync()
    inverters = kinds(inventory)["inverter"]
    for serial in inverters:
        assert MICROINVERTER_DETAIL | {"energy_today_wh", "lifetime_wh"} <= set(everywhere.values()[serial])
        assert all(c.get("detail") == 1 for c in inventory[serial]["commands"] if c["logicalId"] in MICROINVERTER_DETAIL)
    one, other = inverters[0], inverters[1]
    by_equipment = site("8.2.4345_with_device_data", detail={"default": True, "off": [other]})
    by_equipment.sync()
    assert MICROINVERTER_DETAIL <= set(by_equipment.values()[one])
    assert not MICROINVERTER_DETAIL & set(by_equipment.values()[other])
    only_one = site("8.2.4345_with_device_data", detail={"on": [one]})
    inventory = only_one.sync()
    assert MICROINVERTER_DETAIL <= commands(inventory[one]) and not MICROINVERTER_DETAIL & commands(inventory[other])


def test_detail_asked_later_is_described_and_sent_without_a_sync(site):
    s = site("8.2.4345_with_device_data")
    inverter = kinds(s.sync())["inverter"][0]
    synced = len(s.jeedom.events)
    assert s.ask("configure", gateways=[dict(s.config, detail={"on": [inverter]})])["ok"]

    def described(jeedom):
        # An inventory reaches Jeedom in as many POSTs as its size takes: its equipment, from any of them.
        equipment = {e["logicalId"]: e for event in jeedom.events[synced:] if event["type"] == "inventory"
                     for e in expanded(event)["equipments"]}
        return inverter in equipment and MICROINVERTER_DETAIL <= commands(equipment[inverter])
    assert s.jeedom.wait_for(described), "a new inventory describes the detail the user asked for"
    assert s.jeedom.wait_for(lambda j: MICROINVERTER_DETAIL <= set(s.values()[inverter]))


def test_installer_rights_read_production_state(site):
    s = site("7.6.175_with_cts", role="installer")
    inventory = s.sync()
    assert s.value(s.serial, "production_enabled") == 1
    assert {"production_on", "production_off"} <= commands(inventory[s.serial], "action")


# --------------------------------------------------------------------------------------------- controls


def test_enpower_grid_and_dry_contacts_round_trip(site):
    s = site("8.2.4286_with_3cts_and_battery_split")
    inventory = s.sync()
    enpower = kinds(inventory)["enpower"][0]
    assert s.execute(enpower, "grid_disconnect") == {"ok": True}
    assert s.value(enpower, "relay_closed") == 0 and s.value(enpower, "grid_on") == 0
    assert s.execute(enpower, "grid_connect") == {"ok": True}
    assert s.value(enpower, "relay_closed") == 1 and s.value(enpower, "grid_on") == 1
    contact = f"{s.serial}_dry_contact_NC2"
    target = "open" if s.value(contact, "closed") else "close"
    assert s.execute(contact, target) == {"ok": True}
    assert s.value(contact, "closed") == (1 if target == "close" else 0)


def test_dry_contact_settings_go_back_whole(site):
    s = site("7.3.517")
    s.sync()
    recorded = next(c for c in s.gateway.recorded_json("/ivp/ss/dry_contact_settings")["dry_contacts"]
                    if c["id"] == "NO1")
    assert s.execute(f"{s.serial}_dry_contact_NO1", "set_soc_high", 85) == {"ok": True}
    (method, path, body), = [w for w in s.gateway.writes if w[1] == "/ivp/ss/dry_contact_settings"]
    assert body == {"dry_contacts": dict(recorded, soc_high=85.0)}
    assert s.value(f"{s.serial}_dry_contact_NO1", "soc_high") == 85


def test_storage_profile_and_reserve_on_firmware_that_applies_them(site):
    s = site("7.3.517")  # full backup, 100 % reserve
    s.sync()
    assert s.value(s.serial, "storage_mode") == "backup"
    assert s.execute(s.serial, "set_storage_mode", "self-consumption") == {"ok": True}
    assert s.value(s.serial, "storage_mode") == "self-consumption"
    assert s.execute(s.serial, "set_storage_reserve", 30) == {"ok": True}
    assert s.value(s.serial, "storage_reserve_percent") == 30
    (_, _, body), = [w for w in s.gateway.writes if w[0] == "PUT" and w[1] == "/admin/lib/tariff"][-1:]
    recorded = s.gateway.recorded_json("/admin/lib/tariff")["tariff"]
    assert set(body["tariff"]) == set(recorded)  # the whole tariff went back, not the storage settings alone


def test_legacy_savings_mode_is_written_in_the_gateway_words(site):
    s = site("7.3.517_legacy_savings_mode")
    s.sync()
    assert s.value(s.serial, "storage_mode") == "economy"
    assert s.execute(s.serial, "set_storage_mode", "economy") == {"ok": True}  # e.g. with a new reserve
    assert s.gateway.writes[-1][2]["tariff"]["storage_settings"]["mode"] == "savings-mode"
    assert s.value(s.serial, "storage_mode") == "economy"
    assert s.execute(s.serial, "set_storage_mode", "backup") == {"ok": True}
    assert s.value(s.serial, "storage_mode") == "backup"


def test_generator_mode_round_trip_and_storage_refused_on_recent_firmware(site):
    s = site("8.3.5169_with_generator")
    s.sync()
    generator = f"{s.serial}_generator"
    assert s.execute(generator, "set_mode", "auto") == {"ok": True}
    assert s.value(generator, "mode") == "auto"
    assert refused(s.execute(s.serial, "set_storage_reserve", 40), "8.3.5169", "Enphase app")
    assert not [w for w in s.gateway.writes if w[1] == "/admin/lib/tariff"]


def test_production_on_off_round_trip_with_installer_rights(site):
    s = site("7.6.175_with_cts", role="installer")
    s.sync()
    assert s.execute(s.serial, "production_off") == {"ok": True}
    assert s.value(s.serial, "production_enabled") == 0
    assert s.execute(s.serial, "production_on") == {"ok": True}
    assert s.value(s.serial, "production_enabled") == 1


def test_production_refused_to_an_owner_and_on_a_digest_gateway_without_installer(site):
    owner = site("7.6.175_with_cts")
    owner.sync()
    assert refused(owner.execute(owner.serial, "production_off"), "installer rights")
    old = site("5.0.62")
    old.sync()
    assert refused(old.execute(old.serial, "production_off"), "installer rights")
    assert not owner.gateway.writes and not old.gateway.writes


def test_production_refused_where_the_firmware_has_no_such_switch(site):
    s = site("5.0.62", digest_installer=True)
    s.sync()
    assert refused(s.execute(s.serial, "production_off"), "firmware 7 and later")
    assert not s.gateway.writes
