"""The simulated gateway and cloud enforce what real ones do, and record what they served."""
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import DAEMON_DIR, fixtures_dir
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.recorded import RecordedGateway, Response
from simulator.server import RESET, Faults, serve

SERIAL = "122302045041"


def get(url, **kwargs):
    session = requests.Session()
    session.trust_env = False
    return session.get(url, verify=False, timeout=10, **kwargs)


def test_old_firmware_serves_http_with_digest_except_production_summaries():
    with serve(MiniGateway("122112123456", "5.0.62")) as sim:
        assert sim.url.startswith("http://")
        assert get(sim.url + "/info").status_code == 200
        assert get(sim.url + "/api/v1/production").status_code == 200
        refused = get(sim.url + "/api/v1/production/inverters")
        assert refused.status_code == 401
        assert 'realm="enphaseenergy.com"' in refused.headers["WWW-Authenticate"]
        for user, password in (("envoy", "123456"), ("installer", "d525d2jh")):
            auth = requests.auth.HTTPDigestAuth(user, password)
            assert get(sim.url + "/api/v1/production/inverters", auth=auth).status_code == 200
        assert get(sim.url + "/api/v1/production/inverters",
                   auth=requests.auth.HTTPDigestAuth("envoy", "wrong")).status_code == 401


def test_new_firmware_serves_https_with_session_cookie_or_bearer():
    with serve(MiniGateway(SERIAL)) as sim:
        assert sim.url.startswith("https://")
        assert get(sim.url + "/info").status_code == 200
        assert get(sim.url + "/api/v1/production").status_code == 401
        token = issue_token(SERIAL)
        bearer = {"Authorization": "Bearer " + token}
        check = get(sim.url + "/auth/check_jwt", headers=bearer)
        assert check.status_code == 200 and "sessionId" in check.cookies
        assert get(sim.url + "/api/v1/production", cookies={"sessionId": check.cookies["sessionId"]}).status_code == 200
        assert get(sim.url + "/api/v1/production", headers=bearer).status_code == 200
        expired = {"Authorization": "Bearer " + issue_token(SERIAL, now=time.time() - 400 * 86400)}
        assert get(sim.url + "/auth/check_jwt", headers=expired).status_code == 401
        assert get(sim.url + "/api/v1/production", headers=expired).status_code == 401
        sim.drop_sessions()
        assert get(sim.url + "/api/v1/production", cookies={"sessionId": check.cookies["sessionId"]}).status_code == 401
        assert sim.count("/api/v1/production") == 5 and sim.count("/auth/check_jwt") == 2


def test_faults_hook_can_answer_instead_or_drop_the_connection():
    class Flaky(Faults):
        def before(self, method, path):
            if path == "/api/v1/production":
                return Response(503, b"busy", "text/plain")
            return RESET if path == "/info" else None

    with serve(MiniGateway("122112123456", "5.0.62"), faults=Flaky()) as sim:
        assert get(sim.url + "/api/v1/production").status_code == 503
        with pytest.raises(requests.ConnectionError):
            get(sim.url + "/info")
        assert [(r.path, r.status) for r in sim.requests] == [("/api/v1/production", 503), ("/info", None)]


def test_post_and_put_go_to_the_gateway_when_it_handles_them():
    gateway = MiniGateway(SERIAL)
    with serve(gateway, tls=False) as sim:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + issue_token(SERIAL)
        # Production on/off is the installer's: an owner's token is refused before the gateway sees it.
        assert session.put(sim.url + "/ivp/mod/5/mode/power", json={"length": 1, "arr": [1]}).status_code == 401
        session.headers["Authorization"] = "Bearer " + issue_token(SERIAL, role="installer")
        assert session.put(sim.url + "/ivp/mod/5/mode/power", json={"length": 1, "arr": [1]}).json() == {"ok": True}
    assert gateway.posted == [("PUT", "/ivp/mod/5/mode/power", {"length": 1, "arr": [1]})]


def test_recorded_gateway_is_served_with_its_recorded_answers():
    gateway = RecordedGateway(fixtures_dir() / "7.6.175_with_cts")
    with serve(gateway) as sim:
        bearer = {"Authorization": "Bearer " + issue_token("122238082763")}
        answer = get(sim.url + "/production.json?details=1", headers=bearer)
        assert answer.json() == json.loads(gateway.response("/production.json").body)
        assert get(sim.url + "/no/such/page", headers=bearer).status_code == 404


def test_cloud_logs_in_issues_tokens_and_counts_logins():
    accounts = [Account("a@example.invalid", "pw-a", serials=[SERIAL]), Account("b@example.invalid", "pw-b", two_factor=True)]
    with serve_cloud(accounts) as cloud:
        login = requests.post(cloud.url + "/login/login.json", data={"user[email]": "a@example.invalid", "user[password]": "pw-a"})
        session_id = login.json()["session_id"]
        wanted = {"session_id": session_id, "serial_num": SERIAL, "username": "a@example.invalid"}
        token = requests.post(cloud.url + "/tokens", json=wanted).text
        assert token.count(".") == 2
        assert requests.post(cloud.url + "/tokens", json=dict(wanted, serial_num="1")).status_code == 400
        mfa = requests.post(cloud.url + "/login/login.json", data={"user[email]": "b@example.invalid", "user[password]": "pw-b"})
        assert mfa.status_code == 200 and "session_id" not in mfa.json()
        bad = requests.post(cloud.url + "/login/login.json", data={"user[email]": "a@example.invalid", "user[password]": "no"})
        assert bad.status_code == 401
        assert cloud.logins == 3 and cloud.tokens_issued == 1


def test_command_line_serves_a_recorded_gateway_and_prints_its_urls():
    folder = fixtures_dir() / "7.6.175_with_cts"
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--recorded", str(folder), "--port", "0"],
        cwd=DAEMON_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        gateway_url = next(line.split()[-1] for line in lines if line.startswith("Gateway"))
        assert get(gateway_url + "/info").status_code == 200
        assert any("demo@example.invalid" in line for line in lines)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_lax_gateway_accepts_unsigned_tokens_until_they_expire():
    import jwt

    def unsigned(exp):
        return jwt.encode({"enphaseUser": "owner", "exp": int(exp)}, None, algorithm="none")

    with serve(MiniGateway(SERIAL), auth="lax") as sim:
        assert get(sim.url + "/api/v1/production", headers={"Authorization": "Bearer " + unsigned(time.time() + 60)}).status_code == 200
        assert get(sim.url + "/api/v1/production", headers={"Authorization": "Bearer " + unsigned(time.time() - 60)}).status_code == 401
    strict = serve(MiniGateway(SERIAL))  # also usable without `with`
    try:
        assert get(strict.url + "/api/v1/production", headers={"Authorization": "Bearer " + unsigned(time.time() + 60)}).status_code == 401
    finally:
        strict.close()


def test_command_line_serves_the_synthetic_gateway():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--synthetic", "--inverters", "3", "--port", "0"],
        cwd=DAEMON_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        gateway_url = next(line.split()[-1] for line in lines if line.startswith("Gateway"))
        token = next(line.split()[-1] for line in lines if line.startswith("Token"))
        answer = get(gateway_url + "/api/v1/production/inverters", headers={"Authorization": "Bearer " + token})
        assert answer.status_code == 200 and len(answer.json()) == 3
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_identity_reads_serial_and_firmware_major_whatever_the_prefix():
    from simulator.server import identity

    assert identity(MiniGateway("123456789012", "4.2.33").info_xml().replace(b">D4", b">M4")) == ("123456789012", 4)
    assert identity(MiniGateway(SERIAL, "8.3.5169").info_xml()) == (SERIAL, 8)
    assert identity(b"not xml") == ("", 0)


def test_a_client_gone_before_the_answer_leaves_no_traceback(capfd):
    """A reader that gives up (its timeout, its process ending) resets the connection while the gateway
    answers: a real gateway shrugs; the simulator printed a traceback, into the daemon's own log when the
    daemon plays a demo gateway."""
    gone, handlers = threading.Event(), []

    class AnswerOnceGone(Faults):
        def after(self, method, path, reply):
            handlers.append(threading.current_thread())
            gone.wait(30)
            return reply

    with serve(MiniGateway("122112123456", "5.0.62"), faults=AnswerOnceGone()) as sim:
        client = socket.create_connection(("127.0.0.1", sim.port), timeout=30)
        client.sendall(b"GET /info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        deadline = time.monotonic() + 30
        while not handlers and time.monotonic() < deadline:
            time.sleep(0.01)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # a reset, as when the reader's process ends
        gone.set()
        handlers[0].join(30)
        assert not handlers[0].is_alive()
    assert "Traceback" not in capfd.readouterr().err
