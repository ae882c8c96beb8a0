"""Reading one field of a gateway's answer, which is hostile input: each reader returns the value in the
shape asked for, or None. A value of the wrong type, a missing key, "unknown" (sent after a reboot), NaN
or infinity is None, never 0 and never an exception. Used by every parser (parse*.py).

Strings are checked by text.py: identifiers (serials, CT measurement types, dry contact ids) must have their
shape, and one given without it is recorded in the `Readings.dropped` being built (build_readings sets
`dropped_into`); free text (`as_free_text`) is cleaned to be shown.
"""
import contextvars
import math
from typing import List, Optional, Tuple

from . import text

# The `Readings.dropped` list of the build in progress (None: a parser called on its own records nothing).
dropped_into: "contextvars.ContextVar[Optional[List[str]]]" = contextvars.ContextVar("dropped_into", default=None)


def as_number(value) -> Optional[float]:
    """A finite number, or None ("unknown", "", NaN, inf, bool, dict...). Numeric strings are accepted."""
    # A JSON integer, or a float, is what gateways send almost always (thousands per cycle on a large site):
    # answered first. type() is exact: bool, a subclass of int, is not int here.
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
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
    """A string as the gateway gave it: for comparing with our words, never to be sent on (as_free_text)."""
    return value if isinstance(value, str) and value != "" else None


def as_free_text(value) -> Optional[str]:
    """Free text of the gateway (a status, a mode, a name), cleaned to be shown (text.free_text)."""
    return text.free_text(value)


def _identifier(shape, value, what: str) -> Optional[str]:
    """`value` if it has its `shape` (a text.py check); one given without it is recorded as dropped."""
    found = shape(value)
    if found is None and value not in (None, ""):
        dropped = dropped_into.get()
        if dropped is not None and len(dropped) < 100:
            dropped.append(f"a {what} that is not one: {text.shown(value)}")
    return found


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
    """A device serial or CT id (text.serial)."""
    return _identifier(text.serial, value, "serial")


def as_device_id(value) -> Optional[str]:
    """A short id of a part of a device: a dry contact's NC1 (text.device_id)."""
    return _identifier(text.device_id, value, "dry contact id")


def as_word(value) -> Optional[str]:
    """A lowercase word of the gateway's we do not list: a CT's measurement type (text.word)."""
    return _identifier(text.word, value, "CT measurement type")


def add_known(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a + b if a is not None and b is not None else None

