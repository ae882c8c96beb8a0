"""Who we are to the gateway: digest passwords (firmware < 7) and JWT tokens (firmware >= 7).

Tokens come pasted by the user or fetched from Enlighten. Enphase locks accounts that log in too often, so
every fetch goes through a login budget per Enlighten account, whatever gateway asks and across restarts:
kept in one store beside the gateways' tokens (ACCOUNT_LOGINS), a token is reused until shortly before it
expires, logins are counted over a rolling day, a failed one waits minutes, and refused credentials are not
tried again until they change (recognised by a salted, slow fingerprint: the password itself is never kept).
"""
import base64
import functools
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

from .enlighten import CredentialsRefused, Enlighten
from .errors import EnvoyError
from .token_store import MemoryTokenStore, TokenStore, account_key, credentials_fingerprint

log = logging.getLogger(__name__)

DIGEST_REALM = "enphaseenergy.com"


# --- digest (firmware < 7) --------------------------------------------------------------------------------

def default_envoy_password(serial: str) -> str:
    """User `envoy`'s factory password: the last 6 characters of the serial."""
    return serial[-6:]


def installer_password(serial: str) -> str:
    """User `installer`'s password, derived from the serial the way the gateway derives it."""
    digest = hashlib.md5(
        ("[e]installer@enphaseenergy.com#" + serial + " EnPhAsE eNeRgY ").encode()
    ).hexdigest()
    zeros, ones = digest.count("0"), digest.count("1")
    out = []
    for char in reversed(digest[-8:]):
        if zeros in (3, 6, 9):
            zeros = max(zeros - 1, 0)
        if zeros > 20:
            zeros = 20
        if ones in (9, 15):
            ones = max(ones - 1, 0)
        if ones > 26:
            ones = 26
        if char == "0":
            out.append(chr(ord("f") + zeros))
            zeros = max(zeros - 1, 0)
        elif char == "1":
            out.append(chr(ord("@") + ones))
            ones = max(ones - 1, 0)
        else:
            out.append(char)
    return "".join(out)


# --- tokens (firmware >= 7) ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenClaims:
    expires: Optional[int]  # epoch seconds (`exp`)
    issued: Optional[int]  # epoch seconds (`iat`)
    role: str  # `enphaseUser`: "owner" | "installer" | "" when absent


@functools.lru_cache(maxsize=8)
def token_claims(token: str) -> TokenClaims:
    """The claims we need, read without checking the signature (only the gateway can check it).

    Cached: the client asks before every read and a token never changes. Read here, not by pyjwt: importing it
    (and urllib.request, tempfile, shutil, bz2, lzma with it) would cost the daemon 1.4 MB of memory for a
    base64 decoding. A token is refused as pyjwt 2.15 refuses it unverified: not three dot-separated parts in
    canonical base64url, or a header or payload that is not a JSON object, or a detached payload ("b64": false).
    """
    try:
        signed, signature = token.rsplit(".", 1)
        header_part, payload_part = signed.split(".", 1)
        header, claims = json.loads(_base64url(header_part)), json.loads(_base64url(payload_part))
        _base64url(signature)
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("b64", True) is False:
            raise ValueError("not a JWT")
    except (ValueError, RecursionError):  # binascii.Error and UnicodeError are ValueErrors
        raise EnvoyError(
            "auth_failed",
            "The token is not a valid Enphase token (it should be a long text with two dots); "
            "copy it again from the Enphase token site or enter Enlighten credentials instead.",
            "token_invalid",
        ) from None

    def _int(name):
        value = claims.get(name)
        return int(value) if isinstance(value, (int, float)) else None

    return TokenClaims(_int("exp"), _int("iat"), str(claims.get("enphaseUser") or ""))


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _base64url(part: str) -> bytes:
    """One part of a token: the base64url alphabet only, canonical, its "=" padding optional (raises ValueError)."""
    data = part.rstrip("=")
    if len(part) - len(data) > 2 or (data != part and len(part) % 4) or not _BASE64URL.fullmatch(data):
        raise ValueError("not base64url")
    decoded = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != data.encode("ascii"):
        raise ValueError("not canonical base64url")
    return decoded


def utc_date(epoch: Optional[float]) -> str:
    if epoch is None:
        return "an unknown date"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def refresh_margin_s(claims: TokenClaims) -> float:
    """How long before expiry a token is renewed: a tenth of its life, between 10 minutes and 3 days."""
    if claims.expires is not None and claims.issued is not None and claims.expires > claims.issued:
        return min(3 * 86400.0, max(600.0, (claims.expires - claims.issued) / 10))
    return 3600.0


# --- the token of one gateway -------------------------------------------------------------------------------

@dataclass
class LoginBudget:
    """Limits on Enlighten logins so the account is never locked: per account, for all its gateways."""

    max_per_day: int = 5
    first_backoff_s: float = 300.0  # after a failed login; doubles with each further failure
    max_backoff_s: float = 86400.0


class TokenSource:
    """The token for one gateway: the pasted one, else a stored one, else one fetched within the budget."""

    def __init__(
        self,
        serial: str,
        *,
        token: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        store: Optional[TokenStore] = None,
        enlighten: Optional[Enlighten] = None,
        budget: Optional[LoginBudget] = None,
        clock: Callable[[], float] = time.time,
        logins: Optional[TokenStore] = None,
    ):
        self.serial = serial
        self.pasted = token.strip() if token else None
        self.username = username
        self.password = password
        self.store = store or MemoryTokenStore()
        self.logins = logins or self.store.logins()  # the account's logins, shared with its other gateways
        self.enlighten = enlighten or Enlighten()
        self.budget = budget or LoginBudget()
        self.clock = clock
        self._renewal_failed = False

    @property
    def can_fetch(self) -> bool:
        return bool(self.username and self.password)

    def _stored(self) -> Optional[str]:
        state = self.store.load()
        if state.get("serial") == self.serial and state.get("username") == self.username and state.get("token"):
            return state["token"]
        return None

    def _fresh(self, token: str) -> bool:
        claims = token_claims(token)
        return claims.expires is None or claims.expires - refresh_margin_s(claims) > self.clock()

    def _valid(self, token: str) -> bool:
        claims = token_claims(token)
        return claims.expires is None or claims.expires > self.clock()

    def token(self) -> str:
        """A token to present now. Renews it ahead of expiry when credentials allow; never logs in needlessly."""
        candidates = [t for t in (self.pasted, self._stored() if self.can_fetch else None) if t]
        for candidate in candidates:
            if self._fresh(candidate):
                return candidate
        current = next((t for t in candidates if self._valid(t)), None)
        if self.can_fetch:
            try:
                return self.fetch()
            except EnvoyError as exc:
                if current is None:
                    raise
                # Still valid for a while: keep using it and try again at a later call (said once).
                if not self._renewal_failed:
                    log.warning("Token renewal ahead of expiry failed (%s); the current token stays in use until "
                                "%s", exc.code, utc_date(token_claims(current).expires))
                self._renewal_failed = True
                return current
        if current is not None:
            return current
        if self.pasted:
            raise EnvoyError(
                "token_expired",
                f"The token expired on {utc_date(token_claims(self.pasted).expires)}; paste a new token "
                "or enter Enlighten credentials so the plugin renews it itself.",
            )
        raise EnvoyError(
            "auth_failed",
            "This gateway (firmware 7 or later) needs a token: paste one from entrez.enphaseenergy.com "
            "or enter Enlighten credentials.",
            "token_needed",
        )

    def renew(self, rejected: str) -> str:
        """The gateway refused `rejected`: fetch another one once (within the budget), or say what to do."""
        if self.can_fetch:
            state = self.store.load()
            if state.get("token") == rejected:
                state.pop("token", None)
                self.store.save(state)
            return self.fetch()
        if not self._valid(rejected):
            raise EnvoyError(
                "token_expired",
                f"The token expired on {utc_date(token_claims(rejected).expires)}; paste a new token "
                "or enter Enlighten credentials so the plugin renews it itself.",
            )
        raise EnvoyError(
            "auth_failed",
            "The gateway refused the token; check that it was made for this gateway's serial number, "
            "or enter Enlighten credentials.",
        )

    # -- the budget, per account --

    def _account(self) -> Tuple[Dict, Dict, str]:
        """(the whole logins store, this account's entry in it, the store's salt), to change and save under
        the store's lock."""
        book = self.logins.load()
        salt = book.get("salt")
        if not isinstance(salt, str) or not re.fullmatch(r"[0-9a-f]{32}", salt):
            salt = os.urandom(16).hex()
            book = {"salt": salt}
        accounts = book.get("accounts")
        if not isinstance(accounts, dict):
            accounts = book["accounts"] = {}
        key = account_key(salt, self.username)
        account = accounts.get(key)
        if not isinstance(account, dict):
            account = accounts[key] = {}
        return book, account, salt

    def _check_budget(self, account: Dict, now: float) -> List[float]:
        logins = [t for t in _times(account.get("logins")) if now - t < 86400]
        retry_after = _number(account.get("retry_after"))
        if now < retry_after:
            raise EnvoyError(
                "login_throttled",
                f"The last Enlighten login failed; to protect the account from being locked the next "
                f"attempt waits until {utc_date(retry_after)}.",
            )
        if len(logins) >= self.budget.max_per_day:
            raise EnvoyError(
                "login_throttled",
                f"Already {len(logins)} Enlighten logins in 24 hours for this account (all its gateways); to "
                f"protect it from being locked the next is allowed at {utc_date(min(logins) + 86400)}.",
            )
        return logins

    def fetch(self) -> str:
        """Log in to Enlighten for a new token, if the account's budget allows; records the attempt either way.
        One login at a time per store of logins: a gateway of the account waits for another's to end, then
        sees its outcome (the refusal of a wrong password, the count)."""
        with self.logins.lock:
            return self._fetch(self.clock())

    def _fetch(self, now: float) -> str:
        book, account, salt = self._account()
        fingerprint = credentials_fingerprint(salt, self.username, self.password)
        if account.get("refused") == fingerprint:
            # Trying them again would only count towards Enphase's lock-out.
            refused_at = account.get("refused_at")
            raise CredentialsRefused(
                "auth_failed",
                f"Enlighten refused this email and password on "
                f"{utc_date(refused_at if isinstance(refused_at, (int, float)) else None)}; the plugin will not try "
                "them again, so the account is not locked: check them on enlighten.enphaseenergy.com and enter "
                "them again.",
            )
        if account.get("failed_with") not in (None, fingerprint):
            account.update(failures=0, retry_after=0)  # new credentials: the old ones' back-off is theirs
        account["logins"] = self._check_budget(account, now) + [now]
        try:
            self.logins.save(book)  # counted before trying: an attempt that crashes still counts
        except OSError as exc:  # not counted, not tried: the account is never at risk
            raise EnvoyError(
                "login_throttled",
                f"An Enlighten login cannot be counted ({exc.strerror}: the plugin's data folder cannot be "
                "written), so none is tried, to protect the account from being locked.",
            ) from None
        try:
            token = self.enlighten.fetch_token(self.username, self.password, self.serial)
            token_claims(token)  # raises if Enphase answered something that is not a token
        except EnvoyError as exc:
            failures = int(_number(account.get("failures"))) + 1
            backoff = min(self.budget.first_backoff_s * 2 ** (failures - 1), self.budget.max_backoff_s)
            account.update(failures=failures, retry_after=now + backoff, failed_with=fingerprint)
            if isinstance(exc, CredentialsRefused):
                account.update(refused=fingerprint, refused_at=now)
            self.logins.save(book)
            raise
        account.pop("refused", None)
        account.pop("refused_at", None)
        account.update(failures=0, retry_after=0)
        self.logins.save(book)
        self._renewal_failed = False
        state = self.store.load()
        state.update(token=token, serial=self.serial, username=self.username)
        self.store.save(state)
        log.info("Fetched a new token from Enlighten for gateway %s", self.serial)
        return token

    def forget_failures(self) -> None:
        """The user changed the credentials: the back-off of the old ones no longer applies (the count does)."""
        with self.logins.lock:
            book, account, _ = self._account()
            account.update(failures=0, retry_after=0)
            self.logins.save(book)


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _times(value) -> List[float]:
    """A list of login times as stored (anything else in it left out)."""
    return sorted(float(t) for t in value if isinstance(t, (int, float)) and not isinstance(t, bool)) \
        if isinstance(value, list) else []
