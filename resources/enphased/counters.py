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
  counter to catch up; a larger drop is believed only when the next reading confirms it (then it adds to the
  offset, so the published value carries on from where it was), otherwise it was a glitch and is forgotten;
  a rise faster than the site can count (its devices' and CTs' power, `_rate_w`) is never believed: it waits
  until enough time has passed for it to be possible, and a return to the line before a confirmed step
  undoes that step (two glitches in a row cannot capture the counter);
- the figures of the day (DAY_FLOWS: production, consumption, grid import, grid export) are the increase of
  those monotonic counters since local midnight (the counter's value at midnight interpolated between the
  last reading before and the first after), with yesterday's figure and the day's self-consumption and
  self-sufficiency rates;
- the gateway's own "today" and "last 7 days" values are published only when they agree with the counters
  (the rule is in `_gateway_today`, `_gateway_week`);
- the gateway's net lifetime becomes grid import - grid export of the net CT's registers where they exist
  (NET_BALANCE).

The time is checked too (`_clock`): a reading more than CLOCK_LEAP_S after the last one, or more than
CLOCK_BACK_S before it, counts for nothing until the next reading confirms that the clock did move; a clock
found to have been ahead brings back what was stamped in the future (the day that began early is the day it
was), so the day figures carry on.

The state (offsets, last readings, the day's start values) is one small JSON file per gateway, written
atomically each time it changes, so a restart of the daemon carries on where it was. What is published never
gets ahead of that file: a cycle whose state cannot be written (a full disk) is undone and publishes what the
file holds, so no restart can bring a published counter down.
"""
import json
import logging
import math
from datetime import date, datetime, time as day_time, timedelta, tzinfo
from typing import Any, Dict, Optional, Tuple

from catalog import COUNTED, DAY_FLOWS, DAY_RATES, NET_BALANCE, DayFlow, monotonic_commands, rated_power_w
from state_file import read_json, write_bytes

log = logging.getLogger("enphased.counters")

# The catalog's lifetime counters, per equipment kind: published monotonic.
MONOTONIC = monotonic_commands()
FLOWS = {flow.name: flow for flow in DAY_FLOWS}

# The gateway's commands that depend on the day (ours): not published while the clock is in doubt.
DAY_BOUND = frozenset([c.logical_id for c in COUNTED] + [f.gateway_today for f in DAY_FLOWS if f.gateway_today]
                      + [f.gateway_week for f in DAY_FLOWS if f.gateway_week])
RATED_W = rated_power_w()  # kind -> the most one device of the kind gives (the catalog's ranges)

NOISE_WH = 1000.0  # a counter going down by less than this is jitter (rounding, two sources a second apart)
# The most a site's CTs measure: three phases of 200 A (Enphase's CTs) at 277 V, doubled for margin. With its
# devices' power, how fast a site's energy counters can rise (`_rate_w`).
CTS_W = 2 * 3 * 200 * 277.0
CLOCK_LEAP_S = 86400  # a reading this long after the last one waits for the next to confirm the clock
CLOCK_BACK_S = 600  # nor is a reading this long before the last one believed at once
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


def _stamp(epoch) -> str:
    return datetime.fromtimestamp(epoch).isoformat(timespec="minutes") if isinstance(epoch, (int, float)) else "-"


def _published(value: float) -> int:
    """As the catalog publishes Wh and %: whole numbers (the gateway's own resolution)."""
    return int(round(value))


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

    # --- one cycle ---

    def update(self, equipments: Dict[str, Tuple[str, Dict[str, Any]]], now: float) -> Dict[str, Dict[str, Any]]:
        """The values to publish for each equipment of `equipments`, at time `now` (epoch seconds)."""
        out = self._count(equipments, now, self._clock(now))
        if not self._save(now):
            # Nothing may be published beyond what the file holds: after a restart it would go back.
            self._state = self._valid(None if self._saved is None else json.loads(self._saved))
            self._changed = False
            out = self._count(equipments, now, False)
        return out

    def _count(self, equipments: Dict[str, Tuple[str, Dict[str, Any]]], now: float,
               readings: bool) -> Dict[str, Dict[str, Any]]:
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
        # The day that ends, should the clock turn out to have been ahead (_rewind).
        d["before"] = {k: d[k] for k in ("day", "start", "partial", "yesterday")}
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
        down while the site exports, so it is not one of the monotonic counters; it depends on no clock."""
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

    def _clock(self, now: float) -> bool:
        """Whether this cycle's time can be believed. A reading far from the last one (more than CLOCK_LEAP_S
        after, CLOCK_BACK_S before) waits for the next reading: on the same side, the clock did move (after a
        long stop, or it was ahead and is back: _rewind); back near the last one, it was a clock far off for a
        moment, and the day was never touched."""
        clock = self._state["clock"]
        last, cand = clock.get("ts"), clock.get("cand")
        if not isinstance(last, (int, float)) or last - CLOCK_BACK_S <= now <= last + CLOCK_LEAP_S:
            if cand is not None:
                log.info("The clock is back near %s: the reading stamped %s is not counted", _stamp(last), _stamp(cand))
                del clock["cand"]
                self._changed = True
            clock["ts"] = now  # only a time: saved now and then (see _save)
            return True
        if isinstance(cand, (int, float)) and (cand > last) == (now > last) and now >= cand - CLOCK_BACK_S:
            log.info("The clock moved from %s to %s and stays there: counting from it", _stamp(last), _stamp(now))
            if now < last:
                self._rewind(now)
            del clock["cand"]
            clock["ts"] = now
            self._changed = True
            return True
        if cand is None:
            log.warning("This reading is stamped %s, far from the last one (%s): the energy counters wait for the "
                        "next one to tell whether the clock moved", _stamp(now), _stamp(last))
        clock["cand"] = now
        self._changed = True
        return False

    def _rewind(self, now: float) -> None:
        """The clock was ahead and is back at `now`: what was stamped in the future is stamped now, and a day
        that began early goes back to the day it was (its start, yesterday's figure), so the day's figures carry
        on from where they were."""
        today = self._local_date(now).isoformat()
        for c in self._state["lifetime"].values():
            for stamped in (c, c.get("undo")):
                if stamped is not None:
                    stamped["ts"] = min(stamped["ts"], now)
            if "cand_ts" in c:
                c["cand_ts"] = min(c["cand_ts"], now)
        for d in self._state["days"].values():
            d["ts"] = min(d["ts"], now)
            if d["day"] > today:
                before = d.pop("before", None)
                if before is not None and before["day"] <= today:
                    d.update(before)
                else:  # ahead for days: today counts from where the counter is
                    d.update(day=today, start=d["last"], partial=True, yesterday=None)
            for day in [day for day in d["starts"] if day > today]:
                del d["starts"][day]
        held = self._state["gateway"]
        for key in [k for k, v in held.items() if isinstance(v, dict) and str(v.get("day", "")) > today]:
            del held[key]

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
