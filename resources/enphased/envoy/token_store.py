"""Where tokens and the Enlighten login budget live between runs: one store per gateway for its token, one
store per folder for the logins of every account (ACCOUNT_LOGINS), files readable by their owner only."""
import functools
import hashlib
import hmac
import json
import os
import threading
from typing import Dict, Optional, Union

from state_file import read_json, write_json  # the one way the daemon writes a file it keeps


class TokenStore:
    """Where a gateway's fetched token lives between runs (one store per gateway), or the logins of the
    Enlighten accounts (one store for all the gateways: ACCOUNT_LOGINS). `lock` guards a load-change-save."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._logins: Optional["TokenStore"] = None

    def load(self) -> Dict:
        raise NotImplementedError

    def save(self, state: Dict) -> None:
        raise NotImplementedError

    def logins(self) -> "TokenStore":
        """Where the logins of the Enlighten accounts are counted for the gateway whose token this store keeps
        (a token kept in memory: in memory beside it)."""
        if self._logins is None:
            self._logins = MemoryTokenStore()
        return self._logins


class MemoryTokenStore(TokenStore):
    def __init__(self, state: Optional[Dict] = None):
        super().__init__()
        self.state = dict(state or {})

    def load(self) -> Dict:
        return json.loads(json.dumps(self.state))

    def save(self, state: Dict) -> None:
        self.state = json.loads(json.dumps(state))


ACCOUNT_LOGINS = "enlighten-logins.json"  # beside the gateways' token files: the logins of each account
_account_stores: Dict[str, "FileTokenStore"] = {}
_account_stores_lock = threading.Lock()


class FileTokenStore(TokenStore):
    """A JSON file readable by its owner only (it holds a token worth a year of access)."""

    def __init__(self, path: Union[str, os.PathLike]):
        super().__init__()
        self.path = os.fspath(path)

    def load(self) -> Dict:
        try:
            state = read_json(self.path)
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def save(self, state: Dict) -> None:
        write_json(self.path, state)

    def logins(self) -> TokenStore:
        """One file per folder of token files (ACCOUNT_LOGINS), shared by every gateway there (its lock too)."""
        path = os.path.join(os.path.dirname(os.path.abspath(self.path)), ACCOUNT_LOGINS)
        with _account_stores_lock:
            return _account_stores.setdefault(path, FileTokenStore(path))




FINGERPRINT_ROUNDS = 200_000  # PBKDF2: a stolen logins file makes no password quick to guess


@functools.lru_cache(maxsize=16)
def credentials_fingerprint(salt: str, username: Optional[str], password: Optional[str]) -> str:
    """How refused credentials are recognised: salted (each store its own salt) and slow on purpose; computed
    once per run for the same credentials."""
    secret = f"{username}\0{password}".encode("utf-8")
    return hashlib.pbkdf2_hmac("sha256", secret, bytes.fromhex(salt), FINGERPRINT_ROUNDS).hex()[:32]


def account_key(salt: str, username: Optional[str]) -> str:
    """An Enlighten account in the logins store: its e-mail as Enlighten compares them (case aside), keyed."""
    email = (username or "").strip().lower().encode("utf-8")
    return hmac.new(bytes.fromhex(salt), email, hashlib.sha256).hexdigest()[:24]
