"""A stand-in for the Enphase cloud: the Enlighten login and the entrez token service, on 127.0.0.1.

- `POST /login/login.json` (form `user[email]`, `user[password]`): 200 with a `session_id`; 200 without one
  for an account with two-factor login; 401 for a wrong email or password.
- `POST /tokens` (JSON `session_id`, `serial_num`, `username`): the raw JWT, signed with the key the
  simulated gateways trust, with the claims real tokens carry (`aud` = serial, `exp`, `iat`, `enphaseUser`).
Logins are counted, so tests can check that the client spares the account.
"""
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional
from urllib.parse import parse_qs

import jwt

from .server import TOKEN_KEY, Faults, LoopbackServer, Reply, Request

LIFETIME_S = {"owner": 365 * 86400, "installer": 12 * 3600}

# Test credentials of the demo (never real ones).
DEMO_EMAIL = "demo@example.invalid"
DEMO_PASSWORD = "demo-password"


@dataclass
class Account:
    email: str
    password: str
    role: str = "owner"  # "owner" | "installer"
    two_factor: bool = False
    serials: Optional[Iterable[str]] = None  # gateways of the account; None: any


def issue_token(serial: str, *, role: str = "owner", username: str = DEMO_EMAIL, lifetime_s: Optional[float] = None,
                key: bytes = TOKEN_KEY, now: Optional[float] = None) -> str:
    """A token as entrez makes it (tests also use it for a "pasted" token)."""
    now = time.time() if now is None else now
    lifetime = LIFETIME_S.get(role, LIFETIME_S["owner"]) if lifetime_s is None else lifetime_s
    claims = {"aud": serial, "iss": "Entrez", "enphaseUser": role, "username": username,
              "iat": int(now), "exp": int(now + lifetime), "jti": secrets.token_hex(8)}
    return jwt.encode(claims, key, algorithm="HS256")


class CloudSimulator(LoopbackServer):
    def __init__(self, accounts: Iterable[Account], *, tls: bool = False, port: int = 0, key: bytes = TOKEN_KEY,
                 lifetime_s: Optional[float] = None, clock: Callable[[], float] = time.time,
                 faults: Optional[Faults] = None):
        super().__init__(tls=tls, port=port, faults=faults)
        self.accounts: Dict[str, Account] = {a.email: a for a in accounts}
        self.key = key
        self.lifetime_s = lifetime_s
        self.clock = clock
        self.logins = 0  # every login attempt, good or bad
        self.tokens_issued = 0
        self._sessions: Dict[str, Account] = {}
        self._lock = threading.Lock()

    def _login(self, request: Request) -> Reply:
        form = parse_qs(request.body.decode("utf-8", "replace"))
        email = (form.get("user[email]") or [""])[0]
        password = (form.get("user[password]") or [""])[0]
        with self._lock:
            self.logins += 1
        account = self.accounts.get(email)
        if account is None or not secrets.compare_digest(account.password.encode(), password.encode()):
            return Reply(401, json.dumps({"message": "Invalid email or password"}).encode())
        if account.two_factor:
            return Reply(200, json.dumps({"message": "success", "requires_mfa": True, "is_consumer": True}).encode())
        session_id = secrets.token_hex(16)
        with self._lock:
            self._sessions[session_id] = account
        return Reply(200, json.dumps({"message": "success", "session_id": session_id, "is_consumer": True}).encode())

    def _token(self, request: Request) -> Reply:
        try:
            wanted = json.loads(request.body)
            account = self._sessions.get(wanted.get("session_id") or "")
            serial = str(wanted.get("serial_num") or "")
        except (ValueError, AttributeError):
            return Reply(400, b'{"message":"Bad request"}')
        if account is None or wanted.get("username") != account.email:
            return Reply(401, b'{"message":"Invalid session"}')
        if not serial or (account.serials is not None and serial not in set(account.serials)):
            return Reply(400, b'{"message":"Serial number not found for this user"}')
        with self._lock:
            self.tokens_issued += 1
        token = issue_token(serial, role=account.role, username=account.email, lifetime_s=self.lifetime_s,
                            key=self.key, now=self.clock())
        return Reply(200, token.encode(), "text/plain")

    def handle(self, request: Request) -> Reply:
        route = (request.method, request.path.split("?")[0])
        if route == ("POST", "/login/login.json"):
            return self._login(request)
        if route == ("POST", "/tokens"):
            return self._token(request)
        return Reply(404, b'{"message":"Not found"}')


def serve_cloud(accounts: Iterable[Account] = (), *, tls: bool = False, port: int = 0, **options) -> CloudSimulator:
    """Serve the cloud stand-in on 127.0.0.1, started; use it in a `with` block or stop() it.

    One URL serves both the Enlighten login and the token service (set both cloud URLs to it)."""
    return CloudSimulator(accounts, tls=tls, port=port, **options).start()
