"""What the lifetime counter of one flow says of the day and the week, from the day state counters.py keeps
(its start values at each local midnight)."""
from datetime import date, timedelta
from typing import Any, Dict, NamedTuple, Optional

WEEK_DAYS = 7  # the last 7 days: today and the six before


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
