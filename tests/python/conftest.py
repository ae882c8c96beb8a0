"""Shared test helpers: where the recorded gateways are."""
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs `make test` once: property tests draw the same examples at every run (seeded from each test's
# code), so a run passes or fails the same way twice, and nothing is timed (no deadline, no "too slow"
# health check on a busy machine). New examples: pytest --hypothesis-profile=explore.
settings.register_profile("repeatable", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("repeatable")

REPO = Path(__file__).resolve().parents[2]
DAEMON_DIR = REPO / "resources" / "enphased"


def fixtures_dir():
    """The recorded gateways: $ENVOY_FIXTURES, else ../shared/envoy-fixtures beside the repository
    (or beside the folder holding it, for a git worktree such as wt/<name>)."""
    env = os.environ.get("ENVOY_FIXTURES")
    candidates = [Path(env)] if env else [REPO.parent / "shared" / "envoy-fixtures",
                                          REPO.parent.parent / "shared" / "envoy-fixtures"]
    return next((path for path in candidates if path.is_dir()), None)


def recorded_gateways(with_expected=True):
    """Names of recorded gateway folders (those with expected.json by default)."""
    root = fixtures_dir()
    if root is None:
        return []
    return sorted(
        p.name for p in root.iterdir()
        if p.is_dir() and (not with_expected or (p / "expected.json").is_file())
    )


def load_expected(name):
    return json.loads((fixtures_dir() / name / "expected.json").read_text())


def pytest_configure(config):
    """Without the recorded gateways a third of the tests would have nothing to run on: stop, and say why."""
    root = fixtures_dir()
    if root is None or not recorded_gateways():
        looked = os.environ.get("ENVOY_FIXTURES") or f"{REPO.parent}/shared/envoy-fixtures"
        raise pytest.UsageError(
            f"The recorded gateways are missing (looked in {looked}): the tests read them from "
            "../shared/envoy-fixtures beside the repository, or from the folder named by ENVOY_FIXTURES.")


@pytest.fixture
def refused_port():
    """A loopback port that refuses connections for the whole test: bound but never listening, so no other
    program can take it meanwhile (a port merely found free may be somebody's by the time it is used)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def short_private_folder() -> Path:
    """A fresh folder only this user can enter (0700), with a short path: a Unix socket's path holds at most
    107 bytes, which pytest's tmp_path often exceeds. The caller removes it."""
    return Path(tempfile.mkdtemp(prefix="enphase-"))


@pytest.fixture
def socket_path():
    """Where a daemon's core listens in a test, as the daemon's socket in its private data folder."""
    folder = short_private_folder()
    yield str(folder / "daemon.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def jeedom(request):
    """A real HTTP receiver standing in for Jeedom's callback page, accepting the test module's APIKEY."""
    from jeedom_receiver import JeedomReceiver

    receiver = JeedomReceiver(getattr(request.module, "APIKEY", "test-apikey"))
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def _pure_tests_open_no_socket(request, monkeypatch):
    """A test marked pure that opens a socket fails, so the fast tier stays what it says."""
    if request.node.get_closest_marker("pure"):
        def refuse(*args, **kwargs):
            raise AssertionError("a pure test opened a socket: move it out of the fast tier")
        monkeypatch.setattr(socket, "socket", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
