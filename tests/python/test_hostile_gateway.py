"""A gateway that answers hostile strings (simulator/hostile.py: markup, quotes, entities, `../`, control
characters, 4,000-character text in every string field) gets none of them past the daemon: identifiers that
lack their shape are left out (and said once in the log), free text reaches Jeedom cleaned (envoy/text.py).
What PHP and a browser do with what is left: tests/php/HostileGatewayTest.php and the e2e."""
import json
import re
import string
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

import catalog
from chaos_helpers import IDENTIFIER, DaemonProcess, clean, strings
from site_helpers import Site
from envoy import parse, probe, text
from jeedom_receiver import JeedomReceiver
from simulator.cloud import issue_token
from envoy import writes
from simulator.hostile import HostileGateway, payload
from simulator.server import serve
from simulator.synthetic import SyntheticGateway

NOON = time.mktime((2025, 6, 21, 13, 0, 0, 0, 0, -1))


def house(identities="half"):
    return HostileGateway(SyntheticGateway(inverters=8, encharges=2, acbs=2, qrelays=2, enpower=True,
                                           generator=True, dry_contacts=4, clock=lambda: NOON, seed=3), identities)


# ---------------------------------------------------------------------------------------------- shapes


@pytest.mark.pure
@pytest.mark.parametrize("check, good, bad", [
    (text.serial, ["122302045041", "12345678901002", "envoyserial", 704643328],
     ["", "1223 0204", "12<img>", "../1", "1" * 33, True, -1, 10 ** 40, 1.5, None]),
    (text.device_id, ["NC1", "NO2"], ["NC_1", "NC1<", "A" * 17]),
    (text.word, ["net-consumption", "production", "backfeed"], ["Net", "net consumption", "a" * 33, "x<y"]),
    (text.firmware, ["7.6.175", "8.2.4345", "3.9.36", "5.0.62-beta1", "8"],
     ["D7.6.175", "7.6.175<img>", "7..6", "7.6. 175", "1" * 5, "7.6.175-" + "a" * 17]),
    (text.part_number, ["800-00654-r08", "800-00069-r05"], ["800 00654", "-800", "800<", "8" * 33]),
])
def test_identifiers_have_their_shape_or_are_none(check, good, bad):
    assert [check(v) for v in good] == [str(v) for v in good]
    assert [check(v) for v in bad] == [None] * len(bad)


@pytest.mark.pure
def test_free_text_keeps_words_and_drops_markup_controls_and_length():
    assert text.free_text("ENCHG_STATE_READY") == "ENCHG_STATE_READY"
    assert text.free_text("AC/Water heater") == "AC/Water heater"
    assert text.free_text("  Fridge & \t Freezer\n") == "Fridge Freezer"
    assert text.free_text('<img src=x onerror="alert(1)">') == "img src=x onerror= alert(1)"
    assert text.free_text("a\u202eb\u2028c\x00d\ufeffe") == "a b c d e"
    assert text.free_text("<>&") is None and text.free_text(42) is None
    assert text.free_text("x" * 5000) == "x" * text.TEXT_MAX


@pytest.mark.pure
@given(st.text(alphabet=st.characters(), max_size=300))
def test_free_text_is_always_clean_and_stable(value):
    cleaned = text.free_text(value)
    assert cleaned is None or (clean(cleaned) and cleaned == cleaned.strip() and text.free_text(cleaned) == cleaned)


@pytest.mark.pure
@given(st.text(alphabet=string.printable + "<>éü\u202e\x00", max_size=60))
def test_shown_in_a_log_line_is_plain(value):
    shown = text.shown(value)
    assert re.fullmatch(r"[A-Za-z0-9._?-]*(\.\.\.)? \(\d+ characters\)", shown)


# ---------------------------------------------------------------------------------------------- readings


def read(gateway):
    """The readings of both cadences and the inventory's equipment, as the client would make them."""
    info = parse.parse_info(gateway.info_xml())

    def answers(paths):
        out = {}
        for path in paths:
            answer = gateway.response(path)
            if answer.status == 200:
                out[path] = json.loads(answer.body)
        return out
    plan = probe.plan_from(info, answers(probe.probe_paths(info, True)))
    return parse.build_readings(info, {**plan.carried, **answers(plan.paths["general"] + plan.paths["devices"])})


@pytest.mark.pure
def test_hostile_strings_never_reach_the_catalog():
    gateway = house()
    readings = read(gateway)
    assert readings.gateway.part_number is None and readings.gateway.imeter is None
    equipments = catalog.equipments(readings)
    kinds = {eq.kind.kind for eq in equipments}
    # Half the identifiers are hostile: those devices are left out, the others carry hostile text.
    assert readings.dropped and all(clean(line) or "characters" in line for line in readings.dropped)
    assert {"inverter", "encharge", "enpower", "dry_contact", "generator"} <= kinds
    assert len([eq for eq in equipments if eq.kind.kind == "inverter"]) < 8
    for eq in equipments:
        assert IDENTIFIER.fullmatch(eq.logical_id), eq.logical_id
        assert not set("<>&\"\\") & set(eq.fr + eq.en), eq.fr
    published = [(eq, cmd, v) for eq, values in catalog.values(readings).items() for cmd, v in values.items()
                 if isinstance(v, str)]
    assert all(clean(v) for _, _, v in published), [p for p in published if not clean(p[2])]
    # The hostile text did arrive (cleaned): the test would see it if it got through.
    assert any("enphaseXss" in v for _, _, v in published)


@pytest.mark.pure
def test_a_gateway_whose_serial_is_not_one_is_not_read():
    with pytest.raises(ValueError, match="no valid serial"):
        parse.parse_info(house("all").info_xml())


# ---------------------------------------------------------------------------------------------- the daemon


@pytest.fixture
def hostile_daemon(tmp_path):
    """The daemon as Jeedom runs it, configured with the hostile gateway; yields (daemon, receiver, gateway)."""
    started = []

    def start(identities="half"):
        gateway = house(identities)
        simulator = serve(gateway)
        jeedom = JeedomReceiver("apikey-0123456789abcdef0123456789abcdef")
        (tmp_path / identities).mkdir()
        daemon = DaemonProcess(tmp_path / identities, jeedom.url, loglevel="info")
        started.append((daemon, simulator, jeedom))
        gateway_config = {"id": "12", "host": simulator.url,
                          "token": issue_token(simulator.serial, lifetime_s=86400)}
        assert daemon.send({"action": "configure", "gateways": [gateway_config]})["ok"]
        return daemon, jeedom, gateway
    yield start
    for daemon, simulator, jeedom in started:
        daemon.stop()
        simulator.stop()
        jeedom.close()


def test_the_daemon_tells_jeedom_nothing_hostile(hostile_daemon):
    daemon, jeedom, gateway = hostile_daemon()
    answer = daemon.send({"action": "sync", "gateway": "12"}, timeout_s=120)
    assert answer["ok"], answer
    assert daemon.send({"action": "refresh", "gateway": "12"})["ok"]
    assert jeedom.wait_for(lambda r: sum(e["type"] == "values" for e in r.events) >= 2, timeout_s=60)
    events = jeedom.events
    assert {"inventory", "values", "status"} <= {e["type"] for e in events}
    arrived = 0
    for event in events + answer["inventory"]:
        for key, value in strings(event):
            assert "<" not in value and ">" not in value and "\\" not in value, (key, value)
            assert not any(unicodedata.category(c)[0] == "C" for c in value), (key, value)
        if event["type"] == "values":
            for eq, values in event["values"].items():
                assert IDENTIFIER.fullmatch(eq), eq
                texts = [v for v in values.values() if isinstance(v, str)]
                assert all(clean(v) for v in texts), texts
                arrived += sum("enphaseXss" in v for v in texts)
        if event["type"] == "inventory":
            for equipment in event["equipments"]:
                assert IDENTIFIER.fullmatch(equipment["logicalId"]), equipment["logicalId"]
                for value in (equipment.get("configuration") or {}).values():
                    assert not isinstance(value, str) or IDENTIFIER.fullmatch(value), value
    assert arrived > 0  # hostile text was read, and reached Jeedom only cleaned
    # Devices without a valid serial: said once, whatever the number of cycles, with nothing hostile in it.
    log = daemon.output()
    lines = [line for line in log.splitlines() if "left out" in line]
    assert len(lines) == 1 and "img" in lines[0], lines
    assert not set("<>\\") & set(lines[0]) and not any(unicodedata.category(c) == "Cc" for c in log if c != "\n")
    assert "forged line" not in log and "etc/passwd" not in log


def test_a_gateway_without_a_valid_serial_is_refused_in_plain_words(hostile_daemon):
    daemon, jeedom, gateway = hostile_daemon("all")
    answer = daemon.send({"action": "sync", "gateway": "12"}, timeout_s=120)
    assert answer["ok"] is False and answer["error"]["code"] == "bad_response", answer
    assert "valid serial" in answer["error"]["message"]
    assert jeedom.wait_for(lambda r: any(e["type"] == "status" for e in r.events))
    for event in jeedom.events:
        assert event["type"] == "status"  # no equipment: nothing of it is kept
        assert all(not set("<>\\") & set(v) for _, v in strings(event)), event


def test_a_refused_control_does_not_carry_the_gateway_s_text(tmp_path, monkeypatch):
    monkeypatch.setattr(writes, "sleep", lambda s: None)
    site = Site(tmp_path, house("none"))
    try:
        contact = f"{site.serial}_dry_contact_NC1"
        assert contact in site.sync()
        answer = site.execute(contact, "set_mode", "soc")  # read back: a hostile word, never "soc"
        assert answer["ok"] is False and answer["error"]["code"] == "refused", answer
        shown = payload("mode=soc")
        assert f"still shows {text.free_text(shown, 40)!r}" in answer["error"]["message"], answer
        assert shown not in answer["error"]["message"]
    finally:
        site.close()
