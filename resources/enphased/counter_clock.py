"""Whether a cycle's time can be believed by the energy counters (counters.py), and what to do when the clock
turns out to have been ahead.

A reading more than CLOCK_LEAP_S after the last one, or more than CLOCK_BACK_S before it, counts for nothing
until the next reading confirms that the clock did move: on the same side, it moved (after a long stop, or it
was ahead and is back, then `_rewind`); back near the last one, it was a clock far off for a moment, and the
day was never touched. Works on the counters' state (its "clock", "lifetime", "days" and "gateway" parts).
"""
import logging
from datetime import datetime
from typing import Any, Dict, Tuple

log = logging.getLogger("enphased.counters")

CLOCK_LEAP_S = 86400  # a reading this long after the last one waits for the next to confirm the clock
CLOCK_BACK_S = 600  # nor is a reading this long before the last one believed at once


def _stamp(epoch) -> str:
    return datetime.fromtimestamp(epoch).isoformat(timespec="minutes") if isinstance(epoch, (int, float)) else "-"


def check(state: Dict[str, Any], now: float, today: str) -> Tuple[bool, bool]:
    """(whether this cycle's time `now` can be believed, whether a value of `state` changed); `today` is the
    local date of `now` (ISO)."""
    clock = state["clock"]
    last, cand = clock.get("ts"), clock.get("cand")
    if not isinstance(last, (int, float)) or last - CLOCK_BACK_S <= now <= last + CLOCK_LEAP_S:
        changed = cand is not None
        if changed:
            log.info("The clock is back near %s: the reading stamped %s is not counted", _stamp(last), _stamp(cand))
            del clock["cand"]
        clock["ts"] = now  # only a time: saved now and then (counters' _save)
        return True, changed
    if isinstance(cand, (int, float)) and (cand > last) == (now > last) and now >= cand - CLOCK_BACK_S:
        log.info("The clock moved from %s to %s and stays there: counting from it", _stamp(last), _stamp(now))
        if now < last:
            _rewind(state, now, today)
        del clock["cand"]
        clock["ts"] = now
        return True, True
    if cand is None:
        log.warning("This reading is stamped %s, far from the last one (%s): the energy counters wait for the "
                    "next one to tell whether the clock moved", _stamp(now), _stamp(last))
    clock["cand"] = now
    return False, True


def _rewind(state: Dict[str, Any], now: float, today: str) -> None:
    """The clock was ahead and is back at `now`: what was stamped in the future is stamped now, and a day
    that began early goes back to the day it was (its start, yesterday's figure), so the day's figures carry
    on from where they were."""
    for c in state["lifetime"].values():
        for stamped in (c, c.get("undo")):
            if stamped is not None:
                stamped["ts"] = min(stamped["ts"], now)
        if "cand_ts" in c:
            c["cand_ts"] = min(c["cand_ts"], now)
    for d in state["days"].values():
        d["ts"] = min(d["ts"], now)
        if d["day"] > today:
            before = d.pop("before", None)
            if before is not None and before["day"] <= today:
                d.update(before)
            else:  # ahead for days: today counts from where the counter is
                d.update(day=today, start=d["last"], partial=True, yesterday=None)
        for day in [day for day in d["starts"] if day > today]:
            del d["starts"][day]
        if "exact" in d:
            d["exact"] = [day for day in d["exact"] if day <= today]
    held = state["gateway"]
    for key in [k for k, v in held.items() if isinstance(v, dict) and str(v.get("day", "")) > today]:
        del held[key]
