"""The reference reader's side of the bench: pyenphase 4.2.0 driven as Home Assistant drives it.

Runs under the bench's own venv (.venv-bench), never under the plugin's. It imports nothing of ours.

  pyenphase_reader.py serve          JSON commands on stdin, one JSON answer per line on stdout (ops: connect, cycles, memory, imported, close)
  pyenphase_reader.py startup HOST   import pyenphase and read /info: the bench times it from the outside
  pyenphase_reader.py poll HOST N    a minimal poller: N updates back to back, then its memory figures
"""
import sys
import time

T_START = time.monotonic()  # before the heavy imports: what "start-up" means for this process

import asyncio  # noqa: E402
import json  # noqa: E402

from pyenphase import Envoy  # noqa: E402
from proc_memory import memory_kb  # noqa: E402

T_IMPORTED = time.monotonic()


class Reader:
    """One Envoy object per gateway, updated one after the other (as Home Assistant's coordinators would)."""

    def __init__(self):
        self.envoys = []

    async def connect(self, hosts, token=None, username=None):
        """setup + authenticate + first update (which probes), as Home Assistant's config entry does."""
        await self.close()
        cpu, wall = time.process_time(), time.perf_counter()
        for host in hosts:
            envoy = Envoy(host)
            self.envoys.append(envoy)
            await envoy.setup()
            if token:
                await envoy.authenticate(token=token)
            else:
                await envoy.authenticate(username=username or "envoy", password="")
            await envoy.update()
        return {"cpu_ms": (time.process_time() - cpu) * 1e3, "wall_ms": (time.perf_counter() - wall) * 1e3}

    async def cycles(self, n, cadence=None, first=None):
        """n updates of every gateway; CPU and wall time of each round. pyenphase has one cadence: `cadence`
        is ignored. It hands its data to Home Assistant as objects: there is no payload to count."""
        cpu_ms, wall_ms = [], []
        for _ in range(n):
            cpu, wall = time.process_time(), time.perf_counter()
            for envoy in self.envoys[:first]:
                await envoy.update()
            cpu_ms.append((time.process_time() - cpu) * 1e3)
            wall_ms.append((time.perf_counter() - wall) * 1e3)
        return {"cpu_ms": cpu_ms, "wall_ms": wall_ms}

    async def close(self):
        for envoy in self.envoys:
            await envoy.close()
        self.envoys = []
        return {}


async def serve():
    """Answer the bench's commands until stdin closes. Each answer: {"ok": true, ...} or {"ok": false, "error"}."""
    reader = Reader()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        op = command.pop("op")
        try:
            if op == "memory":
                answer = memory_kb()
            elif op == "imported":
                answer = {"import_ms": (T_IMPORTED - T_START) * 1e3}
            else:
                answer = await getattr(reader, op)(**command)
            answer["ok"] = True
        except Exception as exc:  # the bench reports it and goes on with the next gateway
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    await reader.close()


async def startup(host):
    envoy = Envoy(host)
    try:
        await envoy.setup()
    finally:
        await envoy.close()
    print("{}")


async def poll(host, n, token):
    reader = Reader()
    after_import = memory_kb()
    await reader.connect([host], token=token or None)
    await reader.cycles(10)
    warm = memory_kb()
    await reader.cycles(n - 10)
    end = memory_kb()
    await reader.close()
    print(json.dumps({"after_import": after_import, "warm": warm, "end": end}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        asyncio.run(serve())
    elif mode == "startup":
        asyncio.run(startup(sys.argv[2]))
    elif mode == "poll":
        asyncio.run(poll(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else ""))
    else:
        sys.exit(__doc__)
