"""The daemon's core: the configured gateways (one poller each) and the socket actions.

`Daemon.handle(message)` is what the socket listener calls for every accepted message; it never talks to
a gateway itself but hands the work to that gateway's worker and waits for it, so one slow gateway never
holds the socket or the other gateways. Tests and the benchmark run this core in-process; Jeedom runs it
through `enphased.py`.
"""
import glob
import hashlib
import logging
import os
import re
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from cadence import DEFAULT_S, cadence_s
from catalog import Detail
from counters import Counters
from demo import DEMO_HOST, DEMO_HOUR, demo_gateway, stop_demo_gateways
from envoy.errors import EnvoyError
from jeedom import timeouts
from poller import GatewayClient, GatewayPoller

# Shared with PHP, which waits longer for the answer (jeedom/timeouts.json).
SYNC_WAIT_S = timeouts.daemon_s("sync")  # probing a slow firmware plus a first full read
EXECUTE_WAIT_S = timeouts.daemon_s("execute")  # a write queued behind a cycle, then read back
DIAGNOSTICS_WAIT_S = timeouts.daemon_s("diagnostics")  # every endpoint of a slow firmware, one at a time
DIAGNOSTICS_KEPT_S = 86400  # reports PHP did not take away (download interrupted) are removed after a day

log = logging.getLogger("enphased")


class GatewayConfig(NamedTuple):
    id: str
    host: str
    general_s: float
    devices_s: float
    paused: bool
    credentials: Tuple[Tuple[str, Any], ...]  # what the Envoy client needs, secrets included
    detail: Detail = Detail()  # which of its equipment get their detail commands
    demo_hour: Optional[float] = DEMO_HOUR  # host "demo": the local time it plays at start; None: the real time

    def __repr__(self) -> str:  # never a secret in a log line
        return f"GatewayConfig(id={self.id!r}, host={self.host!r})"


def parse_gateways(message: Dict[str, Any]) -> Tuple[List[GatewayConfig], Dict[str, str]]:
    """The GATEWAY objects of a configure message (unknown or empty fields are ignored), and per gateway id
    the sentence that refuses its configuration (a cadence that cannot be one). Raises ValueError for a
    message whose default cadences cannot be."""
    general = cadence_s(message.get("general_s"), DEFAULT_S["general"], "general_s")
    devices = cadence_s(message.get("devices_s"), DEFAULT_S["devices"], "devices_s")
    out, refused = [], {}
    for raw in message.get("gateways") or []:
        if not isinstance(raw, dict) or not str(raw.get("host") or "").strip():
            continue
        gid = str(raw.get("id") or "default")
        credentials = tuple(sorted(
            (key, raw[key]) for key in ("username", "enlighten_password", "serial", "token", "password")
            if isinstance(raw.get(key), str) and raw[key].strip()
        )) + (("installer", bool(raw.get("installer"))),)
        try:
            cadences = (cadence_s(raw.get("general_s"), general, "general_s"),
                        cadence_s(raw.get("devices_s"), devices, "devices_s"))
        except ValueError as e:
            refused[gid] = f"Gateway {gid[:40]}: {e}"
            continue
        out.append(GatewayConfig(gid, str(raw["host"]).strip(), *cadences, bool(raw.get("paused")), credentials,
                                 _detail(raw.get("detail")), _demo_hour(raw.get("demo_hour"))))
    return out, refused


def _detail(raw) -> Detail:
    """A GATEWAY's "detail": {"default": bool, "on": [equipment logicalId...], "off": [...]}; absent: none."""
    if not isinstance(raw, dict):
        return Detail()

    def ids(key):
        listed = raw.get(key)
        return frozenset(str(i) for i in listed if isinstance(i, (str, int))) if isinstance(listed, list) else frozenset()
    return Detail(raw.get("default") is True, ids("on"), ids("off"))


def _demo_hour(value: Any) -> Optional[float]:
    """GATEWAY's demo_hour: a number of hours 0 to 24 (kept), "now" (the real time, None); anything else, or
    nothing, is DEMO_HOUR."""
    if value == "now":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 24:
        return float(value)
    return DEMO_HOUR


def _file_id(gateway_id: str) -> str:
    """A gateway id fit for a file name."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", gateway_id):
        return gateway_id
    return hashlib.sha256(gateway_id.encode("utf-8")).hexdigest()[:16]


# What the daemon keeps of each gateway in its datadir: its fetched token, the equipment Jeedom was told about,
# its energy counters.
STATE_FILES = ("token", "inventory", "counters")
FORGET_WAIT_S = 300  # a removed gateway's worker may be in a slow request: its files go once it has ended


def state_path(datadir: str, what: str, gateway_id: str) -> str:
    """The file of a gateway's `what` (one of STATE_FILES) in datadir."""
    return os.path.join(datadir, f"{what}-{_file_id(gateway_id)}.json")


def make_envoy(config: GatewayConfig, datadir: Optional[str]) -> GatewayClient:
    """The Envoy client of a configured gateway, its fetched tokens kept under datadir (0600)."""
    from envoy.token_store import FileTokenStore
    from envoy.client import Credentials, Envoy

    if config.host == DEMO_HOST:
        url, token = demo_gateway(config.id, config.demo_hour)
        return Envoy(url, Credentials(token=token), store=None)
    store = FileTokenStore(state_path(datadir, "token", config.id)) if datadir else None
    return Envoy(config.host, Credentials(**dict(config.credentials)), store=store)


def _error(code: str, message: str) -> Dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


class Daemon:
    def __init__(self, callback, datadir: Optional[str] = None,
                 envoy_factory: Callable[[GatewayConfig, Optional[str]], GatewayClient] = make_envoy):
        self.callback = callback
        self.datadir = datadir
        self.envoy_factory = envoy_factory
        self.pollers: Dict[str, GatewayPoller] = {}
        self._configs: Dict[str, GatewayConfig] = {}
        self._lock = threading.Lock()  # guards pollers/configs against two configure messages at once
        self.stopped = threading.Event()
        self._stopping = False
        # The socket's actions (docs/protocol.md): those on gateways get the pollers the message names.
        self._actions: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
            "configure": self.configure,
            "stop": self._stop_soon,
        }
        on_gateways: Dict[str, Callable[[List[GatewayPoller], Dict[str, Any]], Dict[str, Any]]] = {
            "sync": self._sync,
            "refresh": self._refresh,
            "execute": self._execute,
            "pause": self._pause,
            "resume": self._resume,
            "diagnostics": self._diagnostics,
        }
        for name, action in on_gateways.items():
            self._actions[name] = self._on_gateways(action)

    # --- socket actions ---

    def handle(self, message: Dict[str, Any]) -> Dict[str, Any]:
        action = message.get("action")
        log.debug("Socket action %s", action)
        run = self._actions.get(action) if isinstance(action, str) else None
        if run is None:
            return _error("bad_request", f"Unknown action {str(action)[:40]!r}.")
        return run(message)

    def _on_gateways(self, action):
        def run(message: Dict[str, Any]) -> Dict[str, Any]:
            pollers = self._targets(message.get("gateway"))
            if pollers is None:
                return _error("unknown_gateway", f"No configured gateway {message.get('gateway')!r}.")
            return action(pollers, message)
        return run

    def _targets(self, gateway) -> Optional[List[GatewayPoller]]:
        with self._lock:
            if gateway is None or gateway == "":
                return list(self.pollers.values())
            poller = self.pollers.get(str(gateway))
            if poller is None:  # PHP may name a gateway by its serial once it knows it
                poller = next((p for p in self.pollers.values() if p.serial == str(gateway)), None)
            return None if poller is None else [poller]

    def configure(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """Start a worker per new or changed gateway, keep those unchanged, drop those gone. A gateway whose
        configuration is refused keeps running as it was (or does not start); the answer says why."""
        try:
            configs, refused = parse_gateways(message)
        except ValueError as e:
            return _error("bad_request", str(e))
        configs = {c.id: c for c in configs}
        forget = {str(g) for g in message.get("forget") or () if isinstance(g, (str, int)) and str(g) not in configs}
        stopped: Dict[str, GatewayPoller] = {}
        with self._lock:
            for gid in list(self.pollers):
                if gid not in refused and configs.get(gid) != self._configs.get(gid):
                    log.info("Gateway %s: %s", gid, "reconfigured" if gid in configs else "removed")
                    stopped[gid] = self.pollers.pop(gid)
                    stopped[gid].stop(wait_s=0)
                    del self._configs[gid]
            for gid, config in configs.items():
                if gid not in self.pollers:
                    self.pollers[gid] = self._start(config)
                    self._configs[gid] = config
            running = dict(self._configs)
        stop_demo_gateways(keep=[gid for gid, c in running.items() if c.host == DEMO_HOST])
        for gid in sorted(forget):
            self._forget(gid, stopped.get(gid))
        if refused:
            for message_text in refused.values():
                log.warning("%s", message_text)
            return dict(_error("bad_request", " ".join(refused.values())), gateways=sorted(running))
        return {"ok": True, "gateways": sorted(running)}

    def _start(self, config: GatewayConfig) -> GatewayPoller:
        log.info("Gateway %s: polling %s every %g s (devices every %g s)%s", config.id, config.host,
                 config.general_s, config.devices_s, ", paused" if config.paused else "")
        memory = state_path(self.datadir, "inventory", config.id) if self.datadir else None
        # Days start at local midnight: PHP starts the daemon in Jeedom's time zone (TZ).
        counters = state_path(self.datadir, "counters", config.id) if self.datadir else None
        # The client is built in the worker, on first use: building it may start the demo gateway.
        return GatewayPoller(config.id, None, self.callback, make_client=lambda: self.envoy_factory(config, self.datadir),
                             general_s=config.general_s, devices_s=config.devices_s, memory_path=memory,
                             paused=config.paused, counters=Counters(counters), detail=config.detail).start()

    def _forget(self, gateway_id: str, worker: Optional[GatewayPoller]) -> None:
        """A gateway removed from Jeedom (configure's `forget`): its files go, once its worker (stopping) has ended
        so that it writes none of them again."""
        if not self.datadir:
            return
        datadir = self.datadir

        def remove() -> None:
            if worker is not None:
                worker.stop(wait_s=FORGET_WAIT_S)
            for what in STATE_FILES:
                path = state_path(datadir, what, gateway_id)
                # With what state_file.py may have left beside it (a write cut short).
                leftovers = glob.glob(os.path.join(datadir, "." + glob.escape(os.path.basename(path)) + ".*.tmp"))
                for name in [path] + leftovers:
                    try:
                        os.remove(name)
                    except FileNotFoundError:
                        pass
                    except OSError as e:
                        log.warning("Gateway %s: cannot remove %s (%s)", gateway_id, name, e.strerror)
            log.info("Gateway %s: removed from Jeedom, its token, inventory and counters are removed", gateway_id)

        threading.Thread(target=remove, name=f"forget-{_file_id(gateway_id)}", daemon=True).start()

    def _stop_soon(self, message: Dict[str, Any]) -> Dict[str, Any]:
        threading.Thread(target=self.stop, name="stop", daemon=True).start()
        return {"ok": True}

    @staticmethod
    def _outcomes(futures, wait_s: float) -> List[Tuple[Any, Any, Optional[Dict[str, str]]]]:
        """(poller, result, error) per future. The workers run side by side: all share one deadline, so a
        silent gateway costs wait_s once, not once per gateway."""
        deadline = time.monotonic() + wait_s
        outcomes = []
        for poller, future in futures:
            try:
                outcomes.append((poller, future.result(timeout=max(0.0, deadline - time.monotonic())), None))
            except FutureTimeout:
                outcomes.append((poller, None, {"code": "timeout", "message": (
                    f"Gateway {poller.id} did not finish in {wait_s} s; it goes on in the background and its "
                    "results will follow.")}))
            except EnvoyError as e:
                outcomes.append((poller, None, e.as_dict()))
        return outcomes

    def _sync(self, pollers, message) -> Dict[str, Any]:
        outcomes = self._outcomes([(p, p.submit(p.sync)) for p in pollers], SYNC_WAIT_S)
        failed = [(p, error) for p, _, error in outcomes if error is not None]
        if len(failed) == len(outcomes) and failed:
            # One gateway asked for (or none answered): its error, as for any action.
            return {"ok": False, "error": failed[0][1]}
        # Several gateways: those that answered are synced; the others say why beside them.
        answer = {"ok": True, "inventory": [result for _, result, error in outcomes if error is None]}
        if failed:
            answer["errors"] = [dict(error, gateway=p.id) for p, error in failed]
        return answer

    def _refresh(self, pollers, message) -> Dict[str, Any]:
        for poller in pollers:
            poller.request_refresh()  # at most one waiting per gateway
        return {"ok": True}

    def _execute(self, pollers, message) -> Dict[str, Any]:
        if len(pollers) != 1:
            return _error("bad_request", "execute needs one gateway.")
        poller = pollers[0]
        target, command = str(message.get("target") or ""), str(message.get("command") or "")
        future = poller.submit(lambda: poller.execute(target, command, message.get("value")))
        error = self._outcomes([(poller, future)], EXECUTE_WAIT_S)[0][2]
        return {"ok": True} if error is None else {"ok": False, "error": error}

    def _diagnostics(self, pollers, message) -> Dict[str, Any]:
        """The diagnostics report of one gateway, written by its worker through its live connection."""
        import diagnostics
        import tempfile

        if len(pollers) != 1:
            return _error("bad_request", "diagnostics needs one gateway.")
        poller = pollers[0]
        folder = os.path.join(self.datadir or tempfile.gettempdir(), "diagnostics")
        _remove_old_reports(folder)

        def work() -> str:
            daemon_status = dict(poller.status(), id=poller.id, paused=poller.paused, cycles=poller.cycles,
                                 recent_errors=list(poller.recent_errors))
            return diagnostics.write_archive(poller.client(), folder, daemon_status=daemon_status,
                                             key=diagnostics.persistent_key(self.datadir))

        poller, path, error = self._outcomes([(poller, poller.submit(work))], DIAGNOSTICS_WAIT_S)[0]
        return {"ok": True, "file": path} if error is None else {"ok": False, "error": error}

    def _pause(self, pollers, message) -> Dict[str, Any]:
        for poller in pollers:
            poller.paused = True
        return {"ok": True}

    def _resume(self, pollers, message) -> Dict[str, Any]:
        for poller in pollers:
            poller.paused = False
        return {"ok": True}

    # --- life ---

    def stop(self) -> None:
        """Stop every worker and deliver what waits for Jeedom, once, briefly."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            pollers, self.pollers = list(self.pollers.values()), {}
        for poller in pollers:
            poller.stop(wait_s=0)
        for poller in pollers:
            poller.stop(wait_s=2)
        self.callback.flush(timeout_s=3)
        stop_demo_gateways()
        self.stopped.set()


def _remove_old_reports(folder: str) -> None:
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if name.endswith((".zip", ".tmp")) and time.time() - os.path.getmtime(path) > DIAGNOSTICS_KEPT_S:
                os.remove(path)
        except OSError:
            pass
