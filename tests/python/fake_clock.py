"""The one clock tests inject: `clock()` tells the time, the test moves it (`clock.now += 60`)."""
import time
from datetime import datetime
from typing import Optional


class Clock:
    def __init__(self, now: Optional[float] = None):
        self.now = float(time.time() if now is None else now)

    @classmethod
    def at(cls, text: str, tz) -> "Clock":
        """A clock at a wall time in a zone: `Clock.at("2026-06-10 23:00", PARIS)`."""
        return cls(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz).timestamp())

    def __call__(self) -> float:
        return self.now
