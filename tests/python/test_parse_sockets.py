"""The same comparison as test_parse_recorded, over real sockets: the simulator serves each recorded
gateway with its firmware's auth (digest below 7, HTTPS + JWT from 7) and our client probes and reads it."""
import pytest

from conftest import fixtures_dir, load_expected, recorded_gateways
from envoy.client import Credentials, Envoy
from envoy.parse import build_readings, parse_info
from envoy.probe import probe_paths
from expected import as_expected, differences, expectations, without_deliberate
from simulator.cloud import issue_token
from simulator.server import serve
from test_parse_recorded import DELIBERATE, AsPyenphaseServedIt, read_recorded


@pytest.mark.parametrize("name", recorded_gateways())
def test_client_reads_recorded_gateway_over_sockets(name):
    gateway = AsPyenphaseServedIt(fixtures_dir() / name)
    info = parse_info(gateway.info_xml())
    credentials = Credentials(token=issue_token(info.serial)) if info.firmware_major >= 7 else Credentials()
    with serve(gateway) as sim:  # HTTP + digest below firmware 7, HTTPS + JWT from 7
        envoy = Envoy(sim.url, credentials)
        envoy.connect()
        after_connect = len(sim.requests)
        plan = envoy.probe()
        # As the daemon's view of the gateway: one cycle of each cadence, the readings built from all their answers
        # (an IQ Battery's power is read every minute, the list of IQ Batteries every 5).
        answers = {**plan.carried, **envoy.fetch("general"), **envoy.fetch("devices")}
        envoy.close()
        served = sim.requests[after_connect:]

    ours = as_expected(build_readings(info, answers), plan)
    diffs = without_deliberate(differences(ours, expectations(load_expected(name))), name, DELIBERATE)
    assert not diffs, f"{name} over sockets: {len(diffs)} values differ from expected.json:\n" + "\n".join(diffs)
    assert plan.paths == read_recorded(name)[0].paths

    # After connecting: each probe path once, then each planned endpoint once per cycle, nothing else.
    # Auth is the client's business, not a read: a digest challenge (401, then the same path again), or
    # a 401 that makes it check its JWT session and try once more (some recordings hold a 401).
    served = [s for s in served if s.path != "/auth/check_jwt"]
    paths = [s.path for s in served]
    reads = [p for i, p in enumerate(paths) if not (served[i].status == 401 and paths[i + 1:i + 2] == [p])]
    assert reads == list(probe_paths(info)) + list(plan.paths["general"]) + list(plan.paths["devices"])
