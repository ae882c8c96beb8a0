"""An Envoy on a real socket: HTTP or HTTPS on 127.0.0.1, with the auth of its firmware.

`serve(gateway)` puts anything with `info_xml()` and `response(path)` (a RecordedGateway, the synthetic
gateway) behind the rules a real gateway applies:
- firmware < 7: plain HTTP, HTTP digest (realm enphaseenergy.com, users envoy and installer) on every
  endpoint except /info and the production summaries older firmware serve openly;
- firmware >= 7: HTTPS with a self-signed certificate; `GET /auth/check_jwt` with a Bearer token opens a
  session (sessionId cookie); other endpoints want that cookie or the Bearer header, else 401.
Accepted tokens are those the cloud stand-in signs with TOKEN_KEY for this gateway's serial, and, when the
gateway is lax, any JWT whose `exp` is in the future (readers under test craft their own).

Every request served is recorded (method, path, status, time) so tests and benchmarks can count them.
`faults` (a `Faults`; simulator/faults.py has the plans) is consulted on each connection, before each
request and on each answer; a gateway with `handle_write(method, path, body)` answers POST and PUT
(controls, issue 7).
"""
import atexit
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

import jwt

from envoy.auth import DIGEST_REALM, default_envoy_password, installer_password

from .recorded import Response

# The key Enphase signs tokens with, as far as this process's simulated gateways and cloud are concerned.
TOKEN_KEY = secrets.token_bytes(32)

RESET = "reset"  # what a fault returns to drop the connection without an answer

# Firmware < 7 serves these without auth (the production summaries and the identity page).
DIGEST_OPEN_PATHS = frozenset({"/info", "/info.xml", "/production", "/production.json", "/api/v1/production", "/home"})


# --- plumbing shared with the cloud stand-in ------------------------------------------------------------------

class Request(NamedTuple):
    method: str
    path: str  # with its query
    headers: Mapping[str, str]
    body: bytes


class Reply(NamedTuple):
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Tuple[Tuple[str, str], ...] = ()


class Served(NamedTuple):
    method: str
    path: str
    status: Optional[int]  # None when the connection was dropped on purpose
    time: float


_cert_lock = threading.Lock()
_cert_paths: Optional[Tuple[str, str]] = None


def certificate() -> Tuple[str, str]:
    """(certificate, key) paths of a self-signed certificate for 127.0.0.1, made once per process."""
    global _cert_paths
    with _cert_lock:
        if _cert_paths is None:
            folder = tempfile.mkdtemp(prefix="envoy-sim-tls-")
            atexit.register(shutil.rmtree, folder, True)
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-days", "30", "-subj", "/CN=envoy.local", "-keyout", key, "-out", cert,
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            _cert_paths = (cert, key)
        return _cert_paths


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway does
    timeout = 30  # an idle keep-alive connection is closed after this

    def log_message(self, format, *args):  # quiet: the recorder below keeps what tests need
        pass

    def _serve(self):
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = owner.faults.before(self.command, self.path)
        if fault is None:
            reply = owner.handle(Request(self.command, self.path, self.headers, body))
        else:
            reply = Reply(fault.status, fault.body, fault.content_type) if isinstance(fault, Response) else fault
        if reply != RESET:
            reply = owner.faults.after(self.command, self.path, reply)
        if reply == RESET:
            owner.record(self.command, self.path, None)
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            return
        owner.record(self.command, self.path, reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class _ThreadedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner, port, context):
        self.owner = owner
        self.context = context
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def verify_request(self, request, client_address):
        return self.owner.faults.accept()  # False: closed at once, as by a gateway that is down

    def handle_error(self, request, client_address):
        # A client that leaves mid-answer (its timeout, its process stopping) is no error of the gateway's:
        # socketserver would print a traceback, into the daemon's own log when it plays a demo gateway.
        error = sys.exc_info()[1]
        if not (isinstance(error, (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError))
                or getattr(error, "errno", None) == errno.ENOTCONN):
            super().handle_error(request, client_address)

    def finish_request(self, request, client_address):
        # TLS handshake here, in the connection's own thread, so a silent client blocks nobody.
        if self.context is not None:
            request.settimeout(10)
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms each.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)
            try:
                request.close()
            except OSError:
                pass

    def drop_connections(self):
        with self.connections_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Faults:
    """Misbehaviour on demand, none by default (simulator/faults.py has the plans).

    `accept()` False closes a new connection at once; `before(method, path)` may sleep, return a Response
    or Reply to answer instead of the server, or RESET to drop the connection (None lets the request
    through); `after(method, path, reply)` may change the answer on its way out."""

    def attach(self, server) -> None:
        pass

    def accept(self) -> bool:
        return True

    def before(self, method: str, path: str):
        return None

    def after(self, method: str, path: str, reply: "Reply"):
        return reply


class LoopbackServer:
    """A threaded HTTP(S) server on 127.0.0.1 that passes each request to `handle` and records it."""

    def __init__(self, *, tls: bool, port: int = 0, faults: Optional[Faults] = None):
        self.tls = tls
        self.faults = faults or Faults()
        self._wanted_port = port
        self._server: Optional[_ThreadedServer] = None
        self._thread: Optional[threading.Thread] = None
        self._served: List[Served] = []
        self._served_lock = threading.Lock()

    def handle(self, request: Request):
        raise NotImplementedError

    @property
    def cert_path(self) -> Optional[str]:
        """The certificate to trust when talking to this server over https (tests of verified TLS)."""
        return certificate()[0] if self.tls else None

    def start(self) -> "LoopbackServer":
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate())
        self._server = _ThreadedServer(self, self._wanted_port, context)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.drop_connections()
            self._thread.join()
            self._server = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def record(self, method: str, path: str, status: Optional[int]) -> None:
        with self._served_lock:
            self._served.append(Served(method, path, status, time.time()))

    @property
    def requests(self) -> List[Served]:
        with self._served_lock:
            return list(self._served)

    def count(self, path: Optional[str] = None, method: Optional[str] = None) -> int:
        return sum(1 for r in self.requests if (path is None or r.path == path) and (method is None or r.method == method))

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the gateway ---------------------------------------------------------------------------------------------

def identity(info_xml: bytes) -> Tuple[str, int]:
    """(serial, firmware major) from /info, read here with the stdlib so the simulator stands alone."""
    try:
        device = ET.fromstring(info_xml).find("device")
    except ET.ParseError:
        return "", 0
    if device is None:
        return "", 0
    major = re.match(r"[A-Za-z]*(\d+)", (device.findtext("software") or "").strip())  # "D7.6.175", "M4.2.33"
    return (device.findtext("sn") or "").strip(), int(major.group(1)) if major else 0


@dataclass
class GatewayAuth:
    """How the simulated gateway checks who is asking."""

    mode: str  # "none" | "digest" | "jwt"
    users: Dict[str, str] = field(default_factory=dict)  # digest user -> password
    open_paths: FrozenSet[str] = DIGEST_OPEN_PATHS  # digest only
    token_key: bytes = TOKEN_KEY  # jwt: tokens signed with it (for this serial) are accepted
    lax: bool = False  # jwt: also accept any unexpired JWT, whatever its signature
    bearer_ok: bool = True  # jwt: accept the Bearer header without the session cookie
    session_idle_s: float = 600.0  # jwt: a session unused this long is gone
    # Paths only an installer may use (token role "installer", or digest user "installer"); others get 401.
    installer_paths: Tuple[str, ...] = ("/ivp/mod/", "/installer/")

    @classmethod
    def for_firmware(cls, serial: str, firmware_major: int, **options) -> "GatewayAuth":
        if firmware_major >= 7:
            return cls("jwt", **options)
        users = {"envoy": default_envoy_password(serial), "installer": installer_password(serial)}
        return cls("digest", users=users, **options)


def _parse_digest(header: str) -> Dict[str, str]:
    fields = {}
    for part in header[len("Digest "):].split(","):
        name, _, value = part.strip().partition("=")
        fields[name.strip().lower()] = value.strip().strip('"')
    return fields


def _role(token: str) -> Optional[str]:
    """The `enphaseUser` claim of an already accepted token."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("enphaseUser")
    except jwt.PyJWTError:
        return None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class GatewaySimulator(LoopbackServer):
    def __init__(self, gateway, *, tls: Optional[bool] = None, auth: Optional[GatewayAuth] = None,
                 faults: Optional[Faults] = None, port: int = 0, clock: Callable[[], float] = time.time):
        self.gateway = gateway
        self.serial, firmware_major = identity(gateway.info_xml())
        super().__init__(tls=firmware_major >= 7 if tls is None else tls, port=port, faults=faults)
        self.auth = auth or GatewayAuth.for_firmware(self.serial, firmware_major)
        self.faults.attach(self)
        self.clock = clock
        self.sessions: Dict[str, List] = {}  # sessionId -> [token, last use]
        self.revoked: set = set()
        self._seen_tokens: set = set()
        self._nonces: set = set()
        self._lock = threading.Lock()

    # -- what tests do to it --

    def drop_sessions(self) -> None:
        """Forget every session, as a reboot does."""
        with self._lock:
            self.sessions.clear()

    def revoke_tokens(self) -> None:
        """Refuse every token presented so far (as when Enphase revokes them)."""
        with self._lock:
            self.revoked |= self._seen_tokens
            self.sessions.clear()

    # -- the rules --

    def _token_ok(self, token: str) -> bool:
        with self._lock:
            self._seen_tokens.add(token)
            if token in self.revoked:
                return False
        try:  # expiry is checked below against the simulator's clock
            jwt.decode(token, self.auth.token_key, algorithms=["HS256"], audience=self.serial,
                       options={"verify_exp": False})
        except jwt.PyJWTError:
            if not self.auth.lax:
                return False
        try:
            claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
        except jwt.PyJWTError:
            return False
        exp = claims.get("exp")
        return isinstance(exp, (int, float)) and exp > self.clock()

    def _bearer(self, request: Request) -> Optional[str]:
        header = request.headers.get("Authorization") or ""
        return header[7:].strip() if header.startswith("Bearer ") else None

    def _session(self, request: Request) -> Optional[str]:
        for part in (request.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "sessionId":
                return value
        return None

    def _jwt(self, request: Request) -> Optional[Reply]:
        """None when the request may go on, else the refusal (or check_jwt's own answer)."""
        bearer = self._bearer(request)
        if request.path.split("?")[0] == "/auth/check_jwt":
            if bearer and self._token_ok(bearer):
                session = secrets.token_hex(16)
                with self._lock:
                    self.sessions[session] = [bearer, self.clock()]
                cookie = f"sessionId={session}; Path=/; HttpOnly" + ("; Secure" if self.tls else "")
                return Reply(200, b"<!DOCTYPE html><h2>Valid token.</h2>\n", "text/html", (("Set-Cookie", cookie),))
            return Reply(401, b"<!DOCTYPE html><h2>Invalid token.</h2>\n", "text/html")
        with self._lock:
            session_token = None
            session = self.sessions.get(self._session(request) or "")
            if session is not None and self.clock() - session[1] <= self.auth.session_idle_s:
                session[1] = self.clock()
                session_token = session[0]
        token = session_token if session_token is not None and self._token_ok(session_token) else \
            bearer if bearer and self.auth.bearer_ok and self._token_ok(bearer) else None
        if token is not None and (not self._installer_only(request) or _role(token) == "installer"):
            return None
        return Reply(401, b'{"status":401,"error":"","info":"","moreInfo":""}')

    def _installer_only(self, request: Request) -> bool:
        return request.path.startswith(self.auth.installer_paths)

    def _digest(self, request: Request) -> Optional[Reply]:
        if request.path.split("?")[0] in self.auth.open_paths:
            return None
        header = request.headers.get("Authorization") or ""
        if header.startswith("Digest "):
            got = _parse_digest(header)
            password = self.auth.users.get(got.get("username", ""))
            with self._lock:
                known_nonce = got.get("nonce") in self._nonces
            if password is not None and known_nonce and got.get("realm") == DIGEST_REALM:
                ha1 = _md5(f"{got['username']}:{DIGEST_REALM}:{password}")
                ha2 = _md5(f"{request.method}:{got.get('uri', '')}")
                if got.get("qop"):
                    expected = _md5(f"{ha1}:{got['nonce']}:{got.get('nc', '')}:{got.get('cnonce', '')}:{got['qop']}:{ha2}")
                else:
                    expected = _md5(f"{ha1}:{got['nonce']}:{ha2}")
                if secrets.compare_digest(expected, got.get("response", "")) and (
                        got["username"] == "installer" or not self._installer_only(request)):
                    return None
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        challenge = f'Digest realm="{DIGEST_REALM}", qop="auth", nonce="{nonce}", algorithm=MD5'
        return Reply(401, b"<html><body>401 Unauthorized</body></html>", "text/html", (("WWW-Authenticate", challenge),))

    def handle(self, request: Request):
        if request.path.split("?")[0] in ("/info", "/info.xml") and request.method == "GET":
            return Reply(200, self.gateway.info_xml(), "application/xml")
        refusal = {"jwt": self._jwt, "digest": self._digest}.get(self.auth.mode, lambda r: None)(request)
        if refusal is not None:
            return refusal
        if request.method in ("GET", "HEAD"):
            answer = self.gateway.response(request.path)
        elif hasattr(self.gateway, "handle_write"):
            answer = self.gateway.handle_write(request.method, request.path, request.body)
        else:
            return Reply(405, b"", "text/html")
        return Reply(answer.status, answer.body, answer.content_type)


def serve(gateway, *, tls: Optional[bool] = None, auth=None, faults: Optional[Faults] = None, port: int = 0,
          lax: bool = False) -> GatewaySimulator:
    """Serve `gateway` on 127.0.0.1 (port 0: a free one), started; use it in a `with` block or stop() it.

    `tls` and `auth` default from the firmware in its /info. `auth` is a GatewayAuth or one of the modes
    "none", "digest", "jwt", or "lax" (the firmware's mode, accepting any unexpired JWT; so does `lax`)."""
    if not isinstance(auth, GatewayAuth):
        serial, major = identity(gateway.info_xml())
        major = {"jwt": 7, "digest": 0}.get(auth, major)
        auth = GatewayAuth("none") if auth == "none" else \
            GatewayAuth.for_firmware(serial, major, lax=lax or auth == "lax")
    return GatewaySimulator(gateway, tls=tls, auth=auth, faults=faults, port=port).start()
