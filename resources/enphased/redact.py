"""Redaction of a gateway's answers before they leave the user's box: a stable, shape-keeping mapping.

What identifies a site or its owner is replaced, consistently across every file of one report:
- serial numbers (the gateway's `<sn>`, every device's serial, the generator's id, serials used as object
  keys): the same serial always gets the same fake one, of the same length and character classes; the first
  4 characters (product and year) are kept, the rest becomes the marker `99` and digits keyed by a secret
  (the daemon keeps its own, so reports stay comparable). The simulator derives the gateway's passwords
  from its serial, so a redacted report still logs in;
- MAC addresses keep their maker's prefix (OUI); IPv4 addresses other than loopback become 192.0.2.x;
- e-mail addresses, JWTs, site, system and account ids, and the secrets the user gave (passwords, token,
  username, the gateway's address) become neutral words.
Meter and channel eids are the gateway's internal numbering (the same on every gateway) and are kept, as
are firmware versions, part numbers and every measurement: a report must still show the problem.
"""
import hashlib
import hmac
import json
import os
import re
from typing import Any, Dict, Iterable, Optional

_ALNUM = "0-9A-Za-z"
# Keys (lower case, letters only) whose values are serial numbers.
SERIAL_KEYS = frozenset({
    "sn", "s", "serial", "serialnum", "serialnumber", "serialnums", "serialnb", "pvserialnb", "deviceid",
    "generatorid", "inverterserials", "envoyserial", "envoysn", "gatewayserial",
})
# Keys whose values name a site, a system or an account in Enphase's cloud.
ACCOUNT_KEYS = frozenset({"siteid", "site", "systemid", "userid", "ownerid", "accountid", "installerid"})
_SERIAL_VALUE = re.compile(r"[0-9A-Za-z-]{6,}")
_SERIAL_KEY = re.compile(r"\d{12,}")  # all-digit object keys of this length are serials (eids are shorter)

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MAC = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])")
# Not after "/" or ".": "openresty/1.17.8.1" is a version.
_IPV4 = re.compile(r"(?<![\w./-])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\w.])")
_KEPT_IPS = re.compile(r"^(?:127\.|0\.0\.0\.0$|255\.)")


def _key_name(key: Any) -> str:
    return re.sub(r"[^a-z]", "", str(key).lower())


class Redactor:
    """Learns what identifies a site from the answers (`learn_json`, `learn_xml`, `add_secret`), then
    rewrites any text (`text`, `bytes`). Learn everything first: a serial learned after a text was
    rewritten would be missing from it."""

    def __init__(self, secrets: Iterable[Optional[str]] = (), key: Optional[bytes] = None):
        self._key = key or os.urandom(32)
        self.mapping: Dict[str, str] = {}  # original -> fake, all kinds
        self._serials: Dict[str, str] = {}
        self._keep: Dict[str, int] = {}
        self._counters: Dict[str, int] = {}
        self._secrets: Dict[str, str] = {}
        self._pattern: Optional[re.Pattern] = None
        for secret in secrets:
            self.add_secret(secret)

    # --- learning ---

    def add_serial(self, value: Any, keep: int = 4, sure: bool = False) -> None:
        """A serial: replaced by a fake of the same shape, keeping its first `keep` characters when it is long
        enough to stay unguessable. Without a digit it is taken only when `sure` (the gateway's own)."""
        text = str(value).strip()
        if sure and not _SERIAL_VALUE.fullmatch(text):
            self.add_secret(text)  # the gateway's own, whatever its shape: it still names the site
            return
        if _SERIAL_VALUE.fullmatch(text) and (sure or any(c.isdigit() for c in text)) and text not in self._serials:
            self._serials[text] = ""  # the fake is made once everything is known (no fake equals a real one)
            self._keep[text] = keep if len(text) >= 10 else 0
            self._pattern = None

    def add_account_id(self, value: Any) -> None:
        """A site, system or account id of Enphase's cloud: nothing of it is kept."""
        text = str(value).strip()
        if re.fullmatch(r"[0-9A-Za-z-]{5,}", text) and any(c.isdigit() for c in text):
            if text not in self._serials:
                self._serials[text], self._keep[text] = "", 0
                self._pattern = None
        else:
            self.add_secret(text)

    def add_secret(self, value: Optional[str]) -> None:
        """A secret the user gave (password, token, username): replaced wherever it appears, JSON-escaped too.
        Shorter than 6 characters it would match the gateway's own words and numbers: left alone."""
        if not value or len(value.strip()) < 6:
            return
        value = value.strip()
        fake = self._next("secret")
        for variant in (value, json.dumps(value)[1:-1]):
            self._secrets.setdefault(variant, fake)
        self._pattern = None

    def add_host(self, host: Optional[str]) -> None:
        """The gateway's address: an IP is replaced like any other, a dotted name as a secret; a bare name
        ("envoy") is the gateway's own word and identifies no one."""
        name = re.sub(r"^[a-z]+://", "", (host or "").strip()).split("/")[0].rsplit(":", 1)[0].strip("[]")
        if "." in name and not _IPV4.fullmatch(name):
            self.add_secret(name)

    def learn_json(self, data: Any) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(key, str) and _SERIAL_KEY.fullmatch(key):
                    self.add_serial(key)
                name = _key_name(key)
                if name in SERIAL_KEYS:
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, (str, int)) and not isinstance(item, bool):
                            self.add_serial(item)
                elif name in ACCOUNT_KEYS and isinstance(value, (str, int)) and not isinstance(value, bool):
                    self.add_account_id(value)
                self.learn_json(value)
        elif isinstance(data, list):
            for item in data:
                self.learn_json(item)

    def learn_xml(self, xml: bytes) -> None:
        for serial in re.findall(rb"<sn>\s*([^<\s]+)\s*</sn>", xml):
            self.add_serial(serial.decode("utf-8", "replace"), sure=True)

    def learn(self, body: bytes) -> None:
        """Whatever an endpoint answered: JSON, the XML of /info, or anything else (nothing to learn)."""
        try:
            self.learn_json(json.loads(body))
        except (ValueError, UnicodeDecodeError, RecursionError):
            self.learn_xml(body)

    # --- fakes ---

    def _next(self, kind: str) -> str:
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return f"redacted-{kind}-{self._counters[kind]}"

    def _fake_serial(self, original: str, taken: set) -> str:
        keep = self._keep.get(original, 0)
        tail = [i for i, c in enumerate(original) if i >= keep and c.isalnum()]
        width = len(tail)
        for attempt in range(1000):
            # Keyed, so the fake tells nothing of the original without the key, and does not depend on the
            # order in which serials were met (the daemon keeps its key: one serial, one fake, report after report).
            digest = hmac.new(self._key, f"{attempt}:{original}".encode("utf-8"), hashlib.sha256).hexdigest()
            digits = str(int(digest, 16))
            filler = ("99" + digits)[:width] if width > 3 else digits[:width]
            chars = list(original)
            for i, digit in zip(tail, filler):
                if original[i].isdigit():
                    chars[i] = digit
                else:  # a letter stays a letter of the same case, hexadecimal when it was
                    letter = "abcdef"[int(digit) % 6]
                    chars[i] = letter.upper() if original[i].isupper() else letter
            fake = "".join(chars)
            if fake not in taken and fake != original:
                return fake
        return self._next("serial")  # no fake of that shape left (a very short id): a word instead

    def _ready(self) -> re.Pattern:
        if self._pattern is None:
            taken = set(self._serials) | {v for v in self._serials.values() if v}
            for original in sorted(self._serials, key=lambda s: (len(s), s)):
                if not self._serials[original]:
                    self._serials[original] = fake = self._fake_serial(original, taken)
                    taken.add(fake)
            self.mapping.update(self._serials)
            self.mapping.update(self._secrets)
            words = sorted(self.mapping, key=len, reverse=True)
            bounded = "|".join(re.escape(w) for w in words if w.isalnum()) or "(?!)"
            loose = "|".join(re.escape(w) for w in words if not w.isalnum()) or "(?!)"
            self._pattern = re.compile(rf"(?<![{_ALNUM}])(?:{bounded})(?![{_ALNUM}])|{loose}")
        return self._pattern

    def _pattern_fake(self, kind: str, original: str) -> str:
        fake = self.mapping.get(original)
        if fake is None:
            count = self._counters[kind] = self._counters.get(kind, 0) + 1
            if kind == "ip":
                fake = f"192.0.2.{count}"
            elif kind == "mac":  # the maker's prefix stays, the device part becomes 99:00:NN-like
                sep = original[2]
                fake = original[:9] + sep.join(["99", f"{count // 100 % 100:02d}", f"{count % 100:02d}"])
            elif kind == "email":
                fake = f"user{count}@example.com"
            else:
                fake = f"redacted-token-{count}"
            self.mapping[original] = fake
        return fake

    # --- rewriting ---

    def text(self, text: str) -> str:
        text = self._ready().sub(lambda m: self.mapping[m.group(0)], text)
        text = _JWT.sub(lambda m: self._pattern_fake("token", m.group(0)), text)
        text = _EMAIL.sub(lambda m: self._pattern_fake("email", m.group(0)), text)
        text = _MAC.sub(lambda m: self._pattern_fake("mac", m.group(0)), text)
        return _IPV4.sub(lambda m: m.group(0) if _KEPT_IPS.match(m.group(0)) else self._pattern_fake("ip", m.group(0)),
                         text)

    def bytes(self, data: bytes) -> bytes:
        # surrogateescape: a body that is not UTF-8 goes through unchanged apart from what is replaced.
        return self.text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def serial(self, original: str) -> str:
        self._ready()
        return self._serials.get(original, original)
