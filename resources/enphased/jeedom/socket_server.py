"""PHP -> daemon: one JSON object per connection on a Unix socket, answered by one JSON line.

The socket lives in a folder only the daemon's user can enter (0700, theirs; checked before listening) and is
itself 0600: only the web server's user (PHP) reaches the daemon, and PHP reaches only what that user created.
The listener only reads, checks and hands the message over; what an action does is the `handle` callable's
business. A bad message (wrong apikey, too big, not JSON, not an object) gets an error answer and a log line
(see NoiseLog); it never reaches `handle` and never stops the listener.
"""
import errno
import hmac
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import threading
import time
from typing import Any, Callable, Dict, Iterator, Optional

from jeedom import timeouts

MAX_MESSAGE_BYTES = 1024 * 1024
READ_TIMEOUT_S = timeouts.MESSAGE_S  # for the whole message: PHP writes it at once; a peer that takes longer is not PHP
MAX_CONNECTIONS = 16  # at the same time; more are answered "busy" so a flood cannot pile up threads
BUSY_READ_TIMEOUT_S = 1  # a connection answered "busy" is read this long at most before the answer
NOISE_LOG_INTERVAL_S = 60  # refused connections: one log line per kind and minute, with a count of the others
PRIVATE_CHECK_S = 1  # how soon the socket's folder, opened by someone else, is closed again

log = logging.getLogger("enphased.socket")


class ChannelError(Exception):
    """The socket cannot be opened safely; the message is a sentence for the log."""


def check_private_folder(folder: str, uid: Optional[int] = None) -> None:
    """Raises ChannelError unless `folder` belongs to `uid` (this process's user by default) and nobody else may
    enter it: anyone who could would reach the daemon, or put a listener of theirs in its place."""
    uid = os.geteuid() if uid is None else uid
    try:
        info = os.stat(folder)
    except OSError as e:
        raise ChannelError(f"The socket's folder {folder} cannot be read ({e.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ChannelError(f"The socket's folder {folder} is not a folder")
    if info.st_uid != uid:
        raise ChannelError(f"The socket's folder {folder} belongs to user {info.st_uid}, not to the daemon's "
                           f"user {uid}: refusing to listen there")
    if info.st_mode & 0o077:
        raise ChannelError(f"The socket's folder {folder} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}"
                           f"): refusing to listen there until it is 0700 (chmod 700 {folder})")


def _remove_stale_socket(path: str) -> None:
    """A socket file left by a daemon that died goes; one that answers belongs to a running daemon."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ChannelError(f"{path} exists and is not a socket: refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, f"another daemon listens on {path}")


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


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 64  # a burst of connections waits in the kernel instead of being refused
    on_tick: Optional[Callable[[], None]] = None

    def service_actions(self):  # serve_forever calls it between polls (every 0.1 s)
        super().service_actions()
        if self.on_tick:
            self.on_tick()


class SocketServer:
    """Listens on the Unix socket `path`; `handle(message) -> answer dict` runs in the connection's thread.
    Raises ChannelError when the socket's folder is not private, OSError when another daemon listens there."""

    def __init__(self, path: str, apikey: str, handle: Callable[[Dict[str, Any]], Dict[str, Any]]):
        self.path = os.path.abspath(path)
        self.apikey = apikey
        self.handle = handle
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._noise = NoiseLog()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                outer._serve(self.request)

        check_private_folder(os.path.dirname(self.path))
        _remove_stale_socket(self.path)
        self._server = _Server(self.path, Handler)
        os.chmod(self.path, 0o600)  # the folder already keeps others out; the socket says so too
        self._inode = os.stat(self.path).st_ino
        self._next_check = 0.0
        self._server.on_tick = self._keep_private
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "SocketServer":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="socket", daemon=True)
        self._thread.start()
        log.info("Listening on %s", self.path)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        try:
            if os.stat(self.path).st_ino == self._inode:  # not a newer daemon's
                os.unlink(self.path)
        except OSError:
            pass

    def _keep_private(self) -> None:
        """Jeedom's backups and updates chmod 775 -R the whole web root, the plugin's data folder included: the
        folder (and the socket) go back to the daemon's user alone at once, not when PHP next looks, so the
        apikey and the tokens there are not left readable by every local user for minutes."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + PRIVATE_CHECK_S
        opened = []
        for path, mode in ((os.path.dirname(self.path), 0o700), (self.path, 0o600)):
            try:
                if stat.S_IMODE(os.stat(path).st_mode) != mode:
                    os.chmod(path, mode)
                    opened.append(path)
            except OSError:
                pass  # gone or not ours any more: stop() or the next start will say
        if opened:
            log.info("%s had been opened to other users (a Jeedom backup does it): closed again", " and ".join(opened))

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
                if not raw.strip():  # a liveness check (connect, close): nothing to act on, nothing to tell
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
            for piece in json_pieces(answer):
                sock.sendall(piece.encode("utf-8"))
            sock.sendall(b"\n")
        except OSError:
            pass  # the peer left without waiting for the answer


def json_pieces(answer: Dict[str, Any]) -> Iterator[str]:
    """json.dumps(answer), in pieces: each item of its lists on its own. A sync's answer lists every gateway's
    inventory: four sites of 600 devices make 0.4 MB of text, which held whole (and again encoded) at the end of
    the sync raised the daemon's peak memory by 0.8 MB."""
    yield "{"
    for n, (key, value) in enumerate(answer.items()):
        yield (", " if n else "") + json.dumps(key) + ": "
        if isinstance(value, list):
            yield "["
            for i, item in enumerate(value):
                yield (", " if i else "") + json.dumps(item)
            yield "]"
        else:
            yield json.dumps(value)
    yield "}"


def connect(path, timeout_s: float = 120) -> socket.socket:
    """Client side (tests, tools): a connection to the socket at `path`. The connect blocks: when the listener's
    backlog is full, a Unix socket fails a non-blocking connect at once (EAGAIN) where TCP would wait."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        seconds = max(float(timeout_s), 0.001)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                        struct.pack("ll", int(seconds), int((seconds - int(seconds)) * 1_000_000)))
        sock.connect(str(path))
        sock.settimeout(timeout_s)
    except BaseException:
        sock.close()
        raise
    return sock


def send(path, message: Dict[str, Any], timeout_s: float = 120) -> Dict[str, Any]:
    """Client side (tests, tools): send one message to the socket at `path`, return the answer."""
    with connect(path, timeout_s) as sock:
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
