"""Property-based fuzzing of every parser over mutated real answers: the recorded gateways (when
shared/envoy-fixtures is there) and our synthetic gateway in several shapes. Each example takes one
gateway's answers and spoils some of them (a value of another type, "unknown", NaN, huge numbers, a key or
list item gone, a container swapped, the JSON text cut or garbled as a flaky connection does), then:
- parse_info, build_readings, plan_from and the catalog raise nothing (parse_info may refuse with ValueError);
- every reading is a finite number, a bool, a known state, a string where the model holds text, or None;
- every value the catalog would publish fits its Jeedom subtype (numeric: a finite number, binary: a bool,
  string: text)."""
import copy
import dataclasses
import json
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import catalog
from conftest import fixtures_dir, recorded_gateways
from envoy import parse, probe
from envoy.readings import GatewayInfo, Readings
from simulator.recorded import RecordedGateway
from simulator.synthetic import SyntheticGateway

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

PATHS = sorted(set(probe.PROBE_PATHS) | {
    parse.PRODUCTION_JSON, parse.PRODUCTION_V1, parse.INVERTERS_V1, parse.DEVICE_DATA, parse.INVENTORY,
    parse.METERS, parse.METER_READINGS, parse.ENSEMBLE_INVENTORY, parse.ENSEMBLE_SECCTRL, parse.ENSEMBLE_POWER,
    parse.DRY_CONTACTS, parse.DRY_CONTACT_SETTINGS, parse.GENERATOR, parse.TARIFF})

# Text readings that are states: only these values, or None.
STATES = {
    ("AcBattery", "charge_status"): {"charging", "discharging", "idle"},
    ("AcBatteryTotal", "state"): {"charging", "discharging", "idle"},
    ("Meter", "state"): {"enabled", "disabled"},
    ("Enpower", "grid_state"): {"on-grid", "off-grid"},
    ("Enpower", "mains_admin_state"): {"closed", "open"},
    ("QRelay", "relay_state"): {"closed", "open"},
    ("DryContact", "status"): {"closed", "open"},
    ("Generator", "admin_state"): {"closed", "open"},
    ("Generator", "oper_state"): {"closed", "open"},
    ("StorageSettings", "mode"): {"self-consumption", "backup", "savings-mode", "economy"},
}
RAW = {("DryContact", "settings")}  # the device's own object, kept whole to write it back


def _json_answers(gateway):
    answers = {}
    for path in PATHS:
        answer = gateway.response(path)
        if answer.status == 200:
            try:
                answers[path] = json.loads(answer.body)
            except ValueError:
                pass
    return answers


def _corpus():
    out = []
    fixed = time.mktime((2026, 6, 21, 13, 0, 0, 0, 0, -1))
    for options in ({}, {"acbs": 2, "encharges": 0, "phases": 3}, {"enpower": True, "generator": True,
                                                                   "dry_contacts": 2, "qrelays": 1, "phases": 2},
                    {"consumption_cts": False, "encharges": 0, "firmware": "7.6.175"}):
        gateway = SyntheticGateway(clock=lambda: fixed, **options)
        out.append((f"synthetic {options}", gateway.info_xml(), _json_answers(gateway)))
    for name in recorded_gateways(with_expected=False):
        gateway = RecordedGateway(fixtures_dir() / name)
        out.append((name, gateway.info_xml(), _json_answers(gateway)))
    return out


CORPUS = _corpus()

ODD = st.sampled_from([
    None, True, False, 0, -1, -0.0, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), 2 ** 70,
    "unknown", "", "NaN", "1e999", "-", " 12 ", "0x10", "true", "\u00e9\u0000", [], {}, [None], {"": None},
    [[[[]]]], {"devices:": None},
]) | st.integers() | st.floats() | st.text(max_size=6)


def _slots(tree, found=None):
    """Every (container, key) in a JSON tree."""
    found = [] if found is None else found
    if isinstance(tree, dict):
        for key in list(tree):
            found.append((tree, key))
            _slots(tree[key], found)
    elif isinstance(tree, list):
        for index in range(len(tree)):
            found.append((tree, index))
            _slots(tree[index], found)
    return found


@st.composite
def spoiled(draw):
    name, info_xml, answers = draw(st.sampled_from(CORPUS))
    answers = copy.deepcopy(answers)
    for _ in range(draw(st.integers(1, 12))):
        if not answers:
            break
        path = draw(st.sampled_from(sorted(answers)))
        operation = draw(st.sampled_from(["replace", "replace", "replace", "delete", "swap", "duplicate",
                                          "whole", "text"]))
        slots = _slots(answers[path])
        if operation == "whole" or not slots:
            answers[path] = copy.deepcopy(draw(ODD))
            continue
        if operation == "text":  # cut or garbled on the way: unreadable JSON is an endpoint that failed
            text = json.dumps(answers[path])
            cut = draw(st.integers(0, len(text)))
            text = text[:cut] + draw(st.sampled_from(["", "}", "]", '"', ",", "\x00", "{{", "nul"])) + \
                text[cut + draw(st.integers(0, 5)):]
            try:
                answers[path] = json.loads(text)
            except ValueError:
                del answers[path]
            continue
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        if operation == "replace":
            container[key] = copy.deepcopy(draw(ODD))
        elif operation == "delete":
            del container[key]
        elif operation == "swap":  # a list where an object was, and the other way round
            value = container[key]
            container[key] = list(value.values()) if isinstance(value, dict) else \
                {str(i): v for i, v in enumerate(value)} if isinstance(value, list) else [value]
        elif operation == "duplicate" and isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
    return name, info_xml, answers


def check_reading(value, where):
    """A leaf of Readings: None, bool, finite number, a known state or text."""
    if dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            owner = (type(value).__name__, item.name)
            leaf = getattr(value, item.name)
            if owner in RAW:
                continue
            if owner in STATES:
                assert leaf is None or leaf in STATES[owner], (where, owner, leaf)
            elif isinstance(leaf, (list, dict)):
                assert "List" in str(item.type) or "Dict" in str(item.type), (where, owner, leaf)
                check_reading(leaf, f"{where}.{item.name}")
            else:
                check_reading(leaf, f"{where}.{item.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), (where, key)
            check_reading(item, f"{where}[{key}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_reading(item, f"{where}[{index}]")
    elif isinstance(value, float):
        assert math.isfinite(value), (where, value)
    else:
        assert value is None or isinstance(value, (bool, int, str)), (where, value)


def check_published(readings):
    """What the catalog would send to Jeedom fits each command's subtype."""
    for equipment in catalog.equipments(readings):
        commands = {c.logical_id: c for c in equipment.kind.commands}
        for command_id, value in catalog.equipment_values(equipment).items():
            if value is None:
                continue
            subtype = commands[command_id].subtype
            if subtype == "numeric":
                assert isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), \
                    (equipment.logical_id, command_id, value)
            elif subtype == "binary":
                assert isinstance(value, bool) or value in (0, 1), (equipment.logical_id, command_id, value)
            else:
                assert isinstance(value, str), (equipment.logical_id, command_id, value)
            json.dumps(value, allow_nan=False)  # what the callback will send


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spoiled())
def test_spoiled_answers_never_raise_and_give_numbers_states_or_none(example):
    name, info_xml, answers = example
    info = parse.parse_info(info_xml)
    readings = parse.build_readings(info, answers)
    assert isinstance(readings, Readings)
    check_reading(readings, name)
    plan = probe.plan_from(info, answers)
    assert set(plan.paths) == {"general", "devices"}
    assert all(path.startswith("/") for paths in plan.paths.values() for path in paths)
    check_published(readings)


XML_TRICKS = [
    b"", b"<", b"<envoy_info>", b"<?xml version='1.0'?><envoy_info><device><sn></sn></device></envoy_info>",
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/hostname'>]><envoy_info><device><sn>&e;</sn>"
    b"<software>D8.2.1</software></device></envoy_info>",  # an entity from a local file: never read
    b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
    b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
    b"<envoy_info><device><sn>&d;&d;&d;&d;</sn></device></envoy_info>",  # entity expansion
    b"<html><body>Login</body></html>", b"\xff\xfe<\x00e\x00",
    "<envoy_info><device><sn>\u00e9</sn></device></envoy_info>".encode("latin-1"),
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([c[1] for c in CORPUS]), st.integers(0, 2000), st.binary(max_size=12),
       st.integers(0, 20), st.sampled_from(XML_TRICKS + [None]))
def test_spoiled_info_is_read_or_refused_with_value_error(info_xml, cut, garbage, dropped, trick):
    xml = trick if trick is not None else info_xml[:cut] + garbage + info_xml[cut + dropped:]
    try:
        info = parse.parse_info(xml)
    except ValueError:
        return
    assert isinstance(info, GatewayInfo) and isinstance(info.serial, str) and info.serial
    assert isinstance(info.firmware, str) and isinstance(info.firmware_major, int)
    assert info.imeter in (None, True, False)
    assert info.part_number is None or isinstance(info.part_number, str)
    hostname = open("/etc/hostname").read().strip() if trick is not None else ""
    assert not hostname or hostname not in info.serial
    assert len(info.serial) < 10_000  # no entity expansion


def test_the_corpus_has_every_endpoint_to_spoil():
    seen = {path for _, _, answers in CORPUS for path in answers}
    assert {parse.PRODUCTION_JSON, parse.INVERTERS_V1, parse.METER_READINGS, parse.ENSEMBLE_INVENTORY,
            parse.DEVICE_DATA, parse.TARIFF, parse.DRY_CONTACT_SETTINGS} <= seen


def test_the_checks_catch_what_they_look_for():
    from envoy.readings import Energy, Generator

    info = GatewayInfo(serial="1")
    for bad in (Readings(gateway=info, production=Energy(watts_now=float("nan"))),
                Readings(gateway=info, generator=Generator(admin_state="unknown")),
                Readings(gateway=info, production=Energy(watts_now=[1]))):
        with pytest.raises(AssertionError):
            check_reading(bad, "bad")
    # A value that does not suit its command's subtype is dropped by the catalog itself (read_command),
    # so what check_published looks at can no longer hold it.
    odd = Readings(gateway=info, production=Energy(watts_now="12"))
    assert "production_w" not in catalog.values(odd).get("1", {})
    check_published(odd)
