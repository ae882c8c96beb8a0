"""The shapes of the gateway's strings. Pure functions: no I/O.

Anything answering as the gateway can say anything (its TLS cannot be verified), and what it says ends up in
Jeedom's pages, whose widgets write values with innerHTML. So every string of a gateway is checked here
before the parsers keep it (docs/protocol.md, "Strings"):
- identifiers (serials, CT ids, dry contact ids, CT measurement types, firmware, part numbers) must have
  their shape, else they are None: a device without a valid serial is no device;
- free text (a device's status, a grid mode, a load's name...) keeps printable characters but those that
  make markup or break out of a quoted string (< > & " ' ` \\), loses control and invisible characters,
  has its blanks squeezed and is at most TEXT_MAX characters; nothing left is None.
"""
import re
import unicodedata
from typing import Optional

TEXT_MAX = 64  # longer than any status, mode or load name a real gateway gives
SERIAL_MAX = 32  # serials are 12 digits (a few test units: 14); CT ids are integers
_SERIAL = re.compile(r"[A-Za-z0-9]{1,%d}" % SERIAL_MAX)
_DEVICE_ID = re.compile(r"[A-Za-z0-9]{1,16}")  # a dry contact: NC1, NO2...
_WORD = re.compile(r"[a-z][a-z0-9-]{0,31}")  # a CT's measurement type: net-consumption...
# "7.6.175", "8.2.4345"; a build suffix is allowed ("5.0.62-beta1"): the leading build letter ("D") is the
# parser's to remove.
_FIRMWARE = re.compile(r"\d{1,4}(?:\.\d{1,9}){0,5}(?:[-_+~][A-Za-z0-9.]{1,16})?")
_PART_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,31}")  # 800-00654-r08
# Characters that make markup, an entity, or end a quoted string in HTML or JavaScript.
_MARKUP = frozenset("<>&\"'`\\")
# Text free_text keeps as it is: printable ASCII words but those characters, one space between them (the
# statuses and modes of every cycle), answered with one regex instead of a look at each character.
_PLAIN_CHAR = "[" + "".join(re.escape(chr(c)) for c in range(33, 127) if chr(c) not in _MARKUP) + "]"
_PLAIN = re.compile(f"{_PLAIN_CHAR}+(?: {_PLAIN_CHAR}+)*")


def _as_text(value) -> Optional[str]:
    """A string, or an integer written out (some firmware send serials and CT ids as numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10 ** SERIAL_MAX:
        return str(value)
    return None


def _shaped(pattern, value) -> Optional[str]:
    if type(value) is str and pattern.fullmatch(value):  # the usual case, with nothing around it to strip
        return value
    found = _as_text(value)
    if found is None:
        return None
    found = found.strip()
    return found if pattern.fullmatch(found) else None


def serial(value) -> Optional[str]:
    """A device serial or CT id: letters and digits, 1 to 32 of them."""
    return _shaped(_SERIAL, value)


def device_id(value) -> Optional[str]:
    """A short id the gateway gives a part of a device (a dry contact: NC1)."""
    return _shaped(_DEVICE_ID, value)


def word(value) -> Optional[str]:
    """A lowercase word of the gateway's vocabulary that we do not list (a CT's measurement type)."""
    return _shaped(_WORD, value)


def firmware(value) -> Optional[str]:
    """A firmware version without its build letter: digits and dots, maybe a short suffix."""
    return _shaped(_FIRMWARE, value)


def part_number(value) -> Optional[str]:
    """A hardware part number, 800-00654-r08."""
    return _shaped(_PART_NUMBER, value)


def _kept(char: str) -> bool:
    # Categories C* are control, format (bidi overrides, zero-width...), surrogate, private and unassigned
    # characters; Zl/Zp end a line in a log or a JavaScript string.
    return char not in _MARKUP and not unicodedata.category(char).startswith(("C", "Zl", "Zp"))


def free_text(value, limit: int = TEXT_MAX) -> Optional[str]:
    """Text to show as is: no markup, no control or invisible character, one space between words, at most
    `limit` characters. None when nothing is left (or it is not a string)."""
    if not isinstance(value, str):
        return None
    if len(value) <= limit and _PLAIN.fullmatch(value):
        return value
    cleaned = " ".join("".join(c if _kept(c) else " " for c in value[:limit * 4]).split())
    return cleaned[:limit].rstrip() or None


def shown(value, limit: int = 24) -> str:
    """A value that failed its shape, as a log line may show it: letters, digits and . _ - kept, anything else
    as "?", cut short, with its length."""
    text = value if isinstance(value, str) else repr(value)
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "?" for c in text[:limit])
    return f"{kept}{'...' if len(text) > limit else ''} ({len(text)} characters)"
