"""Secrets never leave: the daemon (a real process at debug level) runs with known passwords and tokens
over good and bad credentials and a gateway that drops sessions, refuses tokens and reboots; then every
log line, every event Jeedom got, every socket answer, every file it wrote besides its token store, every
diagnostics report, its command line, and the shell tools' output at their most verbose are searched for
each secret, raw, URL-encoded, JSON-escaped, and for tokens their signature alone."""
import json
import os
import subprocess
import sys
import time
import zipfile
from urllib.parse import quote, quote_plus

import pytest

from chaos_helpers import APIKEY, DaemonProcess
from conftest import DAEMON_DIR
from jeedom_receiver import JeedomReceiver
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.faults import Episode, FaultPlan
from simulator.server import GatewayAuth, serve
from simulator.synthetic import SyntheticGateway

EMAIL = "secret-owner@example.invalid"
ENLIGHTEN_PW = "Enl1ghten-pw-7Yq!x"
WRONG_PW = "Wr0ng-enlighten-pw-Kd2"
DIGEST_PW = "D1gest-pw-Zr8"
WRONG_DIGEST_PW = "Wr0ng-d1gest-pw-Lm4"
UNREACHABLE_PW = "Unre4chable-pw-Hq6"
BAD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.N0t-a-val1d-t0ken-Xw9"
CYCLE_S = 0.25  # the fault plan's cycle for gateway A, on the clock
WAIT_S = 60


def forms(secret):
    """The ways a secret could show up in text."""
    out = {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    if secret.count(".") == 2:  # a JWT: its signature alone is enough to use it
        out.add(secret.rsplit(".", 1)[1])
    return {form for form in out if len(form) >= 8}


def leaks(text, secrets):
    return sorted({name for name, secret in secrets.items() for form in forms(secret) if form in text})


@pytest.fixture
def world(tmp_path):
    plan = FaultPlan([Episode("token_expired", 6), Episode("unauthorized", 8, 2), Episode("reset", 11, 1, 0.5),
                      Episode("reboot", 13, 2), Episode("cloud_down", 16, 3), Episode("token_expired", 17),
                      Episode("truncated", 20, 1, 0.5), Episode("http503", 21, 1)],
                     seed=9, hang_s=5)  # its clock starts once the daemon is running and synced
    receiver = JeedomReceiver(APIKEY)
    gateways = {
        "a": SyntheticGateway(inverters=4, encharges=1, seed=2),
        "b": MiniGateway("122112123457", "5.0.62"),
        "c": MiniGateway("122302045042", "7.6.175"),
        "d": MiniGateway("122302045043", "7.6.175"),
        "e": MiniGateway("122302045044", "7.6.175"),
        "f": MiniGateway("122112123458", "5.0.62"),
    }
    with serve_cloud([Account(EMAIL, ENLIGHTEN_PW)], faults=plan.cloud) as cloud, \
            serve(gateways["a"], faults=plan) as a, \
            serve(gateways["b"], auth=GatewayAuth("digest", users={"envoy": DIGEST_PW})) as b, \
            serve(gateways["c"]) as c, serve(gateways["d"]) as d, serve(gateways["e"]) as e, \
            serve(gateways["f"]) as f:
        pasted = issue_token(gateways["c"].serial)
        secrets = {"enlighten password": ENLIGHTEN_PW, "wrong enlighten password": WRONG_PW,
                   "digest password": DIGEST_PW, "wrong digest password": WRONG_DIGEST_PW,
                   "password of an unreachable gateway": UNREACHABLE_PW, "pasted token": pasted,
                   "malformed pasted token": BAD_TOKEN}
        configure = {"action": "configure", "general_s": 0.2, "devices_s": 1, "gateways": [
            {"id": "a", "host": a.url, "username": EMAIL, "enlighten_password": ENLIGHTEN_PW},
            {"id": "b", "host": b.url, "password": DIGEST_PW},
            {"id": "c", "host": c.url, "token": pasted},
            {"id": "d", "host": d.url, "username": EMAIL, "enlighten_password": WRONG_PW},
            {"id": "e", "host": e.url, "token": BAD_TOKEN},
            {"id": "f", "host": f.url, "password": WRONG_DIGEST_PW},
            {"id": "g", "host": "127.0.0.1:1", "password": UNREACHABLE_PW, "token": pasted,
             "username": EMAIL, "enlighten_password": ENLIGHTEN_PW},
        ]}
        daemon = DaemonProcess(tmp_path, receiver.url, launcher=True,
                               env={"CHAOS_CLOUD_URL": cloud.url, "CHAOS_TIMEOUT_S": "10"})
        try:
            yield plan, daemon, receiver, cloud, {"a": a, "b": b, "c": c}, secrets, configure
        finally:
            plan.close()
            daemon.stop()
            receiver.close()


def test_no_secret_in_logs_events_answers_files_command_lines_or_diagnostics(world, tmp_path):
    plan, daemon, receiver, cloud, sims, secrets, configure = world
    answers = [daemon.send(configure)]
    for gateway in "abcdefg":
        answers.append(daemon.send({"action": "sync", "gateway": gateway}, timeout_s=WAIT_S))
    assert answers[0]["ok"] and answers[1]["ok"] and answers[2]["ok"] and answers[3]["ok"], answers
    assert {a["error"]["code"] for a in answers[4:] if not a["ok"]} >= {"auth_failed", "unreachable"}, answers
    cmdline = daemon.cmdline()
    answers.append(daemon.send({"action": "refresh"}))
    answers.append(daemon.send({"action": "execute", "gateway": "a", "target": "x", "command": "no-such-command"}))
    for gateway in "abc":
        answers.append(daemon.send({"action": "diagnostics", "gateway": gateway}, timeout_s=WAIT_S))
    # Gateway A through every episode of its plan, the first (its token revoked) once the daemon holds one.
    plan.start_clock(CYCLE_S)
    deadline = time.monotonic() + WAIT_S
    while plan.follow_clock() < 24 and time.monotonic() < deadline:
        time.sleep(CYCLE_S)
    rotated = json.loads(json.dumps(configure))
    rotated["gateways"][0]["enlighten_password"] = secrets["rotated password"] = "R0tated-pw-Vb3"
    answers.append(daemon.send(rotated))
    answers.append(daemon.send({"action": "sync", "gateway": "a"}, timeout_s=WAIT_S))
    assert daemon.alive()
    assert daemon.stop() == 0

    for name, sim in sims.items():  # every token a gateway was shown, fetched ones included
        for number, token in enumerate(sorted(sim._seen_tokens)):
            secrets[f"token seen by gateway {name} #{number}"] = token
    assert sum(name.startswith("token seen") for name in secrets) >= 3  # the fetched ones, renewed after expiry
    assert cloud.logins >= 3

    places = {
        "daemon log": daemon.output(),
        "events sent to Jeedom": json.dumps(receiver.bodies),
        "socket answers": json.dumps(answers),
        "daemon command line": cmdline.decode(errors="replace"),
    }
    reports = [a["file"] for a in answers if a.get("file")]
    assert len(reports) == 3, answers
    for path in sorted(daemon.datadir.rglob("*")):
        if path.is_file() and not path.name.startswith("token-"):  # the token store keeps the token, 0600
            places[f"file {path.relative_to(daemon.datadir)}"] = path.read_bytes().decode(errors="replace")
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    places[f"{path.name}:{member}"] = archive.read(member).decode(errors="replace")
    for path in daemon.datadir.glob("token-*.json"):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    places.update(shell_tools(sims, cloud, tmp_path))

    found = {place: leaks(text, secrets) for place, text in places.items()}
    assert {place: names for place, names in found.items() if names} == {}
    assert "Traceback" not in places["daemon log"]
    assert "DEBUG" in places["daemon log"] and len(receiver.bodies) > 10


def shell_tools(sims, cloud, tmp_path):
    """The probe and diagnostics commands at their most verbose, secrets on stdin or in the environment."""
    out = {}
    script = str(DAEMON_DIR / "enphased.py")
    cloud_args = ["--enlighten-url", cloud.url, "--entrez-url", cloud.url, "--token-cache", ""]
    runs = {
        "probe, Enlighten login": ([script, "probe", "--host", sims["a"].url, "--username", EMAIL, "--password-stdin",
                                    "--verbose", "--json", *cloud_args], ENLIGHTEN_PW, {}),
        "probe, wrong Enlighten password": ([script, "probe", "--host", sims["a"].url, "--username", EMAIL,
                                             "--password-stdin", "--verbose", *cloud_args], WRONG_PW, {}),
        "probe, digest": ([script, "probe", "--host", sims["b"].url, "--verbose", "--json"], "",
                          {"ENPHASE_ENVOY_PASSWORD": DIGEST_PW}),
        "probe, wrong digest password": ([script, "probe", "--host", sims["b"].url, "--verbose"], "",
                                         {"ENPHASE_ENVOY_PASSWORD": WRONG_DIGEST_PW}),
        "probe, malformed token": ([script, "probe", "--host", sims["c"].url, "--token-stdin", "--verbose"],
                                   BAD_TOKEN, {}),
        "diagnostics, Enlighten login": ([script, "diagnostics", "--host", sims["a"].url, "--username", EMAIL,
                                          "--password-stdin", "--verbose", "--out", str(tmp_path / "d.zip"),
                                          *cloud_args], ENLIGHTEN_PW, {}),
    }
    for name, (argv, stdin, env) in runs.items():
        done = subprocess.run([sys.executable] + argv, input=stdin + "\n", capture_output=True, text=True,
                              timeout=WAIT_S, cwd=str(DAEMON_DIR), env=dict(os.environ, **env))
        out[f"{name}: output"] = done.stdout + done.stderr
        out[f"{name}: command line"] = " ".join(argv)
    if (tmp_path / "d.zip").is_file():
        with zipfile.ZipFile(tmp_path / "d.zip") as archive:
            for member in archive.namelist():
                out[f"shell diagnostics:{member}"] = archive.read(member).decode(errors="replace")
    return out
