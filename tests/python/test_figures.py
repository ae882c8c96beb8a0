"""The figures Jeedom gets for the day and the last 7 days, one command each, on every recorded gateway, perturbed
recordings and the synthetic house: each plausibility rule of figures.py shown with a recorded or perturbed
example, no published figure breaking one, and the site's energy flow adding up (solar + grid import - grid export
+ battery discharge - battery charge = home) for the widget's figures and for the day's energies."""
import logging
import os
import time
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from zoneinfo import ZoneInfo

import catalog
from conftest import recorded_gateways
from counters import Counters
from envoy import parse, probe
from fake_clock import Clock
from figures import RULES, Facts, broken_rule, match
from simulator.synthetic import SyntheticGateway
from test_parse_recorded import _answers, read_recorded

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

PARIS = ZoneInfo("Europe/Paris")
FLOWS = ("production", "consumption")
NET_CT = "net-consumption"


def at(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()


def since_midnight(when):
    local = datetime.fromtimestamp(when, PARIS)
    return when - datetime.combine(local.date(), datetime.min.time(), tzinfo=PARIS).timestamp()


def site_of(readings):
    """One cycle's catalog values, as the poller hands them to the counters."""
    return {eq.logical_id: (eq.kind.kind, catalog.equipment_values(eq)) for eq in catalog.equipments(readings)}


def recorded_site(name):
    _, readings = read_recorded(name)
    return readings.gateway.serial, site_of(readings)


def breaks(values, when, truth=None):
    """The rules that the published gateway `values` break, judged from what was published (and, where the test
    knows it, `truth`: {command: the energy the lifetime counter really gained over the command's span}), for
    every flow the catalog has a day or week figure of (the site's, each phase's) and every net balance."""
    truth = truth or {}
    found, chosen = [], {}

    def judge(cmd, facts):
        if cmd and cmd in values:
            rule = broken_rule(values[cmd], facts._replace(counted=truth.get(cmd)))
            found.extend([f"{cmd}={values[cmd]}: {rule.name}"] if rule else [])

    for flow in catalog.DAY_FLOWS:
        lifetime, power = values.get(flow.lifetime), values.get(flow.power)
        common = dict(lifetime=lifetime, power_w=power, since_midnight_s=since_midnight(when))
        judge(flow.day, Facts(span="day", **common))
        judge(flow.week, Facts(span="week", day=values.get(flow.day), **common))
        chosen[flow.name] = (values.get(flow.day), values.get(flow.week))
    for net in catalog.BALANCES:
        for span, cmd, index in (("day", net.day, 0), ("week", net.week, 1)):
            c, p = chosen.get(net.also_plus, (None, None))[index], chosen.get(net.also_minus, (None, None))[index]
            judge(cmd, Facts(span=span, signed=True, power_w=values.get(net.power),
                             since_midnight_s=since_midnight(when), balance=None if c is None or p is None else c - p,
                             balance_within=0 if c is None or p is None else match(c) + match(p)))
    return found


def flow_adds_up(values, resolution_w=1.0):
    """solar + grid (import - export) + battery (discharge - charge) = home, for the widget's figures (each
    published to the watt: the sum may be 1.5 W off)."""
    solar, grid, home = values.get("production_w"), values.get("net_w"), values.get("consumption_w")
    battery = values.get("battery_power_w", 0)
    if None in (solar, grid, home):
        return True
    return abs(solar + grid + battery - home) <= 1.5 * resolution_w


# --- each rule, with a recorded or a perturbed example


def _first_cycle(name, when="2026-06-10 14:00", **changes):
    serial, site = recorded_site(name)
    site[serial][1].update(changes)
    return Counters(None, PARIS).update(site, at(when))[serial]


def _days(name, days, per_day_wh, start="2026-06-01"):
    """A recording's site counted over `days` whole days (its production lifetime growing `per_day_wh` a day, read
    just before and after each midnight); returns (counters, serial, site, lifetime now) at the last midnight."""
    serial, site = recorded_site(name)
    values = site[serial][1]
    for cmd in ("production_today_wh", "production_7days_wh"):  # the gateway's own come with the example
        values.pop(cmd)
    counters = Counters(None, PARIS)
    lifetime = values["production_lifetime_wh"]
    day = datetime.strptime(start, "%Y-%m-%d")
    for _ in range(days):
        for clock in ("23:59", "00:01"):
            values.update(production_lifetime_wh=lifetime)
            counters.update(site, at(f"{day:%Y-%m-%d} {clock}"))
            day += timedelta(days=1) if clock == "23:59" else timedelta()
        lifetime += per_day_wh
    return counters, serial, site, lifetime, day


def example_no_negative_energy():
    return "production_today_wh", -1460, _first_cycle("3.9.36", production_today_wh=-1460)


def example_within_lifetime():
    return "production_7days_wh", 6_017_540, _first_cycle("3.9.36", production_7days_wh=6_017_540)


def example_not_the_lifetime():
    # Recorded: 8.3.5433 answers its lifetime as today (14,405,465 Wh).
    return "production_today_wh", 14_405_465, _first_cycle("8.3.5433_tot_is_net_cons")


def example_not_nothing_while_flowing():
    # Recorded: 8.2.4286 says 0 Wh consumed today while 8.9 kW are drawn at 14:00.
    return "consumption_today_wh", 0, _first_cycle("8.2.4286_with_3cts_and_battery_split")


def example_day_matches_counted():
    # Perturbed: the gateway's today has not reset at local midnight (its clock on UTC).
    counters, serial, site, lifetime, day = _days("7.6.175", 2, 20_000)
    site[serial][1].update(production_lifetime_wh=lifetime, production_today_wh=7883)
    return "production_today_wh", 7883, counters.update(site, at(f"{day:%Y-%m-%d} 01:00"))[serial]


def example_day_holds_counted_so_far():
    # Perturbed: a first day; the lifetime counter rose 8 kWh since 10:00, the gateway says 100 Wh today.
    serial, site = recorded_site("7.6.175")
    counters = Counters(None, PARIS)
    counters.update(site, at("2026-06-10 10:00"))
    values = site[serial][1]
    values.update(production_lifetime_wh=values["production_lifetime_wh"] + 8000, production_today_wh=100)
    return "production_today_wh", 100, counters.update(site, at("2026-06-10 14:00"))[serial]


def example_day_never_goes_down():
    serial, site = recorded_site("7.6.175")
    counters = Counters(None, PARIS)
    counters.update(site, at("2026-06-10 14:00"))  # 7883 Wh today, published
    site[serial][1].update(production_today_wh=1000)  # a reboot's figure a minute later
    return "production_today_wh", 1000, counters.update(site, at("2026-06-10 14:01"))[serial]


def example_week_holds_the_day():
    # Recorded: 7.3.517's consumption of the last 7 days is 852 Wh, today 24,292 Wh.
    return "consumption_7days_wh", 852, _first_cycle("7.3.517")


def example_week_holds_known_days():
    # Perturbed: eight days of 20 kWh counted; the gateway's week holds today and little more.
    counters, serial, site, lifetime, day = _days("7.6.175", 8, 20_000)
    site[serial][1].update(production_lifetime_wh=lifetime + 10_000, production_today_wh=10_000,
                           production_7days_wh=30_000)
    return "production_7days_wh", 30_000, counters.update(site, at(f"{day:%Y-%m-%d} 12:00"))[serial]


def example_week_within_counted():
    counters, serial, site, lifetime, day = _days("7.6.175", 8, 20_000)
    site[serial][1].update(production_lifetime_wh=lifetime + 10_000, production_today_wh=10_000,
                           production_7days_wh=1_000_000)
    return "production_7days_wh", 1_000_000, counters.update(site, at(f"{day:%Y-%m-%d} 12:00"))[serial]


def example_net_is_the_balance():
    # Perturbed: 7.3.517 consumed 24,292 Wh and produced 18,633 Wh today; a net of 3000 Wh cannot be.
    return "net_today_wh", 3000, _first_cycle("7.3.517", net_today_wh=3000)


EXAMPLES = {name[len("example_"):]: function for name, function in globals().items() if name.startswith("example_")}


def test_every_rule_has_its_example():
    assert set(EXAMPLES) == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", sorted(EXAMPLES))
def test_a_figure_that_breaks_a_rule_is_replaced_and_logged_once(rule, caplog):
    with caplog.at_level(logging.INFO, logger="enphased.figures"):
        command, wrong, published = EXAMPLES[rule]()
    lines = [r for r in caplog.records if f"{command} of {wrong:.0f} Wh" in r.getMessage()]
    assert len(lines) == 1 and f"({rule}:" in lines[0].getMessage() and lines[0].levelno == logging.INFO, lines
    assert published.get(command) != wrong


def test_a_rejection_is_logged_once_until_the_figure_is_accepted_again(caplog):
    serial, site = recorded_site("7.3.517")
    counters = Counters(None, PARIS)
    with caplog.at_level(logging.INFO, logger="enphased.figures"):
        for minute in range(5):
            counters.update(site, at("2026-06-10 14:00") + 60 * minute)
        site[serial][1]["consumption_7days_wh"] = 300_000
        counters.update(site, at("2026-06-10 14:10"))
        site[serial][1]["consumption_7days_wh"] = 852
        counters.update(site, at("2026-06-10 15:10"))
    logged = [r.getMessage() for r in caplog.records if "consumption_7days_wh" in r.getMessage()]
    assert len(logged) == 2


def test_a_figure_accepted_and_rejected_in_turn_is_said_once_an_hour_at_most(caplog):
    # 7.3.517's 852 Wh in 7 days (less than today: rejected) and a plausible 300 kWh, in turn every minute for two
    # hours: one line at 14:00, one at 15:00, not one every other minute.
    serial, site = recorded_site("7.3.517")
    counters = Counters(None, PARIS)
    with caplog.at_level(logging.INFO, logger="enphased.figures"):
        for minute in range(120):
            site[serial][1]["consumption_7days_wh"] = 300_000 if minute % 2 else 852
            published = counters.update(site, at("2026-06-10 14:00") + 60 * minute)[serial]
            assert published.get("consumption_7days_wh") != 852
    logged = [r.getMessage() for r in caplog.records if "consumption_7days_wh" in r.getMessage()]
    assert len(logged) == 2 and all("(week_holds_the_day:" in line for line in logged), logged


# --- no published figure breaks a rule


@pytest.mark.parametrize("name", recorded_gateways(with_expected=False))
def test_no_published_figure_breaks_a_rule_on_a_recorded_gateway(name):
    when = at("2026-06-10 14:00")
    serial, site = recorded_site(name)
    values = Counters(None, PARIS).update(site, when)[serial]
    assert breaks(values, when) == []
    assert flow_adds_up(values)


def _gateway_values(name):
    serial, site = recorded_site(name)
    return site[serial][1]


NET_GATEWAYS = [name for name in recorded_gateways(with_expected=False) if "net_w" in _gateway_values(name)]


def _pv_w(hour):
    return max(0.0, 4000.0 * (1 - ((hour - 13.0) / 6.0) ** 2))


@pytest.mark.parametrize("name", NET_GATEWAYS)
def test_a_gateway_with_a_net_ct_shows_the_day_s_net_after_a_day_that_imports_and_exports(name):
    """A day of cycles every 10 minutes on a recording whose counters move as a house does (600 W all day, 4 kW of
    sun at 13:00): the gateway keeps its recorded day figures (its net is 0), the published net of the day is
    grid import - grid export, from the net CT's registers or, without them, consumption - production."""
    serial, site = recorded_site(name)
    gateway = site[serial][1]
    meter = site.get(f"{serial}_meter_{NET_CT}", (None, {}))[1]
    counters = Counters(None, PARIS)
    start = at("2026-06-09 23:40")
    imported = exported = 0.0
    for step in range(0, 24 * 6 + 1):
        when = start + 600 * step
        hour = (when - at("2026-06-10 00:00")) / 3600.0
        grid_w = 600.0 - _pv_w(hour)
        if step:
            gained = (grid_w * 600 / 3600.0)
            if hour > 0:
                imported, exported = imported + max(gained, 0.0), exported + max(-gained, 0.0)
            for cmd, wh in (("production_lifetime_wh", _pv_w(hour) / 6.0), ("consumption_lifetime_wh", 100.0)):
                if cmd in gateway:
                    gateway[cmd] += wh
            for cmd, wh in (("energy_delivered_wh", max(gained, 0.0)), ("energy_received_wh", max(-gained, 0.0))):
                if cmd in meter:
                    meter[cmd] += wh
        gateway.update(production_w=_pv_w(hour), net_w=grid_w, consumption_w=600.0 + gateway.get("battery_power_w", 0))
        values = counters.update(site, when)[serial]
        assert breaks(values, when) == [], (when, sorted(values.items()))
    assert abs(values["net_today_wh"] - (imported - exported)) <= 100 and values["net_today_wh"] != 0


def test_every_recorded_net_ct_sends_a_net_day_of_zero():
    """Why the gateway's own net day is no source on its own (the test above runs on each of these)."""
    assert len(NET_GATEWAYS) > 20
    assert {_gateway_values(name).get("net_today_wh") for name in NET_GATEWAYS} == {0}


# --- perturbed recordings


@settings(max_examples=150)
@given(name=st.sampled_from(recorded_gateways(with_expected=False)),
       hour=st.integers(0, 23),
       gained_wh=st.floats(0, 30_000),
       changes=st.dictionaries(
           st.sampled_from(["production_today_wh", "production_7days_wh", "consumption_today_wh",
                            "consumption_7days_wh", "net_today_wh", "net_7days_wh"]),
           st.one_of(st.just(0), st.floats(-1e6, 2e7, allow_nan=False), st.sampled_from(["lifetime", "yesterday"])),
           max_size=6))
def test_no_published_figure_breaks_a_rule_on_a_perturbed_recording(name, hour, gained_wh, changes):
    """The recording read at 23:55 and 00:05 (so the counters see midnight), then at `hour` with its production and
    consumption lifetimes `gained_wh` higher and its day / week figures perturbed (zeros, any number, the lifetime
    misfiled, yesterday's figure left unreset)."""
    serial, site = recorded_site(name)
    values = site[serial][1]
    counters = Counters(None, PARIS)
    counters.update(site, at("2026-06-09 23:55"))
    counters.update(site, at("2026-06-10 00:05"))
    truth = {}
    hours = hour + 0.5
    for flow in FLOWS:
        if f"{flow}_lifetime_wh" in values:
            values[f"{flow}_lifetime_wh"] += gained_wh
            values[f"{flow}_w"] = gained_wh / hours  # the powers tell the same day as the counters
            truth[f"{flow}_today_wh"] = gained_wh
    if "net_w" in values:
        values["net_w"] = values.get("consumption_w", 0) - values.get("production_w", 0)
    for cmd, change in changes.items():
        flow = cmd.split("_")[0]
        values[cmd] = (values.get(f"{flow}_lifetime_wh", 1e6) if change == "lifetime"
                       else values.get(cmd, 5000) if change == "yesterday" else change)
    when = at(f"2026-06-10 {hour:02d}:30")
    published = counters.update(site, when)[serial]
    assert breaks(published, when, truth) == []


# --- the synthetic house


@pytest.fixture
def paris_time(monkeypatch):
    """The synthetic house follows the process's local time: Paris, for its days and its DST change."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_synthetic_house_over_48_hours_across_the_dst_change(paris_time):
    """Every 10 minutes from 2026-03-28 00:00 to 03-30 00:00 (Paris goes to summer time on the 29th): no published
    figure breaks a rule; the widget's figures add up and the house's consumption is the model's; the day's
    energies balance (production + import - export = consumption, the batteries' charge counted as consumed) and
    match the model's counters once the counters have seen a midnight."""
    clock = Clock(at("2026-03-28 00:00"))
    gateway = SyntheticGateway(clock=clock, seed=3)
    info = parse.parse_info(gateway.info_xml())
    plan = probe.plan_from(info, _answers(gateway, probe.probe_paths(info)))
    counters = Counters(None, PARIS)
    midnight_life, checked_days = {}, 0
    while clock.now <= at("2026-03-30 00:00"):
        readings = parse.build_readings(info, {**plan.carried, **_answers(
            gateway, plan.paths["general"] + plan.paths["devices"])})
        published = counters.update(site_of(readings), clock.now)
        values = published[gateway.serial]
        net_meter = published[f"{gateway.serial}_meter_{NET_CT}"]
        local = datetime.fromtimestamp(clock.now, PARIS)
        life = {"production": readings.production.wh_lifetime, "consumption": readings.consumption.wh_lifetime,
                "import": net_meter["energy_delivered_wh"], "export": net_meter["energy_received_wh"]}
        if local.hour == 0 and local.minute == 0:
            midnight_life[local.date()] = life
        truth = {}
        if local.date() in midnight_life and local.date() - timedelta(days=1) in midnight_life:
            start = midnight_life[local.date()]
            truth = {f"{flow}_today_wh": life[flow] - start[flow] for flow in FLOWS}
            truth["net_today_wh"] = (life["import"] - start["import"]) - (life["export"] - start["export"])
            assert values["production_today_wh"] == pytest.approx(truth["production_today_wh"], abs=2)
            assert values["grid_import_day_wh"] - values["grid_export_day_wh"] == pytest.approx(
                truth["net_today_wh"], abs=2)
            checked_days += 1
        assert breaks(values, clock.now, truth) == [], local
        assert flow_adds_up(values)
        house = sum(gateway.load)
        assert values["consumption_w"] == pytest.approx(house, abs=2)
        if "grid_import_day_wh" in values:
            day_balance = values["production_today_wh"] + values["grid_import_day_wh"] - values["grid_export_day_wh"]
            assert day_balance == pytest.approx(values["consumption_today_wh"], abs=3)
        clock.now += 600
    assert checked_days > 100


# --- per phase


PHASED_GATEWAYS = [name for name in recorded_gateways(with_expected=False)
                   if "production_l2_lifetime_wh" in _gateway_values(name)]


@pytest.mark.parametrize("name", PHASED_GATEWAYS)
def test_each_phase_s_energy_of_the_day_and_its_net(name):
    """A multi-phase recording read around midnight, then at noon with each phase's lifetimes grown: each phase's
    production and consumption of the day (counted, the recorded day figures being yesterday's), and its net,
    consumption - production of that phase."""
    serial, site = recorded_site(name)
    values = site[serial][1]
    counters = Counters(None, PARIS)
    counters.update(site, at("2026-06-09 23:55"))
    counters.update(site, at("2026-06-10 00:05"))
    phases = [n for n in (1, 2, 3) if f"production_l{n}_lifetime_wh" in values]
    for n in phases:
        values[f"production_l{n}_lifetime_wh"] += 1000 * n
        values["production_lifetime_wh"] += 1000 * n  # the site's is the phases' sum
        if f"consumption_l{n}_lifetime_wh" in values:
            values[f"consumption_l{n}_lifetime_wh"] += 3000
            values["consumption_lifetime_wh"] += 3000
            grid = 3000 - 1000 * n  # and the net CT's registers with them
            meter = site.get(f"{serial}_meter_{NET_CT}", (None, {}))[1]
            for cmd, wh in (("energy_delivered_wh", max(grid, 0)), ("energy_received_wh", max(-grid, 0))):
                if cmd in meter:
                    meter[cmd] += wh
    published = counters.update(site, at("2026-06-10 12:00"))[serial]
    for n in phases:
        assert published[f"production_l{n}_today_wh"] == 1000 * n
        if f"consumption_l{n}_lifetime_wh" in values:
            assert published[f"consumption_l{n}_today_wh"] == 3000
            assert published[f"net_l{n}_today_wh"] == 3000 - 1000 * n
    assert breaks(published, at("2026-06-10 12:00")) == []


def test_there_are_multi_phase_recordings():
    assert len(PHASED_GATEWAYS) >= 2
