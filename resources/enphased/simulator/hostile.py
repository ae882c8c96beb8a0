"""A hostile gateway: another gateway (the synthetic one by default) that says what a page must never run, a log
never hold and a reader never choke on. What it says wrong is its `kind` (KINDS), which a test may change
between two answers to play rounds (the process chaos test does; None: the inner gateway's answers as they are):
- "strings" (default): every string says something a page must never run or a log never hold: markup, quotes
  that end a JavaScript string, entities, `../`, control and invisible characters, very long text;
- "numbers": every number is one no quantity reaches (HUGE_NUMBERS: 1e15, 1e99, 39 digits...), still JSON
  within envoy/limits.py's bounds, so only the ranges of what is read stop it;
- "long_numbers": every number has LONG_NUMBER_DIGITS digits (float() overflows, int() of 4,300 is refused);
- "deep": every JSON answer is the innermost of DEPTH nested arrays (Python's decoder recurses);
- "types": every number and boolean is a hostile string instead (markup where a reading is expected);
- "markup": every JSON answer is an HTML page made of the payloads, said to be JSON.

    python3 -m simulator --hostile [--kind KIND] [--identities none|half|all] [synthetic options]
    (from resources/enphased)

In "strings", what keeps the gateway readable stays: the words that tell which list is which (a device group's
"type", "devName", a CT's "enabled"), numbers, and, depending on `identities`, the identifiers:
- "none": every serial, CT measurement type and dry contact id as the inner gateway gives it;
- "half" (default): the identifiers whose CRC-32 is odd become hostile (the same in every answer, so a device
  is hostile everywhere or nowhere): about half the devices cannot be kept, the others carry hostile text;
- "all": every identifier, /info's serial and firmware included: the gateway cannot be read at all.
Every payload that ran would set `window.enphaseXss` (or the page's title to "XSS"): a browser test checks
they stay unset.
"""
import json
import re
import zlib
from typing import Any, Optional
from xml.sax.saxutils import escape

from .recorded import Response

MARK = "enphaseXss"  # what a payload that ran sets on `window`
PAYLOADS = (
    '<img src=x onerror="window.enphaseXss=1;document.title=\'XSS\'">',
    '"><svg onload=window.enphaseXss=2>',
    "'+(window.enphaseXss=3)+'",  # ends a single-quoted JavaScript string
    "</script><script>window.enphaseXss=4</script>",
    "\\x3cimg src=x onerror=window.enphaseXss=5\\x3e",  # markup again once read as a JavaScript string
    "&lt;img src=x onerror=window.enphaseXss=6&gt;",  # markup again once decoded
    "../../../../../etc/passwd",
    "\x00\x1b[2J\r\n[2026-01-01 00:00:00][ERROR] : forged line\u202e\u2028\ufeff",
    "javascript:window.enphaseXss=7//",
    "A" * 4000 + "<img src=x onerror=window.enphaseXss=8>",
)
IDENTITY_KEYS = frozenset({"serial_num", "serialNumber", "sn", "measurementType", "id"})
# The words that tell which list is which: replaced, they would hide the devices rather than test them.
STRUCTURE = {"type": {"PCU", "ACB", "NSRB", "ESUB", "ENCHARGE", "ENPOWER", "COLLAR", "inverters", "eim"},
             "devName": {"pcu", "eim", "acb"}, "state": {"enabled"}}
_XML_LEAF = re.compile(rb"<([A-Za-z_-]+)>([^<]*)</\1>")

KINDS = ("strings", "numbers", "long_numbers", "deep", "types", "markup")
# Numbers no reading reaches (the largest site gives a few 100 kW, a few GWh in a lifetime), each a valid JSON
# number within the decoder's limits: 1e99 has a 2-digit exponent, 10**39 39 digits.
HUGE_NUMBERS = (1e15, -1e15, 1e99, -1e99, 10 ** 39, 7e12)
LONG_NUMBER_DIGITS = 400  # float() overflows from 309 digits
DEPTH = 200_000  # Python's decoder raises RecursionError around a thousand


def _pick(choices, seed: str):
    return choices[zlib.crc32(seed.encode("utf-8", "replace")) % len(choices)]


def payload(seed: str) -> str:
    """The payload a field gets: always the same for the same field and value."""
    return _pick(PAYLOADS, seed)


def huge_number(seed: str):
    """The number a field gets in the "numbers" kind: always the same for the same field and value."""
    return _pick(HUGE_NUMBERS, seed)


def markup_page() -> bytes:
    """What the "markup" kind answers: an HTML page of every payload."""
    return ("<!DOCTYPE html><html><head><title>%s</title></head><body>%s</body></html>\n" % (
        PAYLOADS[0], "".join(f"<p>{p}</p>" for p in PAYLOADS))).encode("utf-8")


class HostileGateway:
    def __init__(self, inner, identities: str = "half", kind: Optional[str] = "strings"):
        self.inner = inner
        self.identities = identities
        self.kind = kind

    @property
    def identities(self) -> str:
        return self._identities

    @identities.setter
    def identities(self, value: str) -> None:
        if value not in ("none", "half", "all"):
            raise ValueError("identities must be none, half or all")
        self._identities = value

    @property
    def kind(self) -> Optional[str]:
        """What the gateway says wrong from its next answer on (KINDS), None: nothing."""
        return self._kind

    @kind.setter
    def kind(self, value: Optional[str]) -> None:
        if value is not None and value not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)} or None")
        self._kind = value

    def hostile_identity(self, value: str) -> bool:
        if self.identities == "half":
            return zlib.crc32(value.encode("utf-8", "replace")) % 2 == 1
        return self.identities == "all"

    def _string(self, key: Any, value: str) -> str:
        if value in STRUCTURE.get(key, ()):
            return value
        if key in IDENTITY_KEYS:
            # Still recognisable in a log: the identifier with a payload around it.
            return value + payload(value) if self.hostile_identity(value) else value
        return payload(f"{key}={value}")

    def _hostile(self, data: Any, kind: str, key: Any = None) -> Any:
        if isinstance(data, dict):
            return {k: self._hostile(v, kind, k) for k, v in data.items()}
        if isinstance(data, list):
            return [self._hostile(v, kind, key) for v in data]
        if isinstance(data, str):
            return self._string(key, data) if kind == "strings" else data
        if isinstance(data, bool) or data is None:
            return payload(f"{key}={data}") if kind == "types" and data is not None else data
        if isinstance(data, (int, float)):
            if kind == "numbers":
                return huge_number(f"{key}={data}")
            if kind == "long_numbers":
                return 10 ** (LONG_NUMBER_DIGITS - 1)
            if kind == "types":
                return payload(f"{key}={data}")
        return data

    def info_xml(self) -> bytes:
        if self.kind != "strings":
            return self.inner.info_xml()

        def leaf(match):
            tag, value = match.group(1).decode(), match.group(2).decode()
            if tag in ("sn", "software") and self.identities != "all":
                return match.group(0)
            # XML 1.0 cannot carry control characters at all: those payloads lose them here.
            text = "".join(c for c in payload(f"{tag}={value}") if c >= " " or c in "\t\n\r")
            return f"<{tag}>{escape(text)}</{tag}>".encode()

        return _XML_LEAF.sub(leaf, self.inner.info_xml())

    def _answer(self, answer: Response) -> Response:
        kind = self.kind  # one kind per answer, whenever the test changes it
        if kind is None or answer.status != 200 or "json" not in answer.content_type:
            return answer
        if kind == "markup":
            return Response(answer.status, markup_page(), answer.content_type)
        if kind == "deep":
            return Response(answer.status, b"[" * DEPTH + answer.body + b"]" * DEPTH, answer.content_type)
        try:
            data = json.loads(answer.body)
        except ValueError:
            return answer
        return Response(answer.status, json.dumps(self._hostile(data, kind)).encode(), answer.content_type)

    def response(self, path: str) -> Response:
        if path.split("?")[0] == "/info":
            return Response(200, self.info_xml(), "application/xml")
        return self._answer(self.inner.response(path))

    def handle_write(self, method: str, path: str, body: bytes) -> Response:
        if not hasattr(self.inner, "handle_write"):
            return Response(405, b"", "text/html")
        return self._answer(self.inner.handle_write(method, path, body))
