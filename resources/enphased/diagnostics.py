"""Diagnostics report: every raw answer of one gateway, redacted, laid out like the recorded gateways, zipped.

A user's report becomes a test case: `python3 -m simulator --recorded report.zip` serves it back (file name
= endpoint path without the leading "/", with "/ ? = & space" -> "_"; `<name>_log.json` holds the status,
duration and harmless headers), and `status.json` holds the daemon's view (firmware, auth mode, plan, last
errors) and the readings the plugin makes of these very answers, so a replay can be checked against it.

What is read: /info, the probe's endpoints, the plan's, and a few more that tell a developer what a device
the plugin does not read yet looks like. GET only, one request at a time through the gateway's one
connection (the daemon's live one), never a control. Nothing identifying leaves: see redact.py.

    enphased.py diagnostics --host H [--token-stdin | --username U --password-stdin] [--out FILE.zip]
"""
import argparse
import dataclasses
import io
import json
import logging
import os
import platform
import re
import sys
import time
import zipfile
from typing import Any, Dict, Iterable, List, Optional

from envoy import endpoints
from envoy.client import Envoy
from envoy.errors import EnvoyError
from envoy.legacy_html import decoded
from envoy.probe import PROBE_PATHS, plan_from, probe_paths
from envoy.transport import ReadTimedOut
from redact import Redactor
from simulator.recorded import file_name, safe_entry_name
from state_file import write_bytes

log = logging.getLogger("enphased.diagnostics")

FORMAT = 1
# Read for the report only: what the plugin does not read (yet) but a developer needs to see.
EXTRA_PATHS = (
    "/home", endpoints.PRODUCTION_PAGE, "/production.json", "/inventory.json?deleted=1", "/ivp/ensemble/status",
    endpoints.ENSEMBLE_SECCTRL, endpoints.ENSEMBLE_POWER, endpoints.DRY_CONTACTS, endpoints.DRY_CONTACT_SETTINGS,
    endpoints.GENERATOR, endpoints.GEN_CONFIG, "/ivp/ss/gen_schedule", endpoints.GEN_MODE,
    "/ivp/ss/pel_settings", "/ivp/sc/pvlimit", endpoints.METER_READINGS, "/ivp/meters/reports", "/ivp/pdm/energy",
    "/ivp/livedata/status", "/admin/lib/acb_config",
)
# Response headers worth keeping; the rest may carry a session (Set-Cookie) or only noise.
KEPT_HEADERS = ("Content-Type", "Server", "Date")

README = """Rapport de diagnostic du plugin Jeedom enphase / Diagnostics report of the Jeedom enphase plugin

Chaque fichier est la réponse brute de la passerelle à un chemin (nom = chemin sans le "/" initial,
"/ ? = & espace" remplacés par "_"), <nom>_log.json en donne le code HTTP et la durée ; status.json est
la vue du démon et les mesures qu'il tire de ces réponses. Numéros de série, adresses MAC et IP, e-mails,
jetons, mots de passe et identifiants de site ont été remplacés (toujours par la même valeur factice).

Each file is the gateway's raw answer to one path (name = path without its leading "/", "/ ? = & space"
replaced by "_"), <name>_log.json gives its HTTP status and duration; status.json is the daemon's view and
the readings it makes of these answers. Serial numbers, MAC and IP addresses, e-mails, tokens, passwords
and site ids were replaced (always by the same fake value).

Rejouer / Replay:  cd resources/enphased && python3 -m simulator --recorded <this file.zip>
"""


@dataclasses.dataclass
class Exchange:
    """One GET and what came back (no body when nothing came back)."""

    path: str
    status: Optional[int] = None
    body: bytes = b""
    headers: Dict[str, str] = dataclasses.field(default_factory=dict)
    duration_s: float = 0.0
    error: Optional[str] = None


@dataclasses.dataclass
class Recording:
    exchanges: List[Exchange]
    error: Optional[EnvoyError] = None  # what stopped the recording early (or kept it from starting)


def paths_to_record(info=None, plan=None) -> List[str]:
    paths = [endpoints.INFO] + list(probe_paths(info) if info is not None else PROBE_PATHS)
    for cadence_paths in (plan.paths.values() if plan is not None else ()):
        paths += cadence_paths
    return list(dict.fromkeys(paths + list(EXTRA_PATHS)))


def record(envoy: Envoy, clock=time.monotonic) -> Recording:
    """GET every path worth recording, one at a time, through the Envoy client's connection."""
    unreadable = None
    try:
        if envoy.info is None:
            envoy.connect()
        if envoy.plan is None:
            envoy.probe()
    except EnvoyError as e:
        if e.code != "nothing_readable":
            # Not connected (unreachable, refused credentials): no request more, the status tells why.
            return Recording([], e)
        unreadable = e  # the very gateway a report is for: record what it answers
    exchanges = []
    for path in paths_to_record(envoy.info, envoy.plan):
        start = clock()
        try:
            answer = envoy.get_raw(path)
        except ReadTimedOut:
            exchanges.append(Exchange(path, duration_s=clock() - start, error="no answer within the read timeout"))
            continue
        except EnvoyError as e:  # the gateway went away or refused us: keep what was recorded
            exchanges.append(Exchange(path, duration_s=clock() - start, error=e.code))
            return Recording(exchanges, e)
        headers = {name: answer.headers.get(name) for name in KEPT_HEADERS if answer.headers.get(name)}
        exchanges.append(Exchange(path, answer.status_code, answer.content, headers, clock() - start))
    return Recording(exchanges, unreadable)


def _decoded(exchanges: Iterable[Exchange]) -> Dict[str, Any]:
    """path -> decoded answer of those the client would use (HTTP 200, JSON or a page it reads)."""
    answers = {}
    for exchange in exchanges:
        if exchange.status == 200:
            data = decoded(exchange.path, exchange.body)
            if data is not None:
                answers[exchange.path] = data
    return answers


def readings_of(exchanges: List[Exchange]):
    """(plan, {cadence: Readings}) that our reader makes of these answers, as a replay will."""
    from envoy.parse import build_readings, parse_info

    info_answer = next((e for e in exchanges if e.path == endpoints.INFO and e.status == 200), None)
    if info_answer is None:
        return None, {}
    try:
        info = parse_info(info_answer.body)
    except ValueError:
        return None, {}
    decoded = _decoded(exchanges)
    plan = plan_from(info, {p: decoded[p] for p in probe_paths(info) if p in decoded})
    readings = {}
    for cadence in ("general", "devices"):
        answered = {p: decoded[p] for p in plan.paths[cadence] if p in decoded}
        readings[cadence] = build_readings(info, {**plan.carried, **answered})
    return plan, readings


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as JSON-able data."""
    return json.loads(json.dumps(dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value, default=str))


def status_document(envoy: Envoy, recording: Recording, daemon_status: Optional[Dict[str, Any]], made_by: str,
                    now: float) -> Dict[str, Any]:
    """The daemon's view of the gateway (before redaction): no secret is put in it."""
    info = envoy.info
    plan, readings = readings_of(recording.exchanges)
    error = recording.error
    return {
        "report": {"format": FORMAT, "made_by": made_by,
                   "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                   "python": platform.python_version()},
        "gateway": {
            "serial": info.serial if info else None, "firmware": info.firmware if info else None,
            "part_number": info.part_number if info else None, "imeter": info.imeter if info else None,
            "url": envoy.base_url, "auth": envoy.auth_mode, "token_expires": envoy.token_expires,
        },
        "plan": None if plan is None else {
            "paths": {cadence: list(paths) for cadence, paths in plan.paths.items()}, "sources": plan.sources,
            "phase_count": plan.phase_count, "phase_mode": plan.phase_mode, "ct_meters": list(plan.ct_meters)},
        "daemon": daemon_status,
        "error": None if error is None else {"code": error.code, "message": error.message},
        "requests": [{"path": e.path, "status": e.status, "duration_s": round(e.duration_s, 3), "error": e.error}
                     for e in recording.exchanges],
        "readings": {cadence: _plain(r) for cadence, r in readings.items()},
    }


def redactor_for(envoy: Envoy, key: Optional[bytes] = None) -> Redactor:
    """A redactor that knows the user's secrets (from the client's credentials) and the gateway's address."""
    credentials = envoy.credentials
    redactor = Redactor([credentials.token, credentials.username, credentials.enlighten_password,
                         credentials.password], key=key)
    redactor.add_host(envoy.host)
    for serial in (credentials.serial, envoy.info.serial if envoy.info else None):
        if serial:
            redactor.add_serial(serial, sure=True)
    return redactor


_LABEL = re.compile(r"[0-9A-Za-z-]{1,40}")


def _report_label(redactor: Redactor, serial: Any) -> str:
    """The serial's fake for the report's name; 'gateway' when the serial was not redacted as a serial (an odd
    shape, which might also hold a path)."""
    fake = redactor.serial(serial) if isinstance(serial, str) else None
    return fake if fake and fake != serial and _LABEL.fullmatch(fake) else "gateway"


def build_archive(recording: Recording, status: Dict[str, Any], redactor: Redactor, now: float):
    """(zip bytes, archive folder name): every answer and status.json, redacted."""
    for exchange in recording.exchanges:
        redactor.learn(exchange.body)
    redactor.learn_json(status)
    serial = (status.get("gateway") or {}).get("serial")
    folder = "enphase-diagnostics-{}-{}".format(_report_label(redactor, serial),
                                                time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, data: bytes) -> None:
            entry = f"{folder}/{name}"
            if not safe_entry_name(entry) or "/" in name:
                raise ValueError(f"refused to write the zip entry {entry!r}: it would leave the report's folder")
            info = zipfile.ZipInfo(entry, time.gmtime(now)[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        add("_readme", README.encode("utf-8"))
        for exchange in recording.exchanges:
            name = file_name(exchange.path)
            log_entry = {"headers": exchange.headers, "code": exchange.status,
                         "duration_seconds": round(exchange.duration_s, 3)}
            if exchange.error:
                log_entry["error"] = exchange.error
            else:
                add(name, redactor.bytes(exchange.body))
            add(f"{name}_log.json", redactor.text(json.dumps(log_entry)).encode("utf-8"))
        add("status.json", redactor.text(json.dumps(status, indent=1, sort_keys=True)).encode("utf-8"))
    return buffer.getvalue(), folder


def write_archive(envoy: Envoy, folder: str, *, daemon_status: Optional[Dict[str, Any]] = None, key: Optional[bytes] = None,
                  made_by: str = "daemon", out: Optional[str] = None) -> str:
    """Record the gateway, write the redacted archive (mode 0600) into `folder` (or to `out`); its path."""
    now = time.time()
    recording = record(envoy)
    status = status_document(envoy, recording, daemon_status, made_by, now)
    data, name = build_archive(recording, status, redactor_for(envoy, key), now)
    path = out or os.path.join(folder, name + ".zip")
    write_bytes(path, data)
    log.info("Diagnostics report written: %s (%d answers%s)", path, len(recording.exchanges),
             f", stopped: {recording.error.code}" if recording.error else "")
    return path


def persistent_key(datadir: Optional[str]) -> Optional[bytes]:
    """The box's redaction key (datadir/diagnostics.key, 0600): the same serial gets the same fake in every
    report of this box, and nobody without the key can tell which serial it was."""
    if not datadir:
        return None
    path = os.path.join(datadir, "diagnostics.key")
    try:
        with open(path, "rb") as file:
            key = file.read()
        if len(key) >= 16:
            return key
    except OSError:
        pass
    key = os.urandom(32)
    try:
        write_bytes(path, key)
    except OSError as e:
        log.warning("Cannot keep the diagnostics key in %s (%s): fakes will differ between reports", path, e.strerror)
    return key


# --- command line ---

def main(argv=None, stdin=None, out=None, err=None) -> int:
    import probe_cli

    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="enphased.py diagnostics", epilog=probe_cli.EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Enregistre les réponses d'une passerelle Enphase, sans rien d'identifiant, dans une archive "
                    "que le simulateur rejoue. / Records an Enphase gateway's answers, with nothing identifying, "
                    "into an archive the simulator replays.")
    probe_cli.add_gateway_arguments(parser)
    parser.add_argument("--out", help="archive to write (default: enphase-diagnostics-<serial>-<date>.zip here)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    probe_cli.check_gateway_arguments(parser, args)
    envoy = probe_cli.envoy_from(args, stdin, err)
    try:
        path = write_archive(envoy, os.getcwd(), made_by="enphased.py diagnostics", out=args.out)
        with zipfile.ZipFile(path) as archive:
            status = json.loads(next(archive.read(n) for n in archive.namelist() if n.endswith("/status.json")))
    finally:
        envoy.close()
    answered = sum(1 for r in status["requests"] if r["status"] is not None)
    out.write(f"Rapport écrit / Report written: {path}\n"
              f"Réponses / Answers: {answered} / {len(status['requests'])}\n")
    if status["error"] is not None:
        err.write(probe_cli.error_lines(EnvoyError(status["error"]["code"], status["error"]["message"])))
        return 1
    return 0
