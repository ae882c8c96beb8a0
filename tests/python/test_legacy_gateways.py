"""Over real sockets: a firmware 3.7 gateway, which serves only HTML, read through the normal probe / plan /
read path (the probe command and the daemon publishing on the gateway's commands), and a gateway that gives
nothing readable, which the probe command and Synchronize refuse with a sentence instead of "OK"."""
import io
import json
import subprocess
import sys
import zipfile

import pytest

import diagnostics
import probe_cli
from chaos_helpers import APIKEY, DaemonProcess  # noqa: F401  (APIKEY: the jeedom fixture's key)
from conftest import DAEMON_DIR, fixtures_dir
from envoy.client import Envoy
from envoy.errors import EnvoyError
from simulator.recorded import RecordedGateway, Response
from simulator.server import serve
from sim_helpers import MiniGateway

FIGURES = {"watts_now": 6630, "wh_today": 53600, "wh_last_7_days": 405000, "wh_lifetime": 133000000}
GARBAGE = b"<html><body><h2>Page Not Found</h2><table><tr><td>Currently</td><td>lots</td></tr></table></html>"


class HtmlGarbage(MiniGateway):
    """A gateway that answers /info, then HTML garbage with status 200 to every other page."""

    def response(self, path):
        return Response(200, GARBAGE, "text/html")


@pytest.fixture
def fw3():
    with serve(RecordedGateway(fixtures_dir() / "3.7.0")) as sim:  # HTTP + digest, as firmware 3
        yield sim


@pytest.fixture
def garbage():
    with serve(HtmlGarbage("121430030548", "3.7.0")) as sim:
        yield sim


def test_probe_command_prints_the_3_7_0_figures(fw3):
    process = subprocess.run(
        [sys.executable, "enphased.py", "probe", "--host", fw3.url, "--json", "--token-cache", ""],
        cwd=DAEMON_DIR, capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert result["plan"] == {"general": ["/production"], "devices": []}
    assert result["auth"] == "digest-envoy"
    assert {k: result["readings"]["general"]["production"][k] for k in FIGURES} == FIGURES
    assert result["readings"]["devices"]["production"] is None  # nothing more to read every 5 minutes


def test_the_client_reads_the_page_on_each_general_cycle(fw3):
    envoy = Envoy(fw3.url)
    try:
        envoy.probe()
        before = fw3.count("/production")
        for _ in range(2):
            production = envoy.read("general").production
            assert (production.watts_now, production.wh_lifetime) == (6630, 133000000)
        assert envoy.read("devices").production is None
    finally:
        envoy.close()
    assert fw3.count("/production") == before + 2


def test_probe_command_refuses_a_gateway_with_nothing_readable(garbage):
    out, err = io.StringIO(), io.StringIO()
    code = probe_cli.main(["--host", garbage.url, "--token-cache", ""], stdin=io.StringIO(), out=out, err=err)
    assert code == 1 and out.getvalue() == ""
    assert "aucune de ses pages ne donne de mesure lisible" in err.getvalue()
    assert "Error (nothing_readable): The gateway at" in err.getvalue()


def test_a_gateway_answering_json_without_readings_is_refused_too():
    gateway = MiniGateway("122112123456", "5.0.62")
    gateway.responses = {"/api/v1/production": {"wattsNow": "unknown"}, "/ivp/ensemble/inventory": []}
    with serve(gateway) as sim:
        envoy = Envoy(sim.url)
        with pytest.raises(EnvoyError) as refused:
            envoy.probe()
        envoy.close()
    assert refused.value.code == "nothing_readable" and envoy.plan is None


def test_daemon_publishes_3_7_0_on_the_gateway_and_refuses_the_unreadable_one(tmp_path, jeedom, fw3, garbage):
    daemon = DaemonProcess(tmp_path, jeedom.url)
    try:
        answer = daemon.send({"action": "configure", "gateways": [
            {"id": "3", "host": fw3.url, "paused": False}, {"id": "4", "host": garbage.url, "paused": False}]})
        assert answer == {"ok": True, "gateways": ["3", "4"]}

        synced = daemon.send({"action": "sync", "gateway": "3"})
        assert synced["ok"] is True, synced
        serial = synced["inventory"][0]["serial"]
        values = next(e for e in jeedom.events if e["type"] == "values" and e["gateway"] == "3")["values"][serial]
        assert {k: values[k] for k in ("production_w", "production_today_wh", "production_7days_wh",
                                       "production_lifetime_wh")} == {
            "production_w": 6630, "production_today_wh": 53600, "production_7days_wh": 405000,
            "production_lifetime_wh": 133000000}

        refused = daemon.send({"action": "sync", "gateway": "4"})
        assert refused["ok"] is False and refused["error"]["code"] == "nothing_readable", refused
        assert "none of its pages gives a reading" in refused["error"]["message"]
    finally:
        daemon.stop()


def test_a_diagnostics_report_still_records_the_unreadable_gateway(garbage, tmp_path):
    """The gateway nothing can be read from is the one a report is asked for: its answers are recorded,
    and the report says why the plugin reads nothing."""
    envoy = Envoy(garbage.url)
    try:
        path = diagnostics.write_archive(envoy, str(tmp_path))
    finally:
        envoy.close()
    with zipfile.ZipFile(path) as archive:
        status = json.loads(next(archive.read(n) for n in archive.namelist() if n.endswith("/status.json")))
        names = {n.rsplit("/", 1)[-1] for n in archive.namelist()}
    assert status["error"]["code"] == "nothing_readable"
    assert {"info", "production", "api_v1_production"} <= names
    assert all(r["status"] == 200 for r in status["requests"])
