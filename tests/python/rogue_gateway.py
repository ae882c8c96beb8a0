"""A rogue gateway on a real socket: it answers as a gateway of the simulator's (a firmware-5 MiniGateway by
default, without auth), except on the paths it is given, where it plays answers no real gateway sends: endless ones (declared by Content-Length,
in chunks or up to the end of the connection) and answers written a byte at a time. Written on the raw
socket, since the framing is the point; nothing large is ever held in memory (one block, sent again and again).
"""
import socket
import threading
import time
from typing import Dict, List

from sim_helpers import MiniGateway

BLOCK = b" " * 65536  # what an endless answer is made of: JSON whitespace, after an opening bracket


def _answer(body: bytes, content_type: str = "application/json", status: int = 200) -> bytes:
    head = f"HTTP/1.1 {status} Rogue\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


class Play:
    """One rogue answer. `written` lists, per request played, the bytes sent before the reader left."""

    def __init__(self):
        self.written: List[int] = []

    def __call__(self, conn: socket.socket) -> None:
        self.written.append(0)
        try:
            self.play(conn)
        except OSError:
            pass  # the reader left

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.written[-1] += len(data)

    def play(self, conn: socket.socket) -> None:
        raise NotImplementedError


class Endless(Play):
    """A `total`-byte answer framed by "length" (declared up front), "chunked" or "close" (its end is the end of
    the connection)."""

    def __init__(self, framing: str, total: int):
        super().__init__()
        self.framing, self.total = framing, total

    def play(self, conn):
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += {"length": f"Content-Length: {self.total}\r\n", "chunked": "Transfer-Encoding: chunked\r\n",
                 "close": "Connection: close\r\n"}[self.framing]
        self.send(conn, (head + "\r\n").encode("ascii"))
        for i in range(self.total // len(BLOCK)):
            block = b"[" + BLOCK[1:] if i == 0 else BLOCK
            self.send(conn, b"%x\r\n%s\r\n" % (len(block), block) if self.framing == "chunked" else block)
        if self.framing == "chunked":
            self.send(conn, b"0\r\n\r\n")


class Trickle(Play):
    """A valid JSON answer written one byte every `pace_s` seconds (its headers at once if asked)."""

    def __init__(self, body: bytes, pace_s: float, *, headers_at_once: bool = False):
        super().__init__()
        self.whole = _answer(body)
        self.pace_s = pace_s
        self.start = self.whole.index(b"\r\n\r\n") + 4 if headers_at_once else 0

    def play(self, conn):
        self.send(conn, self.whole[:self.start])
        for i in range(self.start, len(self.whole)):
            time.sleep(self.pace_s)
            self.send(conn, self.whole[i:i + 1])


class RogueGateway:
    """`plays`: path -> Play. A played answer ends its connection; `gateway`'s answers keep it open."""

    def __init__(self, plays: Dict[str, Play], gateway=None):
        self.plays = plays
        self.gateway = gateway or MiniGateway("122112123456", "5.0.62")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closing = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "RogueGateway":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while not self._closing:
                request = reader.readline(65537)
                if not request:
                    return
                while reader.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # headers: nothing in them matters here (no request to it carries a body)
                path = request.split(b" ")[1].decode("ascii", "replace")
                if path in self.plays:
                    self.plays[path](conn)
                    return
                if path == "/info":
                    answer = _answer(self.gateway.info_xml(), "text/xml")
                else:
                    status, body, content_type = self.gateway.response(path)
                    answer = _answer(body, content_type, status)
                try:
                    conn.sendall(answer)
                except OSError:
                    return
