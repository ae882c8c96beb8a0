"""The fault plans of the simulator, each kind seen from a plain HTTP client over a real socket."""
import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from conftest import DAEMON_DIR
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.faults import CYCLE_KINDS, KINDS, REQUEST_KINDS, Episode, FaultPlan, chaos_schedule, parse_spec
from simulator.server import serve

OLD = "5.0.62"  # digest firmware: /api/v1/production answers without auth, over plain HTTP
PATH = "/api/v1/production"
NORMAL = MiniGateway("122112123456", OLD).responses[PATH]


def get(url, **kwargs):
    return requests.get(url, verify=False, timeout=kwargs.pop("timeout", 5), **kwargs)


def one(kind, **options):
    return FaultPlan([Episode(kind, 0, 1)], **options)


@pytest.mark.parametrize("kind, status", [("http500", 500), ("http502", 502), ("http503", 503), ("html", 200)])
def test_error_pages_are_html_where_json_is_expected(kind, status):
    with serve(MiniGateway("122112123456", OLD), faults=one(kind)) as sim:
        answer = get(sim.url + PATH)
    assert answer.status_code == status and answer.headers["Content-Type"] == "text/html"
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")


def test_reset_drops_the_connection_without_an_answer():
    plan = one("reset")
    with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
        with pytest.raises(requests.ConnectionError):
            get(sim.url + PATH)
        plan.next_cycle()
        assert get(sim.url + PATH).json() == NORMAL
    assert plan.injected == {"reset": 1}


@pytest.mark.parametrize("kind", ["truncated", "malformed"])
def test_spoiled_json_is_no_longer_the_answer(kind):
    plan = FaultPlan([Episode(kind, 0, 1)], seed=3)
    with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
        bodies = [get(sim.url + PATH).content for _ in range(5)]
    good = json.dumps(NORMAL).encode()
    assert all(body != good for body in bodies)
    if kind == "truncated":
        assert all(good.startswith(body) and len(body) < len(good) for body in bodies)


def test_slow_answers_right_but_late_and_timeout_holds_until_the_cycle_ends():
    plan = FaultPlan([Episode("slow", 0, 1), Episode("timeout", 1, 1)], slow_s=0.05, hang_s=30)
    with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
        assert get(sim.url + PATH).json() == NORMAL
        plan.next_cycle()
        with pytest.raises(requests.exceptions.ReadTimeout):
            get(sim.url + PATH, timeout=0.3)
        plan.next_cycle()  # lets the held request go
        assert get(sim.url + PATH).json() == NORMAL
    assert plan.injected == {"slow": 1, "timeout": 1}


def test_rate_hits_a_seeded_share_of_requests():
    def run(seed):
        plan = FaultPlan([Episode("http503", 0, 1, rate=0.5)], seed=seed)
        with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
            return [get(sim.url + PATH).status_code for _ in range(40)]

    first = run(11)
    assert first == run(11) and 5 < first.count(503) < 35


def test_unauthorized_is_a_401_on_a_valid_session_which_the_gateway_then_forgets():
    serial = "122302045041"
    plan = FaultPlan([Episode("unauthorized", 1, 1)])
    with serve(MiniGateway(serial, "7.6.175"), faults=plan) as sim:
        session = requests.Session()
        check = session.get(sim.url + "/auth/check_jwt", headers={"Authorization": "Bearer " + issue_token(serial)},
                            verify=False)
        assert check.status_code == 200 and sim.sessions
        assert session.get(sim.url + PATH, verify=False).status_code == 200
        plan.next_cycle()
        assert session.get(sim.url + PATH, verify=False).status_code == 401
        assert not sim.sessions


def test_token_expired_makes_the_gateway_refuse_every_token_it_has_seen():
    serial = "122302045041"
    plan = FaultPlan([Episode("token_expired", 1, 1)])
    old, new = issue_token(serial), issue_token(serial)
    with serve(MiniGateway(serial, "7.6.175"), faults=plan) as sim:
        assert get(sim.url + PATH, headers={"Authorization": "Bearer " + old}).status_code == 200
        plan.next_cycle()
        assert get(sim.url + PATH, headers={"Authorization": "Bearer " + old}).status_code == 401
        assert get(sim.url + PATH, headers={"Authorization": "Bearer " + new}).status_code == 200


def test_reboot_is_down_then_zeros_and_unknown_then_lifetime_counters_lower():
    plan = FaultPlan([Episode("reboot", 1, 2)], seed=5, unknown_cycles=1)
    with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
        before = get(sim.url + PATH).json()
        plan.next_cycle()
        with pytest.raises(requests.ConnectionError):
            get(sim.url + PATH)
        plan.next_cycle()
        with pytest.raises(requests.ConnectionError):
            get(sim.url + "/info")
        plan.next_cycle()
        zeroed = get(sim.url + PATH).json()
        plan.next_cycle()
        after = get(sim.url + PATH).json()
    assert set(zeroed.values()) <= {0, "unknown"}
    assert after["wattsNow"] == before["wattsNow"]
    assert after["wattHoursLifetime"] < before["wattHoursLifetime"]
    assert plan.injected["reboot"] == 1 and plan.injected["refused_connections"] >= 2


def test_outage_holds_every_request():
    plan = FaultPlan([Episode("outage", 0, 1)], hang_s=30)
    with serve(MiniGateway("122112123456", OLD), faults=plan) as sim:
        with pytest.raises(requests.exceptions.ReadTimeout):
            get(sim.url + "/info", timeout=0.3)
        plan.next_cycle()
        assert get(sim.url + "/info").status_code == 200


def test_cloud_down_answers_503_to_logins():
    plan = FaultPlan([Episode("cloud_down", 0, 1)])
    with serve_cloud([Account("a@example.invalid", "pw")], faults=plan.cloud) as cloud:
        form = {"user[email]": "a@example.invalid", "user[password]": "pw"}
        assert requests.post(cloud.url + "/login/login.json", data=form, timeout=5).status_code == 503
        plan.next_cycle()
        assert requests.post(cloud.url + "/login/login.json", data=form, timeout=5).status_code == 200


def test_jeedom_down_is_only_reported_to_the_test():
    plan = FaultPlan([Episode("jeedom_down", 1, 2)])
    assert [plan.jeedom_down, plan.next_cycle() and plan.jeedom_down, plan.next_cycle() and plan.jeedom_down,
            plan.next_cycle() and plan.jeedom_down] == [False, True, True, False]


def test_spec_reads_rates_and_episodes_and_refuses_unknown_kinds():
    plan = parse_spec("reset=0.05, http503@3+2*0.5, reboot@10")
    assert plan.rates == {"reset": 0.05}
    assert plan.episodes == [Episode("http503", 3, 2, 0.5), Episode("reboot", 10, 1, 1.0)]
    with pytest.raises(ValueError):
        parse_spec("meteor=0.1")
    with pytest.raises(ValueError):
        parse_spec("reset:0.1")


def test_chaos_schedule_is_seeded_and_mixes_every_kind_with_clean_cycles_between():
    schedule = chaos_schedule(7, 300)
    assert schedule == chaos_schedule(7, 300) and schedule != chaos_schedule(8, 300)
    assert {e.kind for e in schedule} == set(KINDS)
    assert sum(e.kind == "token_expired" for e in schedule) <= 3
    gateway = [e for e in schedule if e.kind != "jeedom_down"]
    for earlier, later in zip(gateway, gateway[1:]):
        assert earlier.start + earlier.cycles < later.start  # a clean cycle shows the recovery
    assert set(REQUEST_KINDS) | set(CYCLE_KINDS) == set(KINDS)


def test_command_line_serves_with_faults_and_says_what_it_injected():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--synthetic", "--http", "--faults", "http503=1", "--cycle-s", "1"],
        cwd=DAEMON_DIR, stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        url = process.stdout.readline().split(": ", 1)[1].strip()
        lines = [process.stdout.readline() for _ in range(4)]
        assert any(line.startswith("Faults: http503=1") for line in lines)
        assert requests.get(url + "/production.json", timeout=5).status_code == 503
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert "Faults injected: http503 1" in out
