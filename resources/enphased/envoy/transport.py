"""HTTP to one gateway: one keep-alive connection, one request at a time, generous timeouts.

The gateway has a weak CPU and a self-signed certificate: requests are serialised by a lock, its TLS
certificate is not checked (there is nothing to check it against), and read timeouts are long because
some firmware takes tens of seconds to build /production.json.

HTTP/1.1 is spoken here directly on the socket, the little of it a gateway uses: GET/POST/PUT with small
bodies, answers delimited by Content-Length, chunks or the end of the connection, one sessionId cookie, and
HTTP digest (a few lines of RFC 2617). Measured by `make bench`: requests costs about six times the CPU
of the exchange itself per request (settings merge, cookie jar, hooks, adapter) and 100 ms and 10 MB at
start-up; http.client still three times (its headers go through the email package). The plugin runs on
small boxes next to gateways polled every minute: the cycle is the product. The Enlighten cloud, reached
rarely and with verified TLS, still goes through requests.
"""
import hashlib
import json
import os
import select
import socket
import ssl
import threading
from typing import Any, Dict, List, Optional, Tuple

from .errors import EnvoyError

MAX_LINE = 65536  # a status or header line longer than this is not a gateway talking
MAX_HEADERS = 100


class _Dropped(ConnectionError):
    """The connection ended before an answer began: on a reused connection, the gateway closed it while idle."""


class _Garbled(ValueError):
    """Something that is not an HTTP answer came back."""


class ReadTimedOut(EnvoyError):
    """The gateway accepted the connection but did not answer in time (one slow endpoint, or busy)."""


class Answer:
    """What the gateway answered (status_code, content, headers with lower-case names, json(): as much of
    requests' Response as the client reads)."""

    __slots__ = ("status_code", "content", "headers", "cookies")

    def __init__(self, status_code: int, content: bytes, headers: Dict[str, str], cookies: List[str]):
        self.status_code = status_code
        self.content = content
        self.headers = headers
        self.cookies = cookies  # the Set-Cookie lines

    def json(self) -> Any:
        return json.loads(self.content)  # ValueError when it is not JSON


def _gateway_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed by design
    context.set_ciphers("DEFAULT")  # older gateways offer ciphers outside Python's narrower default list
    return context


_TLS: Optional[ssl.SSLContext] = None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # the digest scheme's hash, not a security choice of ours


class DigestAuth:
    """HTTP digest (RFC 2617, MD5, qop=auth or none) as gateways before firmware 7 ask for it. The challenge
    is kept, so after the first 401 every request carries its answer and is sent once."""

    def __init__(self, username: str, password: str):
        self.username = username
        self._password = password
        self._challenge: Optional[Dict[str, str]] = None
        self._ha1 = self._cnonce = ""
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
        self._ha1 = _md5(f"{self.username}:{fields.get('realm', '')}:{self._password}")
        self._cnonce = os.urandom(8).hex()  # one per challenge: nc numbers the requests under it
        return True

    def header(self, method: str, uri: str) -> Optional[str]:
        challenge = self._challenge
        if challenge is None:
            return None
        md5 = _md5
        realm, nonce = challenge.get("realm", ""), challenge["nonce"]
        ha1, ha2 = self._ha1, md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
                 'algorithm="MD5"']
        if "auth" in challenge.get("qop", "").split(","):
            self._count += 1
            nc, cnonce = f"{self._count:08x}", self._cnonce
            parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"',
                      f'response="{md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")}"']
        else:
            parts.append(f'response="{md5(f"{ha1}:{nonce}:{ha2}")}"')
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        return "Digest " + ", ".join(parts)


class _Connection:
    """One kept-alive connection and its buffered reader."""

    def __init__(self, netloc: str, tls: bool, connect_timeout: float):
        host, port = _host_port(netloc, 443 if tls else 80)
        self.host_header = netloc
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a request is one write: send it now
            if tls:
                global _TLS
                if _TLS is None:
                    _TLS = _gateway_tls()
                sock = _TLS.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def exchange(self, method: str, path: str, headers: Dict[str, str], body: Optional[bytes],
                 read_timeout: float) -> Tuple[Answer, bool]:
        """Send one request and read its answer: (answer, whether the connection can be kept)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        bare = head.replace("\r\n", "")
        if "\r" in bare or "\n" in bare:
            raise ValueError("a header value holds a line break")
        self.sock.settimeout(read_timeout)
        self.sock.sendall(head.encode("latin-1") + (body or b""))
        while True:
            status_line = self.rfile.readline(MAX_LINE + 1)
            if not status_line:
                raise _Dropped("the connection closed before an answer")
            version, _, rest = status_line.decode("latin-1").strip().partition(" ")
            code = rest.split(" ", 1)[0]
            if not version.startswith("HTTP/") or not code.isdigit():
                raise _Garbled("not an HTTP status line")
            status = int(code)
            fields, cookies = self._read_headers()
            if not 100 <= status < 200:
                break  # 1xx are interim answers: the real one follows
        connection = fields.get("connection", "").lower()
        keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        if method == "HEAD" or status in (204, 304):
            content = b""
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            content = self._read_chunked()
        elif "content-length" in fields:
            try:
                length = int(fields["content-length"])
            except ValueError:
                raise _Garbled("bad Content-Length") from None
            content = self.rfile.read(length)
            if len(content) < length:
                raise _Dropped("the answer ended early")
        else:
            content, keep = self.rfile.read(), False  # delimited by the end of the connection
        return Answer(status, content, fields, cookies), keep

    def _read_headers(self) -> Tuple[Dict[str, str], List[str]]:
        fields: Dict[str, str] = {}
        cookies: List[str] = []
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return fields, cookies
            if len(line) > MAX_LINE:
                raise _Garbled("header line too long")
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookies.append(value)
            else:
                fields[name] = f"{fields[name]}, {value}" if name in fields else value
        raise _Garbled("too many header lines")

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self.rfile.readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise (_Dropped if not size_line else _Garbled)("bad chunk size") from None
            if size == 0:
                self._read_headers()  # trailers, if any, end with an empty line
                return b"".join(parts)
            chunk = self.rfile.read(size + 2)  # the chunk and its CRLF
            if len(chunk) < size + 2:
                raise _Dropped("the answer ended early")
            parts.append(chunk[:size])

    def idle_and_open(self) -> bool:
        """An idle kept-alive socket that is readable has been closed (or spoken on) by the gateway."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        for closing in (self.rfile, self.sock):
            try:
                closing.close()
            except OSError:
                pass


def _host_port(netloc: str, default_port: int) -> Tuple[str, int]:
    if netloc.startswith("["):  # [IPv6]:port
        host, _, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port = netloc.rpartition(":")
        if not sep or ":" in host:  # no port, or a bare IPv6 address
            host, port = netloc, ""
    if port and not port.isdigit():
        raise ValueError(f"bad port in {netloc!r}")
    return host, int(port) if port else default_port


class Transport:
    def __init__(self, base_url: str, *, read_timeout_s: float = 45.0, connect_timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        scheme, _, self._netloc = self.base_url.partition("://")
        self._tls = scheme == "https"
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.headers: Dict[str, str] = {"User-Agent": "jeedom-enphase", "Accept": "application/json"}
        self.auth: Optional[DigestAuth] = None
        self.cookies: Dict[str, str] = {}  # the gateway's sessionId, sent back as a browser would
        self._conn: Optional[_Connection] = None
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
                    self.auth.learn(answer.headers.get("www-authenticate", "")):
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
            except (OSError, ValueError) as exc:  # refused, no route, TLS failure, connect timeout, bad host
                raise self._unreachable(exc) from None
            try:
                answer, keep = conn.exchange(method, path, headers, body, read_timeout)
            except socket.timeout:
                self._drop()
                raise ReadTimedOut(
                    "unreachable",
                    f"The gateway at {self.host} did not answer {path} within {read_timeout:.0f} s; "
                    "it may be busy or restarting, the plugin will try again.",
                ) from None
            except (_Dropped, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError) as exc:
                self._drop()
                if reused and attempt == 1 and method == "GET":
                    continue  # closed by the gateway while idle: once more on a new connection (a GET only:
                    # a control sent twice could act twice)
                raise self._unreachable(exc) from None
            except (OSError, ValueError) as exc:
                self._drop()
                raise self._unreachable(exc) from None
            if not keep:
                self._drop()
            for cookie in answer.cookies:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                if name.strip():
                    self.cookies[name.strip()] = value.strip()
            return answer
        raise AssertionError("not reached")  # the loop returns or raises

    def _unreachable(self, exc: BaseException) -> EnvoyError:
        return EnvoyError(
            "unreachable",
            f"Cannot reach the gateway at {self.host} ({type(exc).__name__}); check its address and that it is "
            "on the network.",
        )

    def _connection(self) -> _Connection:
        if self._conn is not None and not self._conn.idle_and_open():
            self._drop()
        if self._conn is None:
            self._conn = _Connection(self._netloc, self._tls, self.timeout[0])
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
