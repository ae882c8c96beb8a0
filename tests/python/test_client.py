"""The client against the simulated gateway and cloud, over real sockets, one test per auth path."""
import time

import pytest

from conftest import fixtures_dir
from envoy.auth import LoginBudget
from envoy.enlighten import CloudSettings
from envoy.token_store import FileTokenStore, MemoryTokenStore
from envoy.client import Credentials, Envoy
from envoy.errors import EnvoyError
from fake_clock import Clock
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.recorded import RecordedGateway
from simulator.server import GatewayAuth, GatewaySimulator, serve

SERIAL = "122302045041"
EMAIL, PASSWORD = "owner@example.invalid", "s3cret-Pa55"


@pytest.fixture
def cloud():
    accounts = [Account(EMAIL, PASSWORD), Account("mfa@example.invalid", PASSWORD, two_factor=True)]
    with serve_cloud(accounts) as running:
        yield running


def settings(cloud):
    return CloudSettings(cloud.url, cloud.url)


def checks(sim):
    return sim.count("/auth/check_jwt")


# --- firmware < 7: digest ---

def test_digest_envoy_with_the_factory_password():
    with serve(MiniGateway("122112123456", "5.0.62")) as sim:
        envoy = Envoy(sim.url)
        assert envoy.connect().serial == "122112123456"
        assert envoy.auth_mode == "digest-envoy" and envoy.token_expires is None
        assert envoy.get_json("/api/v1/production/inverters") == []


def test_digest_installer_with_the_computed_password():
    gateway = MiniGateway("122112123456", "4.10.35")
    with serve(gateway, auth=GatewayAuth("digest", users={"installer": "d525d2jh"})) as sim:
        envoy = Envoy(sim.url, Credentials(installer=True))
        envoy.connect()
        assert envoy.auth_mode == "digest-installer"
        assert envoy.post_json("/ivp/ss/gen_mode", {"gen_cmd": "on"}) == {"ok": True}
    assert gateway.posted == [("POST", "/ivp/ss/gen_mode", {"gen_cmd": "on"})]


def test_digest_wrong_password_is_auth_failed():
    with serve(MiniGateway("122112123456", "5.0.62")) as sim:
        with pytest.raises(EnvoyError) as err:
            Envoy(sim.url, Credentials(password="not-it")).connect()
    assert err.value.code == "auth_failed" and "not-it" not in err.value.message


def test_host_without_scheme_tries_https_then_http():
    with serve(MiniGateway("122112123456", "5.0.62")) as sim:
        envoy = Envoy(f"127.0.0.1:{sim.port}")
        envoy.connect()
        assert envoy.base_url == sim.url and sim.url.startswith("http://")


# --- firmware >= 7: tokens ---

def test_pasted_token_opens_a_session_and_reads():
    token = issue_token(SERIAL)
    with serve(MiniGateway(SERIAL)) as sim:
        assert sim.url.startswith("https://")
        envoy = Envoy(f"127.0.0.1:{sim.port}", Credentials(token=token))
        envoy.connect()
        assert envoy.auth_mode == "jwt-owner" and envoy.token_expires > time.time() + 300 * 86400
        assert envoy.get_json("/api/v1/production")["wattsNow"] == 1234
        assert checks(sim) == 1


def test_session_cookie_alone_is_enough_where_the_gateway_wants_it():
    with serve(MiniGateway(SERIAL), auth=GatewayAuth("jwt", bearer_ok=False)) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(SERIAL)))
        envoy.connect()
        assert envoy.get_json("/api/v1/production")["wattsNow"] == 1234


def test_expired_pasted_token_says_when_it_expired():
    token = issue_token(SERIAL, now=time.time() - 400 * 86400)
    with serve(MiniGateway(SERIAL)) as sim:
        with pytest.raises(EnvoyError) as err:
            Envoy(sim.url, Credentials(token=token)).connect()
    assert err.value.code == "token_expired"
    assert time.strftime("%Y-", time.gmtime(time.time() - 35 * 86400)) in err.value.message
    assert checks(sim) == 0


def test_token_fetched_from_enlighten_is_stored_and_reused(cloud, tmp_path):
    store = FileTokenStore(tmp_path / "token.json")
    with serve(MiniGateway(SERIAL)) as sim:
        for _ in range(2):  # a second run (daemon restart) reuses the stored token
            envoy = Envoy(sim.url, Credentials(username=EMAIL, enlighten_password=PASSWORD), store=store,
                          cloud=settings(cloud))
            envoy.connect()
            assert envoy.auth_mode == "jwt-owner"
    assert cloud.logins == 1 and cloud.tokens_issued == 1
    assert PASSWORD not in (tmp_path / "token.json").read_text()


def test_cloud_certificate_is_verified(tmp_path):
    with serve_cloud([Account(EMAIL, PASSWORD)], tls=True) as cloud, serve(MiniGateway(SERIAL)) as sim:
        creds = Credentials(username=EMAIL, enlighten_password=PASSWORD)
        with pytest.raises(EnvoyError) as err:  # a self-signed cloud is not trusted...
            Envoy(sim.url, creds, cloud=CloudSettings(cloud.url, cloud.url)).connect()
        assert err.value.code == "unreachable"
        trusted = CloudSettings(cloud.url, cloud.url, verify=cloud.cert_path)  # ...unless told to
        Envoy(sim.url, creds, cloud=trusted, budget=LoginBudget(first_backoff_s=0)).connect()


def test_lost_session_is_checked_again_once(cloud):
    with serve(MiniGateway(SERIAL), auth=GatewayAuth("jwt", bearer_ok=False)) as sim:
        envoy = Envoy(sim.url, Credentials(username=EMAIL, enlighten_password=PASSWORD), cloud=settings(cloud))
        envoy.connect()
        sim.drop_sessions()  # the gateway rebooted
        assert envoy.get_json("/api/v1/production")["wattsNow"] == 1234
        assert checks(sim) == 2 and cloud.logins == 1


def test_session_left_idle_is_opened_again():
    clock = Clock()
    gateway = MiniGateway(SERIAL)
    sim = GatewaySimulator(gateway, auth=GatewayAuth("jwt", bearer_ok=False), clock=clock).start()
    with sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(SERIAL)))
        envoy.connect()
        clock.now += 9 * 60  # used within 10 minutes: the session lives on
        envoy.get_json("/api/v1/production")
        clock.now += 9 * 60
        envoy.get_json("/api/v1/production")
        assert checks(sim) == 1
        clock.now += 11 * 60  # idle too long: the gateway forgot it, check_jwt again
        assert envoy.get_json("/api/v1/production")["wattsNow"] == 1234
        assert checks(sim) == 2


def test_revoked_token_is_fetched_again_once(cloud):
    with serve(MiniGateway(SERIAL)) as sim:
        envoy = Envoy(sim.url, Credentials(username=EMAIL, enlighten_password=PASSWORD), cloud=settings(cloud))
        envoy.connect()
        sim.revoke_tokens()
        assert envoy.get_json("/api/v1/production")["wattsNow"] == 1234
        assert cloud.logins == 2 and checks(sim) == 3


def test_revoked_pasted_token_fails_without_looping():
    with serve(MiniGateway(SERIAL)) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(SERIAL)))
        envoy.connect()
        sim.revoke_tokens()
        for _ in range(2):
            with pytest.raises(EnvoyError) as err:
                envoy.get_json("/api/v1/production")
            assert err.value.code == "auth_failed"
        assert sim.count("/api/v1/production") == 2 and checks(sim) == 3


def test_token_for_another_gateway_is_refused():
    with serve(MiniGateway(SERIAL)) as sim:
        with pytest.raises(EnvoyError) as err:
            Envoy(sim.url, Credentials(token=issue_token("999999999999"))).connect()
    assert err.value.code == "auth_failed"


def test_two_factor_account(cloud):
    with serve(MiniGateway(SERIAL)) as sim:
        with pytest.raises(EnvoyError) as err:
            Envoy(sim.url, Credentials(username="mfa@example.invalid", enlighten_password=PASSWORD),
                  cloud=settings(cloud)).connect()
    assert err.value.code == "two_factor"


def test_wrong_enlighten_password_then_the_budget_holds(cloud):
    store = MemoryTokenStore()
    with serve(MiniGateway(SERIAL)) as sim:
        creds = Credentials(username=EMAIL, enlighten_password="wrong-one")
        codes = []
        for _ in range(3):
            with pytest.raises(EnvoyError) as err:
                Envoy(sim.url, creds, store=store, cloud=settings(cloud)).connect()
            codes.append(err.value.code)
            assert "wrong-one" not in err.value.message
    assert codes == ["auth_failed", "auth_failed", "auth_failed"] and cloud.logins == 1  # refused: not tried again


def test_unreachable_host(refused_port):
    with pytest.raises(EnvoyError) as err:
        Envoy(f"127.0.0.1:{refused_port}", connect_timeout_s=2).connect()
    assert err.value.code == "unreachable" and f"127.0.0.1:{refused_port}" in err.value.message


def test_gateway_gone_after_connect_is_unreachable():
    with serve(MiniGateway(SERIAL)) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(SERIAL)), connect_timeout_s=2)
        envoy.connect()
    with pytest.raises(EnvoyError) as err:
        envoy.get_json("/api/v1/production")
    assert err.value.code == "unreachable"


def test_lax_gateway_accepts_a_token_it_did_not_sign():
    import jwt
    foreign = jwt.encode({"exp": int(time.time()) + 3600, "enphaseUser": "owner"}, "another-signing-key-of-32-bytes!", algorithm="HS256")
    with serve(MiniGateway(SERIAL), lax=True) as sim:
        Envoy(sim.url, Credentials(token=foreign)).connect()
    with serve(MiniGateway(SERIAL)) as sim:
        with pytest.raises(EnvoyError):
            Envoy(sim.url, Credentials(token=foreign)).connect()


# --- reading a recorded gateway ---

def recorded_names():
    names = [p.name for p in sorted(fixtures_dir().iterdir()) if (p / "info").is_file()] if fixtures_dir() else []
    return [n for n in names if not n.endswith("_bad_auth")]


@pytest.mark.parametrize("name", recorded_names())
def test_read_gets_exactly_the_planned_endpoints(name):
    gateway = RecordedGateway(fixtures_dir() / name)
    serial = gateway.info_xml().split(b"<sn>")[1].split(b"</sn>")[0].decode()
    with serve(gateway) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(serial)))
        envoy.probe()
        for cadence in ("general", "devices"):
            before_sim, before_client = len(sim.requests), envoy.requests_sent
            readings = envoy.read(cadence)
            served = [r.path for r in sim.requests[before_sim:]]
            assert sorted(served) == sorted(envoy.plan.paths[cadence])
            assert envoy.requests_sent - before_client == len(served)
            assert readings.gateway.serial == serial


def test_recorded_gateway_refusing_the_password():
    with serve(RecordedGateway(fixtures_dir() / "3.9.36_bad_auth")) as sim:
        with pytest.raises(EnvoyError) as err:
            Envoy(sim.url).connect()
    assert err.value.code == "auth_failed" and "last 6 characters of the serial" in err.value.message


def test_failed_endpoint_leaves_its_reading_empty():
    class Broken(RecordedGateway):
        def response(self, path):
            answer = super().response(path)
            return answer._replace(status=500) if path.startswith("/ivp/meters/readings") else answer

    gateway = Broken(fixtures_dir() / "7.6.175_with_cts")
    with serve(gateway) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token("122238082763")))
        envoy.probe()
        readings = envoy.read("general")
    assert readings.production.watts_now is not None
    assert all(m.total.active_power_w is None for m in readings.meters.values())
