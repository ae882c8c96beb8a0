"""The daemon core in-process (as the benchmark runs it): the built-in demo gateway, and what the default
cadences cost a real gateway per hour."""

from conftest import fixtures_dir
from jeedom_receiver import JeedomReceiver
from poller_helpers import Callback, advance
import enphased
from envoy.client import Credentials, Envoy
from jeedom.socket_server import send
from poller import GatewayPoller
from simulator.cloud import issue_token
from simulator.recorded import RecordedGateway
from simulator.server import serve

APIKEY = "core-test-apikey-0123456789abcdef"


def test_demo_gateway_in_process(tmp_path, socket_path):
    jeedom = JeedomReceiver(APIKEY)
    daemon, server = enphased.start_core(socket_path, jeedom.url, APIKEY, str(tmp_path / "data"))
    try:
        message = {"apikey": APIKEY, "action": "configure", "gateways": [{"id": "default", "host": "demo"}]}
        assert send(server.path, message)["ok"] is True
        answer = send(server.path, {"apikey": APIKEY, "action": "sync"})
        assert answer["ok"] is True, answer
        kinds = {e["kind"] for e in answer["inventory"][0]["equipments"]}
        assert {"gateway", "inverter", "encharge", "meter"} <= kinds
        assert jeedom.wait_for(lambda j: any(e["type"] == "values" for e in j.events))
    finally:
        server.stop()
        daemon.stop()
        jeedom.close()


def test_requests_per_hour_at_default_cadences_for_the_gateway_with_batteries_and_cts():
    recorded = RecordedGateway(fixtures_dir() / "7.6.185_with_cts_and_battery_3t")
    with serve(recorded) as gateway:
        envoy = Envoy(gateway.url, Credentials(token=issue_token(gateway.serial)))
        poller = GatewayPoller("12", envoy, Callback())  # default cadences: 60 s and 300 s
        poller.sync()
        plan = envoy.plan
        before = gateway.count()
        advance(poller, 60)
        assert gateway.count() - before == len(plan.paths["general"])  # a general cycle reads only its own
        before = gateway.count()
        advance(poller, 3600)
        per_hour = gateway.count() - before
    general, devices = len(plan.paths["general"]), len(plan.paths["devices"])
    assert (general, devices) == (3, 5)
    assert per_hour == 60 * general + 12 * devices == 240


def test_general_cycles_take_the_devices_of_the_last_devices_read_not_their_answers_kept():
    """The per-device answers (600 microinverters' worth on a site) are not kept between reads: the devices
    made of them are, and a general cycle sees the same microinverters and AC Batteries as the devices read."""
    from view import DEVICE_ANSWERS

    recorded = RecordedGateway(fixtures_dir() / "8.2.4382_ACB")
    with serve(recorded) as gateway:
        envoy = Envoy(gateway.url, Credentials(token=issue_token(gateway.serial)))
        callback = Callback()
        poller = GatewayPoller("12", envoy, callback)
        poller.sync()
        values = callback.last("values")
        assert values[gateway.serial]["inverters_count"] > 0 and any(v.get("percent") for v in values.values())
        kept = {path for answers in poller.view._answers.values() for path in answers}
        assert kept and not kept & set(DEVICE_ANSWERS)
        callback.posts.clear()
        advance(poller, 60 * 4)  # general cycles only, of a gateway whose answers do not move
        assert not [body for post in callback.posts for kind, body in post if kind == "values"], \
            "a general cycle changed nothing the devices read had said"
        advance(poller, 60)  # the devices read again
        assert not [body for post in callback.posts for kind, body in post if kind == "values"]
