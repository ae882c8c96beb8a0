"""Reading one field of a gateway's answer, which is hostile input: each reader returns the value in the
shape asked for, or None. A value of the wrong type, a missing key, "unknown" (sent after a reboot), NaN
or infinity is None, never 0 and never an exception. Used by every parser (parse*.py).
"""
import math
from typing import List, Optional, Tuple


def as_number(value) -> Optional[float]:
    """A finite number, or None ("unknown", "", NaN, inf, bool, dict...). Numeric strings are accepted."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return None


def as_int(value) -> Optional[int]:
    number = as_number(value)
    return int(number) if number is not None else None


def as_bool(value) -> Optional[bool]:
    """JSON booleans, and the "true"/"false" strings some settings use."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def as_text(value) -> Optional[str]:
    return value if isinstance(value, str) and value != "" else None


def as_state(value, known: Tuple[str, ...]) -> Optional[str]:
    """One of `known`, else None: "unknown" after a reboot, or a word of a firmware this code does not know,
    is no state. Relays say "close" as often as "closed"."""
    text = as_text(value)
    if text is None:
        return None
    text = text.strip().lower()
    text = "closed" if text == "close" else text
    return text if text in known else None


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def dicts_in(value) -> List[dict]:
    return [item for item in as_list(value) if isinstance(item, dict)]


def first_known(*values):
    return next((v for v in values if v is not None), None)


def from_milli(value) -> Optional[float]:
    number = as_number(value)
    return number / 1000.0 if number is not None else None


def as_serial(value) -> Optional[str]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return as_text(value)


def add_known(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a + b if a is not None and b is not None else None

