"""One gateway's worker: the thread in which everything that talks to the gateway runs, one thing at a time
(the gateway has a weak CPU and wants one request at a time): the cycles its cadences call for
(cadence.py) and the jobs the socket hands over (sync, refresh, execute). A slow or silent gateway
therefore delays only its own next cycle.

A cycle reads the due cadences into the gateway's view (view.py), counts energy (counters.py), tells
Jeedom what changed and the status (publisher.py), and flushes once. Refreshes do not pile up: while one
waits for the worker, asking again adds nothing.
"""
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

import catalog
from cadence import CADENCES, DEFAULT_S, Cadences
from counters import MONOTONIC
from envoy.errors import EnvoyError
from envoy.probe import Plan
from envoy.readings import GatewayInfo
from publisher import Publisher
from view import Found, GatewayView

log = logging.getLogger("enphased.poller")

_DEVICE_READS = threading.Lock()
DEVICE_READ_WAIT_S = 2


@contextlib.contextmanager
def _device_turn():
    """A site's per-device answers weigh MBs once decoded, until the view made its devices of them: one gateway
    at a time reads them (four sites read at once would hold four times that). A gateway slow to answer holds
    another's devices read back DEVICE_READ_WAIT_S at most (on a cadence of minutes); then it reads all the same."""
    turn = _DEVICE_READS.acquire(timeout=DEVICE_READ_WAIT_S)
    try:
        yield
    finally:
        if turn:
            _DEVICE_READS.release()

ERROR_SAID_AGAIN_S = 3600  # an error logged is logged again, after the gateway answered in between, this much later
REQUESTS_WINDOW_S = 3600  # requests per hour are counted over the last hour
ERRORS_WINDOW_S = 86400  # failed reads are counted over the last day


class GatewayClient(Protocol):
    """What the worker needs of a gateway's client: `envoy.client.Envoy` (tests give scripted ones).
    The controls (controls.py) and the diagnostics report use the Envoy's write and raw methods besides."""

    info: Optional[GatewayInfo]  # None until connected
    plan: Optional[Plan]  # None until probed
    auth_mode: str

    @property
    def token_expires(self) -> Optional[int]: ...

    def connect(self) -> GatewayInfo: ...

    def probe(self) -> Plan: ...

    def fetch(self, cadence: str) -> Dict[str, Any]: ...

    def close(self) -> None: ...


class GatewayPoller:
    def __init__(self, gateway_id: str, envoy: Optional[GatewayClient], callback, *,
                 make_client: Optional[Callable[[], GatewayClient]] = None,
                 general_s: float = DEFAULT_S["general"], devices_s: float = DEFAULT_S["devices"],
                 memory_path: Optional[str] = None, clock: Callable[[], float] = time.time,
                 paused: bool = False, counters=None, detail: catalog.Detail = catalog.Detail()):
        """`envoy` is the gateway's client, or None with `make_client` to build it in the worker on first
        use (building it may start the demo gateway)."""
        if envoy is None and make_client is None:
            raise ValueError("a client, or make_client")
        self.id = gateway_id
        self.envoy = envoy
        self._make_client = make_client
        self.callback = callback
        self.clock = clock
        self.paused = paused
        self.counters = counters  # counters.Counters: lifetime counters that never go back, the day's figures
        self.cadences = Cadences(general_s, devices_s)
        self.view = GatewayView(detail)  # the latest answer of each endpoint, and the values made of them
        self.publisher = Publisher(gateway_id, callback, self._gateway_facts, memory_path, lambda: self.clock(), detail)
        self._send_all = True  # the first cycle sends every value
        self._jobs: "queue.Queue[Optional[Callable[[], None]]]" = queue.Queue()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._refresh_lock = threading.Lock()
        self._refresh_waiting = False  # a refresh is queued and has not started
        self._last_success: Optional[int] = None
        self._error: Optional[EnvoyError] = None
        self._failures = 0
        self.recent_errors: "deque" = deque(maxlen=10)  # distinct errors, for the diagnostics report
        self._errors_said: Dict[Tuple[str, str], float] = {}  # (code, message) -> when it was last logged
        self._error_logged = False  # an error of the present failure was logged
        # For the health page: requests sent so far at each read of the last hour, and each failed read of the
        # last day (bounded: a read every 10 s at most).
        self._requests_seen: "deque" = deque()
        self._failed_at: "deque" = deque(maxlen=ERRORS_WINDOW_S // 10)
        self.cycles = 0  # for tests and the benchmark

    @property
    def serial(self) -> Optional[str]:
        info = self.envoy.info if self.envoy is not None else None
        return info.serial if info is not None else None

    def client(self) -> GatewayClient:
        """The gateway's client, built on first use. Only in the worker thread."""
        if self.envoy is None:
            self.envoy = self._make_client()
        return self.envoy

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
        if self.envoy is not None and (self._thread is None or not self._thread.is_alive()):
            self.envoy.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.step(block_s=0.0 if self._ready() else self.cadences.idle_s())
            except Exception as e:  # nothing may end the worker: its gateway would go silent for good
                self._internal_error(e, "a cycle")
                self._stopping.wait(1.0)

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
        self.cadences.run_pending()
        if self._ready():
            self.cycle(self.cadences.take())

    def _ready(self) -> bool:
        return not self.paused and self.cadences.ready()

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

    def request_refresh(self) -> None:
        """A refresh (both cadences read now), unless one is already waiting for the worker: a gateway that
        holds the worker gets one read when it is free, however often the user asked meanwhile."""
        with self._refresh_lock:
            if self._refresh_waiting:
                return
            self._refresh_waiting = True

        def job():
            with self._refresh_lock:
                self._refresh_waiting = False
            self.refresh()

        self.submit(job)

    # --- cycles ---

    def cycle(self, cadences: List[str], send_all: bool = False) -> bool:
        """Read the cadences, publish what changed and the status, POST once. True when every read worked."""
        self.cycles += 1
        send_all = send_all or self._send_all
        found, error = self._read(cadences)
        if error is None:
            self._send_all = False
        self.publisher.values(found, send_all)
        del found  # not kept while the flush waits for Jeedom (seconds, behind the other gateways)
        self._set_error(error)
        self.publisher.status(self.status(), force=send_all)
        self.callback.flush(self.id)
        return error is None

    def _read(self, cadences) -> Tuple[Found, Optional[EnvoyError]]:
        """{eq logicalId: (Equipment, values)} of this cycle, the energy counters applied, and the error that
        stopped a read."""
        reprobe = self.envoy is not None and self.envoy.plan is not None and self.envoy.probe_due()
        if reprobe:
            cadences = list(CADENCES)  # a new plan starts a new view (view.py): both cadences fill it
        if "devices" not in cadences:
            return self._read_now(cadences)
        with _device_turn():
            if reprobe:
                try:
                    self.envoy.probe()  # the last plan was made from spoiled answers (Envoy.probe_due)
                except EnvoyError as e:
                    return {}, e
            return self._read_now(cadences)

    def _read_now(self, cadences) -> Tuple[Found, Optional[EnvoyError]]:
        error, fresh = None, set()
        for cadence in cadences:
            try:
                client = self.client()
                answers = client.fetch(cadence)
            except EnvoyError as e:
                error = e
                break
            except Exception as e:  # a bug of ours must not end the worker: say it, keep polling
                error = self._internal_error(e, f"reading {cadence}")
                break
            self.view.update(client.plan, cadence, answers)
            fresh.add(cadence)
        try:
            found = self.view.equipments(self.envoy.info if self.envoy is not None else None)
        except Exception as e:  # answers none of our parsers foresaw, or a bug of ours: a cycle lost, said
            return {}, self._internal_error(e, "building its readings")
        return self._counted(found, fresh), error

    def _counted(self, found: Found, fresh) -> Found:
        """The values with the energy counters applied (counters.py): lifetime counters that never go back,
        the figures of the day. Only counters of the cadences read this cycle (`fresh`) are new readings."""
        if self.counters is None or not found:
            return found
        counting, earlier = {}, {}
        stale_by_kind: Dict[str, set] = {}  # the same for every equipment of a kind (600 microinverters)
        for eq_id, (eq, values) in found.items():
            kind = eq.kind.kind
            stale = stale_by_kind.get(kind)
            if stale is None:
                lifetime = MONOTONIC.get(kind, ())
                # A counter from an earlier cycle's answers is not a new reading: a step seen once and then
                # repeated from memory while the gateway is silent would confirm itself. It is still what the
                # gateway's figures of the day from those same answers are judged against (counters.update).
                stale = stale_by_kind[kind] = {c.logical_id for c in eq.kind.commands
                                               if c.logical_id in lifetime and c.cadence not in fresh}
            counting[eq_id] = (kind, values)
            if stale:
                earlier[eq_id] = stale
        try:
            counted = self.counters.update(counting, self.clock(), earlier)
        except Exception:  # a bug of ours must not stop the publishing of everything else...
            log.exception("Gateway %s: counting energy failed", self.id)
            # ...nor let a raw lifetime counter through: it may be lower than what Jeedom has.
            counted = {eq_id: {k: v for k, v in values.items() if k not in MONOTONIC.get(kind, ())}
                       for eq_id, (kind, values) in counting.items()}
        return {eq_id: (eq, counted[eq_id]) for eq_id, (eq, _) in found.items()}

    # --- socket jobs (run in the worker thread: see `submit`) ---

    def sync(self) -> Dict[str, Any]:
        """Reconnect, probe the gateway, read both cadences, tell Jeedom (inventory, then every value) and
        return the inventory."""
        client = self.client()
        with _device_turn():  # the probe reads the per-device answers too
            client.connect()
            client.probe()
            found, error = self._read_now(CADENCES)
        if error is not None:
            self._set_error(error)
            self.publisher.status(self.status(), force=True)
            self.callback.flush(self.id)
            raise error
        self.publisher.synced(found)
        del found  # not kept while the flush waits for Jeedom (seconds, behind the other gateways)
        self._send_all = False
        self.cadences.clear()  # both cadences were just read
        self._set_error(None)
        self.publisher.status(self.status(), force=True)
        # Delivered before the socket answers, so PHP never gets values for equipment it is still creating.
        self.callback.flush(self.id)
        return dict(self.publisher.inventory(), type="inventory", gateway=self.id)

    def refresh(self) -> None:
        """Read both cadences now (the user asked for fresh values); sends what changed, like any cycle."""
        self.cycle(list(CADENCES))

    def execute(self, target: str, command_id: str, value: Any) -> None:
        """An action command of the catalog, then a read of what it changes."""
        kind = self.publisher.kind_of(target)
        command = catalog.find_command(kind, command_id) if kind else None
        if command is None or command.type != "action" or command.run is None:
            raise EnvoyError("refused", f"Unknown action {command_id!r} for equipment {target!r}.", "unknown_command")
        self.client()
        command.run(self, target, value)  # controls.py: writes, then reads the state back
        info = catalog.find_command(kind, command.value) if command.value else None
        self.cycle([info.cadence if info else command.cadence])

    # --- status ---

    def _gateway_facts(self) -> Tuple[Optional[str], Dict[str, Any]]:
        """The serial, and the gateway equipment's configuration, as the client knows them."""
        info = self.envoy.info if self.envoy is not None else None
        if info is None:
            return None, {}
        config = {"firmware": info.firmware, "part_number": info.part_number, "imeter": info.imeter,
                  "auth": self.envoy.auth_mode}
        return info.serial, {k: v for k, v in config.items() if v is not None}

    def _note_read(self, failed: bool) -> None:
        """One read more for the figures of the health page (requests per hour, failed reads of the day)."""
        now = self.clock()
        sent = getattr(self.envoy, "requests_sent", None)
        if isinstance(sent, int):
            self._requests_seen.append((now, sent))
            # Keep one sample an hour old or more as the base of the rate, and what came after it.
            while len(self._requests_seen) > 2 and now - self._requests_seen[1][0] >= REQUESTS_WINDOW_S:
                self._requests_seen.popleft()
        if failed:
            self._failed_at.append(now)
        while self._failed_at and now - self._failed_at[0] > ERRORS_WINDOW_S:
            self._failed_at.popleft()

    def requests_per_hour(self) -> Optional[int]:
        """HTTP requests to the gateway per hour, over the last hour (None before 2 minutes of reads)."""
        if len(self._requests_seen) < 2:
            return None
        (first_at, first), (last_at, last) = self._requests_seen[0], self._requests_seen[-1]
        if last_at - first_at < 120:
            return None
        return round((last - first) * 3600 / (last_at - first_at))

    def _set_error(self, error: Optional[EnvoyError]) -> None:
        self._note_read(failed=error is not None)
        if error is None:
            self._last_success = int(self.clock())
            if self._error is not None and self._error_logged:  # an error not logged again needs no news of its end
                log.info("Gateway %s answers again (%s is over)", self.id, self._error.code)
            self._error_logged = False
            self._error, self._failures = None, 0
        else:
            key, now = (error.code, error.message), self.clock()
            if (self._error is None or key != (self._error.code, self._error.message)) and self._may_say(error):
                # Once per distinct error, again only an hour later: a gateway that fails every other read says it
                # once. The gateway goes silent for minutes every night: no alarm for that.
                self._errors_said = {k: t for k, t in self._errors_said.items() if now - t < ERROR_SAID_AGAIN_S}
                self._errors_said[key] = now
                self._error_logged = True
                level = logging.INFO if error.code == "unreachable" else logging.WARNING
                log.log(level, "Gateway %s: %s (%s)", self.id, error.message, error.code)
                self.recent_errors.append({"at": int(now), "code": error.code, "message": error.message})
            self._error = error
            self._failures += 1
        self.cadences.answered(self._failures, error is not None and error.code == "unreachable")

    def _internal_error(self, exc: Exception, doing: str) -> EnvoyError:
        """The error status of something of ours that failed; its traceback logged as often as the error is."""
        error = EnvoyError("bad_response", f"Internal error while reading: {exc.__class__.__name__}")
        if self._may_say(error):
            log.exception("Gateway %s: %s failed", self.id, doing)
        return error

    def _may_say(self, error: EnvoyError) -> bool:
        """Whether this error was not logged within the last ERROR_SAID_AGAIN_S."""
        return self.clock() - self._errors_said.get((error.code, error.message), -ERROR_SAID_AGAIN_S) >= ERROR_SAID_AGAIN_S

    def status(self) -> Dict[str, Any]:
        client = self.envoy
        info = client.info if client is not None else None
        error = None if self._error is None else self._error.as_dict()
        return {"serial": info.serial if info else None,
                "reachable": self._error is None or self._error.code != "unreachable",
                "firmware": info.firmware if info else None,
                "auth": client.auth_mode if client is not None else None,
                "token_expires": client.token_expires if client is not None else None,
                "last_success": self._last_success, "error": error,
                "requests_per_hour": self.requests_per_hour(), "errors_24h": len(self._failed_at)}
