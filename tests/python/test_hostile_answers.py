"""A gateway that answers what no gateway should (issue 12: points 2, 3 and 11), over real sockets: an answer of
400 MB, an answer a byte at a time, a number of 400 digits, JSON 200,000 deep. Each costs the daemon a few MB
and one deadline at most, and loses only its own endpoint's reading."""
import json
import time

import pytest

from chaos_helpers import APIKEY, DaemonProcess
import envoy.client as client_module
from envoy.client import Credentials, Envoy
from envoy.errors import EnvoyError
from envoy.limits import (DEADLINE_MISSES_PER_READ, MAX_ANSWER_BYTES, MAX_JSON_DEPTH, MAX_JSON_NUMBER_DIGITS,
                          decode_json)
from envoy.parse import build_readings
from envoy.probe import probe_paths
from jeedom_receiver import JeedomReceiver
from poller import GatewayPoller
from poller_helpers import Callback
from rogue_gateway import Endless, RogueGateway, Trickle
from sim_helpers import MiniGateway
from simulator.cloud import issue_token
from simulator.faults import FaultPlan
from simulator.hostile import DEPTH, LONG_NUMBER_DIGITS
from simulator.server import Faults, Reply, serve
from simulator.synthetic import SyntheticGateway

HUGE = 400 * 1024 * 1024
DEADLINE_S = 1.0  # short, for the test; the daemon's is envoy.limits.REQUEST_DEADLINE_S
PRODUCTION = "/production.json?details=1"  # one of the synthetic gateway's general endpoints


def _memory_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def _reset_peak_memory_kb():
    """Forget this process's peak resident memory (Linux: /proc/self/clear_refs); the memory now."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _memory_kb("VmRSS")


# --- size -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_400_mb_answer_is_refused_and_memory_stays_flat(framing):
    play = Endless(framing, HUGE)
    with RogueGateway({"/api/v1/production": play}) as rogue:
        envoy = Envoy(rogue.url)
        envoy.connect()
        before_kb = _reset_peak_memory_kb()
        with pytest.raises(EnvoyError) as err:
            envoy.get_json("/api/v1/production")
        growth_mb = (_memory_kb("VmHWM") - before_kb) / 1024
        assert growth_mb < 50, f"peak memory grew by {growth_mb:.0f} MB"
        assert err.value.code == "bad_response" and "MB" in err.value.message
        assert play.written[0] < HUGE // 4  # the rest was never read
        assert envoy.get_json("/api/v1/production/inverters") == []  # and the client goes on


def _peak_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def test_the_daemon_reads_on_with_flat_memory_under_400_mb_answers(tmp_path):
    """The real daemon polling a gateway whose inventory, once probed, answers 400 MB at every devices cycle: its
    peak memory, from /proc, stays within a few MB of its start, and the other endpoints' values reach Jeedom."""
    inverter = {"serialNumber": "121", "lastReportDate": 1700000000, "devType": 1, "lastReportWatts": 217,
                "maxReportWatts": 295}
    inventory = [{"type": "PCU", "devices": [{"serial_num": "121", "producing": True, "communicating": True}]}]
    gateway = MiniGateway("122112123456", "5.0.62", {"/api/v1/production/inverters": [inverter],
                                                    "/inventory.json": inventory})
    play = Endless("chunked", HUGE)
    receiver = JeedomReceiver(APIKEY)
    with RogueGateway({}, gateway) as rogue:
        daemon = DaemonProcess(tmp_path, receiver.url, loglevel="info", launcher=True)
        try:
            start_kb = daemon.rss_kb()
            assert daemon.send({"action": "configure", "general_s": 0.05, "devices_s": 0.1,
                                "gateways": [{"id": "r", "host": rogue.url}]})["ok"]
            assert receiver.wait_for(lambda r: any(e.get("type") == "values" for e in r.events), 60)  # probed
            rogue.plays["/inventory.json"] = play
            deadline = time.monotonic() + 60
            while len(play.written) < 4 and daemon.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            growth_mb = (_peak_kb(daemon.pid) - start_kb) / 1024
            gateway.responses["/api/v1/production/inverters"] = [dict(inverter, lastReportWatts=251)]
            published = receiver.wait_for(lambda r: [e for e in r.events if e.get("type") == "values" and
                                                     251 in e["values"].get("121", {}).values()], 30)
        finally:
            daemon.stop()
            receiver.close()
    assert len(play.written) >= 4, daemon.output()[-3000:]  # the inventory refused at every devices cycle...
    assert growth_mb < 50, f"peak memory grew by {growth_mb:.0f} MB"
    assert published  # ... and the inverter's new watts, from another endpoint of that cycle, published
    assert "Traceback" not in daemon.output()


def test_an_answer_at_the_limit_is_read_one_byte_more_is_refused():
    exactly = ["x" * (MAX_ANSWER_BYTES - 4)]  # ["xx...x"]
    gateway = MiniGateway("122112123456", "5.0.62", {"/exactly": exactly, "/one-more": ["x" * (MAX_ANSWER_BYTES - 3)]})
    with serve(gateway) as sim:
        envoy = Envoy(sim.url)
        envoy.connect()
        assert envoy.get_json("/exactly") == exactly
        with pytest.raises(EnvoyError) as err:
            envoy.get_json("/one-more")
    assert err.value.code == "bad_response"


# --- time -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers_at_once", [False, True], ids=["whole-answer", "body"])
def test_a_trickling_gateway_is_cut_at_the_deadline(headers_at_once):
    """A byte every 0.1 s never lets a wait reach the deadline: only a deadline on the whole request ends it."""
    play = Trickle(json.dumps({"wattsNow": 1, "padding": "x" * 40}).encode(), 0.1, headers_at_once=headers_at_once)
    with RogueGateway({"/api/v1/production": play}) as rogue:
        envoy = Envoy(rogue.url, deadline_s=DEADLINE_S)
        envoy.connect()
        start = time.monotonic()
        with pytest.raises(EnvoyError) as err:
            envoy.get_json("/api/v1/production")
        assert err.value.code == "unreachable" and time.monotonic() - start >= DEADLINE_S
        assert play.written[0] < len(play.whole)  # the client left before the answer was written
        assert envoy.get_json("/api/v1/production/inverters") == []


@pytest.mark.parametrize("read", ["probe", "general"])
def test_a_read_stops_at_its_second_request_past_the_deadline(read):
    """A gateway silent on every endpoint holds a cycle for DEADLINE_MISSES_PER_READ deadlines, not one per endpoint."""
    gateway = SyntheticGateway(inverters=4)
    plan = FaultPlan(hang_s=30)
    with serve(gateway, faults=plan) as sim:
        envoy = Envoy(sim.url, _token(gateway), deadline_s=DEADLINE_S)
        envoy.connect()
        paths = envoy.probe().paths["general"] if read == "general" else probe_paths(envoy.info)
        assert len(paths) > DEADLINE_MISSES_PER_READ
        plan.rates["timeout"] = 1.0
        sent = envoy.requests_sent
        try:
            with pytest.raises(EnvoyError) as err:
                envoy.probe() if read == "probe" else envoy.read("general")
        finally:
            plan.close()
    assert err.value.code == "unreachable"
    assert envoy.requests_sent - sent == DEADLINE_MISSES_PER_READ


# --- JSON -------------------------------------------------------------------------------------------------

class _OneAnswer(Faults):
    """The gateway as it is, except one path, which answers `body` once `on` is set (after the probe)."""

    def __init__(self, path, body):
        self.path, self.body = path, body
        self.on = False

    def before(self, method, path):
        return Reply(200, self.body) if self.on and path == self.path else None


def _token(gateway):
    return Credentials(token=issue_token(gateway.serial))


HOSTILE_JSON = {  # the hostile gateway's own sizes (simulator/hostile.py)
    f"{LONG_NUMBER_DIGITS}-digit integer": b'{"production":[{"type":"inverters","activeCount":4,"wNow":1'
                                           + b"0" * (LONG_NUMBER_DIGITS - 1) + b"}]}",
    f"{DEPTH:,} deep": b"[" * DEPTH + b"]" * DEPTH,
}


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_hostile_json_loses_its_endpoint_only(body):
    gateway = SyntheticGateway(inverters=4, encharges=2)
    faults = _OneAnswer(PRODUCTION, body)
    with serve(gateway, faults=faults) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        envoy.connect()
        assert PRODUCTION in envoy.probe().paths["general"]
        faults.on = True
        answers = envoy.fetch("general")
        readings = build_readings(envoy.info, {**envoy.plan.carried, **answers})
    assert PRODUCTION not in answers and readings.production is None  # that endpoint's reading is lost...
    assert readings.meters["net-consumption"].total.active_power_w is not None  # ... the others are read
    assert answers["/ivp/ensemble/power"]["devices:"]  # the IQ Batteries' power and charge


class _EveryAnswer(_OneAnswer):
    """Every page answers `body` once `on` is set."""

    def before(self, method, path):
        return Reply(200, self.body) if self.on else None


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_a_cadence_none_of_whose_pages_can_be_read_is_an_error_not_frozen_values(body):
    """Nothing readable on any page of a cadence: the read fails (the status says so), where the values of the
    last good read would have stayed, looking fresh."""
    gateway = SyntheticGateway(inverters=4, encharges=2)
    faults = _EveryAnswer(None, body)
    with serve(gateway, faults=faults) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        envoy.connect()
        envoy.probe()
        faults.on = True
        with pytest.raises(EnvoyError) as err:
            envoy.fetch("general")
        assert err.value.code == "bad_response" and "none of the 3 pages" in err.value.message
        faults.on = False
        assert PRODUCTION in envoy.fetch("general")  # readable again: read again


class _Spoiled(Faults):
    """The gateway as it is, except `path`, which answers JSON cut short its first `times` times."""

    def __init__(self, path, times):
        self.path, self.left = path, times

    def before(self, method, path):
        if path == self.path and self.left > 0:
            self.left -= 1
            return Reply(200, b'{"devices": [')
        return None


@pytest.mark.parametrize("times, kept", [(1, True), (10 ** 6, False)], ids=["once", "always"])
def test_a_probe_given_a_spoiled_answer_probes_once_more(times, kept):
    """The probe decides once what every cycle reads: one spoiled answer of the IQ Batteries' inventory would leave
    every battery endpoint out until the next Synchronize. Spoiled once, the second probe keeps them; spoiled
    always, they are left out as the endpoint cannot be read, after two probes."""
    gateway = SyntheticGateway(inverters=4, encharges=2)
    with serve(gateway, faults=_Spoiled("/ivp/ensemble/inventory", times)) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        envoy.connect()
        plan = envoy.probe()
        asked = sim.count("/ivp/ensemble/inventory")
    battery = {"/ivp/ensemble/power", "/ivp/ensemble/inventory", "/ivp/ensemble/secctrl"}
    assert (battery <= set(plan.paths["general"] + plan.paths["devices"])) == kept, plan.paths
    assert asked == 2  # two probes, never more


BATTERY_PATHS = {"/ivp/ensemble/power", "/ivp/ensemble/inventory", "/ivp/ensemble/secctrl"}


def _planned(envoy):
    return set(envoy.plan.paths["general"] + envoy.plan.paths["devices"])


def test_a_plan_made_from_spoiled_answers_is_probed_again_after_a_general_read():
    """Spoiled in both probes of a Synchronize (a busy minute of the gateway), the IQ Batteries' inventory leaves
    the batteries out of the plan; the next general read makes a probe due, and that one brings them back."""
    gateway = SyntheticGateway(inverters=4, encharges=2)
    with serve(gateway, faults=_Spoiled("/ivp/ensemble/inventory", 2)) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        envoy.connect()
        envoy.probe()
        assert not BATTERY_PATHS & _planned(envoy) and not envoy.probe_due()
        envoy.fetch("devices")
        assert not envoy.probe_due()  # counted in general reads
        envoy.fetch("general")
        assert envoy.probe_due()
        envoy.probe()
        assert BATTERY_PATHS <= _planned(envoy)
        for _ in range(5):
            envoy.fetch("general")
            assert not envoy.probe_due()  # a clean probe: the plan holds again
        assert sim.count("/ivp/ensemble/inventory") == 3  # the three probes (the spoiled plan did not read it)


def test_a_page_spoiled_for_good_is_probed_again_ever_more_rarely(monkeypatch):
    """1, 2, 4... general reads between probes, REPROBE_MOST_READS at most (an hour at the default cadence):
    a page that never answers costs the gateway a probe an hour, not one a minute."""
    monkeypatch.setattr(client_module, "REPROBE_MOST_READS", 8)
    gateway = SyntheticGateway(inverters=4, encharges=2)
    with serve(gateway, faults=_Spoiled("/ivp/ensemble/inventory", 10 ** 6)) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        envoy.connect()
        envoy.probe()
        gaps, reads = [], 0
        for _ in range(40):
            envoy.fetch("general")
            reads += 1
            if envoy.probe_due():
                gaps.append(reads)
                reads = 0
                envoy.probe()
    assert gaps == [1, 2, 4, 8, 8, 8, 8], gaps
    assert not BATTERY_PATHS & _planned(envoy)


def test_the_poller_probes_again_when_due_and_publishes_what_the_spoiled_plan_left_out():
    gateway = SyntheticGateway(inverters=4, encharges=2)
    with serve(gateway, faults=_Spoiled("/ivp/ensemble/inventory", 2)) as sim:
        envoy = Envoy(sim.url, _token(gateway))
        callback = Callback()
        poller = GatewayPoller("12", envoy, callback)
        poller.sync()
        batteries = [eq for eq in poller.publisher.inventory()["equipments"] if eq["kind"] == "encharge"]
        assert batteries == []
        assert poller.cycle(["general"])  # the general read that makes the probe due
        assert poller.cycle(["general"])  # probes, and reads both cadences into the new plan's view
        batteries = [eq["logicalId"] for eq in poller.publisher.inventory()["equipments"] if eq["kind"] == "encharge"]
        assert len(batteries) == 2
        sent = {eq: cmds for post in callback.posts for kind, body in post if kind == "values"
                for eq, cmds in body.items()}
        assert all("percent" in sent[serial] for serial in batteries), sent
        assert sim.count("/ivp/ensemble/inventory") >= 3


@pytest.mark.parametrize("body", [
    b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
    b"[1" + b"0" * MAX_JSON_NUMBER_DIGITS + b"]",
    b"[0." + b"0" * MAX_JSON_NUMBER_DIGITS + b"1]",
    b"[1e-400]",
    b"[-2.5E+400]",
    b'{"a": [1, {"b": 1e+0100}]}',
    b'["]",' * (MAX_JSON_DEPTH + 1) + b"0" + b"]" * (MAX_JSON_DEPTH + 1),  # deep, closers in strings to hide it
    b'["\\"]",' * (MAX_JSON_DEPTH + 1) + b"0" + b"]" * (MAX_JSON_DEPTH + 1),  # the same, with escapes
])
def test_json_beyond_the_limits_is_not_json(body):
    with pytest.raises(ValueError):
        decode_json(body)


def test_json_within_the_limits_is_decoded_whole():
    deep = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert decode_json(deep) == json.loads(deep)
    big = b'{"serial": "' + b"9" * 500 + b'", "quote \\" [[[": 1' + b"2" * (MAX_JSON_NUMBER_DIGITS - 1) + b', "e": 1.5e-07}'
    assert decode_json(big) == json.loads(big)  # digits and brackets inside strings are text
    brackets = b'{"a": "[[[[", "b": ["]]]]", "}", "{e000"], "c": [[[]]]}'
    assert decode_json(brackets) == json.loads(brackets)
    assert decode_json(b'{"pwrFactor": NaN, "wNow": -Infinity, "ok": 1}') == {"pwrFactor": None, "wNow": None, "ok": 1}
