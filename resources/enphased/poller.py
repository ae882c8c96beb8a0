"""One gateway's worker: its cadences, what changed since Jeedom was last told, and its status.

Everything that talks to the gateway runs in this worker's own thread, one thing at a time (the gateway
has a weak CPU and wants one request at a time): the cadences, and the jobs that the socket hands over
(sync, refresh, execute). A slow or silent gateway therefore delays only its own next cycle. Cadences are
`schedule` jobs that only mark a cadence due; the worker then reads every due cadence in one cycle and
publishes once, so a cycle never overlaps another and each cycle flushes once.
"""
import json
import logging
import os
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Tuple

import schedule

import catalog
from counters import MONOTONIC
from envoy.errors import EnvoyError
from view import GatewayView

CADENCES = ("general", "devices")  # read in this order when both are due
STATUS_REFRESH_S = 600  # a status whose only change is last_success is re-sent at most this often
MAX_BACKOFF_TICKS = 5  # a silent gateway is retried at least every 5 general ticks

log = logging.getLogger("enphased.poller")


class GatewayPoller:
    def __init__(self, gateway_id: str, envoy, callback, *, general_s: int = 60, devices_s: int = 300,
                 memory_path: Optional[str] = None, clock: Callable[[], float] = time.time,
                 paused: bool = False, counters=None):
        self.id = gateway_id
        self.envoy = envoy
        self.callback = callback
        self.clock = clock
        self.paused = paused
        self.memory_path = memory_path
        self.counters = counters  # counters.Counters: lifetime counters that never go back, the day's figures
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(general_s).seconds.do(self._mark_due, "general")
        self.scheduler.every(devices_s).seconds.do(self._mark_due, "devices")
        self._due = set(CADENCES)  # the first cycle reads everything...
        self._send_all = True  # ...and sends every value
        self._jobs: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._published: Dict[str, Dict[str, Any]] = {}  # what Jeedom has been handed, per equipment
        self.view = GatewayView()  # the latest answer of each endpoint, and the values made of them
        self._kinds: Dict[str, str] = {}  # equipment logicalId -> kind, from the last readings
        self._memory = self._load_memory()  # the equipment Jeedom was told about (None: never synced)
        self._status_key = None
        self._status_sent_at = 0.0
        self._last_success: Optional[int] = None
        self._error: Optional[EnvoyError] = None
        self._failures = 0
        self.recent_errors: "deque" = deque(maxlen=10)  # distinct errors, for the diagnostics report
        self._skip_ticks = 0
        self.cycles = 0  # for tests and the benchmark

    # --- thread ---

    def start(self) -> "GatewayPoller":
        self._thread = threading.Thread(target=self._run, name=f"gateway-{self.id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_s: float = 5) -> None:
        """Ask the worker to end after what it is doing; a request to a silent gateway cannot be cut short,
        so this waits only `wait_s` (the thread is a daemon thread and ends with the process)."""
        self._stopping.set()
        self._jobs.put(None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait_s)
        close = getattr(self.envoy, "close", None)
        if close is not None and (self._thread is None or not self._thread.is_alive()):
            close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            idle = self.scheduler.idle_seconds
            wait_s = 0.0 if self._ready() else max(0.0, min(idle if idle is not None else 60.0, 60.0))
            self.step(block_s=wait_s)

    def step(self, block_s: float = 0.0) -> None:
        """Run queued jobs (waiting up to block_s for one), then the due cadences. Tests call it directly."""
        try:
            job = self._jobs.get(timeout=block_s) if block_s > 0 else self._jobs.get_nowait()
        except queue.Empty:
            job = None
        while job is not None and not self._stopping.is_set():
            job()
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                job = None
        if self._stopping.is_set():
            return
        self.scheduler.run_pending()
        if self._ready():
            due, self._due = self._due, set()
            self.cycle([c for c in CADENCES if c in due])

    def submit(self, work: Callable[[], Any]) -> "Future":
        """Run `work` in the worker thread; the Future gets its result or exception."""
        future: Future = Future()

        def job():
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work())
                except BaseException as e:  # handed to the waiting socket thread
                    future.set_exception(e)

        self._jobs.put(job)
        return future

    def _mark_due(self, cadence: str) -> None:
        if cadence == "general" and self._skip_ticks > 0:
            self._skip_ticks -= 1  # backing off a silent gateway
            return
        self._due.add(cadence)

    def _ready(self) -> bool:
        """A cycle is due. While backing off a silent gateway, the devices cadence waits for the general one."""
        if not self._due or self.paused:
            return False
        return "general" in self._due or self._skip_ticks == 0

    # --- cycles ---

    def cycle(self, cadences: List[str], send_all: bool = False) -> bool:
        """Read the cadences, publish what changed and the status, POST once. True when every read worked."""
        self.cycles += 1
        send_all = send_all or self._send_all
        found, error = self._read(cadences)
        if error is None:
            self._send_all = False
        self._publish(found, send_all)
        self._set_error(error)
        self._send_status(force=send_all)
        self.callback.flush(self.id)
        return error is None

    def _read(self, cadences):
        """{eq logicalId: (Equipment, values)} of this cycle, the energy counters applied between reading and
        publishing (lifetime counters that never go back, the figures of the day: counters.py), and the error
        that stopped a read."""
        error, fresh = None, set()
        for cadence in cadences:
            try:
                answers = self.envoy.fetch(cadence)
            except EnvoyError as e:
                error = e
                break
            except Exception as e:  # a bug of ours must not end the worker: say it, keep polling
                log.exception("Gateway %s: reading %s failed", self.id, cadence)
                error = EnvoyError("bad_response", f"Internal error while reading: {e.__class__.__name__}")
                break
            self.view.update(self.envoy.plan, cadence, answers)
            fresh.add(cadence)
        found = self.view.equipments(self.envoy.info)
        if self.counters is None or not found:
            return found, error
        counting = {}
        for eq_id, (eq, values) in found.items():
            lifetime = MONOTONIC.get(eq.kind.kind, ())
            # A counter from an earlier cycle's answers is not a new reading: a step seen once and then
            # repeated from memory while the gateway is silent would confirm itself.
            stale = {c.logical_id for c in eq.kind.commands if c.logical_id in lifetime and c.cadence not in fresh}
            counting[eq_id] = (eq.kind.kind, {k: v for k, v in values.items() if k not in stale})
        try:
            counted = self.counters.update(counting, self.clock())
        except Exception:  # a bug of ours must not stop the publishing of everything else...
            log.exception("Gateway %s: counting energy failed", self.id)
            # ...nor let a raw lifetime counter through: it may be lower than what Jeedom has.
            counted = {eq_id: {k: v for k, v in values.items() if k not in MONOTONIC.get(kind, ())}
                       for eq_id, (kind, values) in counting.items()}
        return {eq_id: (eq, counted[eq_id]) for eq_id, (eq, _) in found.items()}, error

    def _publish(self, found, send_all: bool) -> None:
        changed: Dict[str, Dict[str, Any]] = {}
        for eq_id, (eq, values) in found.items():
            self._kinds[eq_id] = eq.kind.kind
            before = self._published.setdefault(eq_id, {})
            diff = {cmd: v for cmd, v in values.items() if send_all or cmd not in before or before[cmd] != v}
            if diff:
                before.update(diff)
                changed[eq_id] = diff
        self._discover(found, changed)
        self.callback.values(self.id, changed)

    # --- inventory ---

    def _gateway_configuration(self) -> Dict[str, Any]:
        info = getattr(self.envoy, "info", None)
        config = {"firmware": getattr(info, "firmware", None), "part_number": getattr(info, "part_number", None),
                  "imeter": getattr(info, "imeter", None), "auth": getattr(self.envoy, "auth_mode", None)}
        return {k: v for k, v in config.items() if v is not None}

    def _remember(self, found) -> Dict[str, Any]:
        return {eq_id: {"kind": eq.kind.kind, "fr": eq.fr, "en": eq.en,
                        "commands": catalog.present_commands(eq.kind, values)}
                for eq_id, (eq, values) in found.items()}

    def _discover(self, found, changed) -> None:
        """After a sync, a device or reading that shows up later is described to Jeedom on its own. Only an
        equipment Jeedom does not know or whose values changed can bring a command: every value of the others
        was published, and so remembered, in an earlier cycle (the 600 inverters of a general cycle)."""
        if self._memory is None:
            return  # never synced: Jeedom creates equipment when the user asks for it
        new = False
        candidates = {eq_id: item for eq_id, item in found.items() if eq_id in changed or eq_id not in self._memory}
        for eq_id, entry in self._remember(candidates).items():
            known = self._memory.get(eq_id)
            if known is None:
                self._memory[eq_id] = entry
                new = True
                log.info("Gateway %s: new equipment %s (%s)", self.id, eq_id, entry["kind"])
            elif not set(entry["commands"]) <= set(known["commands"]):
                known["commands"] = sorted(set(known["commands"]) | set(entry["commands"]))
                new = True
        if new:
            self._save_memory()
            self.callback.inventory(self.id, self.inventory())

    def inventory(self) -> Dict[str, Any]:
        """The INVENTORY of the protocol, from what Jeedom was last told."""
        memory = self._memory or {}
        serial = getattr(getattr(self.envoy, "info", None), "serial", None)
        equipments = []
        for eq_id, entry in memory.items():
            kind = catalog.KINDS.get(entry["kind"])
            if kind is None:
                continue
            configuration = self._gateway_configuration() if kind is catalog.GATEWAY else {}
            equipments.append(catalog.describe_equipment(kind, eq_id, entry["fr"], entry["en"],
                                                         set(entry["commands"]), configuration))
        return {"serial": serial, "equipments": equipments}

    def sync(self) -> Dict[str, Any]:
        """Probe the gateway, read both cadences, tell Jeedom (inventory, then every value) and return the
        inventory. Runs in the worker thread (see `submit`)."""
        connect = getattr(self.envoy, "connect", None)
        if connect is not None:
            connect()
        self.envoy.probe()
        found, error = self._read(CADENCES)
        if error is not None:
            self._set_error(error)
            self._send_status(force=True)
            self.callback.flush(self.id)
            raise error
        self._memory = self._remember(found)
        self._save_memory()
        self.callback.inventory(self.id, self.inventory())
        self._published = {}
        self._publish(found, send_all=True)
        self._send_all, self._due = False, set()  # both cadences were just read
        self._set_error(None)
        self._send_status(force=True)
        # Delivered before the socket answers, so PHP never gets values for equipment it is still creating.
        self.callback.flush(self.id)
        return dict(self.inventory(), type="inventory", gateway=self.id)

    def refresh(self) -> None:
        """Read both cadences now (the user asked for fresh values); sends what changed, like any cycle."""
        self.cycle(list(CADENCES))

    def execute(self, target: str, command_id: str, value: Any) -> None:
        """An action command of the catalog, then a read of what it changes. Runs in the worker thread."""
        kind = self._kinds.get(target) or (self._memory or {}).get(target, {}).get("kind")
        command = catalog.find_command(kind, command_id) if kind else None
        if command is None or command.type != "action" or command.run is None:
            raise EnvoyError("refused", f"Unknown action {command_id!r} for equipment {target!r}.")
        command.run(self, target, value)  # controls.py: writes, then reads the state back
        info = catalog.find_command(kind, command.value) if command.value else None
        self.cycle([info.cadence if info else command.cadence])

    # --- status ---

    def _set_error(self, error: Optional[EnvoyError]) -> None:
        if error is None:
            self._last_success = int(self.clock())
            if self._error is not None:
                log.info("Gateway %s answers again", self.id)
            self._error, self._failures, self._skip_ticks = None, 0, 0
            return
        if self._error is None or (error.code, error.message) != (self._error.code, self._error.message):
            # Once per distinct error. The gateway goes silent for minutes every night: no alarm for that.
            level = logging.INFO if error.code == "unreachable" else logging.WARNING
            log.log(level, "Gateway %s: %s (%s)", self.id, error.message, error.code)
            self.recent_errors.append({"at": int(self.clock()), "code": error.code, "message": error.message})
        self._error = error
        self._failures += 1
        if error.code == "unreachable":
            self._skip_ticks = min(2 ** (self._failures - 1) - 1, MAX_BACKOFF_TICKS - 1)

    def status(self) -> Dict[str, Any]:
        info = getattr(self.envoy, "info", None)
        error = None if self._error is None else {"code": self._error.code, "message": self._error.message}
        return {"serial": getattr(info, "serial", None),
                "reachable": self._error is None or self._error.code != "unreachable",
                "firmware": getattr(info, "firmware", None), "auth": getattr(self.envoy, "auth_mode", "none"),
                "token_expires": getattr(self.envoy, "token_expires", None), "last_success": self._last_success,
                "error": error}

    def _send_status(self, force: bool = False) -> None:
        status = self.status()
        key = {k: v for k, v in status.items() if k != "last_success"}  # plain values: == compares them
        now = self.clock()
        if force or key != self._status_key or now - self._status_sent_at >= STATUS_REFRESH_S:
            self._status_key, self._status_sent_at = key, now
            self.callback.status(self.id, status)

    # --- memory of the last inventory (survives restarts) ---

    def _load_memory(self) -> Optional[Dict[str, Any]]:
        if not self.memory_path:
            return None
        try:
            with open(self.memory_path, encoding="utf-8") as file:
                memory = json.load(file)
            return memory if isinstance(memory, dict) else None
        except (OSError, ValueError):
            return None

    def _save_memory(self) -> None:
        if not self.memory_path:
            return
        try:
            os.makedirs(os.path.dirname(self.memory_path) or ".", exist_ok=True)
            tmp = self.memory_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as file:
                json.dump(self._memory, file)
            os.replace(tmp, self.memory_path)
        except OSError as e:
            log.warning("Gateway %s: cannot save %s (%s)", self.id, self.memory_path, e.strerror)
