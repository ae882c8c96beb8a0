"""PHP -> daemon: one JSON object per TCP connection on 127.0.0.1, answered by one JSON line.

The listener only reads, checks and hands the message over; what an action does is the `handle` callable's
business. A bad message (wrong apikey, too big, not JSON, not an object) gets an error answer and one log
line; it never reaches `handle` and never stops the listener.
"""
import hmac
import json
import logging
import socket
import socketserver
import threading
import time
from typing import Any, Callable, Dict, Optional

MAX_MESSAGE_BYTES = 1024 * 1024
READ_TIMEOUT_S = 10  # for the whole message: PHP writes it at once; a peer that takes longer is not PHP
MAX_CONNECTIONS = 16  # at the same time; more are answered "busy" so a flood cannot pile up threads
BUSY_READ_TIMEOUT_S = 1  # a connection answered "busy" is read this long at most before the answer
NOISE_LOG_INTERVAL_S = 60  # refused connections: one log line per kind and minute, with a count of the others

log = logging.getLogger("enphased.socket")


class MessageError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def error_answer(code: str, message: str = "") -> Dict[str, Any]:
    error = {"code": code}
    if message:
        error["message"] = message
    return {"ok": False, "error": error}


def read_message(sock: socket.socket, timeout_s: Optional[float] = None) -> bytes:
    """Bytes up to the first newline or the peer's half-close, at most MAX_MESSAGE_BYTES, within
    timeout_s (READ_TIMEOUT_S by default) in all (a peer trickling a byte at a time would otherwise hold its
    slot for ever)."""
    chunks, size = [], 0
    deadline = time.monotonic() + (READ_TIMEOUT_S if timeout_s is None else timeout_s)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("message not received in time")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            break
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunks.append(chunk[:newline])
            size += newline
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            raise MessageError("too_large", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    if size > MAX_MESSAGE_BYTES:
        raise MessageError("too_large", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    return b"".join(chunks)


def parse_message(raw: bytes, apikey: str) -> Dict[str, Any]:
    """The message as a dict, its apikey checked; raises MessageError otherwise."""
    try:
        message = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise MessageError("bad_request", "not a JSON object") from None
    if not isinstance(message, dict):
        raise MessageError("bad_request", "not a JSON object")
    given = message.get("apikey")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode("utf-8"), apikey.encode("utf-8")):
        raise MessageError("forbidden", "wrong or missing apikey")
    if not isinstance(message.get("action"), str):
        raise MessageError("bad_request", "no action")
    return message


class NoiseLog:
    """Logs refused connections: one line per kind (a refusal code, "busy", "dropped") and interval; the lines it
    held back are counted in the next one. Anyone who can connect can refuse themselves 10,000 times a minute,
    and must not fill the disk with the log."""

    def __init__(self, interval_s: float = NOISE_LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic):
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Dict[str, float] = {}  # kind -> when its last line was written
        self._held: Dict[str, int] = {}  # kind -> lines held back since

    def __call__(self, level: int, kind: str, message: str, *args: Any) -> None:
        with self._lock:
            now = self._clock()
            last = self._last.get(kind)
            if last is not None and now - last < self._interval_s:
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            self._last[kind] = now
            held = self._held.pop(kind, 0)
        if held:
            message += " (%d more of these since the previous line, not logged)"
            args += (held,)
        log.log(level, message, *args)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # a burst of connections waits in the kernel instead of retrying SYNs for seconds


class SocketServer:
    """Listens on 127.0.0.1:port; `handle(message) -> answer dict` runs in the connection's thread."""

    def __init__(self, port: int, apikey: str, handle: Callable[[Dict[str, Any]], Dict[str, Any]]):
        self.apikey = apikey
        self.handle = handle
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._noise = NoiseLog()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                outer._serve(self.request)

        self._server = _Server(("127.0.0.1", port), Handler)
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "SocketServer":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="socket", daemon=True)
        self._thread.start()
        log.info("Listening on 127.0.0.1:%d", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        if not self._slots.acquire(blocking=False):
            # The message is read all the same, briefly: closing on bytes never read makes the kernel reset
            # the connection, and PHP would lose the "busy" answer with it.
            try:
                read_message(sock, BUSY_READ_TIMEOUT_S)
            except (MessageError, OSError):
                pass
            self._noise(logging.WARNING, "busy", "Socket connection refused: more than %d at once", MAX_CONNECTIONS)
            self._answer(sock, error_answer("busy", "too many connections"))
            return
        try:
            try:
                raw = read_message(sock)
                if not raw.strip():  # a port check (connect, close): nothing to act on, nothing to tell
                    self._noise(logging.DEBUG, "empty", "Empty socket connection")
                    self._answer(sock, error_answer("bad_request", "empty message"))
                    return
                message = parse_message(raw, self.apikey)
            except MessageError as e:
                self._noise(logging.WARNING, e.code, "Socket message refused (%s): %s", e.code, e.message)
                self._answer(sock, error_answer(e.code, e.message))
                return
            except OSError as e:  # timeout or reset while reading: nobody to answer
                self._noise(logging.WARNING, "dropped", "Socket message dropped: %s", e.__class__.__name__)
                return
            try:
                answer = self.handle(message)
            except Exception:  # an action's bug must not kill the listener
                log.exception("Action %r failed", message.get("action"))
                answer = error_answer("internal", "the daemon failed on this action; see its log")
            self._answer(sock, answer)
        finally:
            self._slots.release()

    @staticmethod
    def _answer(sock: socket.socket, answer: Dict[str, Any]) -> None:
        try:
            sock.sendall(json.dumps(answer).encode("utf-8") + b"\n")
        except OSError:
            pass  # the peer left without waiting for the answer


def send(port: int, message: Dict[str, Any], timeout_s: float = 120) -> Dict[str, Any]:
    """Client side (tests, tools): send one message, return the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the daemon already hung up (as PHP, ignored): its answer, or the reset, is read below
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode("utf-8"))
