"""Diagnostics report: a simulated gateway -> archive -> no secret in it, and its replay reads the same."""
import io
import os
import json
import time
import zipfile

import pytest

from conftest import fixtures_dir, recorded_gateways
from sim_helpers import MiniGateway
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.recorded import RecordedGateway, Response
from simulator.server import identity, serve
from simulator.synthetic import SyntheticGateway

import diagnostics
import enphased
from envoy.enlighten import CloudSettings
from envoy.client import Credentials, Envoy
from envoy.errors import EnvoyError

SERIAL = "122302045041"
EMAIL, PASSWORD = "marie.dupont@example.org", "Tourne-sol 2024!"
CLOCK = 1_750_000_000.0  # a fixed clock: the synthetic gateway answers the same bytes every time
MACS = ("00:1D:C0:4A:17:E2", "60:E8:5B:AB:9D:64")
IPS = ("192.168.1.37", "86.246.12.34")
SITE_ID = "4123456"


class SiteGateway(SyntheticGateway):
    """The synthetic gateway with every kind of device, plus what a real one says about its network and site."""

    def __init__(self):
        super().__init__(inverters=5, encharges=2, acbs=1, qrelays=1, enpower=True, generator=True, dry_contacts=2,
                         phases=2, serial=SERIAL, clock=lambda: CLOCK)

    def response(self, path):
        if path == "/home":
            interfaces = [{"type": "ethernet", "interface": "eth0", "mac": MACS[0], "dhcp": True, "ip": IPS[0]},
                          {"type": "cellular", "interface": "ppp0", "mac": MACS[1], "ip": IPS[1]}]
            home = {"timezone": "Europe/Paris", "network": {"primary_interface": "eth0", "interfaces": interfaces},
                    "site_id": int(SITE_ID), "owner_email": EMAIL}
            return Response(200, json.dumps(home).encode(), "application/json")
        return super().response(path)

    def identifiers(self):
        """Every serial of the site, and what else identifies it."""
        serials = [self.serial, self.enpower_serial, self._gen_config()["generator_id"]]
        serials += [i.serial for i in self.inverters] + self.encharge_serials + self.acb_serials + self.qrelay_serials
        return serials + list(MACS) + list(IPS) + [SITE_ID, EMAIL]


def archive_files(path):
    with zipfile.ZipFile(path) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def status_of(path):
    return json.loads(archive_files(path)["status.json"])


def read_everything(envoy):
    envoy.connect()
    envoy.probe()
    return {cadence: diagnostics._plain(envoy.read(cadence)) for cadence in ("general", "devices")}


def replay(path, serial):
    """Readings of the archive served by the simulator, read by our client as any gateway."""
    with serve(RecordedGateway(path)) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(serial)))
        try:
            return read_everything(envoy)
        finally:
            envoy.close()


def gateway_serial(path):
    return identity(archive_files(path)["info"])[0]


def run_cli(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = diagnostics.main(argv, stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def site():
    gateway = SiteGateway()
    with serve(gateway) as sim:
        yield gateway, sim


def test_the_command_writes_an_archive_without_any_secret_or_serial(site, tmp_path):
    gateway, sim = site
    cache = tmp_path / "token.json"
    with serve_cloud([Account(EMAIL, PASSWORD)]) as cloud:
        code, out, err = run_cli(["--host", sim.url, "--username", EMAIL, "--password-stdin",
                                  "--token-cache", str(cache), "--enlighten-url", cloud.url, "--entrez-url", cloud.url,
                                  "--out", str(tmp_path / "report.zip")], stdin=PASSWORD + "\n")
    assert code == 0, err
    assert str(tmp_path / "report.zip") in out
    token = json.loads(cache.read_text())
    tokens = [v for v in json.dumps(token).split('"') if v.startswith("eyJ")]
    assert tokens, "the command fetched a token"

    files = archive_files(tmp_path / "report.zip")
    everything = b"\n".join(files.values()).decode("utf-8")
    for secret in gateway.identifiers() + tokens + [PASSWORD, EMAIL.split("@")[0]]:
        assert secret not in everything, secret
    assert "info" in files and "production.json_details_1" in files and "home" in files
    assert json.loads(files["ivp_meters_log.json"])["code"] == 200
    status = json.loads(files["status.json"])
    assert status["gateway"]["auth"] == "jwt-owner" and status["gateway"]["firmware"] == "8.2.4345"
    assert status["plan"]["paths"]["general"] and status["error"] is None
    assert sim.count(method="POST") == 0 and sim.count(method="PUT") == 0  # never a control


def test_serials_keep_their_shape_and_are_the_same_everywhere(site, tmp_path):
    gateway, sim = site
    path = tmp_path / "report.zip"
    code, _, err = run_cli(["--host", sim.url, "--token", issue_token(SERIAL), "--token-cache", "", "--out", str(path)])
    assert code == 0, err
    files = archive_files(path)
    fake = gateway_serial(path)
    assert fake != SERIAL and len(fake) == len(SERIAL) and fake.isdigit() and fake[:4] == SERIAL[:4]
    home = json.loads(files["home"])
    assert home["network"]["interfaces"][0]["mac"].startswith("00:1D:C0:")  # the maker stays
    assert json.loads(files["status.json"])["gateway"]["serial"] == fake
    inventory = {d["serial_num"] for group in json.loads(files["inventory.json"]) for d in group["devices"]}
    inverters = {i["serialNumber"] for i in json.loads(files["api_v1_production_inverters"])}
    device_data = {d["sn"] for d in json.loads(files["ivp_pdm_device_data"]).values()
                   if isinstance(d, dict) and "sn" in d}
    pcus = {s for s in inventory if s.startswith("4822")}
    assert len(pcus) == len(gateway.inverters) and pcus <= inverters and pcus <= device_data


def test_the_replay_reads_what_the_original_gave(site, tmp_path):
    gateway, sim = site
    original = Envoy(sim.url, Credentials(token=issue_token(SERIAL)))
    try:
        before = read_everything(original)
        recording = diagnostics.record(original)
        status = diagnostics.status_document(original, recording, None, "test", CLOCK)
        redactor = diagnostics.redactor_for(original)
        data, _ = diagnostics.build_archive(recording, status, redactor, CLOCK)
    finally:
        original.close()
    path = tmp_path / "report.zip"
    path.write_bytes(data)

    expected = json.loads(redactor.text(json.dumps(before)))
    assert expected != before  # serials were replaced...
    assert replay(path, gateway_serial(path)) == expected  # ...and nothing else
    assert status_of(path)["readings"] == expected


def test_the_simulator_command_line_replays_an_archive(site, tmp_path):
    from simulator.__main__ import _arguments, _gateway

    gateway, sim = site
    path = tmp_path / "report.zip"
    assert run_cli(["--host", sim.url, "--token", issue_token(SERIAL), "--token-cache", "", "--out", str(path)])[0] == 0
    served = _gateway(_arguments(["--recorded", str(path)]))
    assert identity(served.info_xml())[0] == gateway_serial(path)
    assert served.response("/ivp/meters").status == 200 and served.response("/nothing/here").status == 404


def test_old_firmware_with_a_password_and_a_refused_endpoint(tmp_path, monkeypatch):
    serial = "121917123456"
    monkeypatch.setenv("ENPHASE_ENVOY_PASSWORD", "123456")
    gateway = MiniGateway(serial, "5.0.62", responses={"/home": {"network": {"interfaces": [{"ip": IPS[0]}]}}})
    with serve(gateway) as sim:
        code, _, err = run_cli(["--host", sim.url, "--token-cache", "", "--out", str(tmp_path / "r.zip")])
    assert code == 0, err
    files = archive_files(tmp_path / "r.zip")
    everything = b"\n".join(files.values()).decode("utf-8")
    assert serial not in everything and IPS[0] not in everything
    assert json.loads(files["ivp_meters_log.json"])["code"] == 404
    assert json.loads(files["status.json"])["gateway"]["auth"] == "digest-envoy"
    fake = gateway_serial(tmp_path / "r.zip")
    with serve(RecordedGateway(tmp_path / "r.zip")) as replayed:  # digest with the fake serial's password
        envoy = Envoy(replayed.url)
        try:
            envoy.connect()
            assert envoy.read("general").production.watts_now == 1234
        finally:
            envoy.close()
    assert fake != serial


def test_an_unreachable_gateway_still_gives_a_report_that_says_why(tmp_path):
    sim = serve(MiniGateway())
    url = sim.url
    sim.stop()
    code, out, err = run_cli(["--host", url, "--token", issue_token("122112123456"), "--token-cache", "",
                              "--timeout", "5", "--out", str(tmp_path / "r.zip")])
    assert code == 1 and "unreachable" in err
    status = status_of(tmp_path / "r.zip")
    assert status["error"]["code"] == "unreachable" and status["requests"] == []


def test_enphased_dispatches_the_subcommand(site, tmp_path):
    gateway, sim = site
    import sys
    from unittest import mock

    with mock.patch.object(sys, "stdin", io.StringIO(issue_token(SERIAL) + "\n")):
        code = enphased.main(["diagnostics", "--host", sim.url, "--token-stdin", "--token-cache", "",
                              "--out", str(tmp_path / "r.zip")])
    assert code == 0 and zipfile.is_zipfile(tmp_path / "r.zip")


# Recorded to refuse us: no report can be read from it, and the reason says so.
REFUSES_US = {"3.9.36_bad_auth": "auth_failed"}


@pytest.mark.parametrize("name", sorted(REFUSES_US))
def test_a_gateway_that_refuses_us_gives_the_reason(name):
    folder = fixtures_dir() / name
    with serve(RecordedGateway(folder)) as sim:
        envoy = Envoy(sim.url, Credentials())
        try:
            with pytest.raises(EnvoyError) as refused:
                read_everything(envoy)
        finally:
            envoy.close()
    assert refused.value.code == REFUSES_US[name]


@pytest.mark.parametrize("name", [n for n in recorded_gateways(with_expected=False) if n not in REFUSES_US])
def test_every_recorded_gateway_replays_to_the_same_readings(name, tmp_path):
    """Redaction never changes a reading: real answers of every readable recorded gateway, recorded,
    redacted and replayed."""
    folder = fixtures_dir() / name
    serial = identity((folder / "info").read_bytes())[0]
    with serve(RecordedGateway(folder)) as sim:
        original = Envoy(sim.url, Credentials(token=issue_token(serial)))
        try:
            before = read_everything(original)
            recording = diagnostics.record(original)
            status = diagnostics.status_document(original, recording, None, "test", time.time())
            redactor = diagnostics.redactor_for(original)
            data, _ = diagnostics.build_archive(recording, status, redactor, time.time())
        finally:
            original.close()
    path = tmp_path / "report.zip"
    path.write_bytes(data)
    files = archive_files(path)
    assert serial not in b"\n".join(files.values()).decode("utf-8", "replace")
    assert replay(path, gateway_serial(path)) == json.loads(redactor.text(json.dumps(before)))


def test_the_daemon_writes_the_report_through_its_live_connection(site, tmp_path, socket_path):
    from jeedom.socket_server import send
    from jeedom_receiver import JeedomReceiver

    gateway, sim = site
    apikey = "diagnostics-test-apikey-0123456789"
    token = issue_token(SERIAL)
    jeedom = JeedomReceiver(apikey)
    daemon, server = enphased.start_core(socket_path, jeedom.url, apikey, str(tmp_path / "data"))
    try:
        configure = {"apikey": apikey, "action": "configure",
                     "gateways": [{"id": "12", "host": sim.url, "token": token}]}
        assert send(server.path, configure)["ok"] is True
        assert send(server.path, {"apikey": apikey, "action": "sync", "gateway": "12"})["ok"] is True
        logins = sim.count("/auth/check_jwt")

        answers = [send(server.path, {"apikey": apikey, "action": "diagnostics", "gateway": "12"}) for _ in range(2)]
        unknown = send(server.path, {"apikey": apikey, "action": "diagnostics", "gateway": "99"})
    finally:
        server.stop()
        daemon.stop()
        jeedom.close()
    assert all(a["ok"] for a in answers), answers
    assert unknown["ok"] is False and unknown["error"]["code"] == "unknown_gateway"
    assert sim.count("/auth/check_jwt") == logins  # the live session, no new login
    paths = [a["file"] for a in answers]
    assert all(p.startswith(str(tmp_path / "data" / "diagnostics")) and p.endswith(".zip") for p in paths)
    assert oct(__import__("os").stat(paths[0]).st_mode & 0o777) == "0o600"
    assert gateway_serial(paths[0]) == gateway_serial(paths[1])  # the box's key: one serial, one fake

    files = archive_files(paths[0])
    everything = b"\n".join(files.values()).decode("utf-8")
    for secret in gateway.identifiers() + [token]:
        assert secret not in everything, secret
    status = json.loads(files["status.json"])
    assert status["daemon"]["id"] == "12" and status["daemon"]["error"] is None
    assert status["gateway"]["auth"] == "jwt-owner"
    assert replay(paths[0], gateway_serial(paths[0])) == status["readings"]


@pytest.mark.parametrize("serial", ["../../../../tmp/escaped", "Envoy <img src=x onerror=alert(1)>"])
def test_a_serial_of_any_shape_neither_places_the_report_nor_survives_in_it(tmp_path, serial):
    """A gateway may call itself anything: a serial that is not one is refused at /info (envoy/text.py), and the
    report saying so lands in its folder, named without that text, and without it."""
    gateway = SyntheticGateway(inverters=2, encharges=0, serial=serial, clock=lambda: CLOCK)
    folder = tmp_path / "data" / "diagnostics"
    with serve(gateway) as sim:
        envoy = Envoy(sim.url, Credentials(token=issue_token(serial)))
        try:
            path = diagnostics.write_archive(envoy, str(folder))
        finally:
            envoy.close()
    with zipfile.ZipFile(path) as archive:
        status = next(archive.read(n) for n in archive.namelist() if n.endswith("status.json"))
    assert b"bad_response" in status and b"valid serial" in status
    assert [p.name for p in folder.iterdir()] == [os.path.basename(path)]
    assert os.path.basename(path).startswith("enphase-diagnostics-gateway-")
    assert not any(p.name == "escaped" or p.name.endswith(".zip") for p in tmp_path.rglob("*") if folder not in p.parents)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert serial not in archive.read(name).decode("utf-8", "replace"), name


def test_a_report_whose_entries_point_outside_their_folder_is_refused(tmp_path, site):
    gateway, sim = site
    good = tmp_path / "good.zip"
    code, _, err = run_cli(["--host", sim.url, "--token-stdin", "--token-cache", "", "--out", str(good)],
                           stdin=issue_token(SERIAL) + "\n")
    assert code == 0, err
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(hostile, "w") as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
        target.writestr("report/../../outside", b"x")
    assert RecordedGateway(good).response("/info").status == 200  # the genuine report replays
    with pytest.raises(ValueError, match="points outside its folder"):
        RecordedGateway(hostile)
