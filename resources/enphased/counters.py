"""Energy figures Jeedom can trust: lifetime counters that never go back, and the figures of the day.

Gateways misbehave with their energy counters (docs/counters.md): after a reboot they answer zeros or
"unknown" for a while, a lifetime counter can step down for good (about 1.19 MWh on some units, which is
2^32 watt-seconds: most likely one microinverter's counter wrapping) or restart from zero, and the
gateway's own "today" values reset late (a gateway whose clock is not on local time) or jump (some
firmware answer the lifetime value as "today"). This module sits between the catalog's values and their
publishing: it is given `{equipment logicalId: (kind, {command logicalId: value})}` for a cycle and the
time, and returns the values to publish. Which commands it counts, and which it fills, the catalog says
(`monotonic` commands, catalog.DAY_FLOWS, DAY_RATES, NET_BALANCE); this module knows no logicalId:
- every lifetime counter (MONOTONIC, the catalog's `monotonic` commands) is published as raw + offset, and never goes down: a zero, a
  negative or a missing value is no reading; a drop smaller than NOISE_WH is jitter and waits for the
  counter to catch up; a larger drop, or a jump faster than MAX_SITE_W, is believed only when the next
  reading confirms it (then a drop adds to the offset, so the published value carries on from where it
  was); otherwise it was a glitch and is forgotten;
- the figures of the day (DAY_FLOWS: production, consumption, grid import, grid export) are the increase of
  those monotonic counters since local midnight (the counter's value at midnight interpolated between the
  last reading before and the first after), with yesterday's figure and the day's self-consumption and
  self-sufficiency rates;
- the gateway's own "today" and "last 7 days" values are published only when they agree with the counters
  (the rule is in `_gateway_today`, `_gateway_week`);
- the gateway's net lifetime becomes grid import - grid export of the net CT's registers where they exist
  (NET_BALANCE).

The state (offsets, last readings, the day's start values) is one small JSON file per gateway, written
atomically each time it changes, so a restart of the daemon carries on where it was.
"""
import logging
import math
from datetime import date, datetime, time as day_time, timedelta, tzinfo
from typing import Any, Dict, Optional, Tuple

from catalog import DAY_FLOWS, DAY_RATES, NET_BALANCE, DayFlow, monotonic_commands
from state_file import read_json, write_json

log = logging.getLogger("enphased.counters")

# The catalog's lifetime counters, per equipment kind: published monotonic.
MONOTONIC = monotonic_commands()
FLOWS = {flow.name: flow for flow in DAY_FLOWS}

NOISE_WH = 1000.0  # a counter going down by less than this is jitter (rounding, two sources a second apart)
MAX_SITE_W = 500_000.0  # no Envoy site counts faster than this: a faster rise is a glitch until confirmed
MAX_GAP_S = 3 * 3600  # a midnight value interpolated over a longer gap is an estimate: that day is partial
DAY_SLACK_WH, DAY_SLACK_SHARE = 250.0, 0.10  # how far the gateway's "today" may exceed ours
LIFETIME_AS_TODAY_WH = 100_000.0  # a "today" of 90 % of a lifetime above this is the lifetime, misfiled
DAYS_KEPT = 8  # day start values kept, for the 7-day check

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


class Counters:
    """The counters of one gateway. `update` is pure apart from its state; `path` (None: in memory only)
    is where the state survives restarts; `tz` (None: the system's local time) says when days start."""

    def __init__(self, path: Optional[str] = None, tz: Optional[tzinfo] = None):
        self.path = path
        self.tz = tz
        self._state = self._load()
        self._changed = False  # a value of the state changed since it was last written
        self._saved_at = 0.0

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
        today = self._local_date(now)
        days = {}
        for flow in DAY_FLOWS:
            key = _counter_key(flow, serial)
            day = self._day(key, fresh.get(key), now, today)
            if day is not None:
                days[flow.name] = day
                values[flow.day] = _published(day["last"] - day["start"])
                if day.get("yesterday") is not None:
                    values[flow.yesterday] = _published(day["yesterday"])
        for flow in DAY_FLOWS:
            if not (flow.gateway_today or flow.gateway_week):
                continue  # the gateway has its own figures of production and consumption only
            counted = days.get(flow.name)
            counted_wh = None if counted is None or counted["partial"] else counted["last"] - counted["start"]
            lifetime = _number(raw.get(flow.lifetime))
            for cmd, check in ((flow.gateway_today, self._gateway_today), (flow.gateway_week, self._gateway_week)):
                if cmd and cmd in values:
                    value = check(f"{serial}/{cmd}", _number(raw[cmd]), counted_wh, lifetime, today,
                                  self._day_state(_counter_key(flow, serial)))
                    if value is None:
                        values.pop(cmd)
                    else:
                        values[cmd] = _published(value)
        self._rates(days, values)
        self._net(serial, values)

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

    def _day_state(self, key: str) -> Optional[Dict[str, Any]]:
        return self._state["days"].get(key)

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
                             "yesterday": None, "starts": {iso: value}}
            return d
        midnight = self._midnight(today)
        last, last_ts = d["last"], d["ts"]
        start = last
        if last_ts < midnight <= now and value > last:
            start = last + (value - last) * (midnight - last_ts) / (now - last_ts)
        partial = now - last_ts > MAX_GAP_S
        complete_yesterday = d["day"] == (today - timedelta(days=1)).isoformat() and not d["partial"] and not partial
        d["yesterday"] = start - d["start"] if complete_yesterday else None
        d.update(day=iso, start=start, partial=partial, last=value, ts=now)
        starts = d["starts"]
        starts[iso] = start
        for old in sorted(starts)[:-DAYS_KEPT]:
            del starts[old]
        return d

    @staticmethod
    def _rates(days: Dict[str, Dict[str, Any]], values: Dict[str, Any]) -> None:
        """The rates of the day so far (DAY_RATES: self-consumption, the share of production not exported;
        self-sufficiency, the share of consumption not imported), where the net CT gives import and export."""

        def so_far(flow):
            d = days.get(flow)
            return None if d is None else d["last"] - d["start"]

        for rate in DAY_RATES:
            whole, part = so_far(rate.whole), so_far(rate.part)
            if whole and part is not None:
                values[rate.logical_id] = _published(min(100.0, max(0.0, 100.0 * (1 - part / whole))))

    # --- the gateway's own "today" and "last 7 days" ---

    def _gateway_today(self, key: str, value: Optional[float], counted_wh: Optional[float],
                       lifetime: Optional[float], today: date, day: Optional[Dict[str, Any]]) -> Optional[float]:
        """The gateway's "today" if it is believable, else the day's highest believable value (None: none
        yet). Believable: a reading (not negative), not the lifetime misfiled as today, and not above the
        day counted from the lifetime counter (with some slack), which rules out a value that has not reset
        yet after local midnight. Within a local day it never goes down (a reboot's zeros)."""
        held = self._state["gateway"].get(key)
        iso = today.isoformat()
        best = held["max"] if held is not None and held["day"] == iso else None
        if value is None or value < 0 or self._lifetime_misfiled(value, lifetime):
            return best
        if counted_wh is not None and value > counted_wh + max(DAY_SLACK_WH, DAY_SLACK_SHARE * counted_wh):
            return best
        best = value if best is None else max(best, value)
        self._keep(key, {"day": iso, "max": best})
        return best

    def _gateway_week(self, key: str, value: Optional[float], counted_wh: Optional[float],
                      lifetime: Optional[float], today: date, day: Optional[Dict[str, Any]]) -> Optional[float]:
        """The gateway's "last 7 days" if it is believable, else its last believable value. Believable: more
        than zero (a week without a single Wh is a rebooting gateway), not the lifetime misfiled, and not
        above what the lifetime counter gained over the last eight days when we know that."""
        held = self._state["gateway"].get(key)
        last = None if held is None else held["value"]
        if value is None or value <= 0 or self._lifetime_misfiled(value, lifetime):
            return last
        if day is not None:
            since = (today - timedelta(days=DAYS_KEPT - 1)).isoformat()
            start = day["starts"].get(since)
            if start is not None and not day["partial"]:
                counted = day["last"] - start
                if value > counted + max(DAY_SLACK_WH, DAY_SLACK_SHARE * counted):
                    return last
        self._keep(key, {"value": value})
        return value

    def _keep(self, key: str, held: Dict[str, Any]) -> None:
        if self._state["gateway"].get(key) != held:
            self._state["gateway"][key] = held
            self._changed = True

    @staticmethod
    def _lifetime_misfiled(value: float, lifetime: Optional[float]) -> bool:
        return lifetime is not None and lifetime > LIFETIME_AS_TODAY_WH and value >= 0.9 * lifetime

    # --- net lifetime ---

    def _net(self, serial: str, values: Dict[str, Any]) -> None:
        """Net lifetime = grid import - grid export (NET_BALANCE), from the net CT's registers once they have
        been seen: the same numbers as the import and export Jeedom gets, steps and glitches removed. It goes
        down while the site exports, so it is not one of the monotonic counters."""
        net = NET_BALANCE.logical_id
        if net not in values:
            return
        counters = self._state["lifetime"]
        plus = counters.get(_counter_key(FLOWS[NET_BALANCE.plus], serial))
        minus = counters.get(_counter_key(FLOWS[NET_BALANCE.minus], serial))
        if plus is not None and minus is not None:
            values[net] = _published(plus["out"] - minus["out"])
        elif _number(values[net]) == 0:
            del values[net]  # a rebooting gateway's zero, not a balance

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
