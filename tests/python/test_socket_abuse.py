"""What can be thrown at the daemon's socket: another local user cannot even connect; for what the web
server's user (a bug, a hostile page) throws at it, the daemon (a real enphased.py process) answers or closes,
never runs an action without the apikey, never dies, never piles up threads or memory, and PHP's next message
is served as usual."""
import json
import os
import random
import socket
import stat
import subprocess
import threading
import time

import pytest

from chaos_helpers import APIKEY, DaemonProcess
from jeedom import socket_server
from jeedom.socket_server import MAX_CONNECTIONS, MAX_MESSAGE_BYTES, SocketServer, connect, send
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


def exchange(path, payload: bytes, half_close=True, timeout_s=30):
    """Send raw bytes; the answer (a dict), None when the daemon closed without one."""
    with connect(path, timeout_s) as sock:
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
    answer = send(daemon.socket, message)
    assert answer == {"ok": False, "error": {"code": "forbidden", "message": "wrong or missing apikey"}}
    still_serves(daemon)


def test_a_configure_with_a_wrong_apikey_starts_no_gateway(daemon):
    before = daemon.output()
    send(daemon.socket, {"apikey": "nope", "action": "configure", "gateways": [{"id": "x", "host": "127.0.0.1:9"}]})
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
    answer = exchange(daemon.socket, payload)
    assert answer is not None and answer["ok"] is False
    assert answer["error"]["code"] in ("bad_request", "forbidden")
    still_serves(daemon)


def test_random_binary_garbage_never_reaches_an_action(daemon):
    rng = random.Random(5)
    for size in [1, 7, 100, 4096, 65536, 300_000] * 3:
        payload = bytes(rng.randrange(256) for _ in range(size))
        answer = exchange(daemon.socket, payload)
        assert answer is None or answer["ok"] is False
    still_serves(daemon)


def test_a_huge_payload_is_cut_at_the_limit_and_memory_stays_bounded(daemon):
    before = daemon.rss_kb()
    for payload in (b"{" + b" " * (MAX_MESSAGE_BYTES + 1), b'{"apikey":"' + b"a" * (20 * MAX_MESSAGE_BYTES) + b'"}'):
        answer = exchange(daemon.socket, payload)
        assert answer is None or answer["error"]["code"] == "too_large"
    for _ in range(5):  # a stream that never ends
        with connect(daemon.socket) as sock:
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
            answer = send(daemon.socket, message, timeout_s=30)
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
    """Until the daemon holds at most `connections` connections, accepted or still waiting to be: in
    /proc/net/unix, every daemon-side end of a connection carries the socket's path, beside the listener's
    own line (flag __SO_ACCEPTCON, 00010000). A connection's thread gives its slot back before closing it, so
    then at most that many slots are taken and PHP's next message finds one free. On a loaded machine the
    threads of connections already over (answered, reset) may still hold theirs a while: "busy" then is the
    limit working, not the daemon failing."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ends = [line.split() for line in open("/proc/net/unix").read().splitlines()[1:]]
        held = [f for f in ends if len(f) == 8 and f[7] == str(daemon.socket) and f[3] != "00010000"]
        if len(held) <= connections:
            return
        time.sleep(0.01)


def test_silent_and_half_open_connections_leave_the_daemon_serving(daemon):
    silent = [connect(daemon.socket) for _ in range(MAX_CONNECTIONS - 2)]
    try:
        for _ in range(20):  # connect and vanish
            connect(daemon.socket).close()
        wait_settled(daemon, len(silent))  # done with those: two slots free beside the silent peers
        still_serves(daemon)
    finally:
        for sock in silent:
            sock.close()
    still_serves(daemon)


def test_only_the_daemons_user_can_reach_its_socket(daemon):
    """The channel PHP sends every secret over: a Unix socket, 0600, in a folder of the daemon's user that nobody
    else may enter (so nobody else can listen in its place either). No port: nothing on 127.0.0.1."""
    info, folder = os.stat(daemon.socket), os.stat(daemon.socket.parent)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == folder.st_uid == os.geteuid() and stat.S_IMODE(folder.st_mode) == 0o700
    listening = [line.split() for table in ("/proc/net/tcp", "/proc/net/tcp6")
                 for line in open(table).read().splitlines()[1:]]
    daemon_sockets = {os.readlink(f"/proc/{daemon.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{daemon.pid}/fd")}
    assert not [f for f in listening if f[3] == "0A" and f"socket:[{f[9]}]" in daemon_sockets]  # no TCP listener
    if os.geteuid() == 0:  # then another user exists for real: nobody tries, with the system's Python (this
        def as_nobody():  # one may live in root's home, closed to nobody)
            os.setgid(65534)
            os.setuid(65534)

        attempt = subprocess.run(
            ["/usr/bin/python3", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n print('refused')\nelse:\n print('connected')",
             str(daemon.socket)], preexec_fn=as_nobody, capture_output=True, text=True, timeout=60)
        assert attempt.stdout.strip() == "refused", attempt.stdout + attempt.stderr
    still_serves(daemon)


def test_a_peer_trickling_bytes_is_cut_off_by_the_overall_deadline(monkeypatch, socket_path):
    """A slot is freed after READ_TIMEOUT_S whatever the peer does, so a few trickling peers cannot keep
    PHP out for ever (each recv alone would never time out)."""
    monkeypatch.setattr(socket_server, "READ_TIMEOUT_S", 0.5)
    server = SocketServer(socket_path, APIKEY, lambda message: {"ok": True}).start()
    try:
        with connect(server.path, 10) as sock:
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
        assert send(server.path, {"apikey": APIKEY, "action": "sync"}) == {"ok": True}
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
                    answers.append(exchange(daemon.socket, payloads[i % len(payloads)]))
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
