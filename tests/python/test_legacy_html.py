"""Firmware 3.x: production read from the HTML page /production (envoy/legacy_html.py), exactly, and never
an exception whatever the page holds."""
import math

import pytest
from hypothesis import given, strategies as st

from conftest import fixtures_dir
from envoy import legacy_html, parse, probe
from envoy.legacy_html import PRODUCTION_PAGE, decoded, production_from_page
from envoy.readings import Energy, GatewayInfo

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

ROWS = ("<tr><td>Currently</td><td>{now}</td></tr><tr><td>Today</td><td>{today}</td></tr>"
        "<tr><td>Past Week</td><td>{week}</td></tr><tr><td>Since Installation</td><td>{life}</td></tr>")


def page(now="6.63 kW", today="53.6 kWh", week="405 kWh", life="133 MWh", rows=ROWS) -> bytes:
    table = rows.format(now=now, today=today, week=week, life=life)
    return f"<h1>System Energy Production</h1><table>{table}</table>".encode()


def recorded_page(name) -> bytes:
    return (fixtures_dir() / name / "production").read_bytes()


def test_the_3_7_0_page_gives_its_four_figures_exactly():
    energy = production_from_page(recorded_page("3.7.0"))
    assert energy == Energy(watts_now=6630, wh_today=53600, wh_last_7_days=405000, wh_lifetime=133000000)
    assert all(isinstance(v, int) for v in (energy.watts_now, energy.wh_today, energy.wh_last_7_days,
                                            energy.wh_lifetime))


def test_a_full_page_with_navigation_and_style_sheet_is_read_too():
    # 3.9.36's page: 17 KB, a navigation table around it, and a night-time 0 W / 0 Wh (0 is a value, not None).
    assert production_from_page(recorded_page("3.9.36")) == Energy(0, 0, 0, 14600000)


@pytest.mark.parametrize("text, watts", [("0 W", 0), ("950 W", 950), ("6.63 kW", 6630), ("1.005 kW", 1005),
                                         ("0.3 kW", 300), ("2.5 MW", 2500000), ("12.7 W", 12.7)])
def test_power_units_convert_exactly(text, watts):
    assert production_from_page(page(now=text)).watts_now == watts


@pytest.mark.parametrize("text, wh", [("53.6 kWh", 53600), ("405 kWh", 405000), ("133 MWh", 133000000),
                                      ("14.6 MWh", 14600000), ("0.1 kWh", 100), ("999 Wh", 999),
                                      ("1.234567 MWh", 1234567)])
def test_energy_units_convert_exactly(text, wh):
    energy = production_from_page(page(today=text, week=text, life=text))
    assert energy.wh_today == energy.wh_last_7_days == energy.wh_lifetime == wh


@pytest.mark.parametrize("text", [
    "6.63 kWh",  # an energy where a power belongs
    "6.63 GW", "6.63 hp", "6.63", "kW", "", "   ",  # unknown or missing unit or number
    "-5 W", "1e3 W", "NaN W", "inf W", "0x10 W", "6,63 kW", "6.63.1 kW",  # not a plain decimal
    "99999999 MW",  # absurd
    "1" * 5000 + " W",  # huge
    "6.63 kW and more",
])
def test_unreadable_power_is_none_and_the_other_rows_are_kept(text):
    energy = production_from_page(page(now=text))
    assert energy.watts_now is None
    assert energy.wh_today == 53600 and energy.wh_lifetime == 133000000


@pytest.mark.parametrize("text", ["53.6 kW", "53.6 GWh", "999999 MWh", "-1 Wh", "", "x" * 100000])
def test_unreadable_energy_is_none(text):
    assert production_from_page(page(today=text)).wh_today is None


def test_missing_rows_shift_nothing():
    rows = "<tr><td>Currently</td><td>{now}</td></tr><tr><td>Since Installation</td><td>{life}</td></tr>"
    assert production_from_page(page(rows=rows)) == Energy(watts_now=6630, wh_lifetime=133000000)


def test_a_row_given_twice_is_ambiguous():
    rows = ROWS + "<tr><td>Today</td><td>1 kWh</td></tr>"
    energy = production_from_page(page(rows=rows))
    assert energy.wh_today is None and energy.wh_last_7_days == 405000


def test_labels_are_matched_whole_and_whitespace_does_not_matter():
    rows = ("<tr><td>\n  Currently </td><td>\t6.63\n kW</td></tr>"
            "<tr><td>Today (estimated)</td><td>{today}</td></tr><tr><td>Not Today</td><td>{today}</td></tr>")
    assert production_from_page(page(rows=rows)) == Energy(watts_now=6630)


@pytest.mark.parametrize("body", [
    b"", b" ", b"\x00\xff\xfe", b"<html><body><h2>401 Unauthorized</h2></body></html>",
    b"<tr><td>Currently</td>", b"{\"wattsNow\": 5}", b"<" * 100000, b"<div>" * 50000,
    b"<tr><td>Currently</td><td>6.63 kW</td></tr>" * 20000,  # larger than any real page
    None, "a str", 12, {"wattsNow": 5},
])
def test_pages_without_a_readable_value_give_none(body):
    assert production_from_page(body) is None


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=600), st.text(max_size=200))
def test_a_spoiled_page_never_raises_and_gives_bounded_numbers_or_none(noise, cut, inserted):
    real = recorded_page("3.7.0")
    spoiled = real[:cut] + inserted.encode("utf-8", "replace") + noise + real[cut:]
    energy = production_from_page(spoiled)
    if energy is None:
        return
    for name in ("watts_now", "wh_today", "wh_last_7_days", "wh_lifetime"):
        value = getattr(energy, name)
        ceiling = legacy_html.MAX_WATTS if name == "watts_now" else legacy_html.MAX_WH
        assert value is None or (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= ceiling)


def test_decoded_keeps_the_page_bytes_and_decodes_json_elsewhere():
    assert decoded(PRODUCTION_PAGE, b"<table></table>") == b"<table></table>"
    assert decoded(PRODUCTION_PAGE, b"") is None
    assert decoded(parse.PRODUCTION_V1, b'{"wattsNow": 5}') == {"wattsNow": 5}
    assert decoded(parse.PRODUCTION_V1, b"<html>Page Not Found</html>") is None
    assert decoded(parse.PRODUCTION_V1, b"\xff\xfe") is None


def _info(firmware):
    return GatewayInfo(serial="121430030548", firmware=firmware)


def test_only_firmware_3_and_unknown_firmware_probe_the_page():
    assert PRODUCTION_PAGE in probe.probe_paths(_info("3.7.0"))
    assert PRODUCTION_PAGE in probe.probe_paths(_info(""))
    assert PRODUCTION_PAGE not in probe.probe_paths(_info("4.2.27"))
    assert PRODUCTION_PAGE not in probe.probe_paths(_info("7.6.175"))


def test_the_page_is_the_source_of_last_resort():
    v1 = {"wattsNow": 1271, "wattHoursToday": 1460, "wattHoursSevenDays": 130349, "wattHoursLifetime": 6012540}
    with_v1 = probe.plan_from(_info("3.9.36"), {parse.PRODUCTION_V1: v1, PRODUCTION_PAGE: page()})
    assert with_v1.sources["production"] == parse.PRODUCTION_V1 and with_v1.paths["general"] == (parse.PRODUCTION_V1,)
    only_page = probe.plan_from(_info("3.7.0"), {PRODUCTION_PAGE: page()})
    assert only_page.sources["production"] == PRODUCTION_PAGE and only_page.readable()
    assert only_page.paths == {"general": (PRODUCTION_PAGE,), "devices": ()}
    assert parse.build_readings(_info("3.7.0"), {PRODUCTION_PAGE: page()}).production.watts_now == 6630


def test_a_plan_with_no_source_is_not_readable():
    garbage = probe.plan_from(_info("3.7.0"), {PRODUCTION_PAGE: b"<html><h2>Page Not Found</h2></html>"})
    assert not garbage.readable() and garbage.paths == {"general": (), "devices": ()}
