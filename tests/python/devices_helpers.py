"""A whole site for device and control tests: a simulated gateway on a real socket, the daemon's core
in-process listening on its real socket, and a real HTTP receiver standing in for Jeedom's callback page.
A test speaks to it as PHP does (socket messages) and reads what Jeedom was told (callback events)."""
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
    def __init__(self, gateway, tmp_path, role="owner", digest_installer=False, detail=None):
        self.gateway = gateway
        self.simulator = serve(gateway)
        self.jeedom = JeedomReceiver(APIKEY)
        self.folder = short_private_folder()
        self.daemon, self.server = enphased.start_core(str(self.folder / "daemon.sock"), self.jeedom.url, APIKEY,
                                                       str(tmp_path / "data"))
        config = {"id": GATEWAY_ID, "host": self.simulator.url}
        if self.simulator.auth.mode == "jwt":
            config["token"] = issue_token(self.simulator.serial, role=role)
        elif digest_installer:
            config["installer"] = True
        if detail is not None:
            config["detail"] = detail
        assert self.ask("configure", gateways=[config])["ok"]
        self.config = config
        self.serial = self.simulator.serial

    def ask(self, action, **fields):
        message = dict(fields, apikey=APIKEY, action=action)
        if action not in ("configure", "stop"):
            message.setdefault("gateway", GATEWAY_ID)
        return send(self.server.path, message)

    def sync(self):
        answer = self.ask("sync")
        assert answer["ok"], answer
        return {e["logicalId"]: e for e in expanded(answer["inventory"][0])["equipments"]}

    def execute(self, target, command, value=None):
        return self.ask("execute", target=target, command=command, value=value)

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
        self.server.stop()
        self.daemon.stop()
        self.simulator.stop()
        self.jeedom.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def commands(equipment, type_=None):
    """The logicalIds of an inventory equipment's commands (of one type when given)."""
    return {c["logicalId"] for c in equipment["commands"] if type_ is None or c["type"] == type_}
