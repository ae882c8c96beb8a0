"""What a configure or refresh message cannot make the daemon do (issue 12, points 4 and 15): refreshes do
not queue up against a gateway that holds its worker, and a cadence that cannot be one is refused with a
sentence instead of the gateway silently not being read. The daemon core in-process, a gateway on a real
socket counting the requests it receives."""
import math
import threading

from jeedom.socket_server import send
from poller_helpers import Callback
from sim_helpers import MiniGateway
from simulator.cloud import issue_token
from simulator.server import serve

import enphased
from cadence import MAX_CADENCE_S
from gateways import Daemon

APIKEY = "bounds-test-apikey-0123456789abcdef"
WAIT_S = 60  # an upper bound for things that take a fraction of a second; never reached when all is well
PRODUCTION = "/api/v1/production"


class HeldGateway(MiniGateway):
    """A gateway that, once `hold` is set, keeps the next production request until the test lets it go."""

    def __init__(self):
        super().__init__()
        self.hold = threading.Event()
        self.holding = threading.Event()  # a request is being held
        self.release = threading.Event()

    def response(self, path):
        if path == PRODUCTION and self.hold.is_set():
            self.hold.clear()
            self.holding.set()
            self.release.wait(WAIT_S)
        return super().response(path)


def idle(poller):
    """Wait until the worker has run everything queued so far."""
    poller.submit(lambda: None).result(WAIT_S)


def test_refreshes_asked_while_the_worker_is_held_make_one_more_read_not_300():
    gateway = HeldGateway()
    with serve(gateway) as simulator:
        daemon = Daemon(Callback())
        try:
            answer = daemon.handle({"action": "configure", "gateways": [
                {"id": "12", "host": simulator.url, "token": issue_token(gateway.serial), "paused": True}]})
            assert answer["ok"] is True
            poller = daemon.pollers["12"]
            assert daemon.handle({"action": "refresh", "gateway": "12"}) == {"ok": True}  # connects and probes
            idle(poller)
            before = simulator.count()
            daemon.handle({"action": "refresh", "gateway": "12"})
            idle(poller)
            one_refresh = simulator.count() - before
            assert one_refresh == 2  # this gateway's plan: production, and the microinverters

            gateway.hold.set()
            daemon.handle({"action": "refresh", "gateway": "12"})
            assert gateway.holding.wait(WAIT_S), "the refresh never reached the gateway"
            answers = [daemon.handle({"action": "refresh", "gateway": "12"}) for _ in range(300)]
            before = simulator.count()
            gateway.release.set()
            idle(poller)
            sent = simulator.count() - before
        finally:
            gateway.release.set()
            daemon.stop()
    assert answers == [{"ok": True}] * 300
    # The held refresh (its requests are counted once answered), then one refresh for the 300 asked meanwhile.
    assert sent == 2 * one_refresh


def configure(daemon, *gateways, **defaults):
    return daemon.handle(dict({"action": "configure", "gateways": list(gateways)}, **defaults))


def test_a_cadence_that_cannot_be_one_is_refused_with_a_sentence_and_the_others_are_configured():
    daemon = Daemon(Callback())
    try:
        for bad in (float("inf"), float("nan"), 1e15, MAX_CADENCE_S + 1, "Infinity"):
            answer = configure(daemon, {"id": "12", "host": "192.0.2.1", "general_s": bad, "paused": True},
                               {"id": "13", "host": "192.0.2.2", "paused": True})
            assert answer["ok"] is False, bad
            assert answer["error"]["code"] == "bad_request"
            message = answer["error"]["message"]
            assert "Gateway 12" in message and "general_s" in message and str(MAX_CADENCE_S) in message, message
            assert answer["gateways"] == ["13"] and sorted(daemon.pollers) == ["13"]
        # A day is the longest cadence; the floor still raises what is shorter.
        answer = configure(daemon, {"id": "12", "host": "192.0.2.1", "devices_s": MAX_CADENCE_S, "general_s": 1,
                                    "paused": True})
        assert answer == {"ok": True, "gateways": ["12"]}
        assert daemon._configs["12"].devices_s == MAX_CADENCE_S and daemon._configs["12"].general_s == 10
    finally:
        daemon.stop()


def test_a_refused_reconfiguration_keeps_the_gateway_running_as_it_was():
    daemon = Daemon(Callback())
    try:
        assert configure(daemon, {"id": "12", "host": "192.0.2.1", "paused": True})["ok"] is True
        running = daemon.pollers["12"]
        answer = configure(daemon, {"id": "12", "host": "192.0.2.9", "devices_s": math.inf, "paused": True})
        assert answer["ok"] is False and "devices_s" in answer["error"]["message"]
        assert daemon.pollers["12"] is running and daemon._configs["12"].host == "192.0.2.1"
        # The message's own defaults: refused whole, nothing changes.
        answer = configure(daemon, {"id": "13", "host": "192.0.2.2"}, general_s=1e15)
        assert answer["ok"] is False and "general_s" in answer["error"]["message"]
        assert sorted(daemon.pollers) == ["12"]
    finally:
        daemon.stop()


def test_infinity_over_the_socket_is_refused_in_the_answer(tmp_path, jeedom, socket_path):
    # PHP's json_encode cannot write Infinity, but anything holding the apikey may send it.
    daemon, server = enphased.start_core(socket_path, jeedom.url, APIKEY, str(tmp_path / "data"))
    try:
        # json.dumps writes float("inf") as the bare word Infinity, which Python's json reads back.
        answer = send(server.path, {"apikey": APIKEY, "action": "configure", "gateways": [
            {"id": "12", "host": "192.0.2.1", "general_s": float("inf"), "paused": True}]})
        assert answer["ok"] is False and answer["error"]["code"] == "bad_request"
        assert "general_s" in answer["error"]["message"] and daemon.pollers == {}
    finally:
        server.stop()
        daemon.stop()
