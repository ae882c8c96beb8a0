"""What a hostile local user can throw at the daemon's socket: the daemon (a real enphased.py process)
answers or closes, never runs an action without the apikey, never dies, never piles up threads or memory,
and PHP's next message is served as usual."""
import json
import os
import random
import socket
import threading
import time

import pytest

from chaos_helpers import APIKEY, DaemonProcess
from jeedom import socket_server
from jeedom.socket_server import MAX_CONNECTIONS, MAX_MESSAGE_BYTES, SocketServer, send
from jeedom_receiver import JeedomReceiver


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    receiver = JeedomReceiver(APIKEY)
    process = DaemonProcess(tmp_path_factory.mktemp("abuse"), receiver.url)
    yield process
    try:
        assert process.alive(), f"exit code {process.process.returncode}:\n" + process.output()[-3000:]
        assert "Traceback" not in process.output()
        assert process.stop() == 0
    finally:
        receiver.close()


def exchange(port, payload: bytes, half_close=True, timeout_s=30):
    """Send raw bytes; the answer (a dict), None when the daemon closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # closed before it read everything (too large)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    return json.loads(data) if data else None


def still_serves(daemon):
    assert daemon.alive()
    assert daemon.send({"action": "pause"}) == {"ok": True}


@pytest.mark.parametrize("message", [
    {"action": "stop"},  # no apikey
    {"apikey": "wrong", "action": "stop"},
    {"apikey": APIKEY[:-1], "action": "stop"},  # a prefix
    {"apikey": APIKEY + "x", "action": "stop"},
    {"apikey": APIKEY.upper(), "action": "stop"},
    {"apikey": "", "action": "stop"},
    {"apikey": None, "action": "stop"},
    {"apikey": [APIKEY], "action": "stop"},
    {"apikey": {"$ne": ""}, "action": "stop"},
    {"apikey": 0, "action": "stop"},
    {"APIKEY": APIKEY, "action": "stop"},
])
def test_without_the_apikey_nothing_is_done(daemon, message):
    answer = send(daemon.port, message)
    assert answer == {"ok": False, "error": {"code": "forbidden", "message": "wrong or missing apikey"}}
    still_serves(daemon)


def test_a_configure_with_a_wrong_apikey_starts_no_gateway(daemon):
    before = daemon.output()
    send(daemon.port, {"apikey": "nope", "action": "configure", "gateways": [{"id": "x", "host": "127.0.0.1:9"}]})
    assert "Gateway x" not in daemon.output()[len(before):]


GARBAGE = [
    b"", b"\n", b"\x00" * 64, b"\xff\xfe\xfd", b"\xef\xbb\xbf{}", b"null", b"[]", b"42", b'"text"',
    b"{", b'{"apikey":', b"}{", b"{'apikey': 'x'}", b"NaN", b'{"apikey": NaN}', b'{"a":1e999999}',
    b"[" * 200_000, b'{"a":' * 100_000,  # deep nesting: the decoder's recursion limit
    b'{"apikey": 1' + b"9" * 50_000 + b"}",  # an integer with 50,000 digits
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # a browser or a scanner
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)),  # a TLS hello
]


@pytest.mark.parametrize("payload", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gets_an_error_answer(daemon, payload):
    answer = exchange(daemon.port, payload)
    assert answer is not None and answer["ok"] is False
    assert answer["error"]["code"] in ("bad_request", "forbidden")
    still_serves(daemon)


def test_random_binary_garbage_never_reaches_an_action(daemon):
    rng = random.Random(5)
    for size in [1, 7, 100, 4096, 65536, 300_000] * 3:
        payload = bytes(rng.randrange(256) for _ in range(size))
        answer = exchange(daemon.port, payload)
        assert answer is None or answer["ok"] is False
    still_serves(daemon)


def test_a_huge_payload_is_cut_at_the_limit_and_memory_stays_bounded(daemon):
    before = daemon.rss_kb()
    for payload in (b"{" + b" " * (MAX_MESSAGE_BYTES + 1), b'{"apikey":"' + b"a" * (20 * MAX_MESSAGE_BYTES) + b'"}'):
        answer = exchange(daemon.port, payload)
        assert answer is None or answer["error"]["code"] == "too_large"
    for _ in range(5):  # a stream that never ends
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as sock:
            try:
                for _ in range(200):
                    sock.sendall(b"x" * 65536)
            except OSError:
                pass  # the daemon hung up after 1 MiB
    still_serves(daemon)
    assert daemon.rss_kb() - before < 50_000


def test_many_connections_at_once_are_each_answered_or_reset_and_none_hangs(daemon):
    answers, errors = [], []
    lock = threading.Lock()

    def client(i):
        try:
            message = {"apikey": APIKEY, "action": "pause"} if i % 2 else {"apikey": "bad", "action": "stop"}
            answer = send(daemon.port, message, timeout_s=30)
            with lock:
                answers.append(answer)
        except ConnectionError as e:  # "busy" reads a second at most: a peer starved longer may see a reset
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(answers) + len(errors) == 300
    assert {a["error"]["code"] for a in answers if not a["ok"]} <= {"forbidden", "busy"}
    wait_settled(daemon)
    still_serves(daemon)
    assert _threads(daemon.pid) < 40


def _threads(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def wait_settled(daemon, connections=0, timeout_s=60):
    """Until the daemon has accepted every connection waiting for it and holds at most `connections` of them
    (it has no other socket than its listener). A connection's thread gives its slot back before closing
    it, so then at most that many slots are taken and PHP's next message finds one free. On a loaded
    machine the threads of connections already over (answered, reset) may still hold theirs a while:
    "busy" then is the limit working, not the daemon failing."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        listener = [f for f in (line.split() for line in open("/proc/net/tcp").read().splitlines()[1:])
                    if f[1] == "0100007F:%04X" % daemon.port and f[3] == "0A"]
        waiting = int(listener[0][4].split(":")[1], 16)  # a listener's rx_queue: connections not accepted yet
        held = 0
        for fd in os.listdir(f"/proc/{daemon.pid}/fd"):
            try:
                held += os.readlink(f"/proc/{daemon.pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass  # closed meanwhile
        if not waiting and held - 1 <= connections:
            return
        time.sleep(0.01)


def test_silent_and_half_open_connections_leave_the_daemon_serving(daemon):
    silent = [socket.create_connection(("127.0.0.1", daemon.port)) for _ in range(MAX_CONNECTIONS - 2)]
    try:
        for _ in range(20):  # connect and vanish, with a reset
            sock = socket.create_connection(("127.0.0.1", daemon.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
        wait_settled(daemon, len(silent))  # done with the resets: two slots free beside the silent peers
        still_serves(daemon)
    finally:
        for sock in silent:
            sock.close()
    still_serves(daemon)


def test_the_socket_listens_on_127_0_0_1_only(daemon):
    listening = open("/proc/net/tcp").read().splitlines()[1:]
    mine = [line.split()[1] for line in listening if line.split()[1].endswith(":%04X" % daemon.port)
            and line.split()[3] == "0A"]
    assert mine == ["0100007F:%04X" % daemon.port]  # 127.0.0.1, not 0.0.0.0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", daemon.port), timeout=5).close()


def test_a_peer_trickling_bytes_is_cut_off_by_the_overall_deadline(monkeypatch):
    """A slot is freed after READ_TIMEOUT_S whatever the peer does, so a few trickling peers cannot keep
    PHP out for ever (each recv alone would never time out)."""
    monkeypatch.setattr(socket_server, "READ_TIMEOUT_S", 0.5)
    server = SocketServer(0, APIKEY, lambda message: {"ok": True}).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            cut = False
            for _ in range(100):  # 10 s of one byte every 0.1 s
                try:
                    sock.sendall(b" ")
                except OSError:
                    cut = True
                    break
                time.sleep(0.1)
                sock.setblocking(False)
                try:
                    cut = sock.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    cut = True
                sock.setblocking(True)
                if cut:
                    break
            assert cut
        assert send(server.port, {"apikey": APIKEY, "action": "sync"}) == {"ok": True}
    finally:
        server.stop()


def test_ten_thousand_garbage_connections_write_a_few_log_lines(tmp_path):
    """Anyone who can connect can be refused as often as they like: the log says so once per kind and
    minute, not once per connection (10,000 connections wrote 10,023 lines)."""
    receiver = JeedomReceiver(APIKEY)
    daemon = DaemonProcess(tmp_path, receiver.url, loglevel="debug")
    payloads = [b"", b"garbage", json.dumps({"apikey": "wrong", "action": "stop"}).encode(),
                json.dumps({"apikey": APIKEY}).encode()]
    started = time.monotonic()
    try:
        before = len(daemon.output().splitlines())

        answers = []

        def flood(worker):
            for i in range(worker, 10_000, 8):
                try:
                    answers.append(exchange(daemon.port, payloads[i % len(payloads)]))
                except OSError:
                    pass  # "busy" reads a second at most: a peer starved longer may see a reset

        threads = [threading.Thread(target=flood, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        assert len(answers) > 9_000 and all(a is None or a["ok"] is False for a in answers)
        still_serves(daemon)
        minutes = int((time.monotonic() - started) // 60) + 1
        lines = daemon.output().splitlines()[before:]
        socket_lines = [line for line in lines if "Socket" in line or "socket" in line]
        kinds = ("forbidden", "bad_request", "Empty", "busy", "dropped")
        assert 1 <= len(socket_lines) <= len(kinds) * minutes, "\n".join(lines[:50])
        assert len(lines) - len(socket_lines) < 10  # nothing else was said about them
        assert daemon.alive()
    finally:
        daemon.stop()
        receiver.close()
