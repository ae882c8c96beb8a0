"""`enphased.py probe` against the simulator: what a user sees, and that secrets stay off the command line."""
import io
import json
import subprocess
import sys
import time

import pytest

from conftest import DAEMON_DIR, REPO, fixtures_dir
from envoy.errors import CODES
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.recorded import RecordedGateway
from simulator.server import serve

import probe_cli

SERIAL = "122238082763"  # of the recorded 7.6.175_with_cts
EMAIL, PASSWORD = "owner@example.invalid", "s3cret-Pa55"


def run(argv, stdin="", env=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    code = probe_cli.main(argv, stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def recorded():
    if fixtures_dir() is None:
        pytest.skip("recorded gateways not found")
    with serve(RecordedGateway(fixtures_dir() / "7.6.175_with_cts")) as sim:
        yield sim


def test_table_shows_firmware_auth_expiry_and_readings(recorded, monkeypatch, tmp_path):
    monkeypatch.setenv(probe_cli.ENV_TOKEN, issue_token(SERIAL))
    code, out, err = run(["--host", f"127.0.0.1:{recorded.port}", "--token-cache", ""])
    assert code == 0, err
    assert "7.6.175" in out and "jwt-owner" in out and time.strftime("%Y", time.gmtime(time.time() + 365 * 86400)) in out
    assert "production.watts_now" in out and "meters[production]" in out


def test_json_output_with_a_token_from_stdin(recorded):
    code, out, _ = run(["--host", recorded.url, "--token-stdin", "--json", "--token-cache", ""],
                       stdin=issue_token(SERIAL) + "\n")
    assert code == 0
    result = json.loads(out)
    assert result["gateway"]["serial"] == SERIAL and result["auth"] == "jwt-owner"
    assert result["readings"]["general"]["production"]["watts_now"] is not None
    assert result["requests_sent"] == recorded.count()


def test_enlighten_password_from_stdin_and_the_token_cache(recorded, tmp_path):
    cache = tmp_path / "cache.json"
    with serve_cloud([Account(EMAIL, PASSWORD)]) as cloud:
        argv = ["--host", recorded.url, "--username", EMAIL, "--password-stdin", "--token-cache", str(cache),
                "--enlighten-url", cloud.url, "--entrez-url", cloud.url]
        for _ in range(2):
            code, out, err = run(argv, stdin=PASSWORD + "\n")
            assert code == 0, err
        assert cloud.logins == 1


def test_failure_is_a_plain_sentence_and_a_non_zero_exit():
    expired = issue_token("122112123456", now=time.time() - 400 * 86400)
    with serve(MiniGateway("122112123456")) as sim:
        code, out, err = run(["--host", sim.url, "--token-stdin", "--token-cache", ""], stdin=expired)
    assert code == 1 and out == ""
    assert "Erreur" in err and "token_expired" in err and "expired on" in err and expired not in err


def test_old_firmware_with_the_gateway_password_from_the_environment(monkeypatch):
    monkeypatch.setenv(probe_cli.ENV_ENVOY_PASSWORD, "123456")
    with serve(MiniGateway("122112123456", "5.0.62")) as sim:
        code, out, err = run(["--host", sim.url, "--token-cache", ""])
    assert code == 0, err
    assert "digest-envoy" in out and "production.watts_now" in out


def test_enphased_dispatches_probe(recorded):
    process = subprocess.run(
        [sys.executable, "enphased.py", "probe", "--host", recorded.url, "--token-stdin", "--token-cache", ""],
        input=issue_token(SERIAL), cwd=DAEMON_DIR, capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 0, process.stderr
    assert "Mesures / Readings" in process.stdout


def test_every_error_code_has_a_french_sentence_here_and_in_jeedom():
    """A code the client raises is one the user reads in French, in the shell and in Jeedom."""
    php = (REPO / "core" / "class" / "enphaseDaemonError.class.php").read_text()
    for code in CODES:
        assert code in probe_cli.FRENCH and (f"case '{code}':" in php or f"'{code}' => __(" in php), code
