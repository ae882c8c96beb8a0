"""What Jeedom was told about one gateway: its values (each cycle sends only what changed), the equipment
it knows (the inventory memory, which survives restarts), and the gateway's status.

After a sync, a device or reading that shows up later is described to Jeedom on its own: the inventory
event then lists everything known, new and old. A gateway never synced announces nothing (Jeedom creates
equipment when the user asks for it). The status is sent when it changes, and at most every
STATUS_REFRESH_S when only its last success moved.
"""
import logging
import time
from typing import Any, Callable, Dict, Optional, Tuple

import catalog
from state_file import read_json, write_json
from view import Found

STATUS_REFRESH_S = 600
# Status fields that move with every read: sent along, never a reason to send (the status goes at least every
# STATUS_REFRESH_S anyway).
STATUS_FIGURES = ("last_success", "requests_per_hour", "errors_24h")

log = logging.getLogger("enphased.poller")

# The gateway's serial and its equipment's configuration (firmware, part number, auth), when an inventory
# is described.
GatewayFacts = Callable[[], Tuple[Optional[str], Dict[str, Any]]]


class Publisher:
    def __init__(self, gateway_id: str, callback, gateway: GatewayFacts, memory_path: Optional[str] = None,
                 clock: Callable[[], float] = time.time, detail: catalog.Detail = catalog.Detail()):
        self.id = gateway_id
        self.detail = detail  # which equipment get their detail commands (those remembered before it changed not)
        self.callback = callback
        self.gateway = gateway
        self.memory_path = memory_path
        self.clock = clock
        self.published: Dict[str, Dict[str, Any]] = {}  # what Jeedom has been handed, per equipment
        self._kinds: Dict[str, str] = {}  # equipment logicalId -> kind, from the last readings
        self._memory = self._load_memory()  # the equipment Jeedom was told about (None: never synced)
        self._status_key: Optional[Dict[str, Any]] = None
        self._status_sent_at = 0.0

    # --- values ---

    def values(self, found: Found, send_all: bool = False) -> None:
        """Hand Jeedom what changed since it was last told (everything with `send_all`)."""
        changed: Dict[str, Dict[str, Any]] = {}
        for eq_id, (eq, values) in found.items():
            self._kinds[eq_id] = eq.kind.kind
            before = self.published.setdefault(eq_id, {})
            if not send_all and values.items() <= before.items():
                continue  # each value as published (the 600 microinverters of a general cycle): at C speed
            diff = {cmd: v for cmd, v in values.items() if send_all or cmd not in before or before[cmd] != v}
            if diff:
                before.update(diff)
                changed[eq_id] = diff
        self._discover(found, changed)
        self.callback.values(self.id, changed)

    def synced(self, found: Found) -> None:
        """After a sync: Jeedom learns these equipment (the memory is replaced), then every value."""
        self._memory = self._remember(found)
        self._save_memory()
        self.callback.inventory(self.id, self.inventory())
        self.published = {}
        self.values(found, send_all=True)

    def kind_of(self, eq_id: str) -> Optional[str]:
        """The kind of an equipment of this gateway, from the last readings or else the inventory memory."""
        return self._kinds.get(eq_id) or (self._memory or {}).get(eq_id, {}).get("kind")

    # --- inventory ---

    def inventory(self) -> Dict[str, Any]:
        """The INVENTORY of the protocol, from what Jeedom was last told."""
        serial, configuration = self.gateway()
        described = []
        for eq_id, entry in (self._memory or {}).items():
            kind = catalog.KINDS.get(entry["kind"])
            if kind is None:
                continue
            published = {c.logical_id for c in kind.published(self.detail.wants(eq_id))}
            described.append(catalog.Described(kind, eq_id, entry["fr"], entry["en"],
                                               published.intersection(entry["commands"]),
                                               configuration if kind is catalog.GATEWAY else None))
        # How many equipment in all: Jeedom shows how far it got while the inventory arrives in several POSTs.
        return dict(catalog.describe_inventory(described), serial=serial, count=len(described))

    @staticmethod
    def _remember(found: Found) -> Dict[str, Any]:
        return {eq_id: {"kind": eq.kind.kind, "fr": eq.fr, "en": eq.en,
                        "commands": catalog.present_commands(eq.kind, values)}
                for eq_id, (eq, values) in found.items()}

    def _discover(self, found: Found, changed: Dict[str, Dict[str, Any]]) -> None:
        """Only an equipment Jeedom does not know or whose values changed can bring a command: every value of
        the others was published, and so remembered, in an earlier cycle (the 600 inverters of a general
        cycle). Nor can one whose values are all of commands the memory has for it (the 600 inverters of a
        devices cycle): the memory's commands come with those of their actions (catalog.present_commands)."""
        if self._memory is None:
            return  # never synced
        new = False
        candidates = {}
        for eq_id, (eq, values) in found.items():
            known = self._memory.get(eq_id)
            if known is None or (eq_id in changed and not values.keys() <= set(known["commands"])):
                candidates[eq_id] = (eq, values)
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

    def _load_memory(self) -> Optional[Dict[str, Any]]:
        if not self.memory_path:
            return None
        try:
            memory = read_json(self.memory_path)
        except (OSError, ValueError):
            return None
        return memory if isinstance(memory, dict) else None

    def _save_memory(self) -> None:
        if not self.memory_path:
            return
        try:
            write_json(self.memory_path, self._memory)
        except OSError as e:
            log.warning("Gateway %s: cannot save %s (%s)", self.id, self.memory_path, e.strerror)

    # --- status ---

    def status(self, status: Dict[str, Any], force: bool = False) -> None:
        key = {k: v for k, v in status.items() if k not in STATUS_FIGURES}  # plain values: == compares them
        key["rate_known"] = status.get("requests_per_hour") is not None  # the health page's first figure
        now = self.clock()
        if force or key != self._status_key or now - self._status_sent_at >= STATUS_REFRESH_S:
            self._status_key, self._status_sent_at = key, now
            self.callback.status(self.id, status)
