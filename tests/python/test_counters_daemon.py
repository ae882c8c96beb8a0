"""Counters through the daemon: the synthetic gateway over TLS with a JWT, rebooting with its lifetime
counters stepping down (or restarting from zero) mid-run, the daemon itself restarted on the same datadir,
and a real HTTP receiver as Jeedom's callback. What Jeedom receives never goes back."""
import itertools
import logging
import json
from collections import defaultdict
from datetime import datetime

import pytest

from zoneinfo import ZoneInfo

from counters import MONOTONIC, Counters
from envoy.errors import EnvoyError
from envoy.endpoints import PRODUCTION_V1
from envoy.readings import GatewayInfo
from fake_clock import Clock
from simulator.faults import Episode, FaultPlan
from simulator.synthetic import SyntheticGateway
from site_helpers import Site

PARIS = ZoneInfo("Europe/Paris")
STEP_S = 1800  # the gateway's clock moves half an hour a cycle
LIFETIME_COMMANDS = {cmd for commands in MONOTONIC.values() for cmd in commands}
DAY_COMMANDS = ("production_today_wh", "consumption_today_wh", "grid_import_day_wh", "grid_export_day_wh")


def counting_site(tmp_path, clock, plan):
    """The synthetic gateway (its faults from `plan`) in a Site, paused: no cycle of its own, the test runs each
    one, on its clock, as if the daemon ran in Paris (PHP starts it in Jeedom's TZ)."""
    return Site(tmp_path, SyntheticGateway(clock=clock, seed=5), faults=plan, clock=clock, tz=PARIS, id="1",
                token_lifetime_s=10 * 365 * 86400, paused=True)


def cycle(site, clock, plan, seen):
    """One cycle; `seen` gets (gateway clock, values event) in the order Jeedom got them. The clock then moves
    on, and so does the plan."""
    seen += [(clock.now, values) for values in site.cycle()]
    clock.now += STEP_S
    plan.next_cycle()


def test_jeedom_never_sees_a_counter_go_back_through_reboots_and_restarts(tmp_path):
    # Day 1 23:00 -> day 3 10:00, a cycle every half hour. Reboots: day 2 at 01:00 and 23:00 (no sun),
    # day 3 at 07:00 (sun); the daemon restarts on day 2 at 06:00 and 12:30.
    clock = Clock.at("2026-06-10 23:00", PARIS)
    plan = FaultPlan([Episode("reboot", 4, 1), Episode("reboot", 48, 1), Episode("reboot", 64, 1)], seed=4)
    site, seen = counting_site(tmp_path, clock, plan), []
    try:
        for n in range(70):
            if n in (14, 27):  # the daemon restarts (Jeedom restarted it, or the box rebooted)
                site.stop()
                site.start()
            cycle(site, clock, plan, seen)
        state = json.load(open(f"{site.datadir}/counters-1.json"))
    finally:
        site.close()
    assert plan.injected["reboot"] == 3
    serial = site.gateway.serial
    # The gateway did step down: the counters carry offsets.
    assert state["lifetime"][f"{serial}/production_lifetime_wh"]["offset"] > 1_000_000
    assert state["lifetime"][f"{serial}_meter_net-consumption/energy_delivered_wh"]["offset"] > 0

    last = {}
    day_last = defaultdict(dict)
    for now, values in seen:
        local_day = datetime.fromtimestamp(now, PARIS).date()
        for eq, commands in values.items():
            for cmd, value in commands.items():
                if cmd in LIFETIME_COMMANDS:
                    assert value >= last.get((eq, cmd), 0), (eq, cmd, value, last[(eq, cmd)])
                    last[(eq, cmd)] = value
                if cmd in DAY_COMMANDS:
                    assert value >= day_last[local_day].get((eq, cmd), 0), (local_day, cmd, value)
                    day_last[local_day][(eq, cmd)] = value

    # Day 2 was counted whole: its production is what the gateway made (its reboots came without sun).
    truth = SyntheticGateway(clock=Clock.at("2026-06-10 23:00", PARIS), seed=5)
    lifetime = []
    for when in ("2026-06-11 00:00", "2026-06-12 00:00"):
        truth.clock.now = Clock.at(when, PARIS).now
        lifetime.append(json.loads(truth.response("/production.json?details=1").body)["production"][1]["whLifetime"])
    yesterday = {v[serial]["production_yesterday_wh"] for _, v in seen if "production_yesterday_wh" in v.get(serial, {})}
    assert len(yesterday) == 1 and yesterday.pop() == pytest.approx(lifetime[1] - lifetime[0], abs=2)
    gateway_values = [v[serial] for _, v in seen if serial in v]
    assert any("self_sufficiency_day_pct" in v for v in gateway_values)
    assert any("self_consumption_day_pct" in v for v in gateway_values)


class ScriptedGateway:
    """Answers each general read with the next production lifetime of a script (an exception is raised)."""

    def __init__(self, script):
        self.info = GatewayInfo(serial="122302045041", firmware="7.6.175")
        self.plan = None
        self.auth_mode = "jwt-owner"
        self.token_expires = None
        self.script = iter(script)

    def fetch(self, cadence):
        if cadence != "general":
            raise EnvoyError("unreachable", "The gateway does not answer.")
        item = next(self.script)
        if isinstance(item, Exception):
            raise item
        return {PRODUCTION_V1: {"wattHoursLifetime": item}}


class Posts:
    def __init__(self):
        self.sent = []

    def values(self, gateway, values):
        self.sent.append(values)

    def status(self, gateway, status):
        pass

    def flush(self, gateway=None, timeout_s=None):
        return True


def test_a_step_seen_once_is_not_confirmed_by_the_poller_s_memory_of_it(tmp_path):
    from poller import GatewayPoller

    silent = EnvoyError("unreachable", "The gateway does not answer.")
    step = 5_000_000 - 1_193_046
    script = [5_000_000, step, silent, silent, 5_000_020, 5_000_040, 5_000_060]
    posts, clock = Posts(), itertools.count(1_780_000_000, 60)
    poller = GatewayPoller("1", ScriptedGateway(script), posts, counters=Counters(str(tmp_path / "c.json")),
                           clock=lambda: next(clock))
    published = []
    for _ in script:
        poller.cycle(["general"], send_all=True)
        published.append(posts.sent.pop().get("122302045041", {}).get("production_lifetime_wh"))
    # While the gateway is silent, the poller's view still holds the step; it is no second reading.
    assert published == [5_000_000, 5_000_000, None, None, 5_000_020, 5_000_040, 5_000_060]


def kind_of(site, eq_id):
    return site.poller.publisher.kind_of(eq_id)


def test_absurd_and_poisoned_answers_never_reach_jeedom_and_leave_nothing_behind(tmp_path):
    # A day of sun, a cycle every half hour: two cycles of lifetime counters 10 GWh ahead of themselves (within
    # every range, but no site counts that fast), then one of readings a trillion times what they are.
    from catalog import QUANTITIES, find_command
    clock = Clock.at("2026-06-11 08:00", PARIS)
    plan = FaultPlan([Episode("poison", 3, 2), Episode("absurd", 7, 1)], seed=4)
    site, seen = counting_site(tmp_path, clock, plan), []
    try:
        for _ in range(12):
            cycle(site, clock, plan, seen)
        state = json.load(open(f"{site.datadir}/counters-1.json"))
        kinds = {eq: kind_of(site, eq) for _, values in seen for eq in values}
    finally:
        site.close()
    assert plan.injected["poison"] == 1 and plan.injected["absurd"] == 1
    last, checked = {}, 0
    for now, values in seen:
        for eq, commands in values.items():
            for cmd, value in commands.items():
                command = find_command(kinds[eq], cmd)
                if command is not None and command.quantity and isinstance(value, (int, float)):
                    low, high = QUANTITIES[command.quantity]
                    assert low <= value <= high, (eq, cmd, value)
                    checked += 1
                if cmd in LIFETIME_COMMANDS:  # never poisoned: a half hour's rise at most (a whole site's)
                    assert last.get((eq, cmd), value) <= value <= last.get((eq, cmd), value) + 200_000, (eq, cmd)
                    last[(eq, cmd)] = value
    assert checked > 500
    # The poisoned readings left no offset: the counters are the gateway's own again.
    assert all(c["offset"] == 0 for c in state["lifetime"].values())
    serial = site.gateway.serial
    production = [v[serial]["production_w"] for _, v in seen if "production_w" in v.get(serial, {})]
    assert len(production) >= 10 and max(production) < 20_000  # the cycle of absurd readings published none


def test_one_cycle_with_the_clock_a_year_ahead_does_not_freeze_the_day(tmp_path):
    clock = Clock.at("2026-06-11 08:00", PARIS)
    plan = FaultPlan(seed=4)
    site, seen = counting_site(tmp_path, clock, plan), []
    try:
        for n in range(40):  # 08:00 to 03:30 the next night
            if n == 6:  # at 11:00, one reading stamped a year ahead
                site.poller.clock = lambda: clock.now + 365 * 86400
            cycle(site, clock, plan, seen)
            site.poller.clock = clock
    finally:
        site.close()
    serial = site.gateway.serial
    days = [(now, v[serial]["production_today_wh"]) for now, v in seen
            if "production_today_wh" in v.get(serial, {})]
    first_day = [wh for now, wh in days if datetime.fromtimestamp(now, PARIS).day == 11]
    assert first_day == sorted(first_day) and first_day[-1] > 10_000  # it kept counting, never reset mid-day
    next_day = [wh for now, wh in days if datetime.fromtimestamp(now, PARIS).day == 12]
    assert next_day and next_day[0] < 1_000  # and it starts again at the local midnight


def test_a_full_disk_a_counter_reset_and_a_restart_never_bring_a_counter_down(tmp_path):
    # The data folder becomes unwritable (a file in its place, as good as a full disk), the gateway reboots
    # with its counters restarted from zero, the daemon restarts (on the file written before), the folder
    # comes back: Jeedom never sees a lifetime counter go down.
    clock = Clock.at("2026-06-11 09:00", PARIS)
    plan = FaultPlan([Episode("reboot", 5, 1)], seed=0)  # seed 0: the counters restart from zero
    site, seen = counting_site(tmp_path, clock, plan), []
    data, aside = tmp_path / "data", tmp_path / "aside"
    try:
        for n in range(18):
            if n == 3:
                data.rename(aside)
                data.write_text("")
            if n == 10:
                site.stop()
                data.unlink()
                aside.rename(data)
                site.start()
            cycle(site, clock, plan, seen)
        state = json.load(open(f"{site.datadir}/counters-1.json"))
    finally:
        site.close()
    assert plan._lifetime_steps == [(6, "reset")]
    assert state["lifetime"][f"{site.gateway.serial}/production_lifetime_wh"]["offset"] > 1_000_000
    last = {}
    for now, values in seen:
        for eq, commands in values.items():
            for cmd, value in commands.items():
                if cmd in LIFETIME_COMMANDS:
                    assert value >= last.get((eq, cmd), 0), (eq, cmd, value, last[(eq, cmd)])
                    last[(eq, cmd)] = value


def test_a_gateway_figure_rejected_since_a_reboot_is_not_published_while_the_gateway_is_silent(tmp_path, caplog):
    # A week of readings every 3 hours (the counters see seven midnights: the 7 days are counted), then a cycle a
    # minute. The gateway reboots with its lifetime counters restarting from zero: its own day and 7 days are now
    # above its lifetimes (within_lifetime), so the counted ones are published. Then it is silent for a cycle (a
    # second reboot): the poller's view still holds its last answers, whose figures get the verdict they got, not
    # a pass for want of the lifetime (not a new reading). Jeedom's day and 7 days never go down within the day.
    clock = Clock.at("2026-06-03 22:00", PARIS)
    week_end = 62  # cycles of 3 hours, then of a minute
    plan = FaultPlan([Episode("reboot", week_end, 1), Episode("reboot", week_end + 6, 1)], seed=0)
    site, seen, silent = counting_site(tmp_path, clock, plan), [], []
    try:
        with caplog.at_level(logging.INFO, logger="enphased.figures"):
            for n in range(week_end + 8):
                silent.append(plan.gateway_down)
                seen.append([values for values in site.cycle()])
                clock.now += 3 * 3600 if n < week_end - 1 else 60
                plan.next_cycle()
    finally:
        site.close()
    assert plan._lifetime_steps[0] == (week_end + 1, "reset")
    assert [i for i, down in enumerate(silent) if down] == [week_end, week_end + 6]
    serial = site.gateway.serial
    figures = DAY_COMMANDS[:2] + ("production_7days_wh", "consumption_7days_wh")
    rejected = [r.getMessage() for r in caplog.records if "(within_lifetime:" in r.getMessage()]
    assert {f for f in figures if any(f" {f} of " in line for line in rejected)} == set(figures), rejected
    last = {}
    for n in range(week_end, len(seen)):  # minutes of one day: no figure of it may go down
        published = {cmd: v for values in seen[n] for cmd, v in values.get(serial, {}).items() if cmd in figures}
        if silent[n]:
            assert published == {}, (n, published)  # nothing was read: nothing new to say
        for cmd, value in published.items():
            assert value >= last.get(cmd, 0), (n, cmd, value, last[cmd])
            last[cmd] = value
    assert set(last) == set(figures)
