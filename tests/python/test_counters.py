"""counters.py: lifetime counters that never go back and the figures of the day, with an injected clock
and time zone (Europe/Paris) across midnights, restarts, step-downs, zeros, "unknown" and late resets."""
import json
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from zoneinfo import ZoneInfo

from counters import MONOTONIC, Counters

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

PARIS = ZoneInfo("Europe/Paris")
SERIAL = "122302045041"
NET = f"{SERIAL}_meter_net-consumption"
STEP = 1_193_046.0  # 2^32 watt-seconds, the step down seen on real units


def at(text):
    """Epoch seconds of a Paris local time 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()


def site(production=None, consumption=None, imported=None, exported=None, **gateway):
    """One cycle's catalog values: the gateway, and the net CT when import or export is given."""
    values = dict(gateway)
    for cmd, value in (("production_lifetime_wh", production), ("consumption_lifetime_wh", consumption)):
        if value is not None:
            values[cmd] = value
    equipments = {SERIAL: ("gateway", values)}
    if imported is not None or exported is not None:
        meter = {k: v for k, v in (("energy_delivered_wh", imported), ("energy_received_wh", exported)) if v is not None}
        equipments[NET] = ("meter", meter)
    return equipments


@pytest.fixture
def counters(tmp_path):
    return Counters(str(tmp_path / "counters-1.json"), PARIS)


def lifetimes(counters, raws, start="2026-06-10 12:00", step_s=60):
    """Published production lifetime for each raw reading, one reading a minute."""
    t0 = at(start)
    return [counters.update(site(production=raw), t0 + i * step_s)[SERIAL].get("production_lifetime_wh")
            for i, raw in enumerate(raws)]


# --- lifetime counters ---

def test_a_growing_counter_is_published_as_it_is(counters):
    assert lifetimes(counters, [5_000_000, 5_000_010, 5_000_025.4]) == [5_000_000, 5_000_010, 5_000_025]


@pytest.mark.parametrize("no_reading", [0, 0.0, -18.153, None, "unknown", float("nan"), True])
def test_zero_negative_and_unknown_are_no_reading_not_a_new_start(counters, no_reading):
    published = lifetimes(counters, [5_000_000, no_reading, no_reading, 5_000_020])
    held = None if no_reading is None else 5_000_000  # not read at all: nothing to publish
    assert published == [5_000_000, held, held, 5_000_020]
    assert counters._state["lifetime"][f"{SERIAL}/production_lifetime_wh"]["offset"] == 0


def test_a_step_down_confirmed_by_the_next_reading_carries_on_from_the_published_value(counters):
    raws = [5_000_000, 5_000_010, 5_000_010 - STEP, 5_000_030 - STEP, 5_000_050 - STEP]
    published = lifetimes(counters, raws)
    # Held while unconfirmed, then on from 5 000 010: the 20 Wh after the step are counted.
    assert published == [5_000_000, 5_000_010, 5_000_010, 5_000_030, 5_000_050]


def test_a_step_down_is_seen_against_the_last_reading_however_far_the_counter_has_come(counters):
    t = at("2026-01-01 12:00")
    counters.update(site(production=5_000_000), t)
    for day_ in range(1, 200):  # months of production, well past the size of a step
        counters.update(site(production=5_000_000 + 20_000 * day_), t + day_ * 86400)
    last = 5_000_000 + 20_000 * 199
    t += 199 * 86400
    assert counters.update(site(production=last - STEP + 10), t + 60)[SERIAL]["production_lifetime_wh"] == last
    assert counters.update(site(production=last - STEP + 30), t + 120)[SERIAL]["production_lifetime_wh"] == last + 20


def test_a_single_low_reading_is_a_glitch(counters):
    published = lifetimes(counters, [5_000_000, 5_000_000 - STEP, 5_000_020, 5_000_030])
    assert published == [5_000_000, 5_000_000, 5_000_020, 5_000_030]
    assert counters._state["lifetime"][f"{SERIAL}/production_lifetime_wh"]["offset"] == 0


def test_a_single_spike_is_never_published_and_leaves_no_offset(counters):
    published = lifetimes(counters, [5_000_000, 95_000_000, 5_000_020, 5_000_030])
    assert published == [5_000_000, 5_000_000, 5_000_020, 5_000_030]


def test_a_jump_is_not_believed_for_being_read_twice(counters):
    published = lifetimes(counters, [800_000, 8_276_000, 8_276_050])
    assert published == [800_000, 800_000, 800_000]


def test_jitter_waits_for_the_counter_and_adds_nothing(counters):
    published = lifetimes(counters, [5_000_000, 4_999_999.5, 4_999_999.8, 5_000_001, 5_000_000.7, 5_000_004])
    assert published == [5_000_000, 5_000_000, 5_000_000, 5_000_001, 5_000_001, 5_000_004]


def test_a_counter_that_restarts_from_zero_after_a_reboot(counters):
    # Down, then zeros and "unknown" while it starts, then counting again from zero.
    published = lifetimes(counters, [5_000_000, "unknown", 0, "unknown", 0.4, 12.4, 30.4])
    assert published == [5_000_000, 5_000_000, 5_000_000, 5_000_000, 5_000_000, 5_000_012, 5_000_030]


def test_a_rise_faster_than_any_site_is_not_published_but_a_long_absence_s_is(counters):
    t = at("2026-06-10 12:00")
    counters.update(site(production=5_000_000), t)
    # 100 kWh in a minute: no site does that; after three days of silence, it is just the energy missed (once
    # the next reading shows that the clock did move three days).
    assert counters.update(site(production=5_100_000), t + 60)[SERIAL]["production_lifetime_wh"] == 5_000_000
    assert counters.update(site(production=5_100_000), t + 3 * 86400)[SERIAL]["production_lifetime_wh"] == 5_000_000
    assert counters.update(site(production=5_100_000), t + 3 * 86400 + 60)[SERIAL]["production_lifetime_wh"] == 5_100_000


def test_every_kind_of_lifetime_counter_is_monotonic(counters):
    t = at("2026-06-10 12:00")
    equipments = {SERIAL: ("gateway", {"production_lifetime_wh": 5e6, "consumption_lifetime_wh": 7e6}),
                  NET: ("meter", {"energy_delivered_wh": 3e6, "energy_received_wh": 2e6}),
                  f"{SERIAL}_meter_storage": ("meter", {"energy_delivered_wh": 9e5, "energy_received_wh": 1e6}),
                  "482212345678": ("inverter", {"lifetime_wh": 1.3e6, "power_w": 200})}
    counters.update(equipments, t)
    stepped = {eq: (kind, {k: (v - STEP if k in MONOTONIC[kind] and v > STEP else 0 if k in MONOTONIC[kind] else v)
                           for k, v in values.items()}) for eq, (kind, values) in equipments.items()}
    for dt in (60, 120):
        out = counters.update(stepped, t + dt)
    for eq, (kind, values) in equipments.items():
        for cmd in set(MONOTONIC[kind]) & set(values):
            assert out[eq][cmd] == values[cmd], (eq, cmd)
    assert out["482212345678"]["power_w"] == 200  # other values pass untouched


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("grow"), st.floats(0, 5000)),
    st.tuples(st.just("step"), st.sampled_from([STEP, 2 * STEP, 10_000.0, 0.9])),
    st.tuples(st.just("reset"), st.just(0.0)),
    st.tuples(st.just("glitch"), st.sampled_from([0, None, -5, "unknown", 1e9, 1.0, 250.0])),
    st.tuples(st.just("restart"), st.just(0.0)),
    st.tuples(st.just("clock"), st.sampled_from([365 * 86400.0, 2 * 86400.0, -3600.0])),  # one reading's stamp
), max_size=40))
def test_whatever_the_gateway_answers_the_published_lifetime_never_goes_down(tmp_path_factory, events):
    path = str(tmp_path_factory.mktemp("c") / "c.json")
    counters, raw, t, last = Counters(path, PARIS), 3_000_000.0, at("2026-06-10 12:00"), None
    for kind, amount in events:
        t += 60
        reading = raw
        if kind == "grow":
            raw += amount
            reading = raw
        elif kind == "step":
            raw = max(0.0, raw - amount)
            reading = raw
        elif kind == "reset":
            raw = reading = 0.0
        elif kind == "glitch":
            reading = amount
        elif kind == "restart":
            counters = Counters(path, PARIS)  # the daemon restarts
        stamp = t + amount if kind == "clock" else t
        value = counters.update(site(production=reading), stamp)[SERIAL].get("production_lifetime_wh")
        if value is not None:
            assert last is None or value >= last
            last = value


# --- restarts ---

def test_offsets_survive_a_restart_and_a_step_during_the_downtime_is_seen(tmp_path):
    path = str(tmp_path / "counters-1.json")
    t = at("2026-06-10 12:00")
    first = Counters(path, PARIS)
    first.update(site(production=5_000_000), t)
    first.update(site(production=5_000_000 - STEP), t + 60)
    assert first.update(site(production=5_000_100 - STEP), t + 120)[SERIAL]["production_lifetime_wh"] == 5_000_100
    again = Counters(path, PARIS)
    assert again.update(site(production=5_000_200 - STEP), t + 180)[SERIAL]["production_lifetime_wh"] == 5_000_200
    # Stepped down again while the daemon was stopped: found against the saved reading, then confirmed.
    later = Counters(path, PARIS)
    assert later.update(site(production=5_000_300 - 2 * STEP), t + 3600)[SERIAL]["production_lifetime_wh"] == 5_000_200
    assert later.update(site(production=5_000_310 - 2 * STEP), t + 3660)[SERIAL]["production_lifetime_wh"] == 5_000_210


def test_the_state_file_is_small_json_replaced_whole(tmp_path):
    path = tmp_path / "data" / "counters-1.json"
    counters = Counters(str(path), PARIS)
    counters.update(site(production=5_000_000), at("2026-06-10 12:00"))
    state = json.loads(path.read_text())
    assert state["version"] == 1 and state["lifetime"][f"{SERIAL}/production_lifetime_wh"]["out"] == 5_000_000
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["counters-1.json"]  # no temporary file left
    mtime = path.stat().st_mtime_ns
    for minute in range(1, 15):  # a night: nothing changes, only reading times; not written every minute
        counters.update(site(production=5_000_000), at("2026-06-10 12:00") + 60 * minute)
    assert path.stat().st_mtime_ns == mtime
    counters.update(site(production=5_000_000), at("2026-06-10 12:15"))
    assert path.stat().st_mtime_ns != mtime


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"version": 99}', '{"version": 1, "lifetime": 3}'])
def test_an_unreadable_state_starts_again_from_the_gateway(tmp_path, content):
    path = tmp_path / "counters-1.json"
    path.write_text(content)
    counters = Counters(str(path), PARIS)
    assert counters.update(site(production=5_000_000), at("2026-06-10 12:00"))[SERIAL]["production_lifetime_wh"] == 5e6


# --- the figures of the day and of the week (figures.py chooses each one's source) ---

def day(counters, when, **readings):
    return counters.update(site(**readings), at(when))[SERIAL]


def test_a_first_day_counts_nothing_and_is_not_a_yesterday(counters):
    # Without a gateway figure (no production CT) and before the counters have seen a midnight, nothing: the
    # count since the daemon's first reading is not the day's production.
    assert "production_today_wh" not in day(counters, "2026-06-10 15:00", production=5_000_000)
    assert "production_today_wh" not in day(counters, "2026-06-10 18:00", production=5_004_000)
    day(counters, "2026-06-10 23:55", production=5_004_000)
    values = day(counters, "2026-06-11 00:00", production=5_004_000)
    assert values["production_today_wh"] == 0 and "production_yesterday_wh" not in values  # partial day
    assert day(counters, "2026-06-11 12:00", production=5_020_000)["production_today_wh"] == 16_000
    day(counters, "2026-06-11 23:55", production=5_030_000)
    values = day(counters, "2026-06-12 00:05", production=5_030_000)
    assert values["production_yesterday_wh"] == 26_000 and values["production_today_wh"] == 0


def test_midnight_is_interpolated_between_the_readings_around_it(counters):
    day(counters, "2026-06-09 23:00", consumption=7_000_000)
    day(counters, "2026-06-10 00:00", consumption=7_000_400)
    day(counters, "2026-06-10 23:50", consumption=7_010_400)
    # Silent from 23:50 to 00:10 (the nightly outage): 200 Wh, half before midnight.
    values = day(counters, "2026-06-11 00:10", consumption=7_010_600)
    assert values["consumption_yesterday_wh"] == 10_100 and values["consumption_today_wh"] == 100
    assert day(counters, "2026-06-11 08:00", consumption=7_013_100)["consumption_today_wh"] == 2_600


def test_a_day_after_a_long_gap_is_not_trusted(counters):
    day(counters, "2026-06-09 00:00", production=5_000_000)
    day(counters, "2026-06-10 00:00", production=5_020_000)
    day(counters, "2026-06-10 20:00", production=5_040_000)
    values = day(counters, "2026-06-11 07:00", production=5_040_100)  # the daemon was stopped all night
    assert "production_yesterday_wh" not in values and "production_today_wh" not in values
    values = day(counters, "2026-06-14 12:00", production=5_100_000)  # and for days
    assert "production_yesterday_wh" not in values


def test_the_day_restarts_at_local_midnight_across_daylight_saving(counters):
    # Paris goes to summer time on 2026-03-29: that day has 23 hours; midnight is 22:00 UTC the day before.
    day(counters, "2026-03-27 23:59", consumption=6_990_000)
    day(counters, "2026-03-28 00:01", consumption=6_990_020)
    day(counters, "2026-03-28 12:00", consumption=7_000_000)
    day(counters, "2026-03-28 23:59", consumption=7_010_000)
    values = day(counters, "2026-03-29 00:01", consumption=7_010_020)
    assert values["consumption_yesterday_wh"] == pytest.approx(20_000, abs=1)
    day(counters, "2026-03-29 23:59", consumption=7_030_000)
    values = day(counters, "2026-03-30 00:01", consumption=7_030_020)
    assert values["consumption_yesterday_wh"] == pytest.approx(20_000, abs=1)


def test_the_day_figures_follow_the_monotonic_counters_through_a_step_down(counters):
    day(counters, "2026-06-09 23:59", production=5_000_000)
    day(counters, "2026-06-10 00:01", production=5_000_000)
    day(counters, "2026-06-10 12:00", production=5_010_000)
    day(counters, "2026-06-10 12:01", production=5_010_100 - STEP)
    values = day(counters, "2026-06-10 12:02", production=5_010_200 - STEP)
    assert values["production_today_wh"] == 10_100 and values["production_lifetime_wh"] == 5_010_100


def test_grid_import_and_export_of_the_day_the_net_and_the_rates(counters):
    day(counters, "2026-06-09 23:59", production=5e6, consumption=7e6, imported=3e6, exported=2e6)
    day(counters, "2026-06-10 00:01", production=5e6, consumption=7e6, imported=3e6, exported=2e6)
    values = day(counters, "2026-06-10 18:00", production=5e6 + 20_000, consumption=7e6 + 12_000,
                 imported=3e6 + 2_000, exported=2e6 + 10_000, net_today_wh=0)
    assert values["grid_import_day_wh"] == 2_000 and values["grid_export_day_wh"] == 10_000
    assert values["net_today_wh"] == -8_000  # import - export, not the gateway's 0
    assert values["self_consumption_day_pct"] == 50  # 10 of the 20 kWh produced were used at home
    assert values["self_sufficiency_day_pct"] == 83  # 10 of the 12 kWh used were the site's


def test_no_rates_without_a_net_ct_nor_a_self_consumption_rate_before_sunrise(counters):
    day(counters, "2026-06-09 23:59", production=5e6, consumption=7e6)
    day(counters, "2026-06-10 00:01", production=5e6, consumption=7e6)
    values = day(counters, "2026-06-10 12:00", production=5e6 + 9_000, consumption=7e6 + 4_000)
    assert values["production_today_wh"] == 9_000
    assert not {"self_consumption_day_pct", "self_sufficiency_day_pct", "grid_import_day_wh"} & set(values)
    other = Counters(None, PARIS)
    other.update(site(production=5e6, consumption=7e6, imported=3e6, exported=2e6), at("2026-06-10 00:00"))
    values = other.update(site(production=5e6, consumption=7e6 + 400, imported=3e6 + 300, exported=2e6),
                          at("2026-06-10 05:00"))[SERIAL]
    assert "self_consumption_day_pct" not in values and values["self_sufficiency_day_pct"] == 25


def test_daily_figures_survive_a_restart_across_midnight(tmp_path):
    path = str(tmp_path / "counters-1.json")
    first = Counters(path, PARIS)
    first.update(site(production=5_000_000), at("2026-06-09 23:00"))
    first.update(site(production=5_000_000), at("2026-06-10 00:30"))
    first.update(site(production=5_025_000), at("2026-06-10 23:30"))
    again = Counters(path, PARIS)  # stopped at 23:30, started again at 00:30
    values = again.update(site(production=5_025_000), at("2026-06-11 00:30"))[SERIAL]
    assert values["production_yesterday_wh"] == 25_000 and values["production_today_wh"] == 0


def test_seven_days_are_counted_from_the_last_seven_midnights_and_survive_a_restart(tmp_path):
    path = str(tmp_path / "counters-1.json")
    counters = Counters(path, PARIS)
    for n in range(1, 9):  # 20 kWh a day
        day(counters, f"2026-06-{n:02d} 00:01", production=5_000_000 + 20_000 * n)
        day(counters, f"2026-06-{n:02d} 23:59", production=5_020_000 + 20_000 * n)
    counters = Counters(path, PARIS)
    day(counters, "2026-06-09 00:01", production=5_180_000)
    values = day(counters, "2026-06-09 12:00", production=5_190_000)
    # Today so far (10 kWh) and the six days before (6 x 20 kWh), from the counter at midnight on 06-03.
    assert values["production_7days_wh"] == 130_000 and values["production_today_wh"] == 10_000
    # The gateway's own, when it is plausible, wins.
    assert day(counters, "2026-06-09 12:01", production=5_190_000,
               production_7days_wh=131_000)["production_7days_wh"] == 131_000


def test_no_seven_days_until_the_counters_have_seen_seven_midnights(counters):
    day(counters, "2026-06-01 12:00", production=5_000_000)  # the daemon's first reading: a partial day
    for n in range(1, 8):  # 20 kWh a day
        values = day(counters, f"2026-06-{n:02d} 23:59", production=5_010_000 + 20_000 * (n - 1))
        assert "production_7days_wh" not in values
        day(counters, f"2026-06-{n + 1:02d} 00:01", production=5_010_000 + 20_000 * (n - 1))
    # Midnights seen: 06-02 to 06-08, so from 06-08 the week (06-02 to 06-08) is counted whole.
    values = day(counters, "2026-06-08 12:00", production=5_140_000)
    assert values["production_7days_wh"] == 6 * 20_000 + 10_000


def test_a_late_reset_of_the_gateway_today_is_not_published_as_today(counters):
    day(counters, "2026-06-09 23:59", production=5_000_000, production_today_wh=25_000)
    assert day(counters, "2026-06-10 21:00", production=5_030_000,
               production_today_wh=30_000)["production_today_wh"] == 30_000
    day(counters, "2026-06-10 23:55", production=5_030_000, production_today_wh=30_000)
    # The gateway's clock is on UTC: "today" resets at 02:00 in Paris; until then it is yesterday's.
    values = day(counters, "2026-06-11 00:10", production=5_030_000, production_today_wh=30_000)
    assert values["production_today_wh"] == 0  # counted since midnight
    values = day(counters, "2026-06-11 02:05", production=5_030_000, production_today_wh=0)
    assert values["production_today_wh"] == 0
    assert day(counters, "2026-06-11 09:00", production=5_031_500,
               production_today_wh=1_500)["production_today_wh"] == 1_500


def test_a_gateway_today_equal_to_the_lifetime_is_not_published(counters):
    day(counters, "2026-06-09 23:59", production=14_390_000, production_today_wh=0)
    day(counters, "2026-06-10 00:01", production=14_390_000, production_today_wh=0)
    values = day(counters, "2026-06-10 12:00", production=14_405_465, production_today_wh=14_405_465)
    assert values["production_today_wh"] == 15_465  # the counted one
    # Even on a first day, with nothing counted yet to compare with.
    first = Counters(None, PARIS)
    values = first.update(site(production=14_405_465, production_today_wh=14_405_465), at("2026-06-10 12:00"))
    assert "production_today_wh" not in values[SERIAL]


def test_a_reboot_zero_does_not_pull_today_down(counters):
    day(counters, "2026-06-10 10:00", consumption=7_000_000, consumption_today_wh=6_000)  # a first day
    day(counters, "2026-06-10 14:00", consumption=7_008_000, consumption_today_wh=14_000)
    # The zero breaks a rule (less than earlier today) and nothing was counted whole: the day's figure holds.
    assert day(counters, "2026-06-10 14:01", consumption=0, consumption_today_wh=0)["consumption_today_wh"] == 14_000
    assert day(counters, "2026-06-10 14:02", consumption_today_wh=None)["consumption_today_wh"] == 14_000
    assert day(counters, "2026-06-10 14:03", consumption=7_008_030,
               consumption_today_wh=14_030)["consumption_today_wh"] == 14_030


def test_the_gateway_seven_days_skips_zeros_the_lifetime_and_more_than_the_counters_saw(counters):
    for n in range(1, 10):  # 20 kWh a day
        day(counters, f"2026-06-{n:02d} 00:01", production=5_000_000 + 20_000 * n, production_7days_wh=140_000)
        day(counters, f"2026-06-{n:02d} 23:59", production=5_020_000 + 20_000 * n, production_7days_wh=140_000)
    values = day(counters, "2026-06-09 23:59", production=5_200_000, production_7days_wh=150_000)
    assert values["production_7days_wh"] == 150_000
    for bad in (0, 5_190_000, 400_000):  # a reboot, the lifetime misfiled, more than 8 days of counting
        assert day(counters, "2026-06-09 23:59", production=5_200_000,
                   production_7days_wh=bad)["production_7days_wh"] == 140_000  # counted since 06-03


# --- net lifetime ---

def test_net_lifetime_is_import_minus_export_of_the_monotonic_registers(counters):
    t = at("2026-06-10 12:00")
    out = counters.update(site(imported=4_873_881.221, exported=7_554_062.483, net_lifetime_wh=-2_662_918.637), t)
    assert out[SERIAL]["net_lifetime_wh"] == pytest.approx(-2_680_181.262)
    # The net CT's registers step down: net lifetime stays on the same line.
    counters.update(site(imported=4_873_881.221 - STEP, exported=7_554_062.483, net_lifetime_wh=-3.8e6), t + 60)
    out = counters.update(site(imported=4_873_981.221 - STEP, exported=7_554_062.483, net_lifetime_wh=-3.8e6), t + 120)
    assert out[SERIAL]["net_lifetime_wh"] == pytest.approx(-2_680_081.262)


def test_net_lifetime_without_a_net_ct_is_the_gateway_s_but_never_a_reboot_zero(counters):
    t = at("2026-06-10 12:00")
    assert counters.update(site(net_lifetime_wh=-315_944.2), t)[SERIAL]["net_lifetime_wh"] == -315_944.2
    assert "net_lifetime_wh" not in counters.update(site(net_lifetime_wh=0), t + 60)[SERIAL]


def test_counters_publish_exactly_the_catalog_s_counted_commands(counters):
    from catalog import COUNTED, GATEWAY

    day(counters, "2026-06-09 23:59", production=5e6, consumption=7e6, imported=3e6, exported=2e6)
    day(counters, "2026-06-10 00:01", production=5e6, consumption=7e6 + 10, imported=3e6 + 10, exported=2e6)
    day(counters, "2026-06-10 23:59", production=5e6 + 9e3, consumption=7e6 + 9e3, imported=3e6 + 4e3, exported=2e6 + 4e3)
    values = day(counters, "2026-06-11 00:01", production=5e6 + 9e3, consumption=7e6 + 9e3 + 10,
                 imported=3e6 + 4e3 + 10, exported=2e6 + 4e3)
    values.update(day(counters, "2026-06-11 12:00", production=5e6 + 19e3, consumption=7e6 + 19e3,
                      imported=3e6 + 9e3, exported=2e6 + 9e3))
    counted = {c.logical_id for c in COUNTED}
    assert counted <= set(values) and counted <= {c.logical_id for c in GATEWAY.commands}
    # ...and the day's figures that the gateway may also give, from their best source.
    assert set(values) - counted == {"production_lifetime_wh", "consumption_lifetime_wh", "production_today_wh",
                                     "consumption_today_wh", "net_today_wh"}


# --- what a poisoned reading cannot do (issue 12, points 8 and 14) ---

def test_two_absurd_readings_in_a_row_never_capture_the_counter(counters):
    published = lifetimes(counters, [5_000_000, 1e13, 1e13, 5_000_020, 5_000_040])
    assert published == [5_000_000, 5_000_000, 5_000_000, 5_000_020, 5_000_040]
    assert counters._state["lifetime"][f"{SERIAL}/production_lifetime_wh"]["offset"] == 0


def test_a_rise_faster_than_the_site_can_count_is_said_once_and_waits_until_it_is_possible(counters, caplog):
    # A gateway alone: its CTs measure at most 2 x 3 x 200 A x 277 V = 332.4 kW, so 1 MWh takes three hours.
    t = at("2026-06-10 12:00")
    counters.update(site(production=5_000_000), t)
    held = [counters.update(site(production=6_000_000), t + minute * 60)[SERIAL]["production_lifetime_wh"]
            for minute in range(1, 60)]
    assert held == [5_000_000] * 59
    assert len([r for r in caplog.records if "faster than this site can count" in r.getMessage()]) == 1
    assert counters.update(site(production=6_000_000), t + 3 * 3600 + 600)[SERIAL]["production_lifetime_wh"] == 6_000_000


def test_the_site_s_devices_set_how_fast_its_counters_can_rise(counters):
    t = at("2026-06-10 12:00")
    inverters = {f"4822430330{n:02d}": ("inverter", {"lifetime_wh": 1_000_000}) for n in range(200)}
    counters.update(dict(site(production=5_000_000), **inverters), t)
    # 200 microinverters (2 kW each at most) and the CTs: 732 kW. 50 kWh in 5 minutes is 600 kW.
    faster = {eq: ("inverter", {"lifetime_wh": 1_000_250}) for eq in inverters}
    out = counters.update(dict(site(production=5_050_000), **faster), t + 300)
    assert out[SERIAL]["production_lifetime_wh"] == 5_050_000
    # One microinverter gives 2 kW at most: 250 Wh in 5 minutes is 3 kW, but within the 1 kWh of jitter...
    assert out["482243033000"]["lifetime_wh"] == 1_000_250
    # ...5 kWh in 5 minutes (60 kW) is not; nor is the site's 50 kWh when it has no devices.
    alone = Counters(None, PARIS)
    alone.update(site(production=5_000_000), t)
    assert alone.update(site(production=5_050_000), t + 300)[SERIAL]["production_lifetime_wh"] == 5_000_000
    out = counters.update({"482243033000": ("inverter", {"lifetime_wh": 1_005_250})}, t + 600)
    assert out["482243033000"]["lifetime_wh"] == 1_000_250


def test_two_low_glitches_in_a_row_are_undone_when_the_counter_comes_back_to_its_line(counters):
    published = lifetimes(counters, [5_000_000, 10, 20, 5_000_060, 5_000_080])
    assert published == [5_000_000, 5_000_000, 5_000_010, 5_000_060, 5_000_080]
    assert counters._state["lifetime"][f"{SERIAL}/production_lifetime_wh"]["offset"] == 0


def test_a_step_down_confirmed_while_the_state_cannot_be_written_is_not_published_ahead_of_the_file(tmp_path):
    data = tmp_path / "data"
    path = str(data / "counters-1.json")
    t = at("2026-06-10 12:00")
    first = Counters(path, PARIS)
    assert first.update(site(production=5_000_000), t)[SERIAL]["production_lifetime_wh"] == 5_000_000
    data.rename(tmp_path / "saved")
    data.write_text("")  # the folder is gone, a file in its place: nothing can be written there (as a full disk)
    published = [first.update(site(production=raw), t + 60 * n)[SERIAL].get("production_lifetime_wh")
                 for n, raw in enumerate([5_000_500, 5_001_000 - STEP, 5_001_500 - STEP], start=1)]
    assert published == [5_000_000] * 3  # what the file holds, not what memory counted
    assert "production_today_wh" not in first.update(site(production=5_002_000 - STEP), t + 240)[SERIAL]
    data.unlink()
    (tmp_path / "saved").rename(data)
    again = Counters(path, PARIS)  # the daemon restarts on the file written before the disk filled
    published = [again.update(site(production=raw), t + 60 * n)[SERIAL]["production_lifetime_wh"]
                 for n, raw in enumerate([5_003_000 - STEP, 5_003_500 - STEP], start=5)]
    assert published == [5_000_000, 5_000_500]
    # And the disk freed without a restart: the counters catch up at once.
    data.rename(tmp_path / "saved2")
    data.write_text("")
    assert again.update(site(production=5_004_000 - STEP), t + 420)[SERIAL]["production_lifetime_wh"] == 5_000_500
    data.unlink()
    (tmp_path / "saved2").rename(data)
    assert again.update(site(production=5_004_500 - STEP), t + 480)[SERIAL]["production_lifetime_wh"] == 5_001_500


# --- a clock far off (issue 12, point 9) ---

def test_one_reading_stamped_a_year_ahead_leaves_the_day_alone(counters, caplog):
    day(counters, "2026-06-09 23:50", production=5_000_000)
    day(counters, "2026-06-10 00:10", production=5_000_000)
    assert day(counters, "2026-06-10 12:00", production=5_010_000)["production_today_wh"] == 10_000
    ahead = day(counters, "2027-06-10 12:01", production=5_010_010)
    assert ahead["production_lifetime_wh"] == 5_010_000 and "production_today_wh" not in ahead
    assert day(counters, "2026-06-10 12:02", production=5_010_020)["production_today_wh"] == 10_020
    assert day(counters, "2026-06-10 23:50", production=5_020_000)["production_today_wh"] == 20_000
    values = day(counters, "2026-06-11 00:10", production=5_020_000)
    assert values["production_today_wh"] == 0 and values["production_yesterday_wh"] == 20_000
    assert len([r for r in caplog.records if "far from the last one" in r.getMessage()]) == 1


def test_a_clock_ahead_for_a_while_is_waited_out_and_the_day_carries_on(counters):
    day(counters, "2026-06-09 23:50", production=5_000_000)
    day(counters, "2026-06-10 00:10", production=5_000_000)
    assert day(counters, "2026-06-10 12:00", production=5_010_000)["production_today_wh"] == 10_000
    for minute in range(1, 4):  # ahead three readings running: believed from the second
        day(counters, f"2027-06-10 12:0{minute}", production=5_010_000 + 10 * minute)
    back = day(counters, "2026-06-10 12:05", production=5_010_050)  # back: waits for the next one
    assert "production_today_wh" not in back and back["production_lifetime_wh"] == 5_010_030
    assert day(counters, "2026-06-10 12:06", production=5_010_060)["production_today_wh"] == 10_060
    assert day(counters, "2026-06-10 23:50", production=5_020_000)["production_today_wh"] == 20_000
    values = day(counters, "2026-06-11 00:10", production=5_020_000)
    assert values["production_today_wh"] == 0 and values["production_yesterday_wh"] == 20_000


def test_a_restart_after_days_waits_one_reading_to_believe_the_clock(tmp_path):
    path = str(tmp_path / "counters-1.json")
    first = Counters(path, PARIS)
    day(first, "2026-06-10 00:00", production=5_000_000)
    day(first, "2026-06-10 20:00", production=5_020_000)
    again = Counters(path, PARIS)  # stopped four days
    values = day(again, "2026-06-14 12:00", production=5_100_000)
    assert "production_today_wh" not in values and values["production_lifetime_wh"] == 5_020_000
    values = day(again, "2026-06-14 12:01", production=5_100_010)
    # Believed; the day, whose midnight fell in the gap, is not counted (docs/counters.md).
    assert values["production_lifetime_wh"] == 5_100_010 and "production_today_wh" not in values
