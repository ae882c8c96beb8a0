"""Shared test helpers: where the recorded gateways are."""
import json
import os
import socket
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


requires_fixtures = pytest.mark.skipif(
    fixtures_dir() is None,
    reason="recorded gateways not found: set ENVOY_FIXTURES or put shared/envoy-fixtures beside the repository",
)


@pytest.fixture
def refused_port():
    """A loopback port that refuses connections for the whole test: bound but never listening, so no other
    program can take it meanwhile (a port merely found free may be somebody's by the time it is used)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def jeedom(request):
    """A real HTTP receiver standing in for Jeedom's callback page, accepting the test module's APIKEY."""
    from jeedom_receiver import JeedomReceiver

    receiver = JeedomReceiver(getattr(request.module, "APIKEY", "test-apikey"))
    yield receiver
    receiver.close()
