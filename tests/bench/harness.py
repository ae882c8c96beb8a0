"""Plumbing of the bench: gateways on sockets, reader processes, the daemon, its callback receiver, the table.

Everything runs on 127.0.0.1. The simulator and the callback receiver live in the bench's own process; each
reader runs in a process of its own (ours under the plugin's venv, pyenphase under .venv-bench), so its CPU
time, memory and import time are its own.
"""
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAEMON_DIR = REPO / "resources" / "enphased"
BENCH_DIR = Path(__file__).resolve().parent
BENCH_PYTHON = Path(os.environ.get("BENCH_PYTHON", REPO / ".venv-bench" / "bin" / "python"))
OUR_PYTHON = Path(sys.executable)  # bench.py runs under the plugin's venv

if str(DAEMON_DIR) not in sys.path:
    sys.path.insert(0, str(DAEMON_DIR))


def fixtures_dir():
    env = os.environ.get("ENVOY_FIXTURES")
    for path in ([Path(env)] if env else []) + [REPO.parent / "shared" / "envoy-fixtures", Path("/work/shared/envoy-fixtures")]:
        if path.is_dir():
            return path
    return None


def recorded_names():
    """The recorded gateways that have expected.json (values a reference reader produced for them)."""
    root = fixtures_dir()
    return sorted(p.name for p in root.iterdir() if (p / "expected.json").is_file()) if root else []


def owner_token(serial="", days=365):
    """An unsigned owner JWT, as the simulator accepts it (both readers get the same one)."""
    import jwt

    claims = {"enphaseUser": "owner", "exp": int(time.time()) + days * 86400, "username": "bench@example.invalid"}
    if serial:
        claims["aud"] = serial
    token = jwt.encode(claims, None, algorithm="none")
    return token if isinstance(token, str) else token.decode()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --- the gateways --------------------------------------------------------------------------------------

LIVE_KEYS = frozenset(
    "wNow whToday whLastSevenDays whLifetime rmsCurrent rmsVoltage reactPwr apprntPwr activePower apparentPower "
    "reactivePower voltage current actEnergyDlvd actEnergyRcvd instantaneousDemand lastReportWatts wattsNow "
    "wattHoursToday wattHoursSevenDays wattHoursLifetime real_power_mw apparent_power_mva".split()
)


class LiveGateway:
    """A gateway whose power and energy figures move on every read, as on a real one, and which notes when
    each request arrived.

    Wraps any gateway object of the simulator (recorded or synthetic): every other attribute is the wrapped
    gateway's. The n-th read of a path answers its recorded numbers + n (a recorded gateway alone would
    answer the same bytes forever, and a reader that skips unchanged data would look better than it is).
    """

    def __init__(self, inner):
        self._inner = inner
        self._reads = {}
        self._decoded = {}
        self.arrivals = []  # (time.monotonic(), path)
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def info_xml(self):
        self.arrivals.append((time.monotonic(), "/info"))
        return self._inner.info_xml()

    def response(self, path, *args, **kwargs):
        self.arrivals.append((time.monotonic(), path))
        answer = self._inner.response(path, *args, **kwargs)
        if answer.status != 200 or "json" not in answer.content_type:
            return answer
        with self._lock:
            n = self._reads[path] = self._reads.get(path, 0) + 1
            if path not in self._decoded:
                try:
                    self._decoded[path] = json.loads(answer.body)
                except ValueError:
                    self._decoded[path] = None
            decoded = self._decoded[path]
        if decoded is None:
            return answer
        return answer._replace(body=json.dumps(_moved(decoded, n)).encode())

    def reads_since(self, since):
        return [path for t, path in list(self.arrivals) if t >= since]


def _moved(value, n):
    if isinstance(value, dict):
        return {k: (v + n if k in LIVE_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool) and v
                    else _moved(v, n)) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, n) for v in value]
    return value


class Served:
    """One gateway on a socket of its own (the project's simulator, lax about tokens since both readers
    bring a token of their own making): `host` is what a reader is given ("127.0.0.1:PORT")."""

    def __init__(self, gateway):
        from simulator.server import serve

        self.gateway = gateway
        self._server = serve(gateway, auth="lax")
        self.tls = self._server.tls
        self.host = f"127.0.0.1:{self._server.port}"

    @property
    def requests(self):
        """Requests the gateway has received so far (all paths, auth included)."""
        return self._server.count()

    def close(self):
        self._server.stop()


def recorded_gateway(name):
    from simulator.recorded import RecordedGateway

    return RecordedGateway(fixtures_dir() / name)


def serve_recorded(name, live=True):
    gateway = recorded_gateway(name)
    return Served(LiveGateway(gateway) if live else gateway)


# --- reader processes ----------------------------------------------------------------------------------

class ReaderProcess:
    """A reader in a process of its own, answering one JSON command per line (see each reader's `serve`)."""

    def __init__(self, which):
        self.which = which
        if which == "pyenphase":
            argv = [str(BENCH_PYTHON), str(BENCH_DIR / "pyenphase_reader.py"), "serve"]
        else:
            argv = [str(OUR_PYTHON), str(BENCH_DIR / "our_reader.py"), "serve"]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      cwd=str(REPO), env=_env())

    def ask(self, op, **fields):
        """The reader's answer: {"ok": true, ...} or {"ok": false, "error": "..."} (also when it died)."""
        try:
            self._proc.stdin.write(json.dumps(dict(fields, op=op)) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except OSError:
            line = ""
        if not line:
            return {"ok": False, "error": f"the {self.which} reader exited (code {self._proc.wait()})"}
        return json.loads(line)

    def close(self):
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(DAEMON_DIR)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_json(argv, timeout=600):
    """Run a one-shot reader command and decode the JSON of its last line."""
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=str(REPO), env=_env())
    if out.returncode != 0:
        raise RuntimeError(f"{argv[1]} failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the daemon ----------------------------------------------------------------------------------------

class CallbackReceiver:
    """Jeedom's callback page, as far as the daemon can tell: records each POST (arrival time, bytes, events)."""

    def __init__(self):
        received = self.received = []
        condition = self.condition = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.monotonic()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                try:
                    events = json.loads(body).get("events", [])
                except ValueError:
                    events = []
                with condition:
                    received.append((arrived, len(body), events))
                    condition.notify_all()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/plugins/enphase/core/php/jeeEnphase.php"

    def wait_for(self, predicate, timeout):
        """The first POST after those already seen that satisfies predicate(events), or None."""
        deadline = time.monotonic() + timeout
        with self.condition:
            seen = len(self.received)
            while True:
                for post in self.received[seen:]:
                    if predicate(post[2]):
                        return post
                seen = len(self.received)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.condition.wait(left)

    def count(self, predicate):
        with self.condition:
            return sum(1 for post in self.received if predicate(post[2]))

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def has_values(events):
    return any(e.get("type") == "values" for e in events)


class Daemon:
    """enphased.py started as Jeedom starts it, driven over its socket."""

    APIKEY = "bench-apikey-0123456789"

    def __init__(self, callback_url, loglevel="error", fast=False):
        """fast: through tests/python/daemon_launcher.py, which accepts cadences under the daemon's 10 s floor."""
        self.workdir = Path(tempfile.mkdtemp(prefix="enphase-bench-"))  # 0700: the socket's folder, as in Jeedom
        self.socket = str(self.workdir / "daemon.sock")
        self.started = time.monotonic()
        program = REPO / "tests" / "python" / "daemon_launcher.py" if fast else DAEMON_DIR / "enphased.py"
        self._proc = subprocess.Popen(
            [str(OUR_PYTHON), str(program), "--loglevel", loglevel, "--socket",
             self.socket, "--callback", callback_url, "--apikey", self.APIKEY, "--pid",
             str(self.workdir / "daemon.pid"), "--datadir", str(self.workdir)],
            cwd=str(REPO), env=_env(), stdout=subprocess.DEVNULL, stderr=open(self.workdir / "stderr.log", "w"))
        self.pid = self._proc.pid

    def wait_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the daemon exited: {self.stderr()}")
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.settimeout(1)
                    probe.connect(self.socket)
                    return
            except OSError:
                time.sleep(0.002)
        raise RuntimeError("the daemon did not open its socket")

    def send(self, action, timeout=120, **fields):
        message = dict(fields, action=action, apikey=self.APIKEY)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(self.socket)
            conn.sendall(json.dumps(message).encode() + b"\n")
            conn.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        answer = json.loads(b"".join(chunks))
        if not answer.get("ok"):
            raise RuntimeError(f"daemon refused {action}: {answer.get('error')}")
        return answer

    def cpu_s(self):
        """user + system CPU time of the daemon so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_kb(self):
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return {"rss_kb": fields["VmRSS"], "hwm_kb": fields["VmHWM"]}

    def stderr(self):
        return (self.workdir / "stderr.log").read_text()[-2000:]

    def stop(self):
        if self._proc.poll() is None:
            try:
                self.send("stop", timeout=5)
                self._proc.wait(timeout=10)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired):
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def gateway_config(served, gateway_id, token, **extra):
    config = {"id": gateway_id, "host": served.host}
    if served.tls:
        config["token"] = token
    config.update(extra)
    return config


# --- the table -----------------------------------------------------------------------------------------

class Table:
    """Rows of `what | ours | pyenphase | ratio | target`, printed as Markdown (pasted as is into docs/)."""

    def __init__(self, title, beside="pyenphase 4.2.0"):
        self.title = title
        self.beside = beside  # what the second column measures
        self.rows = []
        self.notes = []

    def add(self, what, ours, theirs, unit="", target="", ratio=None, digits=1):
        if ratio is None and isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            ratio = ours / theirs
        self.rows.append((what, _fmt(ours, unit, digits), _fmt(theirs, unit, digits),
                          "-" if ratio is None else f"{ratio:.2f}", target))

    def note(self, text):
        """A line under the table (errors, caveats)."""
        self.notes.append(text)

    def render(self):
        head = ("measure", "ours", self.beside, "ratio", "target")
        widths = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(5)]
        line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
        out = [f"### {self.title}", "", line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in self.rows]
        out += [""] + [f"- {n}" for n in self.notes] if self.notes else []
        return "\n".join(out) + "\n"


def _fmt(value, unit, digits):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        text = f"{value:.{digits}f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()
