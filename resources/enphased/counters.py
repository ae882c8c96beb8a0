"""Energy figures Jeedom can trust: lifetime counters that never go back, and the figures of the day and week.

Gateways misbehave with their energy counters (docs/counters.md): after a reboot they answer zeros or
"unknown" for a while, a lifetime counter can step down for good (about 1.19 MWh on some units, which is
2^32 watt-seconds: most likely one microinverter's counter wrapping) or restart from zero, and the
gateway's own "today" values reset late (a gateway whose clock is not on local time), jump (some
firmware answer the lifetime value as "today") or stay at 0 (net consumption). This module sits between the
catalog's values and their publishing: it is given `{equipment logicalId: (kind, {command logicalId: value})}`
for a cycle and the time, and returns the values to publish. Which commands it counts, and which it fills, the
catalog says (`monotonic` commands, catalog.DAY_FLOWS, DAY_RATES, NET_BALANCE); this module knows no logicalId:
- every lifetime counter (MONOTONIC, the catalog's `monotonic` commands) is published as raw + offset, and never
  goes down: a zero, a negative or a missing value is no reading; a drop smaller than NOISE_WH is jitter and waits
  for the counter to catch up; a larger drop, or a jump faster than MAX_SITE_W, is believed only when the next
  reading confirms it (then a drop adds to the offset, so the published value carries on from where it was);
  otherwise it was a glitch and is forgotten;
- the day of each flow (DAY_FLOWS: production, consumption, grid import, grid export) is counted as the increase
  of its monotonic counter since local midnight (the counter's value at midnight interpolated between the last
  reading before and the first after), the last 7 days since local midnight six days ago, with yesterday's
  figure and the day's self-consumption and self-sufficiency rates;
- each day and 7-day command then gets the figure of the best source, the gateway's own when it is plausible
  (figures.py: the source order and the plausibility rules); net consumption is grid import - grid export of the
  net CT's registers (NET_BALANCE), its lifetime as well.

The state (offsets, last readings, the days' start values) is one small JSON file per gateway, written
atomically each time it changes, so a restart of the daemon carries on where it was.
"""
import logging
import math
from datetime import date, datetime, time as day_time, timedelta, tzinfo
from typing import Any, Dict, NamedTuple, Optional, Tuple

from catalog import DAY_FLOWS, DAY_RATES, NET_BALANCE, DayFlow, monotonic_commands
from figures import Facts, Judge, match
from state_file import read_json, write_json

log = logging.getLogger("enphased.counters")

# The catalog's lifetime counters, per equipment kind: published monotonic.
MONOTONIC = monotonic_commands()
FLOWS = {flow.name: flow for flow in DAY_FLOWS}

NOISE_WH = 1000.0  # a counter going down by less than this is jitter (rounding, two sources a second apart)
MAX_SITE_W = 500_000.0  # no Envoy site counts faster than this: a faster rise is a glitch until confirmed
MAX_GAP_S = 3 * 3600  # a midnight value interpolated over a longer gap is an estimate: that day is partial
WEEK_DAYS = 7  # the last 7 days: today and the six before
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


class Counted(NamedTuple):
    """What the lifetime counter of one flow says of the day and the week (None: not known)."""

    day: Optional[float] = None  # since local midnight, when the counter saw it (not on a first day)
    so_far: Optional[float] = None  # since local midnight or since the first reading today: a lower bound
    week: Optional[float] = None  # since local midnight six days ago (today and the six days before)
    known_days: Optional[float] = None  # the days of the week that were counted whole, plus today so far
    at_most: Optional[float] = None  # since local midnight seven days ago: more than any 7 days of the gateway
    within: float = 0.0  # how far `day` may be off: what the counter gained across the readings around midnight

    @classmethod
    def of(cls, d: Dict[str, Any], today: date) -> "Counted":
        starts, exact = d["starts"], set(d.get("exact", ()))

        def start(days_ago: int) -> Optional[float]:
            iso = (today - timedelta(days=days_ago)).isoformat()
            return starts.get(iso) if iso in exact else None

        so_far = d["last"] - d["start"]
        known = so_far
        for days_ago in range(1, WEEK_DAYS):
            begin, end = start(days_ago), start(days_ago - 1)
            if begin is not None and end is not None:
                known += end - begin
        week_start, before_week = start(WEEK_DAYS - 1), start(WEEK_DAYS)
        return cls(day=None if d["partial"] else so_far, so_far=so_far,
                   week=None if week_start is None else d["last"] - week_start, known_days=known,
                   at_most=None if before_week is None else d["last"] - before_week, within=d.get("within", 0.0))


NOT_COUNTED = Counted()


class Counters:
    """The counters of one gateway. `update` is pure apart from its state; `path` (None: in memory only)
    is where the state survives restarts; `tz` (None: the system's local time) says when days start."""

    def __init__(self, path: Optional[str] = None, tz: Optional[tzinfo] = None):
        self.path = path
        self.tz = tz
        self._state = self._load()
        self._changed = False  # a value of the state changed since it was last written
        self._saved_at = 0.0
        self.judge = Judge()  # chooses each day and week figure's source, logs a rejected gateway figure once

    # --- one cycle ---

    def update(self, equipments: Dict[str, Tuple[str, Dict[str, Any]]], now: float) -> Dict[str, Dict[str, Any]]:
        """The values to publish for each equipment of `equipments`, at time `now` (epoch seconds)."""
        # Only the gateway and equipment with a lifetime counter change: the others pass as they are.
        out = {eq_id: dict(values) if kind == "gateway" or kind in MONOTONIC else values
               for eq_id, (kind, values) in equipments.items()}
        fresh: Dict[str, float] = {}  # counter key -> monotonic value, for counters read this cycle
        for eq_id, (kind, values) in equipments.items():
            for cmd in MONOTONIC.get(kind, ()):
                if cmd not in values:
                    continue
                key = f"{eq_id}/{cmd}"
                value, is_fresh = self._lifetime(key, _number(values[cmd]), now)
                if value is None:
                    out[eq_id].pop(cmd, None)
                    continue
                out[eq_id][cmd] = _published(value)
                if is_fresh:
                    fresh[key] = value
        serial = next((eq_id for eq_id, (kind, _) in equipments.items() if kind == "gateway"), None)
        if serial is not None:
            self._gateway(serial, equipments[serial][1], out[serial], fresh, now)
        self._save(now)
        return out

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
                if day.get("yesterday") is not None:
                    values[flow.yesterday] = _published(day["yesterday"])
        since_midnight_s = now - self._midnight(today)
        chosen: Dict[str, Tuple[Optional[float], Optional[float], float]] = {}  # flow -> day, week, day's margin
        for flow in DAY_FLOWS:
            c = counted.get(flow.name, NOT_COUNTED)
            lifetime, power = _number(raw.get(flow.lifetime)), _number(raw.get(flow.power))
            day = self._choose(serial, values, raw, flow.day, today, Facts(
                span="day", lifetime=lifetime, power_w=power, since_midnight_s=since_midnight_s, counted=c.day,
                counted_within=c.within, at_least=c.so_far, held=self._held(serial, flow.day, today)))
            week = self._choose(serial, values, raw, flow.week, today, Facts(
                span="week", lifetime=lifetime, power_w=power, since_midnight_s=since_midnight_s, counted=c.week,
                at_least=c.known_days, at_most=c.at_most, day=day)) if flow.week else None
            chosen[flow.name] = (day, week, 0.0 if day is None else match(day) + c.within)
        self._rates(counted, values)
        self._net(serial, raw, values, counted, chosen, today, since_midnight_s)

    def _choose(self, serial: str, values: Dict[str, Any], raw: Dict[str, Any], cmd: str, today: date,
                facts: Facts, balance: Optional[float] = None) -> Optional[float]:
        """Publish in `values[cmd]` the figure of its best source; returns it (None: none this cycle)."""
        value, _ = self.judge.choose(cmd, _number(raw.get(cmd)), facts, balance)
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

    def _lifetime(self, key: str, raw: Optional[float], now: float) -> Tuple[Optional[float], bool]:
        """(value to publish, whether it is a new reading) for one lifetime counter."""
        counters = self._state["lifetime"]
        c = counters.get(key)
        if raw is None or raw <= 0:  # "no reading": a rebooting gateway answers zeros, never a new start
            return (None if c is None else c["out"]), False
        if c is None:
            counters[key] = {"raw": raw, "ts": now, "offset": 0.0, "out": raw}
            self._changed = True
            return raw, True
        if self._plausible(c["raw"], c["ts"], raw, now):
            if "cand" in c:  # the glitch is forgotten
                del c["cand"], c["cand_ts"]
                self._changed = True
            if raw <= c["raw"]:  # unchanged, or jitter: hold until the counter is back above its last reading
                return c["out"], raw == c["raw"]
        else:
            cand = c.get("cand")
            if cand is None or not self._plausible(cand, c["cand_ts"], raw, now):
                c["cand"], c["cand_ts"] = raw, now  # out of line: wait for the next reading to tell
                self._changed = True
                return c["out"], False
            # Confirmed by a second reading: a real step (or a real jump), not a glitch.
            if raw < c["raw"]:
                c["offset"] = c["out"] - cand  # carries on from the value published before the step
                log.info("Counter %s stepped down from %.0f to %.0f Wh: offset now %.0f Wh",
                         key, c["raw"], cand, c["offset"])
            else:
                log.info("Counter %s jumped from %.0f to %.0f Wh", key, c["raw"], cand)
            del c["cand"], c["cand_ts"]
        c["raw"], c["ts"] = raw, now
        c["out"] = max(c["out"], raw + c["offset"])
        self._changed = True
        return c["out"], True

    @staticmethod
    def _plausible(before: float, before_ts: float, after: float, after_ts: float) -> bool:
        """`after` follows `before` as a counter can: not down by more than the jitter, not up faster than
        any site can count."""
        rise_max = MAX_SITE_W * max(0.0, after_ts - before_ts) / 3600.0 + NOISE_WH
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
        start, d["within"] = last, 0.0
        if last_ts < midnight <= now and value > last:
            start = last + (value - last) * (midnight - last_ts) / (now - last_ts)
            d["within"] = value - last  # the counter at midnight was somewhere in there
        partial = now - last_ts > MAX_GAP_S
        complete_yesterday = d["day"] == (today - timedelta(days=1)).isoformat() and not d["partial"] and not partial
        d["yesterday"] = start - d["start"] if complete_yesterday else None
        d.update(day=iso, start=start, partial=partial, last=value, ts=now)
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

    def _net(self, serial: str, raw: Dict[str, Any], values: Dict[str, Any], counted: Dict[str, "Counted"],
             chosen: Dict[str, Tuple[Optional[float], Optional[float], float]], today: date,
             since_midnight_s: float) -> None:
        """Net = grid import - grid export (NET_BALANCE), from the net CT's monotonic registers once they have been
        seen: its lifetime (the same numbers as the import and export Jeedom gets, steps and glitches removed; it
        goes down while the site exports, so it is not one of the monotonic counters), and its day and week when
        the gateway's own are not plausible (they are 0 on every firmware recorded), else consumption -
        production of the same span."""
        net = NET_BALANCE
        if net.lifetime in values:
            lifetimes = self._state["lifetime"]
            plus = lifetimes.get(_counter_key(FLOWS[net.plus], serial))
            minus = lifetimes.get(_counter_key(FLOWS[net.minus], serial))
            if plus is not None and minus is not None:
                values[net.lifetime] = _published(plus["out"] - minus["out"])
            elif _number(values[net.lifetime]) == 0:
                del values[net.lifetime]  # a rebooting gateway's zero, not a balance
        plus, minus = counted.get(net.plus, NOT_COUNTED), counted.get(net.minus, NOT_COUNTED)
        also_plus, also_minus = chosen.get(net.also_plus, (None, None, 0.0)), chosen.get(net.also_minus, (None, None, 0.0))
        for span, cmd, index in (("day", net.day, 0), ("week", net.week, 1)):
            balance = _difference(also_plus[index], also_minus[index])
            # What consumption - production may be off: each figure's own margin (the week's: their match alone).
            balance_within = also_plus[2] + also_minus[2] if span == "day" else sum(
                match(figure[1]) for figure in (also_plus, also_minus) if figure[1] is not None)
            self._choose(serial, values, raw, cmd, today, Facts(
                span=span, signed=True, power_w=_number(raw.get(net.power)), since_midnight_s=since_midnight_s,
                counted=_difference(getattr(plus, span), getattr(minus, span)),
                counted_within=plus.within + minus.within if span == "day" else 0.0,
                balance=balance, balance_within=balance_within), balance)

    # --- time ---

    def _local_date(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.tz).date()

    def _midnight(self, day: date) -> float:
        # Naive (tz None) means local time, which timestamp() resolves with the system's rules (DST too).
        return datetime.combine(day, day_time(0), tzinfo=self.tz).timestamp()

    # --- state ---

    def _load(self) -> Dict[str, Any]:
        empty = {"version": STATE_VERSION, "lifetime": {}, "days": {}, "gateway": {}}
        if not self.path:
            return empty
        try:
            state = read_json(self.path)
        except (OSError, ValueError) as e:
            log.warning("Cannot read %s (%s): counters start again from the gateway's values", self.path, e)
            return empty
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            return empty
        for part in ("lifetime", "days", "gateway"):
            if not isinstance(state.get(part), dict):
                state[part] = {}
        return state

    def _save(self, now: float) -> None:
        """Write the state when a value in it changed; when only reading times did, every SAVE_TIMES_S (a
        production-only site at night would otherwise rewrite the same numbers every minute)."""
        if not self.path or not (self._changed or now - self._saved_at >= SAVE_TIMES_S):
            return
        try:
            write_json(self.path, self._state)  # the offsets must outlive a power cut: never half written
            self._changed, self._saved_at = False, now
        except OSError as e:
            log.warning("Cannot save %s (%s)", self.path, e.strerror)
