"""The synthetic gateway: real shapes, consistent values over a simulated day, determinism, scale, controls."""
import json
import time

import pytest
import requests

from conftest import fixtures_dir
from fake_clock import Clock
from simulator.recorded import RecordedGateway
from simulator.synthetic import GATEWAY_EID, SyntheticGateway

READ_PATHS = [
    "/production.json?details=1", "/production.json", "/api/v1/production", "/api/v1/production/inverters",
    "/inventory.json", "/inventory.json?deleted=1", "/ivp/meters", "/ivp/meters/readings",
    "/ivp/ensemble/inventory", "/ivp/ensemble/status", "/ivp/ensemble/secctrl", "/ivp/ensemble/power",
    "/ivp/ensemble/relay", "/ivp/ensemble/dry_contacts", "/ivp/ss/dry_contact_settings", "/ivp/ensemble/generator",
    "/ivp/ss/gen_config", "/ivp/ss/gen_mode", "/admin/lib/tariff", "/ivp/pdm/device_data", "/ivp/livedata/status",
]


def local(year, month, day, hour=0, minute=0):
    return time.mktime((year, month, day, hour, minute, 0, 0, 0, -1))


def body(gw, path):
    r = gw.response(path)
    assert r.status == 200, path
    return json.loads(r.body)


def full_house(clock, **kw):
    args = dict(inverters=9, encharges=2, acbs=2, phases=3, enpower=True, qrelays=1, generator=True,
                dry_contacts=4, clock=clock, seed=7)
    args.update(kw)
    return SyntheticGateway(**args)


# ------------------------------------------------------------------ shapes
def test_every_endpoint_answers_json_and_unknown_paths_404():
    gw = full_house(Clock(local(2025, 6, 21, 13)))
    for path in READ_PATHS:
        r = gw.response(path)
        assert (r.status, r.content_type) == (200, "application/json"), path
        json.loads(r.body)
    assert gw.response("/no/such/page").status == 404
    assert gw.response("/ivp/mod/1/mode/power").status == 404
    info = gw.response("/info")
    assert info.content_type == "application/xml" and b"<software>D8.2.4345</software>" in info.body
    assert b"<sn>%s</sn>" % gw.serial.encode() in info.body and b"<imeter>true</imeter>" in info.body


def keys_of(data):
    return set(data)


@pytest.mark.parametrize("phases", [1, 2, 3])
def test_keys_are_those_real_gateways_have(phases):
    """Every key a recorded firmware-8 gateway gives is in ours, at every level the parsers read."""
    root = fixtures_dir()
    split = RecordedGateway(root / "8.2.4286_with_3cts_and_battery_split")
    generator = RecordedGateway(root / "8.3.5169_with_generator")
    acb = RecordedGateway(root / "8.3.5169_ACB_inventory")
    device_data = RecordedGateway(root / "8.2.4345_with_device_data")
    gw = full_house(Clock(local(2025, 6, 21, 13)), phases=phases)

    def check(ours, real, where):
        missing = keys_of(real) - keys_of(ours)
        assert not missing, "%s lacks %s" % (where, sorted(missing))

    ours, real = body(gw, "/production.json?details=1"), body(split, "/production.json?details=1")
    check(ours, real, "production.json")
    for n in (0, 1):
        check(ours["production"][n], real["production"][n], "production[%d]" % n)
    check(ours["production"][1]["lines"][0], real["production"][1]["lines"][0], "production line")
    for n in (0, 1):
        check(ours["consumption"][n], real["consumption"][n], "consumption[%d]" % n)
        assert ours["consumption"][n]["measurementType"] == real["consumption"][n]["measurementType"]
    check(ours["storage"][0], body(acb, "/production.json?details=1")["storage"][0], "storage")
    check(body(gw, "/api/v1/production"), body(split, "/api/v1/production"), "api/v1/production")
    check(body(gw, "/api/v1/production/inverters")[0], body(split, "/api/v1/production/inverters")[0], "inverter")
    check(body(gw, "/ivp/meters")[0], body(split, "/ivp/meters")[0], "meter")
    ours, real = body(gw, "/ivp/meters/readings"), body(split, "/ivp/meters/readings")
    check(ours[0], real[0], "meter reading")
    check(ours[0]["channels"][0], real[0]["channels"][0], "meter channel")
    ours, real = body(gw, "/ivp/ensemble/inventory"), body(split, "/ivp/ensemble/inventory")
    assert [g["type"] for g in ours] == ["ENCHARGE", "ENPOWER"]
    check(ours[0]["devices"][0], real[0]["devices"][0], "Encharge")
    check(ours[1]["devices"][0], real[1]["devices"][0], "Enpower")
    check(body(gw, "/ivp/ensemble/status"), body(split, "/ivp/ensemble/status"), "ensemble status")
    check(body(gw, "/ivp/ensemble/status")["relay"], body(split, "/ivp/ensemble/status")["relay"], "relay")
    check(body(gw, "/ivp/ensemble/secctrl"), body(split, "/ivp/ensemble/secctrl"), "secctrl")
    power = body(gw, "/ivp/ensemble/power")
    assert list(power) == ["devices:"]  # the key really has the colon
    check(power["devices:"][0], body(split, "/ivp/ensemble/power")["devices:"][0], "ensemble power")
    check(body(gw, "/ivp/ensemble/dry_contacts")["dry_contacts"][0],
          body(split, "/ivp/ensemble/dry_contacts")["dry_contacts"][0], "dry contact")
    check(body(gw, "/ivp/ss/dry_contact_settings")["dry_contacts"][0],
          body(split, "/ivp/ss/dry_contact_settings")["dry_contacts"][0], "dry contact settings")
    check(body(gw, "/ivp/ensemble/generator"), body(generator, "/ivp/ensemble/generator"), "generator")
    check(body(gw, "/ivp/ss/gen_config"), body(generator, "/ivp/ss/gen_config"), "gen_config")
    check(body(gw, "/admin/lib/tariff")["tariff"]["storage_settings"],
          body(split, "/admin/lib/tariff")["tariff"]["storage_settings"], "storage settings")
    ours = body(gw, "/inventory.json")
    assert [g["type"] for g in ours] == ["PCU", "ACB", "NSRB", "ESUB"]
    check(ours[0]["devices"][0], body(generator, "/inventory.json?deleted=1")[0]["devices"][0], "PCU")
    check(ours[1]["devices"][0], body(acb, "/inventory.json?deleted=1")[1]["devices"][0], "ACB")
    assert {"relay", "line1-connected"} <= set(ours[2]["devices"][0])
    ours, real = body(gw, "/ivp/pdm/device_data"), body(device_data, "/ivp/pdm/device_data")
    pcu = next(v for v in ours.values() if isinstance(v, dict) and v["devName"] == "pcu")
    real_pcu = next(v for v in real.values() if isinstance(v, dict) and v["devName"] == "pcu")
    check(pcu, real_pcu, "device_data pcu")
    for part in ("lastReading", "lifetime", "wattHours", "watts"):
        check(pcu["channels"][0][part], real_pcu["channels"][0][part], "device_data " + part)
    assert {"deviceCount", "deviceDataLimit"} <= set(ours)


def test_a_house_without_batteries_or_cts_answers_like_one():
    gw = SyntheticGateway(inverters=4, encharges=0, consumption_cts=False, clock=Clock(local(2025, 6, 21, 13)))
    assert b"<imeter>false</imeter>" in gw.info_xml()
    production = body(gw, "/production.json?details=1")
    assert [s["type"] for s in production["production"]] == ["inverters"]
    assert production["storage"][0]["activeCount"] == 0
    assert body(gw, "/ivp/meters") == [] and body(gw, "/ivp/meters/readings") == []
    assert body(gw, "/ivp/ensemble/inventory") == []
    assert body(gw, "/ivp/ensemble/power") == {"devices:": []}
    assert body(gw, "/ivp/ensemble/generator")["present"] == 0
    assert body(gw, "/ivp/ss/gen_config") == {}


# ------------------------------------------------------------------ consistency
def totals(gw):
    """The values the tests compare, from the endpoints as a reader sees them."""
    p = body(gw, "/production.json?details=1")
    eim, total, net = p["production"][1], p["consumption"][0], p["consumption"][1]
    readings = {r["eid"]: r for r in body(gw, "/ivp/meters/readings")}
    net_reading = readings[sorted(readings)[1]]
    batt_w = sum(d["real_power_mw"] for d in body(gw, "/ivp/ensemble/power")["devices:"]) / 1000.0 \
        + p["storage"][0]["wNow"]
    # The gateway's total consumption is production + net (the batteries' charge counts as consumed); the house
    # alone ("load") is that plus the battery's power.
    return {"pv_w": eim["wNow"], "total_w": total["wNow"], "load_w": total["wNow"] + batt_w, "net_w": net["wNow"],
            "batt_w": batt_w, "pv_life": eim["whLifetime"], "total_life": total["whLifetime"],
            "pv_today": eim["whToday"], "total_today": total["whToday"], "imported": net_reading["actEnergyDlvd"],
            "exported": net_reading["actEnergyRcvd"], "soc": body(gw, "/ivp/ensemble/secctrl")["agg_soc"],
            "inverter_w": p["production"][0]["wNow"], "sections": (eim, total, net)}


def test_a_simulated_day_is_consistent():
    clock = Clock(local(2025, 6, 20, 20))
    gw = full_house(clock, acbs=0)
    before = totals(gw)
    crossed_midnight = False
    for _ in range(26 * 60 // 7):  # every 7 minutes for 26 hours
        clock.now += 7 * 60
        now = totals(gw)
        for key in ("pv_life", "imported", "exported"):
            assert now[key] >= before[key] - 1e-6, key
        # The total's lifetime is production + import - export, to the gateway's rounding.
        assert now["total_life"] == pytest.approx(now["pv_life"] + now["imported"] - now["exported"], abs=0.01)
        if time.localtime(clock.now).tm_mday != time.localtime(clock.now - 7 * 60).tm_mday:
            crossed_midnight = True
            assert now["pv_today"] < 1.0 and now["total_today"] < before["total_today"]
        else:
            assert now["pv_today"] >= before["pv_today"] - 1e-6
        assert now["pv_w"] >= 0 and now["load_w"] > 0 and now["total_w"] >= -0.01  # rounded per phase
        assert now["net_w"] == pytest.approx(now["total_w"] - now["pv_w"], abs=0.01)
        assert now["net_w"] == pytest.approx(now["load_w"] - now["pv_w"] - now["batt_w"], abs=2.0)
        assert abs(now["inverter_w"] - now["pv_w"]) <= len(gw.inverters)  # rounding of each inverter
        assert 20 - 1 <= now["soc"] <= 100  # never below the reserve while on grid
        for section in now["sections"]:
            for key in ("wNow", "whLifetime", "whToday", "whLastSevenDays"):
                assert sum(line[key] for line in section["lines"]) == pytest.approx(section[key], abs=0.01)
            assert len(section["lines"]) == 3
        before = now
    assert crossed_midnight


def test_lifetime_is_the_integral_of_the_power_shown():
    """Powers are constant within a minute, so minute samples integrate exactly."""
    clock = Clock(local(2025, 4, 2, 10))
    gw = full_house(clock, phases=2)
    first = totals(gw)
    pv_wh = total_wh = 0.0
    for _ in range(120):
        now = totals(gw)
        pv_wh += now["pv_w"] / 60.0
        total_wh += now["total_w"] / 60.0
        clock.now += 60
    last = totals(gw)
    assert last["pv_life"] - first["pv_life"] == pytest.approx(pv_wh, abs=0.5)
    assert last["total_life"] - first["total_life"] == pytest.approx(total_wh, abs=0.5)
    assert pv_wh > 0


def test_sun_follows_the_local_time_of_day():
    clock = Clock(local(2025, 6, 21, 3))
    gw = SyntheticGateway(clock=clock, seed=2)
    assert totals(gw)["pv_w"] == 0
    clock.now = local(2025, 6, 21, 13, 30)
    assert totals(gw)["pv_w"] > 0.3 * sum(i.rating_w for i in gw.inverters) * 0.85 * 0.4


def test_battery_charges_on_surplus_and_discharges_in_the_evening():
    clock = Clock(local(2025, 6, 21, 0))
    gw = SyntheticGateway(inverters=20, encharges=1, clock=clock, seed=4)
    charged = discharged = False
    for _ in range(24 * 4):
        clock.now += 900
        t = totals(gw)
        hour = time.localtime(clock.now).tm_hour
        if t["batt_w"] < -1:
            charged = True
            assert t["pv_w"] > t["load_w"]
        if t["batt_w"] > 1 and hour >= 18:
            discharged = True
    assert charged and discharged


def test_inverter_and_device_data_agree():
    gw = full_house(Clock(local(2025, 6, 21, 12)))
    inverters = body(gw, "/api/v1/production/inverters")
    pcus = [i for i in inverters if i["devType"] == 1]
    assert len(pcus) == 9 and len([i for i in inverters if i["devType"] == 11]) == 2
    data = body(gw, "/ivp/pdm/device_data")
    by_serial = {v["sn"]: v for v in data.values() if isinstance(v, dict) and v["devName"] == "pcu"}
    for inv in pcus:
        channel = by_serial[inv["serialNumber"]]["channels"][0]
        assert channel["watts"]["now"] == inv["lastReportWatts"]
        assert 0 < channel["wattHours"]["today"] <= channel["lifetime"]["joulesProduced"] / 3600


# ------------------------------------------------------------------ determinism and scale
def test_same_seed_and_clock_give_the_same_answers():
    def run(seed):
        clock = Clock(local(2025, 3, 14, 9))
        gw = full_house(clock, seed=seed)
        out = []
        for _ in range(3):
            out.append([gw.response(p).body for p in READ_PATHS] + [gw.info_xml()])
            clock.now += 1234
        return out
    assert run(11) == run(11)
    assert run(11) != run(12)


def test_six_hundred_inverters_and_twenty_batteries_are_cheap():
    clock = Clock(local(2025, 6, 21, 12))
    gw = SyntheticGateway(inverters=600, encharges=20, phases=3, clock=clock, seed=3)
    assert len(body(gw, "/api/v1/production/inverters")) == 600
    assert len(body(gw, "/inventory.json")[0]["devices"]) == 600
    assert len(body(gw, "/ivp/ensemble/power")["devices:"]) == 20
    first = gw.response("/ivp/pdm/device_data")
    assert gw.response("/ivp/pdm/device_data") is first  # built once per clock second
    clock.now += 1
    assert gw.response("/ivp/pdm/device_data") is not first


# ------------------------------------------------------------------ controls
def write(gw, method, path, data):
    return gw.handle_write(method, path, json.dumps(data).encode())


def test_grid_relay_islands_the_house():
    clock = Clock(local(2025, 6, 21, 12))
    gw = full_house(clock)
    assert write(gw, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}).status == 200
    assert body(gw, "/ivp/ensemble/relay")["mains_admin_state"] == "open"
    assert body(gw, "/ivp/ensemble/inventory")[1]["devices"][0]["mains_admin_state"] == "open"
    assert body(gw, "/inventory.json")[2]["devices"][0]["relay"] == "open"
    for _ in range(5):
        clock.now += 600
        assert abs(totals(gw)["net_w"]) < 1.0
    assert write(gw, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "ajar"}).status == 400


def test_dry_contacts_and_their_settings():
    gw = full_house(Clock(local(2025, 6, 21, 12)))
    r = write(gw, "POST", "/ivp/ensemble/dry_contacts", {"dry_contacts": {"id": "NO1", "status": "closed"}})
    assert r.status == 200
    status = {c["id"]: c["status"] for c in body(gw, "/ivp/ensemble/dry_contacts")["dry_contacts"]}
    assert status == {"NC1": "open", "NC2": "open", "NO1": "closed", "NO2": "open"}
    settings = body(gw, "/ivp/ss/dry_contact_settings")["dry_contacts"][2]
    assert write(gw, "POST", "/ivp/ss/dry_contact_settings",
                 {"dry_contacts": {"id": "NO1", "load_name": "Pompe"}}).status == 400
    settings["load_name"] = "Pompe"
    assert write(gw, "POST", "/ivp/ss/dry_contact_settings", {"dry_contacts": settings}).status == 200
    assert body(gw, "/ivp/ss/dry_contact_settings")["dry_contacts"][2]["load_name"] == "Pompe"


def test_generator_mode():
    gw = full_house(Clock(local(2025, 6, 21, 12)))
    assert write(gw, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "on"}).status == 200
    assert body(gw, "/ivp/ss/gen_mode")["gen_cmd"] == "on"
    assert body(gw, "/ivp/ensemble/generator")["oper_state"] == "closed"
    write(gw, "POST", "/ivp/ss/gen_mode", {"gen_cmd": "off"})
    assert body(gw, "/ivp/ensemble/generator")["oper_state"] == "open"


def test_production_on_off_per_inverter_and_for_the_gateway():
    clock = Clock(local(2025, 6, 21, 12))
    gw = full_house(clock)
    inv = gw.inverters[0]
    path = "/ivp/mod/%d/mode/power" % inv.eid
    assert body(gw, path) == {"powerForcedOff": False}
    before = totals(gw)["pv_w"]
    assert write(gw, "PUT", path, {"length": 1, "arr": [1]}).status == 200
    assert body(gw, path) == {"powerForcedOff": True}
    watts = {i["serialNumber"]: i["lastReportWatts"] for i in body(gw, "/api/v1/production/inverters")}
    assert watts[inv.serial] == 0 and totals(gw)["pv_w"] < before
    life = totals(gw)["pv_life"]
    clock.now += 3600
    write(gw, "PUT", path, {"length": 1, "arr": [0]})
    assert totals(gw)["pv_life"] > life
    gateway_path = "/ivp/mod/%d/mode/power" % GATEWAY_EID
    write(gw, "PUT", gateway_path, {"length": 1, "arr": [1]})
    assert totals(gw)["pv_w"] == 0 and body(gw, gateway_path) == {"powerForcedOff": True}


def test_storage_profile_is_cloud_only_from_8_2_4225():
    gw = full_house(Clock(local(2025, 6, 21, 12)))
    request = {"tariff": {"storage_settings": {"mode": "backup", "reserved_soc": 50.0}}}
    assert write(gw, "PUT", "/admin/lib/tariff", request).status == 200
    assert body(gw, "/admin/lib/tariff")["tariff"]["storage_settings"]["mode"] == "self-consumption"
    gw.set_storage("backup", 50)
    assert body(gw, "/admin/lib/tariff")["tariff"]["storage_settings"]["reserved_soc"] == 50.0
    assert body(gw, "/ivp/ensemble/secctrl")["configured_backup_soc"] == 50
    old = full_house(Clock(local(2025, 6, 21, 12)), firmware="8.1.41")
    write(old, "PUT", "/admin/lib/tariff", request)
    assert body(old, "/admin/lib/tariff")["tariff"]["storage_settings"]["mode"] == "backup"


def test_backup_mode_keeps_the_battery_for_outages():
    clock = Clock(local(2025, 6, 21, 17))
    gw = SyntheticGateway(inverters=20, encharges=1, clock=clock, seed=4)
    gw.set_storage("backup", 100)
    for _ in range(12):
        clock.now += 900
        assert totals(gw)["batt_w"] <= 0


def test_live_data_moves_only_while_streamed():
    clock = Clock(local(2025, 6, 21, 12))
    gw = full_house(clock)
    first = body(gw, "/ivp/livedata/status")
    assert first["connection"]["sc_stream"] == "disabled"
    clock.now += 120
    assert body(gw, "/ivp/livedata/status")["meters"]["last_update"] == first["meters"]["last_update"]
    assert write(gw, "POST", "/ivp/livedata/stream", {"enable": 1}).status == 200
    live = body(gw, "/ivp/livedata/status")
    assert live["connection"]["sc_stream"] == "enabled" and live["meters"]["last_update"] == int(clock.now)
    meters = live["meters"]
    assert meters["grid"]["agg_p_mw"] == pytest.approx(
        meters["load"]["agg_p_mw"] - meters["pv"]["agg_p_mw"] - meters["storage"]["agg_p_mw"], abs=5)


def test_bad_writes_are_refused():
    gw = full_house(Clock(local(2025, 6, 21, 12)))
    assert gw.handle_write("POST", "/ivp/ensemble/relay", b"not json").status == 400
    assert write(gw, "POST", "/ivp/unknown", {}).status == 404
    no_enpower = SyntheticGateway(clock=Clock(local(2025, 6, 21, 12)))
    assert write(no_enpower, "POST", "/ivp/ensemble/relay", {"mains_admin_state": "open"}).status == 404


# ------------------------------------------------------------------ on a real socket
def test_served_over_https_with_a_token_and_controls():
    from simulator.cloud import issue_token
    from simulator.server import serve

    gw = full_house(Clock(local(2025, 6, 21, 12)))
    with serve(gw) as sim:
        assert sim.url.startswith("https://")
        session = requests.Session()

        def call(method, path, **kw):  # verify= per request: a session setting loses against REQUESTS_CA_BUNDLE
            return session.request(method, sim.url + path, timeout=10, verify=sim.cert_path, **kw)

        assert call("GET", "/production.json?details=1").status_code == 401
        session.headers["Authorization"] = "Bearer " + issue_token(gw.serial)
        production = call("GET", "/production.json?details=1").json()
        assert production["production"][1]["measurementType"] == "production"
        assert call("POST", "/ivp/ensemble/relay", json={"mains_admin_state": "open"}).status_code == 200
        assert call("GET", "/ivp/ensemble/relay").json()["mains_admin_state"] == "open"
        assert call("GET", "/no/such/page").status_code == 404


def test_concurrent_readers_see_one_consistent_model():
    import threading

    clock = Clock(local(2025, 6, 21, 12))
    gw = full_house(clock)
    errors = []

    def reader():
        try:
            for _ in range(30):
                for path in ("/production.json?details=1", "/ivp/meters/readings", "/ivp/pdm/device_data"):
                    assert gw.response(path).status == 200
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(30):
        clock.now += 61
    for t in threads:
        t.join()
    assert not errors
    assert totals(gw)["pv_life"] > 0
