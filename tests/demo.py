"""`make demo`: the plugin's reader against a simulated gateway, as a user would run it.

Starts, on 127.0.0.1 only:
- the synthetic gateway (our own demo house: microinverters, IQ Batteries, CT meters) over HTTPS with the
  JWT auth of firmware 8;
- the Enphase cloud stand-in (Enlighten login + token service) over HTTPS, with a demo account;
then runs `enphased.py probe` against them through the real auth flow (the token is fetched from the cloud
stand-in with the account's email and password, given on stdin) and prints what it read.
Then starts the daemon exactly as Jeedom does, with a stand-in for Jeedom's callback page, configures the
address "demo" (the plugin's built-in demo gateway), clicks "Synchronize" and prints the equipment and
commands Jeedom would create, their first values, and what changed at the next cycle.
Ends by itself; `--serve` keeps both servers running afterwards, until Ctrl-C.

Each step is a function of `Demo` so later steps (the daemon itself) can be added to `STEPS`.
"""
import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

DAEMON_DIR = Path(__file__).resolve().parents[1] / "resources" / "enphased"
sys.path.insert(0, str(DAEMON_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))

from jeedom_receiver import JeedomReceiver, expanded  # noqa: E402

from simulator.cloud import DEMO_EMAIL, DEMO_PASSWORD, Account, serve_cloud  # noqa: E402
from simulator.server import serve  # noqa: E402
from simulator.synthetic import SyntheticGateway, starting_at  # noqa: E402


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="keep the simulated gateway and cloud running (Ctrl-C stops)")
    parser.add_argument("--hour", type=float, help="play the house at this local hour today (default: now)")
    parser.add_argument("--inverters", type=int, default=12)
    parser.add_argument("--encharges", type=int, default=2)
    parser.add_argument("--phases", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--seed", type=int, default=2024)
    return parser.parse_args(argv)


def _fmt(value, scale=1.0, digits=0):
    return "-" if value is None else f"{value * scale:,.{digits}f}".replace(",", " ")


class Demo:
    def __init__(self, args, out=sys.stdout):
        self.args, self.out = args, out
        self.stack = ExitStack()
        self.result = None

    def say(self, text=""):
        self.out.write(text + "\n")
        self.out.flush()

    # --- steps ---------------------------------------------------------------------------------------------
    def start_servers(self):
        self.gateway = SyntheticGateway(inverters=self.args.inverters, encharges=self.args.encharges,
                                        phases=self.args.phases, seed=self.args.seed,
                                        clock=time.time if self.args.hour is None else starting_at(self.args.hour))
        self.sim = self.stack.enter_context(serve(self.gateway))  # firmware 8: HTTPS + JWT
        self.cloud = self.stack.enter_context(serve_cloud([Account(DEMO_EMAIL, DEMO_PASSWORD)], tls=True))
        self.say(f"Passerelle simulée / simulated gateway   {self.sim.url}  (serial {self.gateway.serial})")
        self.say(f"Cloud Enphase simulé / simulated cloud   {self.cloud.url}  (account {DEMO_EMAIL})")

    def probe_command(self, extra=()):
        return [sys.executable, str(DAEMON_DIR / "enphased.py"), "probe", "--host", self.sim.url,
                "--username", DEMO_EMAIL, "--password-stdin", "--enlighten-url", self.cloud.url,
                "--entrez-url", self.cloud.url, "--cloud-ca", self.cloud.cert_path, "--token-cache", "", *extra]

    def run_probe(self):
        if not (DAEMON_DIR / "enphased.py").is_file():
            self.say("enphased.py is not in this checkout yet: nothing to probe with.")
            raise SystemExit(1)
        self.say("\n$ enphased.py probe --host %s --username %s --password-stdin   (mot de passe sur stdin)"
                 % (self.sim.url, DEMO_EMAIL))
        done = subprocess.run(self.probe_command(["--json"]), input=DEMO_PASSWORD + "\n", capture_output=True,
                              text=True, timeout=120, cwd=str(DAEMON_DIR))
        if done.returncode != 0:
            self.say(done.stderr.strip() or f"probe failed ({done.returncode})")
            raise SystemExit(done.returncode)
        self.result = json.loads(done.stdout)

    def show(self):
        r = self.result
        gw = r["gateway"]
        readings = {}
        for cadence in ("general", "devices"):  # devices (inverters, batteries) come from the slower cadence
            for key, value in (r["readings"].get(cadence) or {}).items():
                if value not in (None, {}, []):
                    readings[key] = value
        expires = r.get("token_expires")
        self.say()
        self.say(f"Passerelle / Gateway                {gw['serial']} ({gw.get('part_number') or '?'})")
        self.say(f"Firmware                            {gw['firmware']}")
        self.say(f"Authentification / Auth             {r['auth']} (jeton obtenu d'Enlighten / token from Enlighten)")
        self.say("Expiration du jeton / Token expiry  "
                 + (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires)) if expires else "-"))
        self.say(f"Requêtes / Requests                 {r['requests_sent']}")

        self.say(f"\n{'':<34}{'W':>9}{'kWh jour/today':>16}{'kWh 7 j/days':>14}{'kWh total':>12}")
        for key, label in (("production", "Production"), ("consumption", "Consommation / Consumption"),
                           ("net_consumption", "Réseau / Grid (net)")):
            e = readings.get(key) or {}
            self.say(f"{label:<34}{_fmt(e.get('watts_now')):>9}{_fmt(e.get('wh_today'), 1e-3, 1):>16}"
                     f"{_fmt(e.get('wh_last_7_days'), 1e-3, 1):>14}{_fmt(e.get('wh_lifetime'), 1e-3, 0):>12}")

        battery = readings.get("battery") or {}
        encharges = readings.get("encharges") or {}
        if battery or encharges:
            self.say(f"\nBatteries: {_fmt(battery.get('percent_full'))} %, "
                     f"{_fmt(battery.get('available_energy_wh'), 1e-3, 1)} / "
                     f"{_fmt(battery.get('max_available_capacity_wh'), 1e-3, 1)} kWh, "
                     f"réserve / reserve {_fmt(battery.get('reserve_percent') or battery.get('configured_reserve_percent'))} %")
            for serial, b in sorted(encharges.items()):
                self.say(f"  {serial}  {_fmt(b.get('percent_full')):>4} %  {_fmt(b.get('watts_now')):>7} W  "
                         f"{_fmt(b.get('temperature_c'))} °C")

        inverters = readings.get("inverters") or {}
        if inverters:
            self.say(f"\nMicro-onduleurs / Microinverters ({len(inverters)})")
            self.say(f"  {'serial':<14}{'W':>6}{'max W':>7}{'Wh jour/today':>15}{'kWh total':>11}  dernier relevé / last report")
            for serial, inv in sorted(inverters.items()):
                last = inv.get("last_report_ts")
                self.say(f"  {serial:<14}{_fmt(inv.get('watts_now')):>6}{_fmt(inv.get('max_watts')):>7}"
                         f"{_fmt(inv.get('energy_today_wh')):>15}{_fmt(inv.get('lifetime_wh'), 1e-3, 1):>11}  "
                         + (time.strftime('%H:%M:%S', time.localtime(last)) if last else "-"))

    def keep_serving(self):
        if not self.args.serve:
            return
        self.say("\nLes serveurs restent actifs (Ctrl-C pour arrêter) / servers keep running (Ctrl-C stops).")
        self.say("Sonder à la main / probe by hand (password: on stdin):")
        command = [sys.executable, "enphased.py"] + self.probe_command()[2:]
        # the demo account's password is a test credential of the local stand-in, not a secret
        self.say(f"  cd {DAEMON_DIR} && echo {DEMO_PASSWORD} | " + " ".join(shlex.quote(a) for a in command))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass

    def start_daemon(self):
        """The daemon as Jeedom starts it (docs/protocol.md), its callback answered by a Jeedom stand-in."""
        self.apikey = secrets.token_hex(16)
        self.jeedom = JeedomReceiver(self.apikey)
        self.stack.callback(self.jeedom.close)
        workdir = self.stack.enter_context(tempfile.TemporaryDirectory(prefix="enphase-demo-"))
        pid_file, log_file = os.path.join(workdir, "daemon.pid"), os.path.join(workdir, "daemon.log")
        keyfile = os.path.join(workdir, "apikey")  # as Jeedom does: the key in a 0600 file, not in argv
        with open(os.open(keyfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as file:
            file.write(self.apikey)
        self.daemon = None
        self.stack.callback(self._stop_daemon)
        # As in Jeedom, the socket in a folder only this user may enter (TemporaryDirectory makes it 0700).
        self.socket_path = os.path.join(workdir, "daemon.sock")
        argv = [sys.executable, str(DAEMON_DIR / "enphased.py"), "--loglevel", "warning",
                "--socket", self.socket_path, "--callback", self.jeedom.url, "--apikey-file", keyfile,
                "--pid", pid_file, "--datadir", os.path.join(workdir, "data")]
        with open(log_file, "wb") as log:
            self.daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        if not self._listening(pid_file):
            self.say(Path(log_file).read_text(errors="replace"))
            raise SystemExit(1)
        self.say("\n$ enphased.py --socket %s --callback %s ...   (démon lancé comme par Jeedom / daemon "
                 "started as Jeedom does)" % (self.socket_path, self.jeedom.url))

    def _listening(self, pid_file, timeout_s=60):
        """The daemon writes its pid file once it listens; False when it exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.daemon.poll() is None:
            try:
                if Path(pid_file).read_text().strip() == str(self.daemon.pid):
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def _stop_daemon(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            self.daemon.wait(30)

    def _send(self, message, timeout_s=150):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout_s)
            conn.connect(self.socket_path)
            conn.sendall(json.dumps(dict(message, apikey=self.apikey)).encode() + b"\n")
            answer = conn.makefile("rb").readline()
        return json.loads(answer)

    def synchronize(self):
        self._send({"action": "configure", "general_s": 5, "devices_s": 10,
                    "gateways": [{"id": "demo", "host": "demo"}]})
        answer = self._send({"action": "sync", "gateway": "demo"})
        if not answer.get("ok"):
            self.say(f"Synchronisation impossible / sync failed: {answer.get('error')}")
            raise SystemExit(1)
        self.inventory = [eq for inv in answer["inventory"] for eq in expanded(inv)["equipments"]]
        self.jeedom.wait_for(lambda j: any(e["type"] == "values" for e in j.events), timeout_s=60)
        values = {}
        for event in self.jeedom.events:
            if event["type"] == "values":
                for eq, cmds in event["values"].items():
                    values.setdefault(eq, {}).update(cmds)
        kinds = {}
        for eq in self.inventory:
            kinds[eq["kind"]] = kinds.get(eq["kind"], 0) + 1
        self.say("\nSynchroniser / Synchronize: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
        shown = set()
        for eq in self.inventory:
            if eq["kind"] in shown and eq["kind"] != "gateway":
                continue  # one equipment of each kind is enough to see what Jeedom shows
            shown.add(eq["kind"])
            self.say(f"\n  [{eq['name']['fr_FR']}]  ({len(eq['commands'])} commandes / commands)")
            for cmd in eq["commands"]:
                value = values.get(eq["logicalId"], {}).get(cmd["logicalId"], "-")
                labels = cmd.get("valueLabels") or {}
                if value in labels:
                    value = labels[value]["fr_FR"]
                self.say(f"    {cmd['name']['fr_FR']:<38}{value!s:>14} {cmd.get('unit', '')}")

    def next_cycle(self):
        seen = len(self.jeedom.bodies)
        if not self.jeedom.wait_for(lambda j: len(j.bodies) > seen, timeout_s=30):
            self.say("\n(aucun nouveau cycle en 30 s / no new cycle within 30 s)")
            return
        changed = {}
        for body in self.jeedom.bodies[seen:]:
            for event in body["events"]:
                if event["type"] == "values":
                    for eq, cmds in event["values"].items():
                        changed.setdefault(eq, {}).update(cmds)
        count = sum(len(c) for c in changed.values())
        self.say(f"\nCycle suivant / next cycle: {count} valeur(s) changée(s) envoyée(s) à Jeedom / changed "
                 "value(s) sent to Jeedom (only changes are sent)")
        for eq, cmds in list(changed.items())[:3]:
            self.say(f"  {eq}: " + ", ".join(f"{k}={v}" for k, v in list(cmds.items())[:6]))

    STEPS = ("start_servers", "run_probe", "show", "start_daemon", "synchronize", "next_cycle", "keep_serving")

    def run(self):
        with self.stack:
            for step in self.STEPS:
                getattr(self, step)()
        return 0


def main(argv=None):
    return Demo(_arguments(sys.argv[1:] if argv is None else argv)).run()


if __name__ == "__main__":
    sys.exit(main())
