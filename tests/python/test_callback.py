"""The callback client against a real HTTP receiver playing jeeEnphase.php: one ordered stream of bounded POSTs
(never two at once, never reordered, the gateways taking turns), latest values kept while Jeedom is down or
stalled, nothing lost and nothing growing without bound."""
import threading
import time

import pytest

import jeedom.callback as callback_module
from jeedom.callback import Callback
from jeedom_receiver import JeedomReceiver, _work, expanded

APIKEY = "callback-test-apikey-0123"


def test_one_post_with_inventory_first_then_values_then_status(jeedom):
    cb = Callback(jeedom.url, jeedom.apikey)
    cb.status("12", {"reachable": True})
    cb.values("12", {"A": {"power_w": 1}})
    cb.inventory("12", {"serial": "A", "equipments": []})
    assert cb.flush() is True
    assert len(jeedom.bodies) == 1
    assert [e["type"] for e in jeedom.events] == ["values", "status"]  # an empty inventory describes nothing
    assert jeedom.events[0] == {"type": "values", "gateway": "12", "values": {"A": {"power_w": 1}}}
    assert jeedom.events[1] == {"type": "status", "gateway": "12", "reachable": True}


def test_nothing_pending_means_no_post(jeedom):
    cb = Callback(jeedom.url, jeedom.apikey)
    assert cb.flush() is True
    cb.values("12", {})
    assert cb.flush() is True
    assert jeedom.bodies == [] and jeedom.targets == []


def test_while_jeedom_is_down_the_latest_value_of_each_command_waits(jeedom, caplog):
    cb = Callback(jeedom.url, jeedom.apikey)
    jeedom.down = True
    for cycle in range(5):
        cb.values("12", {"A": {"power_w": cycle}})
        if cycle == 2:
            cb.values("12", {"B": {"power_w": 7}})  # changed once, then stable: must not be lost
        cb.status("12", {"reachable": True, "cycle": cycle})
        assert cb.flush("12") is False
    assert jeedom.refused == 5  # one try per flush (a gateway's cycle), not a storm
    assert caplog.text.count("Jeedom does not take events") == 1  # logged once, not every cycle
    jeedom.down = False
    cb.values("12", {"C": {"power_w": 1}})
    assert cb.flush("12") is True
    assert jeedom.events == [
        {"type": "values", "gateway": "12", "values": {"A": {"power_w": 4}, "B": {"power_w": 7},
                                                       "C": {"power_w": 1}}},
        {"type": "status", "gateway": "12", "reachable": True, "cycle": 4},
    ]
    assert cb.pending_events() == []


def test_jeedom_not_listening_at_all_keeps_values(refused_port):
    cb = Callback(f"http://127.0.0.1:{refused_port}/nothing-here", APIKEY, timeout_s=5)
    cb.values("12", {"A": {"power_w": 1}})
    assert cb.flush() is False
    assert cb.pending_events() == [{"type": "values", "gateway": "12", "values": {"A": {"power_w": 1}}}]


def test_the_buffer_is_bounded(jeedom, monkeypatch):
    monkeypatch.setattr(callback_module, "MAX_PENDING_VALUES", 10)
    cb = Callback(jeedom.url, jeedom.apikey)
    jeedom.down = True
    for cycle in range(3):
        cb.values("12", {f"eq{i}": {"power_w": cycle} for i in range(20)})
        cb.flush()
    pending = cb.pending_events()[0]["values"]
    assert sum(len(c) for c in pending.values()) == 10
    assert all(c == {"power_w": 2} for c in pending.values())  # kept ones are the latest


def test_the_apikey_travels_in_a_header_never_in_the_url_nor_the_log(jeedom, caplog):
    """Web server access logs keep every URL (issue 12, point 18)."""
    caplog.set_level("DEBUG")
    Callback(jeedom.url, jeedom.apikey).values("12", {"A": {"power_w": 1}})
    cb = Callback(jeedom.url, jeedom.apikey)
    cb.values("12", {"A": {"power_w": 1}})
    assert cb.flush() is True
    wrong = Callback(jeedom.url, "wrong-key-value-0123456789")
    wrong.values("12", {"A": {"power_w": 2}})
    assert wrong.flush() is False
    assert jeedom.refused == 1
    assert jeedom.targets == ["/plugins/enphase/core/php/jeeEnphase.php"] * 2
    assert "wrong-key-value" not in caplog.text and jeedom.apikey not in caplog.text


def test_the_header_name_is_the_one_jeeenphase_php_reads():
    from conftest import REPO

    page = (REPO / "core" / "php" / "jeeEnphase.php").read_text()
    assert "HTTP_" + callback_module.APIKEY_HEADER.upper().replace("-", "_") in page


# --- a slow or stalled Jeedom ----------------------------------------------------------------------------

ITEMS = 20  # per POST in these tests: with VALUE_S, 0.4 s of the receiver's work
VALUE_S = 0.02  # what each value takes the slow receiver ("tens of ms", as a loaded box)


class Gateway(threading.Thread):
    """A gateway's worker as the poller is: each cycle, every command of its equipment takes the cycle's number
    (so every command only ever grows, as lifetime counters do), then a flush. A poller waits for its flush;
    `waits=False` hands values over faster than Jeedom takes them, so unsent ones get replaced."""

    def __init__(self, cb, receiver, name, equipments, commands, cycles, waits=True, pause_s=0.0):
        super().__init__(name=f"gateway-{name}", daemon=True)
        self.cb, self.receiver, self.gw = cb, receiver, name
        self.equipments = [f"{name}-eq{i}" for i in range(equipments)]
        self.commands = [f"counter{i}_wh" for i in range(commands)]
        self.cycles, self.waits, self.pause_s = cycles, waits, pause_s
        self.last = {}  # (eq, cmd) -> the last value handed over
        self.waited = []  # per delivered flush: (bodies Jeedom had applied before the values, those after)

    def run(self):
        for cycle in range(1, self.cycles + 1):
            values = {eq: {cmd: cycle for cmd in self.commands} for eq in self.equipments}
            self.last.update({(eq, cmd): cycle for eq in self.equipments for cmd in self.commands})
            with self.receiver.changed:
                before = len(self.receiver.bodies)
            self.cb.values(self.gw, values)
            self.cb.status(self.gw, {"reachable": True, "cycle": cycle})
            if self.waits:
                if self.cb.flush(self.gw, timeout_s=60):
                    with self.receiver.changed:
                        self.waited.append((before, list(self.receiver.bodies)))
            else:
                self.cb.flush(self.gw, timeout_s=0)
            time.sleep(self.pause_s)


def run_site(cb, receiver, gateways):
    """Start every gateway's worker, wait for them, deliver what waits; per command, the values Jeedom applied
    in the order it applied them."""
    for gateway in gateways:
        gateway.start()
    for gateway in gateways:
        gateway.join(120)
        assert not gateway.is_alive()
    assert cb.flush(timeout_s=120) is True
    assert cb.pending_events() == []
    history = {}
    for event in receiver.events:
        if event["type"] == "values":
            for eq, commands in event["values"].items():
                for cmd, value in commands.items():
                    history.setdefault((event["gateway"], eq, cmd), []).append(value)
    return history


def assert_in_order_and_complete(history, gateways):
    for gateway in gateways:
        for (eq, cmd), last in gateway.last.items():
            applied = history.get((gateway.gw, eq, cmd))
            assert applied, (gateway.gw, eq, cmd)  # nothing lost...
            assert applied[-1] == last, (gateway.gw, eq, cmd, applied)  # ...the latest value last
            assert applied == sorted(applied), (gateway.gw, eq, cmd, applied)  # never reordered, never down


def posts_passing_over(gateway):
    """Per flush of a waiting gateway: how many POSTs Jeedom applied after its values were handed over and
    before the one carrying them (the one under way then, and other gateways' turns)."""
    return [next(i for i, body in enumerate(after[before:]) if any(e["gateway"] == gateway.gw for e in body["events"]))
            for before, after in gateway.waited]


@pytest.fixture
def slow_jeedom(monkeypatch):
    monkeypatch.setattr(callback_module, "ITEMS_PER_POST", ITEMS)
    receiver = JeedomReceiver(APIKEY, value_s=VALUE_S)
    yield receiver
    receiver.close()


def test_a_slow_jeedom_gets_one_bounded_post_at_a_time_in_order_and_every_gateway_its_turn(slow_jeedom):
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=2)  # a POST takes 0.4 s: far from it
    big = Gateway(cb, slow_jeedom, "big", equipments=40, commands=3, cycles=6, waits=False, pause_s=0.1)
    small = [Gateway(cb, slow_jeedom, name, equipments=2, commands=2, cycles=6) for name in ("s1", "s2")]

    history = run_site(cb, slow_jeedom, [big] + small)

    assert slow_jeedom.max_open == 1 and slow_jeedom.max_applying == 1  # never two POSTs at once
    assert slow_jeedom.expired == 0 and slow_jeedom.refused == 0
    for body in slow_jeedom.bodies:  # bounded work per POST (an equipment is never split)
        assert sum(_work(event) for event in body["events"]) <= ITEMS + len(big.commands), body
    assert_in_order_and_complete(history, [big] + small)
    for gateway in small:  # not starved by the big one's backlog: the POST under way, then one turn of each other
        assert gateway.waited and max(posts_passing_over(gateway)) <= 3, posts_passing_over(gateway)


def test_a_stalled_jeedom_never_applies_a_late_body_over_newer_values(slow_jeedom, monkeypatch):
    """A request held longer than the daemon waits (the web server's queue, a locked database), then Jeedom
    recovers: the late body applies nothing, its values arrive again with the next POSTs, newest first."""
    monkeypatch.setattr(callback_module, "ANSWER_MARGIN_S", 1)
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=1)  # the daemon waits 2 s for an answer
    gateways = [Gateway(cb, slow_jeedom, name, equipments=5, commands=2, cycles=8, pause_s=0.05)
                for name in ("g1", "g2")]
    stalled = threading.Timer(0.5, slow_jeedom.stall, args=(3,))
    stalled.start()

    history = run_site(cb, slow_jeedom, gateways)

    assert slow_jeedom.max_applying == 1
    assert_in_order_and_complete(history, gateways)
    assert slow_jeedom.expired >= 1  # the stalled body came after its deadline: nothing of it applied


def test_a_connection_dropped_while_jeedom_goes_on_is_not_overtaken(slow_jeedom, monkeypatch):
    """The web server (or a proxy) gives up on a request and closes the connection, but PHP goes on and applies
    it a little later: the next POST waits for that request's deadline, so it comes after it."""
    monkeypatch.setattr(callback_module, "ANSWER_MARGIN_S", 0.5)
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=1.5)
    gateways = [Gateway(cb, slow_jeedom, name, equipments=5, commands=2, cycles=8, pause_s=0.05)
                for name in ("g1", "g2")]
    dropped = threading.Timer(0.5, slow_jeedom.stall, args=(0.8,), kwargs={"drop": True})  # applied within 1.5 s
    dropped.start()

    history = run_site(cb, slow_jeedom, gateways)

    assert slow_jeedom.max_applying == 1
    assert_in_order_and_complete(history, gateways)
    assert slow_jeedom.expired == 0  # the dropped request was applied, before its deadline


def test_inventories_reach_jeedom_before_the_values_that_need_them_in_bounded_posts(slow_jeedom):
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=5)
    commands = [{"logicalId": f"c{i}"} for i in range(5)]
    cb.values("12", {f"inv{i}": {"c0": 1} for i in range(10)})
    cb.inventory("12", {"serial": "S", "equipments": [{"logicalId": "old"}]})
    cb.inventory("12", {"serial": "S", "equipments": [{"logicalId": f"inv{i}", "commands": commands}
                                                       for i in range(10)]})  # replaces the older one
    cb.values("13", {"other": {"power_w": 5}})
    assert cb.flush() is True

    events = slow_jeedom.events
    kinds = [(e["gateway"], e["type"]) for e in events]
    described = [eq["logicalId"] for e in events if e["type"] == "inventory" for eq in e["equipments"]]
    assert described == [f"inv{i}" for i in range(10)]  # once each, in order, none of the replaced inventory
    last_inventory = max(i for i, k in enumerate(kinds) if k == ("12", "inventory"))
    assert kinds.index(("12", "values")) > last_inventory
    assert kinds.index(("13", "values")) < last_inventory  # the other gateway did not wait for it
    assert len(slow_jeedom.bodies) >= 50 // ITEMS
    for body in slow_jeedom.bodies:
        assert sum(_work(event) for event in body["events"]) <= ITEMS + len(commands)


def kinds_inventory(serial, inverters):
    """A site's inventory as the daemon describes it: one description per kind (docs/protocol.md)."""
    commands = [{"logicalId": f"c{i}", "subType": "numeric"} for i in range(5)]
    equipments = [{"logicalId": serial, "kind": "gateway"}] + [
        {"logicalId": f"{serial}-{i}", "kind": "inverter"} for i in range(inverters)]
    return {"serial": serial, "count": len(equipments), "equipments": equipments,
            "kinds": {"gateway": {"commands": commands[:2]}, "inverter": {"commands": commands}}}


def described_kinds(bodies):
    """Per POST, the kinds its inventory events describe."""
    return [sorted(k for e in body["events"] if e["type"] == "inventory" for k in e.get("kinds") or ()) for body in bodies]


def test_each_kind_is_described_once_per_inventory_and_jeedom_keeps_it_for_the_posts_after(slow_jeedom):
    """A site's inventory takes many POSTs; the first one with a kind's equipment describes the kind, and the
    others only name their equipment (issue 15: 2,400 microinverters repeated it in 340 POSTs, half a MB)."""
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=5)
    cb.inventory("12", kinds_inventory("S", 12))
    assert cb.flush() is True

    assert len(slow_jeedom.bodies) >= 3
    assert described_kinds(slow_jeedom.bodies)[0] == ["gateway", "inverter"]
    assert all(kinds == [] for kinds in described_kinds(slow_jeedom.bodies)[1:])
    assert slow_jeedom.kinds_asked == 0
    # Jeedom created every equipment with its kind's five commands, from what it kept.
    created = {eq["logicalId"]: len(eq["commands"]) for e in slow_jeedom.events for eq in expanded(e)["equipments"]}
    assert created == dict({"S": 2}, **{f"S-{i}": 5 for i in range(12)})

    # A new inventory (a device showed up) describes its kinds again: they may have changed.
    cb.inventory("12", kinds_inventory("S", 13))
    before = len(slow_jeedom.bodies)
    assert cb.flush() is True
    assert described_kinds(slow_jeedom.bodies[before:])[0] == ["gateway", "inverter"]


def test_a_failed_post_describes_its_kinds_again(slow_jeedom, monkeypatch):
    """The POST that described a kind may not have reached PHP: after a failure the next one describes again."""
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=5)
    cb.inventory("12", kinds_inventory("S", 12))
    real_post = cb._post
    failed = []

    def fail_second(chunk):
        if len(failed) == 0 and slow_jeedom.bodies:  # the POST after the one that described the kinds
            failed.append(chunk)
            return "ConnectionRefusedError", False
        return real_post(chunk)

    monkeypatch.setattr(cb, "_post", fail_second)
    assert cb.flush() is False  # that flush saw a failure
    assert cb.flush() is True
    assert failed and described_kinds(slow_jeedom.bodies)[:2] == [["gateway", "inverter"], ["inverter"]]
    assert slow_jeedom.kinds_asked == 0
    assert [eq["logicalId"] for e in slow_jeedom.events for eq in e["equipments"]] == \
        ["S"] + [f"S-{i}" for i in range(12)]


def test_when_jeedom_lost_the_kinds_it_asks_and_the_post_goes_again_describing_them(slow_jeedom, monkeypatch,
                                                                                     caplog):
    """PHP answers 409 to an inventory event whose kinds it does not know (its configuration was restored, or
    a POST was answered after PHP died): the same POST goes again at once with its kinds, nothing lost."""
    caplog.set_level("INFO")
    cb = Callback(slow_jeedom.url, APIKEY, timeout_s=5)
    cb.inventory("12", kinds_inventory("S", 12))
    cb.values("12", {"S-0": {"c0": 1}})
    real_post = cb._post

    def forget_after_first(chunk):
        answer = real_post(chunk)
        if len(slow_jeedom.bodies) == 1 and not slow_jeedom.kinds_asked:
            slow_jeedom.forget_kinds()
        return answer

    monkeypatch.setattr(cb, "_post", forget_after_first)
    assert cb.flush() is True  # not a failure: the kinds asked for were given
    assert slow_jeedom.kinds_asked == 1
    assert "Jeedom asks for the equipment kinds again" in caplog.text
    assert "does not take events" not in caplog.text
    after = described_kinds(slow_jeedom.bodies)[1]
    assert after == ["inverter"]  # the POST Jeedom asked the kinds for
    assert [eq["logicalId"] for e in slow_jeedom.events if e["type"] == "inventory" for eq in e["equipments"]] == \
        ["S"] + [f"S-{i}" for i in range(12)]
    assert [e["values"] for e in slow_jeedom.events if e["type"] == "values"] == [{"S-0": {"c0": 1}}]


def test_a_409_to_a_post_that_described_every_kind_is_a_failure_not_a_loop(jeedom, monkeypatch):
    """Jeedom refusing an inventory whose kinds the POST itself describes is broken, not forgetful: the POST
    waits for the next cycle like any refused one."""
    monkeypatch.setattr(jeedom, "_with_kinds", lambda event: None)  # never knows any kind
    cb = Callback(jeedom.url, jeedom.apikey)
    cb.inventory("12", kinds_inventory("S", 2))
    assert cb.flush(timeout_s=10) is False
    assert jeedom.kinds_asked == 1
    assert cb.pending_events()[0]["type"] == "inventory"
