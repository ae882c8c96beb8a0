"""The daemon as Jeedom runs it (a separate process started with enphased.py's own command line, from
another folder than its own), for the daemon, chaos, secrets and socket tests: its output kept in files,
its memory read from /proc, its socket spoken to. And what Jeedom may be told, whatever a gateway says
(docs/protocol.md, "Strings"), for the tests that play a hostile one."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

from conftest import DAEMON_DIR, REPO, short_private_folder
from envoy.text import TEXT_MAX
from jeedom.socket_server import send

APIKEY = "apikey-0123456789abcdef0123456789abcdef"
# enphased.py exactly, except that the cloud stand-in replaces Enphase's and cadences may be fractions of a
# second (see daemon_launcher.py).
LAUNCHER = Path(__file__).with_name("daemon_launcher.py")

MARKUP = set("<>&\"'`\\")
# What an identifier sent to Jeedom may hold (a logicalId: serial, serial_meter_net-consumption...).
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")
# An equipment's logicalId: a serial (letters and digits, 32 at most), then maybe our words.
LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,32}(?:_[A-Za-z0-9-]+)*")


def clean(value) -> bool:
    """Text that markup-reading code (innerHTML, a JavaScript string) shows as it is."""
    return (not MARKUP & set(value) and len(value) <= TEXT_MAX
            and not any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in value))


def strings(data, key=None):
    """(key, string) for every string in a JSON-like value, dict keys included."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from strings(k, key)
            yield from strings(v, k)
    elif isinstance(data, list):
        for v in data:
            yield from strings(v, key)
    elif isinstance(data, str):
        yield key, data


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_listening(process: subprocess.Popen, pid_file: Path, output, timeout_s: float = 60) -> None:
    """Wait until a daemon just started listens: enphased.py writes its pid file once its socket listens."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited ({process.returncode}): {output()}")
        try:
            if pid_file.read_text().strip() == str(process.pid):
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"daemon does not listen after {timeout_s} s: {output()}")


class DaemonProcess:
    def __init__(self, folder: Path, callback_url: str, *, loglevel="debug", launcher=False, env=None):
        self.folder = Path(folder)
        self.pid_file = self.folder / "run" / "daemon.pid"  # a folder the daemon must create
        self.datadir = self.folder / "data"
        # As in Jeedom, the socket in a private folder (a short one: pytest's tmp_path may not fit a socket).
        self.socket_folder = short_private_folder()
        self.socket = self.socket_folder / "daemon.sock"
        self.stdout_path = self.folder / "daemon.out"
        self.stderr_path = self.folder / "daemon.err"
        script = LAUNCHER if launcher else DAEMON_DIR / "enphased.py"
        # As PHP does: the apikey in a 0600 file, not on the command line.
        self.apikey_file = self.folder / "apikey"
        self.apikey_file.write_text(APIKEY)
        self.apikey_file.chmod(0o600)
        environment = dict(os.environ, PYTHONFAULTHANDLER="1", PYTHONPATH=os.pathsep.join([str(DAEMON_DIR), str(REPO / "tests" / "python")]),
                           **(env or {}))
        self.argv = [sys.executable, str(script), "--loglevel", loglevel, "--socket", str(self.socket),
                     "--callback", callback_url, "--apikey-file", str(self.apikey_file), "--pid", str(self.pid_file),
                     "--datadir", str(self.datadir)]
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err, cwd=str(self.folder),
                                        env=environment)
        wait_listening(self.process, self.pid_file, self.output)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def send(self, message, timeout_s=60):
        return send(self.socket, dict({"apikey": APIKEY}, **message), timeout_s=timeout_s)

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def cmdline(self) -> bytes:
        return Path(f"/proc/{self.pid}/cmdline").read_bytes()

    def stop(self) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()
        self._err.close()
        shutil.rmtree(self.socket_folder, ignore_errors=True)
        return self.process.returncode
