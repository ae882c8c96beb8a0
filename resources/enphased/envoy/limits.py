"""What the plugin accepts from a gateway, at most: the hard limits, each stated here once, and the JSON
decoder that enforces the ones on JSON.

Anything answering at the gateway's address is believed to be the gateway (its TLS certificate cannot be
checked), so each limit is far above what any real gateway sends and low enough that a hostile answer
costs a small box nothing: no memory beyond a few MB, no cycle held past a deadline, no exception out of
the parser.
"""
import json
import re
from typing import Any

# One answer, body only. The largest recorded answer is 44 kB, the simulator's 600-microinverter site's 450 kB:
# a larger answer is refused unread beyond this (a Pi has a few hundred MB to live in).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
# One request, from the connection to the answer's last byte, whatever the gateway's pace (it could send
# a byte a second forever). Some firmware takes tens of seconds to build /production.json.
REQUEST_DEADLINE_S = 45.0
# A read (the endpoints of one cadence, or the probe's) stops at this many requests past their deadline: one
# slow endpoint loses its reading, not the cycle; a gateway slow on everything holds a cycle this many
# deadlines at most.
DEADLINE_MISSES_PER_READ = 2
# Nesting of arrays and objects: the recorded answers nest 8 deep at most; Python's decoder raises
# RecursionError around a thousand.
MAX_JSON_DEPTH = 32
# Digits of a number: gateways write at most 20 in a row; float() overflows from 309 (OverflowError) and
# int() refuses 4300. Exponents: at most 2 digits (1e99), so no float becomes infinite.
MAX_JSON_NUMBER_DIGITS = 40
MAX_JSON_EXPONENT_DIGITS = 2


class JsonTooLarge(ValueError):
    """Valid JSON, maybe, but beyond the limits: the answer is treated as one that is not JSON."""


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_AS_ZERO_AND_E = bytes.maketrans(b"123456789E", b"000000000e")
_TOO_MANY_DIGITS = b"0" * (MAX_JSON_NUMBER_DIGITS + 1)
# An exponent follows a digit (1e400, 2.5E+400): matching that digit too, the search skips the many "e" of the
# keys at C speed (a third of the time it takes from the "e").
_TOO_LONG_EXPONENT = re.compile(rb"0e[-+]?0{%d}" % (MAX_JSON_EXPONENT_DIGITS + 1))
_NOT_SKELETON = bytes(set(range(256)) - set(b'"\\[]{}'))
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


def _no_constant(name: str) -> None:
    return None  # NaN and Infinity are not JSON: a reading that holds one is no reading


def decode_json(content: bytes) -> Any:
    """The JSON of a gateway's answer. Raises ValueError when it is not JSON or breaks a limit above.

    The limits are checked before decoding (the decoder itself recurses, and a number is only too large
    once something uses it), on the text outside strings, in passes at C speed: a third of the decoding's
    own time on a gateway's answer."""
    if not isinstance(content, bytes):
        content = str(content).encode("utf-8")
    if _numbers_too_large(content) and _numbers_too_large(_STRING.sub(b"", content)):  # not in a string
        raise JsonTooLarge(f"a number of more than {MAX_JSON_NUMBER_DIGITS} digits or an exponent of more than "
                           f"{MAX_JSON_EXPONENT_DIGITS}")
    if _too_deep(content):
        raise JsonTooLarge(f"nested deeper than {MAX_JSON_DEPTH}")
    return json.loads(content, parse_constant=_no_constant)


def _numbers_too_large(text: bytes) -> bool:
    numbers = text.translate(_AS_ZERO_AND_E)
    return _TOO_MANY_DIGITS in numbers or _TOO_LONG_EXPONENT.search(numbers) is not None


def _too_deep(content: bytes) -> bool:
    # Quotes and brackets alone say the nesting. Strings without a bracket are pairs of quotes side by side:
    # dropped in one pass; the few left are split off. An escape (never seen from a gateway) takes a regex.
    skeleton = content.translate(None, _NOT_SKELETON)
    if b"\\" in skeleton:
        skeleton = _STRING.sub(b"", content).translate(None, _NOT_SKELETON)
    else:
        skeleton = skeleton.replace(b'""', b"")
        if b'"' in skeleton:
            skeleton = b"".join(skeleton.split(b'"')[0::2])
    nesting = skeleton.translate(_AS_BRACKETS)
    for _ in range(MAX_JSON_DEPTH):
        if not nesting:
            return False
        nesting = nesting.replace(b"[]", b"")  # one level of innermost containers per pass
    return bool(nesting)
