"""Several gateways in one daemon, and the demo gateway end to end.

Two synthetic gateways on real sockets are configured in one daemon beside a third that is dead (nothing
listens on its port): the live ones are read, synced and refreshed as if the dead one did not exist, and
the dead one says why in its status and beside the others' inventories. Then the daemon as Jeedom starts
it plays the built-in demo gateway (host "demo"): no credentials, read through the normal client.
"""
import json
import os
import time

import pytest

import chaos_helpers
from chaos_helpers import DaemonProcess
from jeedom_receiver import JeedomReceiver, expanded
import enphased
import demo
from jeedom.socket_server import send
from simulator.cloud import issue_token
from simulator.server import serve
from simulator.synthetic import SyntheticGateway

APIKEY = "multi-test-apikey-0123456789abcdef"
WAIT_S = 60  # an upper bound for what takes a fraction of a second when all is well


def events(jeedom, kind, gateway):
    return [e for e in jeedom.events if e["type"] == kind and e["gateway"] == gateway]


@pytest.fixture
def core(tmp_path, jeedom, socket_path):
    daemon, server = enphased.start_core(socket_path, jeedom.url, APIKEY, str(tmp_path / "data"))
    yield lambda message, timeout_s=WAIT_S: send(server.path, dict(message, apikey=APIKEY), timeout_s)
    server.stop()
    daemon.stop()


@pytest.fixture
def two_houses():
    """Two synthetic gateways of their own (other serials, other devices), each with a token it accepts."""
    houses = [SyntheticGateway(inverters=4, encharges=1, seed=11),
              SyntheticGateway(inverters=6, encharges=0, consumption_cts=False, seed=12)]
    servers = [serve(house) for house in houses]
    try:
        yield [{"url": s.url, "serial": s.serial, "token": issue_token(s.serial), "simulator": s} for s in servers]
    finally:
        for s in servers:
            s.stop()


def test_two_gateways_and_a_dead_one_in_one_daemon(core, jeedom, two_houses, refused_port):
    east, west = two_houses
    dead = "127.0.0.1:%d" % refused_port  # refused at once, as a gateway that is switched off
    answer = core({"action": "configure", "general_s": 60, "gateways": [
        {"id": "12", "host": east["url"], "token": east["token"]},
        {"id": "13", "host": dead, "token": "eyJ.dead"},
        {"id": "14", "host": west["url"], "token": west["token"]},
    ]})
    assert answer == {"ok": True, "gateways": ["12", "13", "14"]}

    # Each worker reads its own gateway at once; the dead one only reports.
    assert jeedom.wait_for(lambda j: events(j, "values", "12") and events(j, "values", "14")
                           and events(j, "status", "13"), WAIT_S)
    dead_status = events(jeedom, "status", "13")[-1]
    assert dead_status["reachable"] is False and dead_status["error"]["code"] == "unreachable"
    assert east["serial"] in events(jeedom, "values", "12")[0]["values"]
    assert west["serial"] in events(jeedom, "values", "14")[0]["values"]
    assert not events(jeedom, "values", "13")

    # Synchronize everything: the live gateways are synced, the dead one says why beside them.
    answer = core({"action": "sync"})
    assert answer["ok"] is True, answer
    assert sorted(i["gateway"] for i in answer["inventory"]) == ["12", "14"]
    assert [(e["gateway"], e["code"]) for e in answer["errors"]] == [("13", "unreachable")]
    by_gateway = {i["gateway"]: i for i in answer["inventory"]}
    assert by_gateway["12"]["serial"] == east["serial"] and by_gateway["14"]["serial"] == west["serial"]
    kinds = {gid: sorted({e["kind"] for e in inv["equipments"]}) for gid, inv in by_gateway.items()}
    assert "encharge" in kinds["12"] and "encharge" not in kinds["14"]
    assert sum(e["kind"] == "inverter" for e in by_gateway["14"]["equipments"]) == 6
    # The house without consumption CTs has no consumption command, the other has.
    gateway_commands = {gid: {c["logicalId"] for e in expanded(inv)["equipments"] if e["kind"] == "gateway"
                              for c in e["commands"]} for gid, inv in by_gateway.items()}
    assert "consumption_w" in gateway_commands["12"] and "consumption_w" not in gateway_commands["14"]

    # Synchronize one gateway: only that one; the dead one alone is an error, as for a single gateway.
    before = west["simulator"].count()
    answer = core({"action": "sync", "gateway": "12"})
    assert answer["ok"] is True and [i["gateway"] for i in answer["inventory"]] == ["12"]
    assert west["simulator"].count() == before, "syncing one gateway read another"
    answer = core({"action": "sync", "gateway": "13"})
    assert answer["ok"] is False and answer["error"]["code"] == "unreachable"
    # A gateway may be named by its serial once known.
    assert core({"action": "sync", "gateway": west["serial"]})["inventory"][0]["gateway"] == "14"

    # Refresh and pause act on the gateway named, never the others.
    assert core({"action": "pause", "gateway": "13"}) == {"ok": True}
    assert core({"action": "refresh", "gateway": "14"}) == {"ok": True}
    assert core({"action": "sync", "gateway": "99"})["error"]["code"] == "unknown_gateway"

    # Removing a gateway from the configuration stops it; the others keep their workers.
    answer = core({"action": "configure", "gateways": [
        {"id": "12", "host": east["url"], "token": east["token"]},
        {"id": "14", "host": west["url"], "token": west["token"]},
    ]})
    assert answer["gateways"] == ["12", "14"]
    assert core({"action": "sync", "gateway": "13"})["error"]["code"] == "unknown_gateway"
    assert core({"action": "sync", "gateway": "14"})["ok"] is True


def test_no_secret_of_any_gateway_in_the_answers(core, two_houses):
    east, west = two_houses
    core({"action": "configure", "gateways": [
        {"id": "12", "host": east["url"], "token": east["token"], "password": "hunter2-east"},
        {"id": "14", "host": west["url"], "token": west["token"], "enlighten_password": "hunter2-west"}]})
    answers = repr([core({"action": "sync"}), core({"action": "sync", "gateway": "14"})])
    for secret in (east["token"], west["token"], "hunter2-east", "hunter2-west"):
        assert secret not in answers


def test_a_gateway_removed_from_jeedom_leaves_nothing_behind_and_a_disabled_one_keeps_all(core, two_houses, tmp_path):
    east, west = two_houses
    data = tmp_path / "data"
    gateways = [{"id": "12", "host": east["url"], "token": east["token"]},
                {"id": "14", "host": west["url"], "token": west["token"]}]
    core({"action": "configure", "gateways": gateways})
    assert core({"action": "sync"})["ok"] is True
    kept = {name for name in os.listdir(str(data)) if name.endswith(("-12.json", "-14.json"))}
    assert {"inventory-12.json", "counters-12.json", "inventory-14.json", "counters-14.json"} <= kept
    (data / ".counters-12.json.x1y2.tmp").write_text("{")  # a write cut short

    # 14 disabled (no longer configured, not forgotten), 12 removed.
    assert core({"action": "configure", "gateways": [], "forget": ["12", 12, None, {"x": 1}]})["ok"] is True

    def left(gateway):
        return sorted(n for n in os.listdir(str(data)) if "-%s.json" % gateway in n)
    deadline = time.monotonic() + WAIT_S
    while left("12") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left("12") == []
    assert set(left("14")) == {n for n in kept if n.endswith("-14.json")}, "a disabled gateway keeps its counters"


def test_demo_gateways_are_houses_of_their_own_and_survive_a_reconfiguration(core):
    first = core({"action": "configure", "gateways": [{"id": "default", "host": "demo"},
                                                        {"id": "7", "host": "demo"}]})
    assert first["gateways"] == ["7", "default"]
    answer = core({"action": "sync"})
    assert answer["ok"] is True and "errors" not in answer, answer
    serials = {i["gateway"]: i["serial"] for i in answer["inventory"]}
    assert serials["default"] != serials["7"]
    # The documentation's house is the same at every start.
    assert serials["default"] == SyntheticGateway(seed=demo.demo_seed("default")).serial
    url = demo.demo_gateway("default")[0]
    core({"action": "configure", "general_s": 120, "gateways": [{"id": "default", "host": "demo"}]})
    assert demo.demo_gateway("default")[0] == url, "a reconfigured demo gateway keeps its house"
    assert "7" not in demo._demos, "the demo gateway of a removed gateway is stopped"


def test_demo_gateway_end_to_end_through_the_daemon_process(tmp_path):
    """What a user gets by typing "demo" as the address: the daemon Jeedom starts plays the synthetic
    gateway (microinverters, IQ Batteries, CTs) and Jeedom receives every kind of equipment and values."""
    jeedom = JeedomReceiver(chaos_helpers.APIKEY)
    daemon = DaemonProcess(tmp_path, jeedom.url)
    try:
        assert daemon.send({"action": "configure", "gateways": [{"id": "default", "host": "demo"}]})["ok"]
        answer = daemon.send({"action": "sync", "gateway": "default"}, timeout_s=WAIT_S)
        assert answer["ok"] is True, answer
        inventory = answer["inventory"][0]
        kinds = {e["kind"] for e in inventory["equipments"]}
        assert {"gateway", "inverter", "encharge", "meter"} <= kinds
        gateway = next(e for e in expanded(inventory)["equipments"] if e["kind"] == "gateway")
        commands = {c["logicalId"] for c in gateway["commands"]}
        # Everything the energy-flow widget draws.
        assert {"production_w", "consumption_w", "net_w", "battery_power_w", "battery_percent"} <= commands
        # The sync delivered the inventory, then every value, before answering.
        values = events(jeedom, "values", "default")
        assert values and values[0]["values"][inventory["serial"]]["production_w"] >= 0
        status = events(jeedom, "status", "default")[-1]
        assert status["reachable"] is True and status["error"] is None and status["serial"] == inventory["serial"]
        assert "eyJ" not in daemon.output(), "the demo token was logged"
    finally:
        daemon.stop()
        jeedom.close()


def test_the_demo_plays_a_sunny_day_whatever_the_hour(core):
    """Someone trying "demo" in the evening sees the sun: it plays a clear day from 13:00 unless configured."""
    def demo_house(message):
        assert core(dict(message, action="configure"))["ok"]
        answer = core({"action": "sync", "gateway": "default"})
        assert answer["ok"] is True, answer
        simulator = demo._demos["default"][0]  # the demo house the daemon reads
        return simulator.gateway, simulator.url

    gateway, url = demo_house({"gateways": [{"id": "default", "host": "demo"}]})
    assert time.localtime(gateway.clock()).tm_hour == 13 and gateway.sunny
    production = json.loads(gateway.response("/production.json?details=1").body)["production"][1]["wNow"]
    assert production > 0, "the sun is up at 13:00 on every day of the year"
    # Another hour: the house starts again at that hour; "now" plays the real time.
    gateway, other_url = demo_house({"gateways": [{"id": "default", "host": "demo", "demo_hour": 9}]})
    assert time.localtime(gateway.clock()).tm_hour == 9 and other_url != url
    gateway, _ = demo_house({"gateways": [{"id": "default", "host": "demo", "demo_hour": "now"}]})
    assert abs(gateway.clock() - time.time()) < 5


def test_a_demo_hour_that_cannot_be_one_is_the_default():
    from gateways import parse_gateways
    for value in ("13h", -1, 24, True, None, "25"):
        configs, _ = parse_gateways({"gateways": [{"id": "1", "host": "demo", "demo_hour": value}]})
        assert configs[0].demo_hour == demo.DEMO_HOUR, value
    assert parse_gateways({"gateways": [{"id": "1", "host": "demo", "demo_hour": 7.5}]})[0][0].demo_hour == 7.5
