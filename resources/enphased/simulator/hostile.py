"""A hostile gateway: another gateway (the synthetic one by default) whose every string says something a page
must never run or a log never hold: markup, quotes that end a JavaScript string, entities, `../`, control and
invisible characters, very long text.

    python3 -m simulator --hostile [--identities none|half|all] [synthetic options]   (from resources/enphased)

What keeps the gateway readable stays: the words that tell which list is which (a device group's "type",
"devName", a CT's "enabled"), numbers, and, depending on `identities`, the identifiers:
- "none": every serial, CT measurement type and dry contact id as the inner gateway gives it;
- "half" (default): the identifiers whose CRC-32 is odd become hostile (the same in every answer, so a device
  is hostile everywhere or nowhere): about half the devices cannot be kept, the others carry hostile text;
- "all": every identifier, /info's serial and firmware included: the gateway cannot be read at all.
Every payload that ran would set `window.enphaseXss` (or the page's title to "XSS"): a browser test checks
they stay unset. The chaos test uses it too.
"""
import json
import re
import zlib
from typing import Any
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


def payload(seed: str) -> str:
    """The payload a field gets: always the same for the same field and value."""
    return PAYLOADS[zlib.crc32(seed.encode("utf-8", "replace")) % len(PAYLOADS)]


class HostileGateway:
    def __init__(self, inner, identities: str = "half"):
        if identities not in ("none", "half", "all"):
            raise ValueError("identities must be none, half or all")
        self.inner = inner
        self.identities = identities

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

    def _hostile(self, data: Any, key: Any = None) -> Any:
        if isinstance(data, dict):
            return {k: self._hostile(v, k) for k, v in data.items()}
        if isinstance(data, list):
            return [self._hostile(v, key) for v in data]
        if isinstance(data, str):
            return self._string(key, data)
        return data

    def info_xml(self) -> bytes:
        def leaf(match):
            tag, value = match.group(1).decode(), match.group(2).decode()
            if tag in ("sn", "software") and self.identities != "all":
                return match.group(0)
            # XML 1.0 cannot carry control characters at all: those payloads lose them here.
            text = "".join(c for c in payload(f"{tag}={value}") if c >= " " or c in "\t\n\r")
            return f"<{tag}>{escape(text)}</{tag}>".encode()

        return _XML_LEAF.sub(leaf, self.inner.info_xml())

    def _answer(self, answer: Response) -> Response:
        if answer.status != 200 or "json" not in answer.content_type:
            return answer
        try:
            data = json.loads(answer.body)
        except ValueError:
            return answer
        return Response(answer.status, json.dumps(self._hostile(data)).encode(), answer.content_type)

    def response(self, path: str) -> Response:
        if path.split("?")[0] == "/info":
            return Response(200, self.info_xml(), "application/xml")
        return self._answer(self.inner.response(path))

    def handle_write(self, method: str, path: str, body: bytes) -> Response:
        if not hasattr(self.inner, "handle_write"):
            return Response(405, b"", "text/html")
        return self._answer(self.inner.handle_write(method, path, body))
