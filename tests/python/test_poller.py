"""The poller's cadences and change detection, driven by schedule's own job runner with the clock moved
forward by hand (no real minutes waited), against a scripted gateway."""
import threading

import pytest

from envoy.errors import EnvoyError
from envoy.endpoints import INVENTORY, INVERTERS_V1, PRODUCTION_V1
from envoy.readings import GatewayInfo
from jeedom_receiver import expanded
from poller import GatewayPoller
from poller_helpers import Callback, advance

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

SERIAL = "122302045041"


class ScriptedEnvoy:
    """Answers fetch(cadence) with the JSON a gateway would give for what the test sets; records every read."""

    def __init__(self):
        self.info = GatewayInfo(serial=SERIAL, firmware="7.6.175", part_number="800-00654-r08")
        self.plan = None
        self.auth_mode = "jwt-owner"
        self.token_expires = 1767225600
        self.watts = 100.0
        self.inverters = {"1001": 30.0, "1002": 31.0}
        self.acb = False
        self.reads = []
        self.probes = 0
        self.fail = None  # an EnvoyError to raise
        self.gate = None  # a threading.Event a read waits on

    def connect(self):
        return self.info

    def probe(self):
        self.probes += 1

    def close(self):
        pass

    def fetch(self, cadence):
        self.reads.append(cadence)
        if self.gate is not None:
            self.gate.wait(30)
        if self.fail is not None:
            raise self.fail
        if cadence == "general":
            return {PRODUCTION_V1: {"wattsNow": self.watts, "wattHoursLifetime": 1000}}
        inventory = [{"type": "PCU", "devices": [{"serial_num": s, "producing": True} for s in self.inverters]}]
        if self.acb:
            inventory.append({"type": "ACB", "devices": [{"serial_num": "2001", "percentFull": 50}]})
        return {INVERTERS_V1: [{"serialNumber": s, "lastReportWatts": w} for s, w in self.inverters.items()],
                INVENTORY: inventory}


@pytest.fixture
def gateway():
    envoy, callback = ScriptedEnvoy(), Callback()
    return envoy, callback, GatewayPoller("12", envoy, callback, general_s=60, devices_s=300)


def test_first_cycle_reads_both_cadences_and_sends_everything(gateway):
    envoy, callback, poller = gateway
    poller.step()
    assert envoy.reads == ["general", "devices"]
    assert len(callback.posts) == 1
    values = callback.last("values")
    assert values[SERIAL] == {"production_w": 100, "production_lifetime_wh": 1000, "inverters_count": 2}
    assert values["1001"] == {"power_w": 30, "producing": 1}
    status = callback.last("status")
    assert status["reachable"] is True and status["serial"] == SERIAL and status["auth"] == "jwt-owner"
    assert status["error"] is None and status["token_expires"] == 1767225600


def test_cadences_over_an_hour(gateway):
    envoy, callback, poller = gateway
    poller.step()
    envoy.reads.clear()
    advance(poller, 3600)
    assert envoy.reads.count("general") == 60
    assert envoy.reads.count("devices") == 12
    # Every devices read comes with the general read of the same tick, in one cycle and one POST.
    assert poller.cycles == 1 + 60


def test_only_changes_are_sent(gateway):
    envoy, callback, poller = gateway
    poller.step()
    posts = len(callback.posts)
    advance(poller, 60)
    assert len(callback.posts) == posts  # nothing changed, status unchanged: no POST at all
    envoy.watts = 150.0
    advance(poller, 60)
    assert callback.last("values") == {SERIAL: {"production_w": 150}}
    envoy.inverters["1002"] = 40.0
    advance(poller, 180)
    assert callback.last("values") == {"1002": {"power_w": 40}}


def test_configured_cadences_are_honoured():
    envoy, callback = ScriptedEnvoy(), Callback()
    poller = GatewayPoller("12", envoy, callback, general_s=30, devices_s=120)
    poller.step()
    envoy.reads.clear()
    advance(poller, 600)
    assert envoy.reads.count("general") == 20 and envoy.reads.count("devices") == 5


def test_a_slow_cycle_delays_its_own_next_cycle_and_never_overlaps(gateway):
    envoy, callback, poller = gateway
    poller.start()
    try:
        envoy.gate = threading.Event()
        first = poller.submit(poller.refresh)
        second = poller.submit(poller.refresh)
        # The worker is stuck in the first read; the second job waits its turn instead of overlapping.
        assert not second.done()
        envoy.gate.set()
        first.result(30), second.result(30)
        assert envoy.reads[-4:] == ["general", "devices", "general", "devices"]
    finally:
        envoy.gate.set()
        poller.stop()


def test_unreachable_gateway_backs_off_quietly_and_recovers(gateway, caplog):
    envoy, callback, poller = gateway
    poller.step()
    envoy.fail = EnvoyError("unreachable", "Cannot reach the gateway at 192.168.1.20.")
    envoy.reads.clear()
    caplog.set_level("INFO")
    advance(poller, 1200)
    tries = envoy.reads.count("general")
    assert 4 <= tries <= 8  # backed off (20 ticks), yet tried at least every 5 minutes, yet tried at least every 5 minutes
    assert caplog.text.count("Cannot reach the gateway") == 1
    assert "WARNING" not in caplog.text and "ERROR" not in caplog.text
    status = callback.last("status")
    assert status["reachable"] is False and status["error"]["code"] == "unreachable"
    envoy.fail = None
    advance(poller, 300)
    status = callback.last("status")
    assert status["reachable"] is True and status["error"] is None


def test_auth_error_is_shown_in_the_status_and_logged_once(gateway, caplog):
    envoy, callback, poller = gateway
    envoy.fail = EnvoyError("auth_failed", "The gateway refused the token.")
    poller.step()
    advance(poller, 300)
    assert callback.last("status")["error"] == {"code": "auth_failed", "message": "The gateway refused the token."}
    assert callback.last("status")["reachable"] is True
    assert caplog.text.count("refused the token") == 1


def test_sync_sends_inventory_then_all_values_before_returning(gateway):
    envoy, callback, poller = gateway
    poller.step()
    callback.posts.clear()
    envoy.acb = True
    inventory = poller.sync()
    assert envoy.probes == 1
    assert [k for k, _ in callback.posts[0]] == ["inventory", "values", "status"]
    kinds = {e["logicalId"]: e["kind"] for e in inventory["equipments"]}
    assert kinds == {SERIAL: "gateway", "1001": "inverter", "1002": "inverter", "2001": "ac_battery"}
    assert inventory["type"] == "inventory" and inventory["gateway"] == "12" and inventory["serial"] == SERIAL
    gateway_eq = next(e for e in expanded(inventory)["equipments"] if e["kind"] == "gateway")
    assert gateway_eq["configuration"] == {"firmware": "7.6.175", "part_number": "800-00654-r08", "auth": "jwt-owner"}
    assert {c["logicalId"] for c in gateway_eq["commands"]} == {"production_w", "production_lifetime_wh",
                                                                "inverters_count", "batteries_count",
                                                                "plc_check", "pause", "resume"}
    values = callback.posts[0][1][1]
    assert values["1001"] == {"power_w": 30, "producing": 1}  # all values, changed or not


def test_a_device_that_appears_after_a_sync_is_described_on_its_own(gateway, tmp_path):
    envoy, callback = ScriptedEnvoy(), Callback()
    poller = GatewayPoller("12", envoy, callback, memory_path=str(tmp_path / "inventory-12.json"))
    poller.sync()
    envoy.inverters["1003"] = 5.0
    callback.posts.clear()
    advance(poller, 300)
    inventory = callback.last("inventory")
    assert "1003" in {e["logicalId"] for e in inventory["equipments"]}
    assert [k for k, _ in callback.posts[0]][:2] == ["inventory", "values"]
    # The memory survives a restart: the same device is not announced again.
    again = GatewayPoller("12", envoy, Callback(), memory_path=str(tmp_path / "inventory-12.json"))
    again.step()
    assert all(k != "inventory" for post in again.callback.posts for k, _ in post)


def test_a_command_that_shows_up_after_a_sync_is_described_once(tmp_path):
    """An inverter that starts saying whether it communicates brings that command: described at once, and not
    again when it goes and comes back. Its power changes every devices read meanwhile."""
    class Saying(ScriptedEnvoy):
        communicating = None

        def fetch(self, cadence):
            answers = super().fetch(cadence)
            if cadence == "devices" and self.communicating is not None:
                for device in answers[INVENTORY][0]["devices"]:
                    device["communicating"] = self.communicating
            return answers

    envoy, callback = Saying(), Callback()
    poller = GatewayPoller("12", envoy, callback, memory_path=str(tmp_path / "inventory-12.json"))
    poller.sync()
    described = []
    for communicating in (None, None, True, None, True, True):
        envoy.communicating = communicating
        envoy.inverters["1001"] += 1
        callback.posts.clear()
        advance(poller, 300)
        assert callback.last("values")["1001"]["power_w"] == envoy.inverters["1001"]
        inventories = [body for post in callback.posts for kind, body in post if kind == "inventory"]
        described.append([c["logicalId"] for i in inventories for c in i["kinds"]["inverter"]["commands"]])
    assert described == [[], [], ["power_w", "producing", "communicating"], [], [], []]


def test_never_synced_gateway_announces_nothing(gateway):
    envoy, callback, poller = gateway
    poller.step()
    assert all(k != "inventory" for post in callback.posts for k, _ in post)


def test_paused_gateway_reads_nothing(gateway):
    envoy, callback, poller = gateway
    poller.paused = True
    advance(poller, 600)
    assert envoy.reads == []


def test_execute_of_an_unknown_command_is_refused(gateway):
    envoy, callback, poller = gateway
    poller.step()
    with pytest.raises(EnvoyError) as e:
        poller.execute("1001", "no_such_action", 1)
    assert e.value.code == "refused"


def test_the_status_carries_requests_per_hour_and_failed_reads_of_the_day():
    """The health page's figures: requests per hour over the last hour, failed reads over the last day; they
    move with every read, so they never make a status be sent on their own."""
    from fake_clock import Clock

    class CountingEnvoy(ScriptedEnvoy):
        requests_sent = 0

        def fetch(self, cadence):
            self.requests_sent += 3  # three endpoints a read
            return super().fetch(cadence)

    clock, envoy, callback = Clock(1_800_000_000), CountingEnvoy(), Callback()
    poller = GatewayPoller("12", envoy, callback, general_s=60, devices_s=300, clock=clock)
    poller.step()
    assert callback.last("status")["requests_per_hour"] is None, "not after one read"
    assert callback.last("status")["errors_24h"] == 0
    for _ in range(90):  # an hour and a half of general reads, a minute apart
        clock.now += 60
        poller.cycle(["general"])
    assert poller.requests_per_hour() == 180  # 3 requests a minute
    assert callback.last("status")["requests_per_hour"] is not None, "its first figure is sent at once"
    envoy.fail = EnvoyError("unreachable", "Cannot reach the gateway.")
    for _ in range(4):
        clock.now += 60
        poller.cycle(["general"])
    assert callback.last("status")["errors_24h"] == 1, "the first failure changed the status: sent at once"
    status = poller.status()  # what the next status carries (at most STATUS_REFRESH_S later)
    assert status["errors_24h"] == 4 and status["requests_per_hour"] == poller.requests_per_hour()
    envoy.fail = None
    clock.now += 86400 + 60  # a day later, the failures are forgotten
    poller.cycle(["general"])
    assert poller.status()["errors_24h"] == 0
    posts = len(callback.posts)
    clock.now += 60
    poller.cycle(["general"])  # only the figures moved: nothing sent
    assert len(callback.posts) == posts


def test_readings_that_cannot_be_built_are_an_error_status_and_the_worker_goes_on(gateway, monkeypatch, caplog):
    """Answers none of the parsers foresaw (or a bug of ours while building the readings): that cycle publishes
    nothing and says so in the status; the worker thread lives on and the next good answers are published."""
    import view

    envoy, callback, poller = gateway
    poller.step()
    real = view.GatewayView.equipments
    monkeypatch.setattr(view.GatewayView, "equipments", lambda self, info: 1 / 0)
    envoy.watts = 150.0
    advance(poller, 60)
    status = callback.last("status")
    assert status["error"]["code"] == "bad_response", status  # reachable, but nothing it said could be read
    assert "ZeroDivisionError" in caplog.text
    monkeypatch.setattr(view.GatewayView, "equipments", real)
    advance(poller, 60)
    assert callback.last("values") == {SERIAL: {"production_w": 150}}
    assert callback.last("status")["error"] is None


def test_nothing_ends_a_gateway_worker_thread(gateway, monkeypatch):
    envoy, callback, poller = gateway
    calls = []

    def step(block_s=0.0):
        calls.append(block_s)
        if len(calls) == 1:
            raise RuntimeError("a bug of ours")
        poller._stopping.set()

    monkeypatch.setattr(poller, "step", step)
    monkeypatch.setattr(poller._stopping, "wait", lambda timeout=None: None)  # no second waited
    poller._run()
    assert len(calls) == 2, "the worker went on after the failed step"


def test_an_error_that_comes_and_goes_is_logged_once_an_hour(caplog):
    """A gateway failing every other read (a flaky page) says so once, and its end once; an hour later, again."""
    now = [1_000_000.0]
    envoy, callback = ScriptedEnvoy(), Callback()
    poller = GatewayPoller("12", envoy, callback, general_s=60, devices_s=300, clock=lambda: now[0])
    caplog.set_level("INFO")
    poller.step()
    for _ in range(10):
        envoy.fail = EnvoyError("bad_response", "nothing readable")
        advance(poller, 60)
        assert callback.last("status")["error"]["code"] == "bad_response"
        envoy.fail = None
        advance(poller, 60)
        now[0] += 120
    assert caplog.text.count("nothing readable") == 1 and caplog.text.count("answers again") == 1
    now[0] += 3600
    envoy.fail = EnvoyError("bad_response", "nothing readable")
    advance(poller, 60)
    assert caplog.text.count("nothing readable") == 2
