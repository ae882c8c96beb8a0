"""Daemon -> PHP: one ordered stream of bounded POSTs to the callback URL (docs/protocol.md, "callback").

Jeedom applies values slowly (tens of ms each on a loaded box, more on a Pi), so:
- one sender thread makes every POST of the daemon, all gateways together: never two at once;
- each POST carries a bounded amount of work (ITEMS_PER_POST values or described commands, whole equipment),
  the next one leaves when the previous one answered, the gateways taking turns between POSTs;
- each POST carries a deadline after which jeeEnphase.php applies nothing of it (and it applies one body at
  a time). The daemon waits for the answer until that deadline; a POST that failed in a way that leaves it
  maybe still under way (no answer, a connection dropped, a proxy's 502/504) holds the next one until its
  deadline has passed. Then it can apply nothing more, so what it carried is sent again, merged with anything
  newer, and can never be overtaken by it.

Nothing is queued as a list of bodies: what waits is, per gateway, the equipment of its latest inventory not
yet described, the latest value of each command and the latest status. So a value that changed twice is sent
once with its latest state, a POST that failed gives back only what nothing newer replaced, the buffer holds
at most one entry per command (MAX_PENDING_VALUES in all), and nothing that was not delivered is forgotten.
A gateway's values and status wait until its inventory is delivered: PHP creates equipment before their values.

An inventory describes each kind of equipment once (600 microinverters share one description), and so does the
stream: the first POST carrying a kind's equipment describes the kind, PHP keeps it for the POSTs after it. A
POST that failed describes again what it carried, and so does the one after PHP answers KINDS_ASKED (it lost what
it kept): then the POST is sent again at once, describing every kind of its equipment.
"""
import http.client
import json
import logging
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

MAX_PENDING_VALUES = 50000  # far above any real site (a few hundred devices x a dozen commands)
# A few seconds of Jeedom's work on a Raspberry Pi: a value costs it 25-35 ms on a loaded 2-core x86 box
# (issue 15), a described command about as much. An equipment is never split, so a POST may hold one more.
ITEMS_PER_POST = 50
TIMEOUT_S = 60  # a POST's deadline: far above what ITEMS_PER_POST take when all is well
ANSWER_MARGIN_S = 2  # past the deadline, for PHP to finish the event under way and answer
APIKEY_HEADER = "X-Enphase-Apikey"  # never in the URL: web server access logs keep URLs
KINDS_ASKED = 409  # PHP's answer to an inventory event whose kinds it does not know: nothing of it applied

log = logging.getLogger("enphased.callback")

Values = Dict[str, Dict[str, Any]]  # equipment logicalId -> command logicalId -> value


class _Gateway:
    """What waits for Jeedom for one gateway."""

    def __init__(self):
        self.inventory: Optional[Dict[str, Any]] = None  # the latest inventory, less its equipments and kinds
        self.kinds: Dict[str, Any] = {}  # its kinds' descriptions
        self.described: set = set()  # the kinds a POST described to PHP since this inventory (or a failure)
        self.equipments: List[Dict[str, Any]] = []  # those of it not yet delivered, in order
        self.inventory_generation = 0  # which inventory they belong to
        self.values: Values = {}
        self.status: Optional[Dict[str, Any]] = None

    def sendable(self) -> bool:
        return bool(self.equipments or self.values or self.status is not None)


class _Chunk:
    """One POST: its events, and what it took from each gateway (given back if it fails)."""

    def __init__(self):
        self.events: List[Dict[str, Any]] = []
        self.items = 0
        self.taken: Dict[str, Tuple[int, List[Dict[str, Any]], Values, Optional[Dict[str, Any]]]] = {}
        self.describes_all = True  # every kind of its equipment is described in it (PHP cannot ask for them)


class Callback:
    """Collects events; `flush()` asks for their delivery and waits for it. Thread-safe."""

    def __init__(self, url: str, apikey: str, timeout_s: float = TIMEOUT_S):
        # Straight to Jeedom on this box with http.client: no proxy from the environment, little to import.
        parts = urllib.parse.urlsplit(url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._apikey = apikey
        self._timeout_s = timeout_s
        self._changed = threading.Condition()  # guards everything below; notified on every change
        self._gateways: Dict[str, _Gateway] = {}  # in the order they first sent something: their turns
        self._turn = 0  # index in _gateways of the gateway that starts the next POST
        self._count = 0  # values waiting (not those in flight)
        self._in_flight: Optional[_Chunk] = None
        self._sender: Optional[threading.Thread] = None
        self._wanted = False  # a flush asked for delivery, and no POST failed since
        self._barrier = 0.0  # monotonic: no POST before the deadline of one that may still be applying passed
        self._failed_posts = 0  # a flush returns False when one fails meanwhile
        self._down_logged = False
        self._dropped_logged = False

    # --- what the workers hand over ---

    def _gateway(self, gateway: str) -> _Gateway:
        state = self._gateways.get(gateway)
        if state is None:
            state = self._gateways[gateway] = _Gateway()
        return state

    def inventory(self, gateway: str, inventory: Dict[str, Any]) -> None:
        """The newer inventory replaces what waits of an older one: it lists everything known."""
        with self._changed:
            state = self._gateway(gateway)
            state.inventory = {k: v for k, v in inventory.items() if k not in ("equipments", "kinds")}
            state.kinds = dict(inventory.get("kinds") or {})
            state.described = set()
            state.equipments = list(inventory.get("equipments") or ())
            state.inventory_generation += 1

    def values(self, gateway: str, values: Values) -> None:
        if not values:
            return
        with self._changed:
            dropped = self._add_values(self._gateway(gateway), values)
            if dropped and not self._dropped_logged:
                self._dropped_logged = True
                log.error("Callback buffer full (%d values): %d new values not kept", MAX_PENDING_VALUES, dropped)

    def status(self, gateway: str, status: Dict[str, Any]) -> None:
        with self._changed:
            self._gateway(gateway).status = status

    def _add_values(self, state: _Gateway, values: Values) -> int:
        """Merge, newer wins; returns how many did not fit."""
        dropped = 0
        for eq, commands in values.items():
            mine = state.values.get(eq)
            for cmd, value in commands.items():
                if mine is not None and cmd in mine:
                    mine[cmd] = value
                    continue
                if self._count >= MAX_PENDING_VALUES:
                    dropped += 1
                    continue
                self._count += 1
                if mine is None:
                    mine = state.values[eq] = {}
                mine[cmd] = value
        return dropped

    def pending_events(self) -> List[Dict[str, Any]]:
        """What waits (not what is in flight), as events: for tests and diagnostics."""
        with self._changed:
            out = []
            for kind in ("inventory", "values", "status"):
                for gw, state in self._gateways.items():
                    if kind == "inventory" and state.equipments:
                        out.append(dict(state.inventory, type="inventory", gateway=gw, kinds=state.kinds,
                                        equipments=list(state.equipments)))
                    elif kind == "values" and state.values:
                        out.append({"type": "values", "gateway": gw, "values": state.values})
                    elif kind == "status" and state.status is not None:
                        out.append(dict(state.status, type="status", gateway=gw))
            return out

    # --- delivery ---

    def flush(self, gateway: Optional[str] = None, timeout_s: Optional[float] = None) -> bool:
        """Ask for delivery of everything waiting, and wait until what waits for `gateway` (every gateway when
        None) is delivered: True; or until a POST fails or timeout_s passes: False (the sender goes on)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            if not self._undelivered(gateway):
                return True
            self._wanted = True
            if self._sender is None:
                self._sender = threading.Thread(target=self._send, name="callback", daemon=True)
                self._sender.start()
            self._changed.notify_all()
            failed = self._failed_posts
            while self._undelivered(gateway):
                left = None if deadline is None else deadline - time.monotonic()
                if self._failed_posts != failed or (left is not None and left <= 0):
                    return False
                self._changed.wait(left)
            return True

    def _undelivered(self, gateway: Optional[str]) -> bool:
        if gateway is None:
            return self._in_flight is not None or any(s.sendable() for s in self._gateways.values())
        state = self._gateways.get(gateway)
        return (state is not None and state.sendable()) or (
            self._in_flight is not None and gateway in self._in_flight.taken)

    def _send(self) -> None:
        """The sender thread: one POST at a time while something waits; ends when nothing does, or when a POST
        failed (the next flush, a gateway's next cycle, tries again)."""
        while True:
            with self._changed:
                if not self._wanted or not any(s.sendable() for s in self._gateways.values()):
                    self._wanted = False
                    self._sender = None
                    self._changed.notify_all()
                    return
                wait_s = self._barrier - time.monotonic()
            if wait_s > 0:
                time.sleep(wait_s)
            with self._changed:
                chunk = self._in_flight = self._take_chunk()
            after_deadline = time.monotonic() + self._timeout_s + ANSWER_MARGIN_S
            error, maybe_applying = self._post(chunk)
            with self._changed:
                self._in_flight = None
                if error == f"HTTP {KINDS_ASKED}" and not chunk.describes_all:
                    # PHP lost the kinds it kept (nothing of that event applied): described again, sent at once.
                    log.info("Jeedom asks for the equipment kinds again: the next POST describes them")
                    self._give_back(chunk)
                    self._changed.notify_all()
                    continue
                if error is not None:
                    self._give_back(chunk)
                    self._failed_posts += 1
                    self._wanted = False
                    if maybe_applying:  # the next POST must not overtake it
                        self._barrier = after_deadline
                self._log_outcome(error)
                self._changed.notify_all()

    def _take_chunk(self) -> _Chunk:
        """The next POST: the gateways take turns starting it, each giving its inventory's next equipment, then
        (its inventory delivered) values, then status, whole equipment at a time, until ITEMS_PER_POST."""
        chunk = _Chunk()
        names = list(self._gateways)
        first = None
        for i in range(len(names)):
            index = (self._turn + i) % len(names)
            gw, state = names[index], self._gateways[names[index]]
            if not state.sendable():
                continue
            if first is None:
                first = index
            self._take_from(gw, state, chunk)
            if chunk.items >= ITEMS_PER_POST:
                break
        self._turn = (first + 1) % len(names) if first is not None else 0
        return chunk

    def _take_from(self, gw: str, state: _Gateway, chunk: _Chunk) -> None:
        room = lambda: chunk.items < ITEMS_PER_POST or chunk.items == 0  # noqa: E731 (one equipment at least)
        equipments: List[Dict[str, Any]] = []
        kinds = state.kinds
        while state.equipments and room():
            equipment = state.equipments.pop(0)
            equipments.append(equipment)
            # Its commands: those it names, else every one described for its kind (docs/protocol.md).
            commands = equipment.get("commands")
            if commands is None:
                commands = (kinds.get(equipment.get("kind")) or {}).get("commands")
            chunk.items += max(1, len(commands or ()))
        values: Values = {}
        status = None
        if not state.equipments:  # values only for equipment Jeedom has been told about
            while state.values and room():
                eq = next(iter(state.values))
                commands = values[eq] = state.values.pop(eq)
                self._count -= len(commands)
                chunk.items += len(commands)
            if not state.values:
                status, state.status = state.status, None
        if equipments:
            event = dict(state.inventory, type="inventory", gateway=gw, equipments=equipments)
            used = [k for k in dict.fromkeys(e.get("kind") for e in equipments) if k in kinds]
            new = [k for k in used if k not in state.described]
            if new:  # a kind is described once per inventory: PHP keeps it for the POSTs after
                event["kinds"] = {k: kinds[k] for k in new}
                state.described.update(new)
            chunk.describes_all = chunk.describes_all and len(new) == len(used)
            chunk.events.append(event)
        if values:
            chunk.events.append({"type": "values", "gateway": gw, "values": values})
        if status is not None:
            chunk.events.append(dict(status, type="status", gateway=gw))
        chunk.taken[gw] = (state.inventory_generation, equipments, values, status)

    def _give_back(self, chunk: _Chunk) -> None:
        """A POST that failed may have been applied in part: what it carried waits again, first in line, unless
        something newer replaced it (a newer inventory, value or status). A POST holds at most a chunk, so
        giving it back may pass MAX_PENDING_VALUES by that much, never more."""
        for gw, (generation, equipments, values, status) in chunk.taken.items():
            state = self._gateways[gw]
            if equipments and generation == state.inventory_generation:
                state.equipments[:0] = equipments
                state.described = set()  # what PHP kept of them is unknown: described again
            merged: Values = {eq: dict(commands) for eq, commands in values.items()}
            for eq, commands in state.values.items():
                merged.setdefault(eq, {}).update(commands)
            self._count += sum(map(len, merged.values())) - sum(map(len, state.values.values()))
            state.values = merged
            if status is not None and state.status is None:
                state.status = status

    def _log_outcome(self, error: Optional[str]) -> None:
        if error is None:
            if self._down_logged:
                log.info("Jeedom answers again: waiting events are being delivered")
            self._down_logged = self._dropped_logged = False
        elif not self._down_logged:
            self._down_logged = True
            log.warning("Jeedom does not take events (%s): keeping the latest values until it does", error)

    def _post(self, chunk: _Chunk) -> Tuple[Optional[str], bool]:
        """(None when Jeedom took it, else why not in a few words (never the apikey); whether Jeedom may still
        be applying it: no answer from PHP, but a connection that was not refused, or a proxy's 502 / 504)."""
        deadline = time.time() + self._timeout_s
        data = json.dumps({"deadline": round(deadline, 3), "events": chunk.events},
                          separators=(",", ":")).encode("utf-8")
        timeout_s = self._timeout_s + ANSWER_MARGIN_S
        if self._https:
            import ssl  # Jeedom's own certificate is seldom valid for 127.0.0.1; it is this very box

            connection = http.client.HTTPSConnection(self._netloc, timeout=timeout_s,
                                                     context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection(self._netloc, timeout=timeout_s)
        try:
            connection.request("POST", self._target, body=data,
                               headers={"Content-Type": "application/json", APIKEY_HEADER: self._apikey})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as e:
            return e.__class__.__name__, not isinstance(e, ConnectionRefusedError)
        finally:
            connection.close()
        if 200 <= response.status < 300:
            return None, False
        return f"HTTP {response.status}", response.status in (502, 504)
