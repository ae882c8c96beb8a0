"""The socket listener: only reachable by its user, in a private folder; good messages reach the handler;
wrong apikey, garbage and floods do not, and it keeps serving afterwards."""
import json
import logging
import os
import socket
import stat
import threading
import time

import pytest

from fake_clock import Clock
from jeedom.socket_server import (MAX_CONNECTIONS, MAX_MESSAGE_BYTES, NOISE_LOG_INTERVAL_S, ChannelError, NoiseLog,
                                  SocketServer, check_private_folder, connect, json_pieces, send)

APIKEY = "k" * 32


@pytest.fixture
def server(socket_path):
    seen = []

    def handle(message):
        seen.append(message)
        if message["action"] == "boom":
            raise RuntimeError("bug in an action")
        return {"ok": True, "echo": message["action"]}

    srv = SocketServer(socket_path, APIKEY, handle).start()
    srv.seen = seen
    yield srv
    srv.stop()


def raw_exchange(path, payload: bytes, half_close=True):
    with connect(path) as sock:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before it read everything (too large)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    return json.loads(data) if data else None


def test_the_socket_is_the_users_alone_and_goes_with_the_server(socket_path):
    server = SocketServer(socket_path, APIKEY, lambda message: {"ok": True}).start()
    info = os.stat(socket_path)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(os.path.dirname(socket_path)).st_mode) == 0o700
    server.stop()
    assert not os.path.exists(socket_path)


def test_a_folder_opened_while_listening_is_closed_again(socket_path, caplog):
    """Jeedom's backups and updates chmod 775 -R the web root, the plugin's data folder with the socket in it."""
    caplog.set_level("INFO", logger="enphased.socket")
    server = SocketServer(socket_path, APIKEY, lambda message: {"ok": True}).start()
    folder = os.path.dirname(socket_path)
    try:
        os.chmod(folder, 0o775)
        os.chmod(socket_path, 0o775)
        deadline = time.monotonic() + 30
        while "had been opened to other users" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)  # the line comes once both are closed again
        assert f"{folder} and {socket_path} had been opened to other users" in caplog.text
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o600
        assert send(socket_path, {"apikey": APIKEY, "action": "sync"}) == {"ok": True}
    finally:
        server.stop()


@pytest.mark.parametrize("mode", [0o750, 0o770, 0o705, 0o777, 0o1777])
def test_a_folder_others_may_enter_is_refused(socket_path, mode):
    """Anyone who can enter the folder could reach the daemon, or put a listener of theirs in its place."""
    os.chmod(os.path.dirname(socket_path), mode)
    with pytest.raises(ChannelError, match="open to other users"):
        SocketServer(socket_path, APIKEY, lambda message: {"ok": True})
    assert not os.path.exists(socket_path)


@pytest.mark.pure
def test_a_folder_of_another_user_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    check_private_folder(str(folder))  # ours: fine
    with pytest.raises(ChannelError, match="belongs to user"):
        check_private_folder(str(folder), uid=os.geteuid() + 1)
    with pytest.raises(ChannelError, match="cannot be read"):
        check_private_folder(str(tmp_path / "missing"))


def test_a_stale_socket_goes_and_a_live_one_is_left_to_its_daemon(socket_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_path)
    stale.close()  # a daemon that died: its file remains, nobody listens
    first = SocketServer(socket_path, APIKEY, lambda message: {"ok": "first"}).start()
    try:
        with pytest.raises(OSError, match="another daemon listens"):
            SocketServer(socket_path, APIKEY, lambda message: {"ok": "second"})
        assert send(socket_path, {"apikey": APIKEY, "action": "sync"}) == {"ok": "first"}
    finally:
        first.stop()


def test_a_file_in_the_way_is_not_replaced(socket_path):
    with open(socket_path, "w") as file:
        file.write("someone's file")
    with pytest.raises(ChannelError, match="not a socket"):
        SocketServer(socket_path, APIKEY, lambda message: {"ok": True})
    with open(socket_path) as file:
        assert file.read() == "someone's file"


def test_a_good_message_reaches_the_handler_and_gets_its_answer(server):
    assert send(server.path, {"apikey": APIKEY, "action": "sync"}) == {"ok": True, "echo": "sync"}
    assert server.seen == [{"apikey": APIKEY, "action": "sync"}]


@pytest.mark.pure
@pytest.mark.parametrize("answer", [
    {"ok": True},
    {"ok": False, "error": {"code": "unreachable", "message": "La passerelle …0058 ne répond pas"}},
    {"ok": True, "gateways": []},
    {"ok": True, "inventory": [{"type": "inventory", "gateway": "12", "equipments": [{"logicalId": "1", "name": {
        "fr_FR": "Micro-onduleur …0058"}}], "count": 1}, {"type": "inventory", "gateway": "14", "equipments": []}],
     "errors": [{"gateway": "13", "code": "unreachable", "message": "Gateway 13 did not finish in 150 s"}]},
])
def test_an_answer_in_pieces_is_the_json_of_the_answer(answer):
    assert "".join(json_pieces(answer)) == json.dumps(answer)


def test_a_large_answer_arrives_whole_and_ends_with_its_newline(socket_path):
    """A sync's answer (every gateway's inventory) is written in pieces, not held whole."""
    answer = {"ok": True, "inventory": [{"gateway": str(n), "equipments": [{"logicalId": f"{n}-{i}", "kind": "inverter"}
                                                                           for i in range(3000)]} for n in range(4)]}
    srv = SocketServer(socket_path, APIKEY, lambda message: answer).start()
    try:
        with connect(srv.path) as sock:
            sock.sendall(json.dumps({"apikey": APIKEY, "action": "sync"}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                assert chunk, "the connection closed before the answer's newline"
                data += chunk
    finally:
        srv.stop()
    assert data == json.dumps(answer).encode() + b"\n"


def test_a_message_ended_by_a_newline_without_half_close(server):
    answer = raw_exchange(server.path, b'{"apikey":"' + APIKEY.encode() + b'","action":"refresh"}\n', False)
    assert answer == {"ok": True, "echo": "refresh"}


@pytest.mark.parametrize("payload, code", [
    ({"apikey": "wrong", "action": "stop"}, "forbidden"),
    ({"action": "stop"}, "forbidden"),
    ({"apikey": 12, "action": "stop"}, "forbidden"),
    ({"apikey": APIKEY}, "bad_request"),
    ([APIKEY, "stop"], "bad_request"),
])
def test_refused_messages_never_reach_the_handler(server, payload, code):
    assert send(server.path, payload)["error"]["code"] == code
    assert server.seen == []


@pytest.mark.parametrize("garbage", [b"", b"not json", b"\xff\xfe\x00", b"{\"apikey\":", b"null"])
def test_garbage_is_refused_and_the_server_keeps_working(server, garbage):
    assert raw_exchange(server.path, garbage)["error"]["code"] == "bad_request"
    assert send(server.path, {"apikey": APIKEY, "action": "sync"})["ok"] is True


def test_too_large_is_refused(server):
    answer = raw_exchange(server.path, b"{" + b" " * (MAX_MESSAGE_BYTES + 10))
    assert answer is None or answer["error"]["code"] == "too_large"
    assert server.seen == []
    assert send(server.path, {"apikey": APIKEY, "action": "sync"})["ok"] is True


def test_a_failing_action_answers_an_error_and_the_server_survives(server, caplog):
    assert send(server.path, {"apikey": APIKEY, "action": "boom"})["error"]["code"] == "internal"
    assert send(server.path, {"apikey": APIKEY, "action": "sync"})["ok"] is True


def test_a_silent_peer_does_not_block_others(server):
    silent = connect(server.path)
    try:
        results = []
        worker = threading.Thread(target=lambda: results.append(send(server.path, {"apikey": APIKEY,
                                                                                   "action": "sync"})))
        worker.start()
        worker.join(30)
        assert results == [{"ok": True, "echo": "sync"}]
    finally:
        silent.close()


def test_the_apikey_is_never_logged(server, caplog):
    caplog.set_level("DEBUG")
    send(server.path, {"apikey": "secret-guess-123", "action": "stop", "password": "hunter2"})
    assert "secret-guess-123" not in caplog.text and "hunter2" not in caplog.text
    assert "forbidden" in caplog.text


def test_a_connection_over_the_limit_reads_busy_not_a_reset(socket_path):
    """The "busy" answer reaches PHP: the listener reads the message before answering, since closing on
    bytes never read makes the kernel reset the connection and the answer is lost with it."""
    inside, release = threading.Semaphore(0), threading.Event()

    def handle(message):
        inside.release()
        release.wait(60)
        return {"ok": True}

    server = SocketServer(socket_path, APIKEY, handle).start()
    holders = [threading.Thread(target=send, args=(server.path, {"apikey": APIKEY, "action": "sync"}))
               for _ in range(MAX_CONNECTIONS)]
    try:
        for holder in holders:
            holder.start()
        for _ in holders:
            assert inside.acquire(timeout=60)  # every slot taken
        for _ in range(20):
            assert send(server.path, {"apikey": APIKEY, "action": "sync"}) == {
                "ok": False, "error": {"code": "busy", "message": "too many connections"}}
    finally:
        release.set()
        for holder in holders:
            holder.join(60)
        server.stop()


@pytest.mark.pure
def test_refusals_are_logged_once_per_kind_and_interval_with_a_count_of_the_others(caplog):
    caplog.set_level("DEBUG", logger="enphased.socket")
    clock = Clock(1000)
    noise = NoiseLog(clock=clock)
    for _ in range(1000):
        noise(logging.WARNING, "forbidden", "Socket message refused (%s)", "forbidden")
        noise(logging.DEBUG, "empty", "Empty socket connection")
    assert caplog.messages == ["Socket message refused (forbidden)", "Empty socket connection"]

    clock.now += NOISE_LOG_INTERVAL_S - 1
    noise(logging.WARNING, "forbidden", "Socket message refused (%s)", "forbidden")
    assert len(caplog.messages) == 2
    clock.now += 1
    noise(logging.WARNING, "forbidden", "Socket message refused (%s)", "forbidden")
    assert caplog.messages[2] == "Socket message refused (forbidden) (1000 more of these since the previous line, not logged)"
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.DEBUG, logging.WARNING]
