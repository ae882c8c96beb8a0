"""Our side of the bench: the plugin's Envoy client and poller in a process of their own.

Runs under the plugin's venv with resources/enphased on sys.path; answers the same JSON commands as
pyenphase_reader.py, one per line (ops: connect, cycles, plan, memory, close). A cycle is the poller's
own `cycle()`: the requests, parsing, change detection and the callback body, encoded as the daemon encodes
it; only the POST itself is left out (section 5 of the bench times a real one).
"""
import sys
import time

T_START = time.monotonic()

import json  # noqa: E402

from envoy.client import Credentials, Envoy  # noqa: E402
from jeedom.callback import Callback  # noqa: E402
from poller import GatewayPoller  # noqa: E402
from proc_memory import memory_kb  # noqa: E402


class CountingCallback(Callback):
    """The daemon's callback client, with the POST replaced by counting the bytes it would send."""

    def __init__(self):
        super().__init__("http://127.0.0.1:9/unused", "bench")
        self.sent_bytes = 0

    def _post(self, chunk):
        self.sent_bytes += len(json.dumps({"events": chunk.events}, separators=(",", ":")).encode("utf-8"))
        return None, False  # taken by Jeedom


class Reader:
    def __init__(self):
        self.pollers = []
        self.callback = CountingCallback()

    def connect(self, hosts, token=None, username=None):
        """Connect and probe each gateway, then one full first cycle (as after a daemon start)."""
        self.close()
        cpu, wall = time.process_time(), time.perf_counter()
        for i, host in enumerate(hosts):
            envoy = Envoy(host, Credentials(token=token) if token else Credentials())
            envoy.connect()
            envoy.probe()
            poller = GatewayPoller(str(i + 1), envoy, self.callback)
            poller.cycle(["general", "devices"])
            self.pollers.append(poller)
        return {"cpu_ms": (time.process_time() - cpu) * 1e3, "wall_ms": (time.perf_counter() - wall) * 1e3}

    def cycles(self, n, cadence="general", first=None):
        """n cycles of one cadence on every gateway (or the `first` ones): CPU, wall time and callback bytes
        of each round."""
        cpu_ms, wall_ms, payload = [], [], []
        for _ in range(n):
            sent = self.callback.sent_bytes
            cpu, wall = time.process_time(), time.perf_counter()
            for poller in self.pollers[:first]:
                if not poller.cycle([cadence]):
                    raise RuntimeError(f"cycle failed: {poller.status()['error']}")
            cpu_ms.append((time.process_time() - cpu) * 1e3)
            wall_ms.append((time.perf_counter() - wall) * 1e3)
            payload.append(self.callback.sent_bytes - sent)
        return {"cpu_ms": cpu_ms, "wall_ms": wall_ms, "payload_bytes": payload}

    def plan(self):
        """The endpoints each cadence reads on the (first) gateway."""
        plan = self.pollers[0].envoy.plan
        return {"paths": {cadence: list(paths) for cadence, paths in plan.paths.items()}}

    def close(self):
        for poller in self.pollers:
            poller.envoy.close()
        self.pollers = []
        return {}


def serve():
    reader = Reader()
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        try:
            if op == "memory":
                answer = memory_kb()
            else:
                answer = getattr(reader, op)(**command)
            answer["ok"] = True
        except Exception as exc:  # the bench reports it and goes on with the next gateway
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    reader.close()


if __name__ == "__main__":
    serve()
