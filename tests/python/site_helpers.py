"""A whole site: the daemon's core in this process listening on its real socket, a real HTTP receiver standing
in for Jeedom's callback page and, when the test gives one, a simulated gateway on a real socket. A test speaks
to it as PHP does (socket messages) and reads what Jeedom was told (callback events)."""
import shutil

from conftest import short_private_folder
from jeedom_receiver import JeedomReceiver, expanded

import enphased
from jeedom.socket_server import send
from simulator.cloud import issue_token
from simulator.server import serve

APIKEY = "devices-test-apikey-0123456789abcdef"
GATEWAY_ID = "12"


class Site:
    """`folder`: the test's own; the daemon keeps its data in folder/data. With a simulated `gateway`: served
    (with `faults`) and configured at once; `gateway_options` shape its configuration (see gateway_config).
    Without one, the test sends its own configure(). `clock` and `tz`, when given, are what every configured
    gateway's worker reads for the time and for its counters' day; `envoy_factory` builds the daemon's
    clients. stop() and start() are Jeedom stopping and starting the daemon: the same data folder, the last
    configuration sent again, as PHP does."""

    def __init__(self, folder, gateway=None, *, faults=None, clock=None, tz=None, envoy_factory=None,
                 **gateway_options):
        self.datadir = str(folder / "data")
        self.clock, self.tz = clock, tz
        self.options = {} if envoy_factory is None else {"envoy_factory": envoy_factory}
        self.jeedom = JeedomReceiver(APIKEY)
        self.folder = short_private_folder()
        self.daemon = self.server = self.configured = None
        self.gateway = gateway
        self.simulator = None if gateway is None else serve(gateway, faults=faults)
        self.start()
        if gateway is not None:
            self.serial = self.simulator.serial
            self.config = self.gateway_config(**gateway_options)
            self.configure(gateways=[self.config])

    def gateway_config(self, id=GATEWAY_ID, role="owner", token_lifetime_s=None, digest_installer=False,
                       **more):
        """The served gateway's configuration as PHP sends it: a token of `role` when it asks for one, the
        installer's digest login when asked for one, and `more` (detail, paused...)."""
        config = {"id": id, "host": self.simulator.url}
        if self.simulator.auth.mode == "jwt":
            config["token"] = issue_token(self.serial, role=role, lifetime_s=token_lifetime_s)
        elif digest_installer:
            config["installer"] = True
        return dict(config, **more)

    def start(self):
        self.daemon, self.server = enphased.start_core(str(self.folder / "daemon.sock"), self.jeedom.url, APIKEY,
                                                       self.datadir, **self.options)
        if self.configured is not None:
            self.configure(**self.configured)

    def stop(self):
        self.server.stop()
        self.daemon.stop()

    def restart(self):
        self.stop()
        self.start()

    def configure(self, **message):
        assert self.ask("configure", **message)["ok"]
        self.configured = message
        for poller in self.pollers:
            if self.clock is not None:
                poller.clock = self.clock
            if self.tz is not None:
                poller.counters.tz = self.tz

    @property
    def pollers(self):
        """The workers of the gateways configured last, in their order."""
        return [self.daemon.pollers[g["id"]] for g in self.configured["gateways"]]

    @property
    def poller(self):
        return self.pollers[0]

    def ask(self, action, **fields):
        message = dict(fields, apikey=APIKEY, action=action)
        if action not in ("configure", "stop"):
            message.setdefault("gateway", self.configured["gateways"][0]["id"])
        return send(self.server.path, message)

    def sync(self):
        answer = self.ask("sync")
        assert answer["ok"], answer
        return {e["logicalId"]: e for e in expanded(answer["inventory"][0])["equipments"]}

    def execute(self, target, command, value=None):
        return self.ask("execute", target=target, command=command, value=value)

    def cycle(self):
        """A cycle of the first gateway now, run by its worker (a paused one has none of its own): the values
        events Jeedom got from it, in order."""
        before = len(self.jeedom.bodies)
        self.poller.submit(self.poller.refresh).result(timeout=60)
        return [event["values"] for body in self.jeedom.bodies[before:] for event in body["events"]
                if event["type"] == "values"]

    def values(self):
        """Every equipment's latest values as Jeedom was told them (values events merged in order)."""
        merged = {}
        for event in self.jeedom.events:
            if event.get("type") == "values":
                for eq, values in event["values"].items():
                    merged.setdefault(eq, {}).update(values)
        return merged

    def value(self, eq, command):
        return self.values().get(eq, {}).get(command)

    def close(self):
        self.stop()
        if self.simulator is not None:
            self.simulator.stop()
        self.jeedom.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def commands(equipment, type_=None):
    """The logicalIds of an inventory equipment's commands (of one type when given)."""
    return {c["logicalId"] for c in equipment["commands"] if type_ is None or c["type"] == type_}
