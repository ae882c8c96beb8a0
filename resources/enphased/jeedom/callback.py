"""Daemon -> PHP: events POSTed as one JSON body to the callback URL, with a bounded wait buffer.

Nothing is queued as a list: what waits is, per gateway, the latest inventory, the latest value of each
command and the latest status. So while Jeedom is down the buffer holds at most one entry per command
(and MAX_PENDING_VALUES in all), a value that changed twice is sent once with its latest state, and
nothing that was not delivered is forgotten.
"""
import http.client
import json
import logging
import threading
import urllib.parse
from typing import Any, Dict, List, Optional

MAX_PENDING_VALUES = 50000  # far above any real site (a few hundred devices x a dozen commands)
TIMEOUT_S = 15

log = logging.getLogger("enphased.callback")


class _Pending:
    def __init__(self):
        self.inventory: Dict[str, Dict[str, Any]] = {}
        self.values: Dict[str, Dict[str, Dict[str, Any]]] = {}
        self.status: Dict[str, Dict[str, Any]] = {}
        self.count = 0

    def add_values(self, gateway: str, values: Dict[str, Dict[str, Any]]) -> int:
        """Merge; returns how many values did not fit."""
        dropped = 0
        mine = self.values.setdefault(gateway, {})
        for eq, commands in values.items():
            for cmd, value in commands.items():
                if cmd not in mine.get(eq, ()):
                    if self.count >= MAX_PENDING_VALUES:
                        dropped += 1
                        continue
                    self.count += 1
                mine.setdefault(eq, {})[cmd] = value
        return dropped

    def overlay(self, newer: "_Pending") -> None:
        """Lay what arrived during a failed POST over what that POST carried: newer wins."""
        self.inventory.update(newer.inventory)
        self.status.update(newer.status)
        for gateway, eqs in newer.values.items():
            self.add_values(gateway, eqs)

    def events(self) -> List[Dict[str, Any]]:
        # Inventories first: PHP creates the equipment before it gets their values.
        out = [dict(inv, type="inventory", gateway=gw) for gw, inv in self.inventory.items()]
        out += [{"type": "values", "gateway": gw, "values": eqs} for gw, eqs in self.values.items() if eqs]
        out += [dict(st, type="status", gateway=gw) for gw, st in self.status.items()]
        return out


class Callback:
    """Collects events and delivers them with `flush()`; thread-safe, one POST at a time."""

    def __init__(self, url: str, apikey: str, timeout_s: float = TIMEOUT_S):
        # Straight to Jeedom on this box with http.client: no proxy from the environment, little to import.
        parts = urllib.parse.urlsplit(url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        query = (parts.query + "&" if parts.query else "") + urllib.parse.urlencode({"apikey": apikey})
        self._target = f"{parts.path or '/'}?{query}"
        self._timeout_s = timeout_s
        self._pending = _Pending()
        self._lock = threading.Lock()  # guards _pending
        self._sending = threading.Lock()  # keeps POSTs in order
        self._down_since_logged = False
        self._dropped_logged = False

    def inventory(self, gateway: str, inventory: Dict[str, Any]) -> None:
        with self._lock:
            self._pending.inventory[gateway] = inventory

    def values(self, gateway: str, values: Dict[str, Dict[str, Any]]) -> None:
        if not values:
            return
        with self._lock:
            dropped = self._pending.add_values(gateway, values)
        if dropped and not self._dropped_logged:
            self._dropped_logged = True
            log.error("Callback buffer full (%d values): %d new values not kept", MAX_PENDING_VALUES, dropped)

    def status(self, gateway: str, status: Dict[str, Any]) -> None:
        with self._lock:
            self._pending.status[gateway] = status

    def pending_events(self) -> List[Dict[str, Any]]:
        with self._lock:
            return self._pending.events()

    def flush(self, timeout_s: Optional[float] = None) -> bool:
        """POST everything pending as one body. True when delivered (or nothing to send)."""
        with self._sending:
            with self._lock:
                sending, self._pending = self._pending, _Pending()
            events = sending.events()
            if not events:
                return True
            error = self._post({"events": events}, timeout_s or self._timeout_s)
            if error is None:
                if self._down_since_logged:
                    log.info("Jeedom answers again: waiting events delivered")
                self._down_since_logged = self._dropped_logged = False
                return True
            with self._lock:
                sending.overlay(self._pending)
                self._pending = sending
            if not self._down_since_logged:
                self._down_since_logged = True
                log.warning("Jeedom does not take events (%s): keeping the latest values until it does", error)
            return False

    def _post(self, body: Dict[str, Any], timeout_s: float) -> Optional[str]:
        """None when Jeedom took it, else why not in a few words (never the URL: it holds the apikey)."""
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        if self._https:
            import ssl  # Jeedom's own certificate is seldom valid for 127.0.0.1; it is this very box

            connection = http.client.HTTPSConnection(self._netloc, timeout=timeout_s,
                                                     context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection(self._netloc, timeout=timeout_s)
        try:
            connection.request("POST", self._target, body=data, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as e:
            return e.__class__.__name__
        finally:
            connection.close()
        return None if 200 <= response.status < 300 else f"HTTP {response.status}"
