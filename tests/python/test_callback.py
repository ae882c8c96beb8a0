"""The callback client against a real HTTP receiver: one POST per flush, latest values kept while Jeedom is
down, nothing lost and nothing growing without bound."""
import pytest

import jeedom.callback as callback_module
from jeedom.callback import Callback


def test_one_post_with_inventory_first_then_values_then_status(jeedom):
    cb = Callback(jeedom.url, jeedom.apikey)
    cb.status("12", {"reachable": True})
    cb.values("12", {"A": {"power_w": 1}})
    cb.inventory("12", {"serial": "A", "equipments": []})
    assert cb.flush() is True
    assert len(jeedom.bodies) == 1
    assert [e["type"] for e in jeedom.events] == ["inventory", "values", "status"]
    assert jeedom.events[1] == {"type": "values", "gateway": "12", "values": {"A": {"power_w": 1}}}
    assert jeedom.events[2] == {"type": "status", "gateway": "12", "reachable": True}


def test_nothing_pending_means_no_post(jeedom):
    cb = Callback(jeedom.url, jeedom.apikey)
    assert cb.flush() is True
    cb.values("12", {})
    assert cb.flush() is True
    assert jeedom.bodies == []


def test_while_jeedom_is_down_the_latest_value_of_each_command_waits(jeedom, caplog):
    cb = Callback(jeedom.url, jeedom.apikey)
    jeedom.down = True
    for cycle in range(5):
        cb.values("12", {"A": {"power_w": cycle}})
        if cycle == 2:
            cb.values("12", {"B": {"power_w": 7}})  # changed once, then stable: must not be lost
        cb.status("12", {"reachable": True, "cycle": cycle})
        assert cb.flush() is False
    assert jeedom.refused == 5
    assert caplog.text.count("Jeedom does not take events") == 1  # logged once, not every cycle
    jeedom.down = False
    cb.values("12", {"C": {"power_w": 1}})
    assert cb.flush() is True
    assert jeedom.events == [
        {"type": "values", "gateway": "12", "values": {"A": {"power_w": 4}, "B": {"power_w": 7},
                                                       "C": {"power_w": 1}}},
        {"type": "status", "gateway": "12", "reachable": True, "cycle": 4},
    ]
    assert cb.pending_events() == []


def test_jeedom_not_listening_at_all_keeps_values(jeedom):
    cb = Callback("http://127.0.0.1:9/nothing-here", jeedom.apikey, timeout_s=5)
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


def test_the_apikey_is_sent_in_the_query_and_never_logged(jeedom, caplog):
    caplog.set_level("DEBUG")
    cb = Callback(jeedom.url, "wrong-key-value")
    cb.values("12", {"A": {"power_w": 1}})
    assert cb.flush() is False
    assert jeedom.refused == 1
    assert "wrong-key-value" not in caplog.text
