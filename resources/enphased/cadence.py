"""When a gateway is read: its two cadences, their bounds, and the back-off while it is silent.

Cadences are `schedule` jobs that only mark a cadence due; the worker reads every due cadence in one
cycle, so a cycle never overlaps another and each cycle makes one POST. While the gateway does not answer,
general ticks are skipped (every 1, 2, 4, then 5 ticks a try) and the devices cadence waits for the
general one.
"""
import math
from typing import Any, List, Optional

import schedule

CADENCES = ("general", "devices")  # read in this order when both are due
DEFAULT_S = {"general": 60, "devices": 300}
MIN_CADENCE_S = 10  # the gateway's CPU is weak: nothing faster than this, whatever the configuration says
MAX_CADENCE_S = 86400  # a day: a longer cadence (or Infinity) would read the gateway never
MAX_BACKOFF_TICKS = 5  # a silent gateway is retried at least every 5 general ticks


def cadence_s(value: Any, default: float, what: str) -> float:
    """Seconds between two reads of a cadence from a configure message: `default` when not given or not a
    number, raised to MIN_CADENCE_S. Raises ValueError with a sentence for a number that cannot be a
    cadence (NaN, Infinity, more than a day)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(seconds) or seconds > MAX_CADENCE_S:
        raise ValueError(f"{what} must be a number of seconds from {MIN_CADENCE_S} to {MAX_CADENCE_S} (a day), "
                         f"not {str(value)[:40]}.")
    return max(MIN_CADENCE_S, seconds)


class Cadences:
    def __init__(self, general_s: float, devices_s: float):
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(general_s).seconds.do(self.mark_due, "general")
        self.scheduler.every(devices_s).seconds.do(self.mark_due, "devices")
        self._due = set(CADENCES)  # the first cycle reads everything
        self._skip_ticks = 0

    def mark_due(self, cadence: str) -> None:
        if cadence == "general" and self._skip_ticks > 0:
            self._skip_ticks -= 1  # backing off a silent gateway
            return
        self._due.add(cadence)

    def run_pending(self) -> None:
        self.scheduler.run_pending()

    def idle_s(self) -> float:
        """How long the worker may wait for a job before a cadence falls due (a minute at most)."""
        idle: Optional[float] = self.scheduler.idle_seconds
        return max(0.0, min(idle if idle is not None else 60.0, 60.0))

    def ready(self) -> bool:
        """A cycle is due. While backing off a silent gateway, the devices cadence waits for the general one."""
        return bool(self._due) and ("general" in self._due or self._skip_ticks == 0)

    def take(self) -> List[str]:
        """The due cadences, in reading order; none is due afterwards."""
        due, self._due = self._due, set()
        return [c for c in CADENCES if c in due]

    def clear(self) -> None:
        """Every cadence was just read (a sync): none is due."""
        self._due = set()

    def answered(self, failures: int, unreachable: bool) -> None:
        """After a cycle: back off while the gateway is unreachable (`failures` in a row), else read at pace."""
        if failures == 0:
            self._skip_ticks = 0
        elif unreachable:
            self._skip_ticks = min(2 ** (failures - 1) - 1, MAX_BACKOFF_TICKS - 1)
