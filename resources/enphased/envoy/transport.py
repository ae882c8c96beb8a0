"""HTTP to one gateway: one kept-alive connection, one request at a time, each within a deadline.

HTTP/1.1 is the standard library's `http.client` (the daemon already loads it for the callback to
Jeedom); digest auth is `urllib.request`'s. Measured by tests/bench/http_stacks.py, per HTTPS GET of a
3.6 kB answer, decoded: http.client 0.10 ms of CPU, urllib3 0.20 ms, requests 0.49 ms and 8 MB more
(docs/performance.md). requests stays for the Enlighten cloud, reached rarely, with verified TLS.

What the gateway needs on top: requests serialised by a lock (its CPU is weak), its self-signed TLS
certificate taken as it is (there is nothing to check it against), its sessionId cookie sent back whatever
its host (an IP address, where cookie jars refuse cookies), and what envoy/limits.py bounds: the answer's
size, read in pieces and refused past the limit, and the request's total time, so that a gateway answering
a byte at a time cannot hold a cycle (a socket timeout only bounds each wait).
"""
import http.client
import io
import json
import select
import socket
import ssl
import threading
import time
from typing import Any, Dict, Optional

from .errors import EnvoyError
from .limits import MAX_ANSWER_BYTES, REQUEST_DEADLINE_S, decode_json

PIECE_BYTES = 65536  # an answer without a length is read this much at a time


class ReadTimedOut(EnvoyError):
    """The gateway accepted the connection but did not answer in time (one slow endpoint, or busy)."""


class AnswerTooLarge(EnvoyError):
    """The gateway's answer is larger than MAX_ANSWER_BYTES: refused, the rest left unread."""


class Answer:
    """What the gateway answered (status_code, content, headers read by case-insensitive name, json())."""

    __slots__ = ("status_code", "content", "headers")

    def __init__(self, status_code: int, content: bytes, headers):
        self.status_code = status_code
        self.content = content
        self.headers = headers  # http.client's message: get(name) ignores case

    def json(self) -> Any:
        return decode_json(self.content)  # ValueError when it is not JSON or breaks envoy/limits.py


def _gateway_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed by design
    context.set_ciphers("DEFAULT")  # older gateways offer ciphers outside Python's narrower default list
    return context


_TLS: Optional[ssl.SSLContext] = None


class DigestAuth:
    """HTTP digest (RFC 2617) as gateways before firmware 7 ask for it, computed by urllib.request's handler.
    The challenge is kept, so after the first 401 every request carries its answer and is sent once."""

    _URL = "http://gateway"  # the handler finds the password by URL; only the path goes into the digest

    def __init__(self, username: str, password: str):
        import urllib.request  # only gateways before firmware 7 need it

        self.username = username
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, self._URL, username, password)
        self._handler = urllib.request.AbstractDigestAuthHandler(passwords)
        self._challenge: Optional[Dict[str, str]] = None

    def learn(self, header: str) -> bool:
        """Take the challenge of a 401; False when it is not one we can answer."""
        import urllib.request

        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            return False
        challenge = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
        if "nonce" not in challenge or "realm" not in challenge:
            return False
        self._challenge = challenge
        return True

    def header(self, method: str, uri: str) -> Optional[str]:
        if self._challenge is None:
            return None
        import urllib.error
        import urllib.request

        try:
            answer = self._handler.get_authorization(urllib.request.Request(self._URL + uri, method=method),
                                                     self._challenge)
        except (ValueError, urllib.error.URLError):  # an algorithm or qop it does not know
            return None
        return "Digest " + answer if answer else None


class _DeadlineSocket:
    """The socket as http.client uses it, each wait shortened to what is left of the request's deadline."""

    def __init__(self, sock: socket.socket, conn: "_GatewayConnection"):
        self.sock = sock
        self._conn = conn

    def sendall(self, data) -> None:
        self.sock.settimeout(self._conn.left())
        self.sock.sendall(data)

    def makefile(self, mode: str):
        # Over the socket's own file, which keeps the socket open while http.client reads an answer that ends
        # with the connection, after it has "closed" it.
        return io.BufferedReader(_DeadlineReader(self, self.sock.makefile("rb", buffering=0)))

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, owner: _DeadlineSocket, raw):
        self._owner = owner
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._owner.sock.settimeout(self._owner._conn.left())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _GatewayConnection(http.client.HTTPConnection):
    """http.client's connection on a socket of ours: TLS without verification, every wait within the deadline."""

    def __init__(self, netloc: str, tls: bool, connect_timeout_s: float):
        self.default_port = 443 if tls else 80  # read by the constructor, which splits host and port
        super().__init__(netloc)
        self.tls = tls
        self.connect_timeout_s = connect_timeout_s
        self.deadline = 0.0

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("the request's deadline passed")
        return left

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=min(self.connect_timeout_s, self.left()))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a request is one write: send it now
            if self.tls:
                global _TLS
                if _TLS is None:
                    _TLS = _gateway_tls()
                sock = _TLS.wrap_socket(sock, server_hostname=self.host)  # the handshake within that wait too
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self)

    def open(self, deadline: float) -> bool:
        """Ready for a request that must end by `deadline`: True on a new connection, False on the kept one.
        Raises OSError or ValueError when the gateway cannot be reached."""
        self.deadline = deadline
        if self.sock is not None:
            try:  # an idle kept-alive socket that is readable has been closed (or spoken on) by the gateway
                stale = bool(select.select([self.sock], [], [], 0)[0])
            except (OSError, ValueError):
                stale = True
            if not stale:
                return False
            self.close()
        self.connect()
        return True


_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError)


class Transport:
    def __init__(self, base_url: str, *, deadline_s: float = REQUEST_DEADLINE_S, connect_timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        scheme, _, self._netloc = self.base_url.partition("://")
        self._tls = scheme == "https"
        self.deadline_s = deadline_s
        self.connect_timeout_s = connect_timeout_s
        self.headers: Dict[str, str] = {"User-Agent": "jeedom-enphase", "Accept": "application/json"}
        self.auth: Optional[DigestAuth] = None
        self.cookies: Dict[str, str] = {}  # the gateway's sessionId, sent back as a browser would
        self._conn: Optional[_GatewayConnection] = None
        self._lock = threading.Lock()
        self.requests_sent = 0

    @property
    def host(self) -> str:
        return self._netloc

    def request(self, method: str, path: str, *, headers: Optional[Dict[str, str]] = None, json: Any = None) -> Answer:
        """Send one request. Raises EnvoyError("unreachable") when no answer comes within the deadline,
        AnswerTooLarge past MAX_ANSWER_BYTES; any other answer is returned."""
        body = None
        sent = dict(self.headers)
        if headers:
            sent.update(headers)
        if json is not None:
            body = _json_bytes(json)
            sent["Content-Type"] = "application/json"
        with self._lock:
            deadline = time.monotonic() + self.deadline_s  # the digest challenge and a reconnection included
            answer = self._exchange(method, path, body, sent, deadline)
            if answer.status_code == 401 and self.auth is not None and \
                    self.auth.learn(answer.headers.get("www-authenticate", "")):
                answer = self._exchange(method, path, body, sent, deadline)  # the challenge answered, once
            return answer

    def _exchange(self, method, path, body, headers, deadline) -> Answer:
        if self.auth is not None:
            digest = self.auth.header(method, path)
            if digest:
                headers = dict(headers, Authorization=digest)
        if self.cookies:
            headers = dict(headers, Cookie="; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        self.requests_sent += 1
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = _GatewayConnection(self._netloc, self._tls, self.connect_timeout_s)
                conn = self._conn
                reused = not conn.open(deadline)
            except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, no route, TLS, bad host
                self._drop()
                raise self._unreachable(exc) from None
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                content = self._read_body(response, path)
            except socket.timeout:
                self._drop()
                raise ReadTimedOut(
                    "unreachable",
                    f"The gateway at {self.host} did not answer {path} within {self.deadline_s:.0f} s; "
                    "it may be busy or restarting, the plugin will try again.",
                ) from None
            except _DROPPED as exc:
                self._drop()
                if reused and attempt == 1 and method == "GET":
                    continue  # closed by the gateway while idle: once more on a new connection (a GET only:
                    # a control sent twice could act twice)
                raise self._unreachable(exc) from None
            except (OSError, ValueError, http.client.HTTPException) as exc:  # not HTTP, cut short
                self._drop()
                raise self._unreachable(exc) from None
            if response.will_close:
                self._drop()
            for cookie in response.msg.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                if name.strip():
                    self.cookies[name.strip()] = value.strip()
            return Answer(response.status, content, response.msg)
        raise AssertionError("not reached")  # the loop returns or raises

    def _read_body(self, response: http.client.HTTPResponse, path: str) -> bytes:
        """The whole body, or AnswerTooLarge as soon as it passes MAX_ANSWER_BYTES (the rest left unread)."""
        if response.length is not None:  # Content-Length
            if response.length > MAX_ANSWER_BYTES:
                self._refuse(response, path)
            return response.read()
        pieces, size = [], 0  # chunked, or up to the end of the connection
        while True:
            piece = response.read1(PIECE_BYTES)
            if not piece:
                return b"".join(pieces)
            size += len(piece)
            if size > MAX_ANSWER_BYTES:
                self._refuse(response, path)
            pieces.append(piece)

    def _refuse(self, response: http.client.HTTPResponse, path: str) -> None:
        response.close()
        self._drop()
        raise AnswerTooLarge(
            "bad_response",
            f"The gateway at {self.host} answered {path} with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB; "
            "no gateway sends that much, the answer is ignored.",
        )

    def _unreachable(self, exc: BaseException) -> EnvoyError:
        return EnvoyError(
            "unreachable",
            f"Cannot reach the gateway at {self.host} ({type(exc).__name__}); check its address and that it is "
            "on the network.",
        )

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
