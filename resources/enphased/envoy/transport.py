"""HTTP to one gateway: one keep-alive connection, one request at a time, generous timeouts.

The gateway has a weak CPU and a self-signed certificate: requests are serialised by a lock, its TLS
certificate is not checked (there is nothing to check it against), and read timeouts are long because
some firmware takes tens of seconds to build /production.json.

Built on the standard library's http.client, not requests: a cycle is a few small GETs on one kept-alive
connection, and requests' per-request machinery (settings merge, cookie jar, hooks, adapter) costs about
twice the CPU of the request itself, and 100 ms and 10 MB at start-up (measured by `make bench`). The
gateway needs nothing of it: no redirects, no proxy, one cookie (sessionId), and HTTP digest is a few
lines of RFC 2617. The Enlighten cloud, reached rarely and with verified TLS, still goes through requests.
"""
import hashlib
import http.client
import json
import os
import select
import socket
import ssl
import threading
from typing import Any, Dict, Optional

from .errors import EnvoyError

# A reused connection that the gateway closed while idle fails on first use: send again once on a new one.
_DROPPED = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError, BrokenPipeError,
            ssl.SSLEOFError)


class ReadTimedOut(EnvoyError):
    """The gateway accepted the connection but did not answer in time (one slow endpoint, or busy)."""


class Answer:
    """What the gateway answered (status_code, content, headers, json(): as much of requests' Response as
    the client reads)."""

    __slots__ = ("status_code", "content", "headers")

    def __init__(self, status_code: int, content: bytes, headers: http.client.HTTPMessage):
        self.status_code = status_code
        self.content = content
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.content)  # ValueError when it is not JSON


def _gateway_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed by design
    context.set_ciphers("DEFAULT")  # older gateways offer ciphers outside Python's narrower default list
    return context


_TLS: Optional[ssl.SSLContext] = None


class DigestAuth:
    """HTTP digest (RFC 2617, MD5, qop=auth or none) as gateways before firmware 7 ask for it. The challenge
    is kept, so after the first 401 every request carries its answer and is sent once."""

    def __init__(self, username: str, password: str):
        self.username = username
        self._password = password
        self._challenge: Optional[Dict[str, str]] = None
        self._count = 0

    def learn(self, header: str) -> bool:
        """Take the challenge of a 401; False when it is not one we can answer."""
        if not header.lower().startswith("digest "):
            return False
        fields = {}
        for part in header[7:].split(","):
            name, _, value = part.strip().partition("=")
            fields[name.strip().lower()] = value.strip().strip('"')
        if "nonce" not in fields or fields.get("algorithm", "MD5").upper() != "MD5":
            return False
        self._challenge, self._count = fields, 0
        return True

    def header(self, method: str, uri: str) -> Optional[str]:
        challenge = self._challenge
        if challenge is None:
            return None
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731 - the digest algorithm, not security
        realm, nonce = challenge.get("realm", ""), challenge["nonce"]
        ha1, ha2 = md5(f"{self.username}:{realm}:{self._password}"), md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
                 'algorithm="MD5"']
        if "auth" in challenge.get("qop", "").split(","):
            self._count += 1
            nc, cnonce = f"{self._count:08x}", os.urandom(8).hex()
            parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"',
                      f'response="{md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")}"']
        else:
            parts.append(f'response="{md5(f"{ha1}:{nonce}:{ha2}")}"')
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        return "Digest " + ", ".join(parts)


class Transport:
    def __init__(self, base_url: str, *, read_timeout_s: float = 45.0, connect_timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        scheme, _, self._netloc = self.base_url.partition("://")
        self._tls = scheme == "https"
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.headers: Dict[str, str] = {"User-Agent": "jeedom-enphase", "Accept": "application/json"}
        self.auth: Optional[DigestAuth] = None
        self.cookies: Dict[str, str] = {}  # the gateway's sessionId, sent back as a browser would
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()
        self.requests_sent = 0

    @property
    def host(self) -> str:
        return self._netloc

    def request(self, method: str, path: str, *, timeout: Optional[float] = None,
                headers: Optional[Dict[str, str]] = None, json: Any = None) -> Answer:
        """Send one request. Raises EnvoyError("unreachable") when no answer comes; any answer is returned."""
        read_timeout = self.timeout[1] if timeout is None else timeout
        body = None
        sent = dict(self.headers)
        if headers:
            sent.update(headers)
        if json is not None:
            body = _json_bytes(json)
            sent["Content-Type"] = "application/json"
        with self._lock:
            answer = self._exchange(method, path, body, sent, read_timeout)
            if answer.status_code == 401 and self.auth is not None and \
                    self.auth.learn(answer.headers.get("WWW-Authenticate") or ""):
                answer = self._exchange(method, path, body, sent, read_timeout)  # the challenge answered, once
            return answer

    def _exchange(self, method, path, body, headers, read_timeout) -> Answer:
        if self.auth is not None:
            digest = self.auth.header(method, path)
            if digest:
                headers = dict(headers, Authorization=digest)
        if self.cookies:
            headers = dict(headers, Cookie="; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        self.requests_sent += 1
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._connection()
            except (OSError, http.client.HTTPException) as exc:  # refused, no route, TLS failure, connect timeout
                self._drop()
                raise self._unreachable(exc) from None
            try:
                conn.sock.settimeout(read_timeout)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
            except socket.timeout:
                self._drop()
                raise ReadTimedOut(
                    "unreachable",
                    f"The gateway at {self.host} did not answer {path} within {read_timeout:.0f} s; "
                    "it may be busy or restarting, the plugin will try again.",
                ) from None
            except _DROPPED as exc:
                self._drop()
                if reused and attempt == 1:
                    continue
                raise self._unreachable(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise self._unreachable(exc) from None
            if response.will_close:
                self._drop()
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                if name.strip():
                    self.cookies[name.strip()] = value.strip()
            return Answer(response.status, content, response.headers)
        raise AssertionError("unreachable code")  # the loop returns or raises

    def _unreachable(self, exc: BaseException) -> EnvoyError:
        return EnvoyError(
            "unreachable",
            f"Cannot reach the gateway at {self.host} ({type(exc).__name__}); check its address and that it is "
            "on the network.",
        )

    def _connection(self) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is not None and _closed_by_peer(conn.sock):
            self._drop()
            conn = None
        if conn is None:
            global _TLS
            connect_timeout = self.timeout[0]
            if self._tls:
                if _TLS is None:
                    _TLS = _gateway_tls()
                conn = http.client.HTTPSConnection(self._netloc, timeout=connect_timeout, context=_TLS)
            else:
                conn = http.client.HTTPConnection(self._netloc, timeout=connect_timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _closed_by_peer(sock: Optional[socket.socket]) -> bool:
    """An idle kept-alive socket that is readable has been closed (or spoken on) by the gateway."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
