"""Energy figures Jeedom can trust: lifetime counters that never go back, and the figures of the day.

Gateways misbehave with their energy counters (docs/counters.md): after a reboot they answer zeros or
"unknown" for a while, a lifetime counter can step down for good (about 1.19 MWh on some units, which is
2^32 watt-seconds: most likely one microinverter's counter wrapping) or restart from zero, and the
gateway's own "today" values reset late (a gateway whose clock is not on local time), jump (some
firmware answer the lifetime value as "today") or stay at 0 (net consumption). This module sits between the
catalog's values and their publishing: it is given `{equipment logicalId: (kind, {command logicalId: value})}`
for a cycle and the time, and returns the values to publish. Which commands it counts, and which it fills, the
catalog says (`monotonic` commands, catalog.DAY_FLOWS, DAY_RATES, NET_BALANCE); this module knows no logicalId:
- every lifetime counter (MONOTONIC, the catalog's `monotonic` commands) is published as raw + offset, and never goes down: a zero, a
  negative or a missing value is no reading; a drop smaller than NOISE_WH is jitter and waits for the
  counter to catch up; a larger drop is believed only when the next reading confirms it (then it adds to the
  offset, so the published value carries on from where it was), otherwise it was a glitch and is forgotten;
  a rise faster than the site can count (its devices' and CTs' power, `_rate_w`) is never believed: it waits
  until enough time has passed for it to be possible, and a return to the line before a confirmed step
  undoes that step (two glitches in a row cannot capture the counter);
- the day of each flow (DAY_FLOWS: production, consumption, grid import, grid export) is counted as the increase
  of its monotonic counter since local midnight (the counter's value at midnight interpolated between the last
  reading before and the first after), the last 7 days since local midnight six days ago, with yesterday's
  figure and the day's self-consumption and self-sufficiency rates;
- each day and 7-day command then gets the figure of the best source, the gateway's own when it is plausible
  (figures.py: the source order and the plausibility rules); net consumption is grid import - grid export of the
  net CT's registers (NET_BALANCE), its lifetime as well.

The time is checked too (counter_clock.py): a clock far off counts for nothing until the next reading
confirms it moved, and one found to have been ahead gives the day back, so the day figures carry on.

The state (offsets, last readings, the days' start values) is one small JSON file per gateway, written
atomically each time it changes, so a restart of the daemon carries on where it was. What is published never
gets ahead of that file: a cycle whose state cannot be written (a full disk) is undone and publishes what the
file holds, so no restart can bring a published counter down.
"""
import json
import logging
import math
from datetime import date, datetime, time as day_time, timedelta, tzinfo
from typing import Any, Dict, Optional, Set, Tuple

from catalog import BALANCES, COUNTED, DAY_FLOWS, DAY_RATES, NET_BALANCE, DayFlow, monotonic_commands, rated_power_w
import counter_clock
from counted import NOT_COUNTED, WEEK_DAYS, Counted
from figures import Facts, Judge, match
from state_file import read_json, write_bytes

log = logging.getLogger("enphased.counters")

# The catalog's lifetime counters, per equipment kind: published monotonic.
MONOTONIC = monotonic_commands()
FLOWS = {flow.name: flow for flow in DAY_FLOWS}

# The gateway's commands that depend on the day (ours): not published while the clock is in doubt.
DAY_BOUND = frozenset([c.logical_id for c in COUNTED] + [f.day for f in DAY_FLOWS] + [f.week for f in DAY_FLOWS if f.week]
                      + [b.day for b in BALANCES] + [b.week for b in BALANCES if b.week])
RATED_W = rated_power_w()  # kind -> the most one device of the kind gives (the catalog's ranges)

NOISE_WH = 1000.0  # a counter going down by less than this is jitter (rounding, two sources a second apart)
# The most a site's CTs measure: three phases of 200 A (Enphase's CTs) at 277 V, doubled for margin. With its
# devices' power, how fast a site's energy counters can rise (`_rate_w`).
CTS_W = 2 * 3 * 200 * 277.0
MAX_GAP_S = 3 * 3600  # a midnight value interpolated over a longer gap is an estimate: that day is partial
DAYS_KEPT = WEEK_DAYS + 1  # day start values kept: the week's, and the day before it for the week's upper bound

STATE_VERSION = 1
SAVE_TIMES_S = 900


def _number(value) -> Optional[float]:
    """A finite number, or None (bools, strings and NaN are not readings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _counter_key(flow: DayFlow, serial: str) -> str:
    """Where the state keeps a flow's lifetime counter: "<equipment logicalId>/<command logicalId>"."""
    return f"{flow.equipment(serial)}/{flow.lifetime}"


def _published(value: float) -> int:
    """As the catalog publishes Wh and %: whole numbers (the gateway's own resolution)."""
    return int(round(value))


def _difference(plus: Optional[float], minus: Optional[float]) -> Optional[float]:
    return None if plus is None or minus is None else plus - minus


class Counters:
    """The counters of one gateway. `update` is pure apart from its state; `path` (None: in memory only)
    is where the state survives restarts; `tz` (None: the system's local time) says when days start."""

    def __init__(self, path: Optional[str] = None, tz: Optional[tzinfo] = None):
        self.path = path
        self.tz = tz
        self._saved: Optional[str] = None  # the state as the file holds it (JSON), what a failed cycle goes back to
        self._state = self._load()
        self._changed = False  # a value of the state changed since it was last written
        self._saved_at = 0.0
        self._save_failed = False
        self._rising: set = set()  # counters whose too fast rise was said (once until one is believed)
        self.judge = Judge()  # chooses each day and week figure's source, logs a rejected gateway figure once

    # --- one cycle ---

    def update(self, equipments: Dict[str, Tuple[str, Dict[str, Any]]], now: float,
               earlier: Optional[Dict[str, Set[str]]] = None) -> Dict[str, Dict[str, Any]]:
        """The values to publish for each equipment of `equipments`, at time `now` (epoch seconds). `earlier`:
        {equipment logicalId: its lifetime counters read in an earlier cycle} (the cadence that reads them was
        not read this cycle): no new reading and not published, but what the gateway's figures of the day from
        the same answers are judged against, so that they get the verdict they got when they were read."""
        earlier = earlier or {}
        out = self._count(equipments, now, self._clock(now), earlier)
        if not self._save(now):
            # Nothing may be published beyond what the file holds: after a restart it would go back.
            self._state = self._valid(None if self._saved is None else json.loads(self._saved))
            self._changed = False
            out = self._count(equipments, now, False, earlier)
        return out

    def _count(self, equipments: Dict[str, Tuple[str, Dict[str, Any]]], now: float,
               readings: bool, earlier: Dict[str, Set[str]]) -> Dict[str, Dict[str, Any]]:
        """The values to publish; `readings` False: this cycle's lifetime readings and time count for nothing
        (the clock is in doubt, or the cycle could not be saved): the counters hold, the day's figures wait."""
        # Only the gateway and equipment with a lifetime counter change: the others pass as they are.
        out = {eq_id: dict(values) if kind == "gateway" or kind in MONOTONIC else values
               for eq_id, (kind, values) in equipments.items()}
        fresh: Dict[str, float] = {}  # counter key -> monotonic value, for counters read this cycle
        site_w = None
        for eq_id, (kind, values) in equipments.items():
            for cmd in MONOTONIC.get(kind, ()):
                if cmd not in values:
                    continue
                if cmd in earlier.get(eq_id, ()):  # an earlier cycle's reading (see update)
                    out[eq_id].pop(cmd, None)
                    continue
                if site_w is None:
                    site_w = self._rate_w(equipments)
                key = f"{eq_id}/{cmd}"
                raw = _number(values[cmd]) if readings else None
                value, is_fresh = self._lifetime(key, raw, now, RATED_W.get(kind, site_w))
                if value is None:
                    out[eq_id].pop(cmd, None)
                    continue
                out[eq_id][cmd] = _published(value)
                if is_fresh:
                    fresh[key] = value
        serial = next((eq_id for eq_id, (kind, _) in equipments.items() if kind == "gateway"), None)
        if serial is None:
            return out
        if readings:
            self._gateway(serial, equipments[serial][1], out[serial], fresh, now)
        else:
            for cmd in DAY_BOUND & out[serial].keys():
                del out[serial][cmd]
        self._net(serial, out[serial])
        return out

    @staticmethod
    def _rate_w(equipments: Dict[str, Tuple[str, Dict[str, Any]]]) -> float:
        """How fast the site's own counters (the gateway's, its CTs') can rise: what its CTs can measure and
        what its devices can give, each at the top of its range (a microinverter's lifetime counter rises no
        faster than one can give: RATED_W)."""
        return CTS_W + sum(RATED_W.get(kind, 0.0) for kind, _ in equipments.values())

    def _gateway(self, serial: str, raw: Dict[str, Any], values: Dict[str, Any], fresh: Dict[str, float],
                 now: float) -> None:
        """The gateway's figures of the day and week: counted, then each from its best source (figures.py)."""
        today = self._local_date(now)
        self.judge.name = serial
        counted: Dict[str, Counted] = {}
        for flow in DAY_FLOWS:
            key = _counter_key(flow, serial)
            day = self._day(key, fresh.get(key), now, today)
            if day is not None:
                counted[flow.name] = Counted.of(day, today)
                if flow.yesterday and day.get("yesterday") is not None:
                    values[flow.yesterday] = _published(day["yesterday"])
        since_midnight_s = now - self._midnight(today)
        chosen: Dict[str, Tuple[Optional[float], Optional[float], float]] = {}  # flow -> day, week, day's margin
        for flow in DAY_FLOWS:
            c = counted.get(flow.name, NOT_COUNTED)
            lifetime, power = _number(raw.get(flow.lifetime)), _number(raw.get(flow.power))
            day = self._choose(serial, values, raw, flow.day, today, now, Facts(
                span="day", lifetime=lifetime, power_w=power, since_midnight_s=since_midnight_s, counted=c.day,
                counted_within=c.within, at_least=c.so_far, held=self._held(serial, flow.day, today)))
            week = self._choose(serial, values, raw, flow.week, today, now, Facts(
                span="week", lifetime=lifetime, power_w=power, since_midnight_s=since_midnight_s, counted=c.week,
                at_least=c.known_days, at_most=c.at_most, day=day)) if flow.week else None
            chosen[flow.name] = (day, week, 0.0 if day is None else match(day) + c.within)
        self._rates(counted, values)
        self._net_figures(serial, raw, values, counted, chosen, today, now, since_midnight_s)

    def _choose(self, serial: str, values: Dict[str, Any], raw: Dict[str, Any], cmd: str, today: date, now: float,
                facts: Facts, balance: Optional[float] = None) -> Optional[float]:
        """Publish in `values[cmd]` the figure of its best source; returns it (None: none this cycle)."""
        value, _ = self.judge.choose(cmd, _number(raw.get(cmd)), facts, now, balance)
        if facts.span == "day" and not facts.signed and facts.held is not None:
            # An energy of the day never goes down: switching source (within the rules' slack) holds the day's
            # highest figure until a source passes it.
            value = facts.held if value is None else max(value, facts.held)
        if value is None:
            values.pop(cmd, None)
            return None
        values[cmd] = _published(value)
        if facts.span == "day" and not facts.signed:
            self._keep(f"{serial}/{cmd}", {"day": today.isoformat(), "value": value})
        return value

    def _held(self, serial: str, cmd: str, today: date) -> Optional[float]:
        """What was published for the day `cmd` earlier today (None: nothing yet)."""
        held = self._state["gateway"].get(f"{serial}/{cmd}")
        return held.get("value") if isinstance(held, dict) and held.get("day") == today.isoformat() else None

    def _keep(self, key: str, held: Dict[str, Any]) -> None:
        if self._state["gateway"].get(key) != held:
            self._state["gateway"][key] = held
            self._changed = True

    # --- lifetime counters ---

    def _lifetime(self, key: str, raw: Optional[float], now: float, rate_w: float) -> Tuple[Optional[float], bool]:
        """(value to publish, whether it is a new reading) for one lifetime counter, which rises no faster
        than `rate_w`."""
        counters = self._state["lifetime"]
        c = counters.get(key)
        if raw is None or raw <= 0:  # "no reading": a rebooting gateway answers zeros, never a new start
            return (None if c is None else c["out"]), False
        if c is None:
            counters[key] = {"raw": raw, "ts": now, "offset": 0.0, "out": raw}
            self._changed = True
            return raw, True
        if self._follows(c["raw"], c["ts"], raw, now, rate_w):
            if "cand" in c:  # the glitch is forgotten
                del c["cand"], c["cand_ts"]
                self._changed = True
            if raw <= c["raw"]:  # unchanged, or jitter: hold until the counter is back above its last reading
                return c["out"], raw == c["raw"]
        elif raw > c["raw"]:
            undo = c.get("undo")
            if undo is None or not self._follows(undo["raw"], undo["ts"], raw, now, rate_w):
                # Faster than the site can count: never believed, nor the base of an offset. It becomes
                # possible only once enough time has passed since the last reading believed.
                if key not in self._rising:
                    self._rising.add(key)
                    log.warning("Counter %s rose from %.0f to %.0f Wh in %.0f s, faster than this site can count; "
                                "not published", key, c["raw"], raw, now - c["ts"])
                return c["out"], False
            # Back on its line from before the last step down: that step was two glitches in a row.
            log.info("Counter %s is back on its line before the step down at %.0f Wh: the step was a glitch",
                     key, undo["raw"])
            c["offset"] = undo["offset"]
            del c["undo"]
            c.pop("cand", None), c.pop("cand_ts", None)
        else:
            cand = c.get("cand")
            if cand is None or not self._follows(cand, c["cand_ts"], raw, now, rate_w):
                c["cand"], c["cand_ts"] = raw, now  # down: wait for the next reading to tell
                self._changed = True
                return c["out"], False
            # Confirmed by a second reading: a real step down, not a glitch. It carries on from the value
            # published before the step; the line before it is kept, should the counter come back to it.
            c["undo"] = {"raw": c["raw"], "ts": c["ts"], "offset": c["offset"]}
            c["offset"] = c["out"] - cand
            log.info("Counter %s stepped down from %.0f to %.0f Wh: offset now %.0f Wh",
                     key, c["raw"], cand, c["offset"])
            del c["cand"], c["cand_ts"]
        self._rising.discard(key)
        c["raw"], c["ts"] = raw, now
        c["out"] = max(c["out"], raw + c["offset"])
        self._changed = True
        return c["out"], True

    @staticmethod
    def _follows(before: float, before_ts: float, after: float, after_ts: float, rate_w: float) -> bool:
        """`after` follows `before` as a counter can: not down by more than the jitter, not up faster than
        `rate_w` over the time between them."""
        rise_max = rate_w * max(0.0, after_ts - before_ts) / 3600.0 + NOISE_WH
        return -NOISE_WH <= after - before <= rise_max

    # --- the figures of the day ---

    def _day(self, key: str, value: Optional[float], now: float, today: date) -> Optional[Dict[str, Any]]:
        """The day of one flow after this cycle's reading `value` (monotonic; None: none this cycle), or
        None when there is nothing to say for today yet."""
        days = self._state["days"]
        d = days.get(key)
        iso = today.isoformat()
        if value is None:
            return d if d is not None and d["day"] >= iso else None
        if d is not None and d["day"] >= iso:  # the same day (or the clock went back: stay on the later day)
            if value > d["last"]:
                d["last"] = value
                self._changed = True
            d["ts"] = now  # only a time: saved now and then (see _save)
            return d
        self._changed = True
        if d is None:  # first reading ever: the day counts from now, so it is partial
            d = days[key] = {"day": iso, "start": value, "partial": True, "last": value, "ts": now,
                             "yesterday": None, "starts": {iso: value}, "exact": []}
            return d
        midnight = self._midnight(today)
        last, last_ts = d["last"], d["ts"]
        start, within = last, 0.0
        if last_ts < midnight <= now and value > last:
            start = last + (value - last) * (midnight - last_ts) / (now - last_ts)
            within = value - last  # the counter at midnight was somewhere in there
        partial = now - last_ts > MAX_GAP_S
        complete_yesterday = d["day"] == (today - timedelta(days=1)).isoformat() and not d["partial"] and not partial
        # The day that ends, should the clock turn out to have been ahead (counter_clock._rewind).
        d["before"] = dict({k: d[k] for k in ("day", "start", "partial", "yesterday")}, within=d.get("within", 0.0))
        d["yesterday"] = start - d["start"] if complete_yesterday else None
        d.update(day=iso, start=start, partial=partial, last=value, ts=now, within=within)
        starts = d["starts"]
        starts[iso] = start
        for old in sorted(starts)[:-DAYS_KEPT]:
            del starts[old]
        # The days whose start is the counter at local midnight, not an estimate (a state of an earlier version
        # has no list: its days count from the next midnight).
        exact = [day for day in d.get("exact", []) if day in starts]
        d["exact"] = exact + [iso] if not partial else exact
        return d

    @staticmethod
    def _rates(counted: Dict[str, "Counted"], values: Dict[str, Any]) -> None:
        """The rates of the day so far (DAY_RATES: self-consumption, the share of production not exported;
        self-sufficiency, the share of consumption not imported), where the net CT gives import and export."""
        for rate in DAY_RATES:
            whole, part = counted.get(rate.whole), counted.get(rate.part)
            if whole is not None and part is not None and whole.so_far:
                values[rate.logical_id] = _published(min(100.0, max(0.0, 100.0 * (1 - part.so_far / whole.so_far))))

    # --- net consumption ---

    def _net(self, serial: str, values: Dict[str, Any]) -> None:
        """Net lifetime = grid import - grid export (NET_BALANCE), from the net CT's registers once they have
        been seen: the same numbers as the import and export Jeedom gets, steps and glitches removed. It goes
        down while the site exports, so it is not one of the monotonic counters; it depends on no clock."""
        net = NET_BALANCE.lifetime
        if net not in values:
            return
        counters = self._state["lifetime"]
        plus = counters.get(_counter_key(FLOWS[NET_BALANCE.plus], serial))
        minus = counters.get(_counter_key(FLOWS[NET_BALANCE.minus], serial))
        if plus is not None and minus is not None:
            values[net] = _published(plus["out"] - minus["out"])
        elif _number(values[net]) == 0:
            del values[net]  # a rebooting gateway's zero, not a balance

    def _net_figures(self, serial: str, raw: Dict[str, Any], values: Dict[str, Any], counted: Dict[str, "Counted"],
                     chosen: Dict[str, Tuple[Optional[float], Optional[float], float]], today: date, now: float,
                     since_midnight_s: float) -> None:
        """Net of the day and of the week (BALANCES: the site's, each phase's day): the gateway's own when plausible
        (0 on every firmware recorded), else grid import - grid export counted from the net CT's registers, else
        consumption - production of the same span."""
        for net in BALANCES:
            plus, minus = counted.get(net.plus, NOT_COUNTED), counted.get(net.minus, NOT_COUNTED)
            also_plus = chosen.get(net.also_plus, (None, None, 0.0))
            also_minus = chosen.get(net.also_minus, (None, None, 0.0))
            for span, cmd, index in (("day", net.day, 0), ("week", net.week, 1)):
                if not cmd:
                    continue
                balance = _difference(also_plus[index], also_minus[index])
                # What consumption - production may be off: each figure's own margin (the week's: their match).
                balance_within = also_plus[2] + also_minus[2] if span == "day" else sum(
                    match(figure[1]) for figure in (also_plus, also_minus) if figure[1] is not None)
                self._choose(serial, values, raw, cmd, today, now, Facts(
                    span=span, signed=True, power_w=_number(raw.get(net.power)), since_midnight_s=since_midnight_s,
                    counted=_difference(getattr(plus, span), getattr(minus, span)),
                    counted_within=plus.within + minus.within if span == "day" else 0.0,
                    balance=balance, balance_within=balance_within), balance)

    # --- time ---

    def _clock(self, now: float) -> bool:
        believed, changed = counter_clock.check(self._state, now, self._local_date(now).isoformat())
        self._changed = self._changed or changed
        return believed

    def _local_date(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.tz).date()

    def _midnight(self, day: date) -> float:
        # Naive (tz None) means local time, which timestamp() resolves with the system's rules (DST too).
        return datetime.combine(day, day_time(0), tzinfo=self.tz).timestamp()

    # --- state ---

    def _load(self) -> Dict[str, Any]:
        state = None
        if self.path:
            try:
                state = read_json(self.path)
            except (OSError, ValueError) as e:
                log.warning("Cannot read %s (%s): counters start again from the gateway's values", self.path, e)
        state = self._valid(state)
        self._saved = json.dumps(state) if self.path and state["lifetime"] else None
        return state

    @staticmethod
    def _valid(state: Any) -> Dict[str, Any]:
        """The state as read, its parts checked; an empty state for anything else (another version)."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            return {"version": STATE_VERSION, "lifetime": {}, "days": {}, "gateway": {}, "clock": {}}
        for part in ("lifetime", "days", "gateway", "clock"):
            if not isinstance(state.get(part), dict):
                state[part] = {}
        return state

    def _save(self, now: float) -> bool:
        """Write the state when a value in it changed; when only reading times did, every SAVE_TIMES_S (a
        production-only site at night would otherwise rewrite the same numbers every minute). False when it
        had to be written and could not be."""
        if not self.path or not (self._changed or now - self._saved_at >= SAVE_TIMES_S):
            return True
        text = json.dumps(self._state, separators=(",", ":"))
        try:
            write_bytes(self.path, text.encode("utf-8"))  # the offsets must outlive a power cut: never half written
        except OSError as e:
            if not self._save_failed:
                log.warning("Cannot save %s (%s): the energy counters hold their last saved values until it can "
                            "be written, so that they never go back after a restart", self.path, e.strerror)
            self._save_failed = True
            return not self._changed  # only reading times were due: nothing published depends on them
        if self._save_failed:
            log.info("%s saved again: the energy counters carry on", self.path)
        self._saved, self._changed, self._saved_at, self._save_failed = text, False, now, False
        return True
