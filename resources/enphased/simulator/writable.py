"""A recorded gateway whose controls work: writes change an overlay of its recorded answers.

`WritableRecorded(folder)` answers GET like `RecordedGateway` until a control changes something; from then
on the endpoints that show that state answer the changed JSON, so a reader sees its write come back as a
real gateway would show it. Only what a device of the recording allows is accepted (no Enpower, no grid
relay; no generator, no generator mode), with the firmware's own refusals:
- a dry contact settings object that is not whole is refused (400), as it can crash a real gateway;
- from firmware 8.2.4225 a new battery profile or reserve is accepted (200) and ignored.
Installer-only paths are refused by the server's auth (server.GatewayAuth.installer_paths), not here.
"""
import copy
import json
import re
import threading
from typing import Any, Dict, Optional, Tuple

from simulator.recorded import RecordedGateway, Response
# The simulator's own copy of these facts (see synthetic.py), not the reader's: it plays the gateway.
from simulator.synthetic import GATEWAY_EID, TARIFF_WRITE_IGNORED_FROM

_POWER = f"/ivp/mod/{GATEWAY_EID}/mode/power"  # production on/off of the whole site


def _json(status: int, data: Any) -> Response:
    return Response(status, json.dumps(data).encode(), "application/json")


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


class WritableRecorded:
    def __init__(self, folder):
        self.recorded = RecordedGateway(folder)
        self.overlay: Dict[str, Any] = {}  # path -> JSON answered instead of the recording
        self.writes = []  # (method, path, decoded body): what readers sent, for tests
        self._lock = threading.Lock()
        software = re.search(rb"<software>\s*[A-Za-z]*([\d.]+)", self.recorded.info_xml())
        self.firmware: Tuple[int, ...] = tuple(int(p) for p in software.group(1).decode().split(".") if p) \
            if software else ()
        if self.firmware >= (7,):
            # Every gateway from firmware 7 has the installer's production switch; recordings (made with an
            # owner's token) could not capture it.
            self.overlay[_POWER] = {"powerForcedOff": False}

    @property
    def name(self) -> str:
        return self.recorded.name

    def info_xml(self) -> bytes:
        return self.recorded.info_xml()

    def response(self, path: str) -> Response:
        with self._lock:
            if path in self.overlay:
                return _json(200, self.overlay[path])
        return self.recorded.response(path)

    def recorded_json(self, path: str) -> Optional[Any]:
        """What the recording holds at `path` (decoded), whatever was written since."""
        answer = self.recorded.response(path)
        try:
            return json.loads(answer.body) if answer.status == 200 else None
        except ValueError:
            return None

    def _current(self, path: str) -> Optional[Any]:
        """The JSON the gateway shows now at `path`, None when it has no readable answer there."""
        if path in self.overlay:
            return copy.deepcopy(self.overlay[path])
        answer = self.recorded.response(path)
        if answer.status != 200:
            return None
        try:
            return json.loads(answer.body)
        except ValueError:
            return None

    def handle_write(self, method: str, path: str, body: bytes) -> Response:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "invalid JSON")
        with self._lock:
            self.writes.append((method.upper(), path, data))
            if not isinstance(data, dict):
                return _error(400, "a JSON object is expected")
            handler = _ROUTES.get((method.upper(), path.split("?")[0].rstrip("/")))
            return handler(self, data) if handler else Response(404, b"", "text/html")

    # --- controls

    def _enpower(self, inventory) -> Optional[dict]:
        for group in inventory or []:
            if isinstance(group, dict) and group.get("type") == "ENPOWER" and group.get("devices"):
                return group["devices"][0]
        return None

    def _relay(self, data: dict) -> Response:
        inventory = self._current("/ivp/ensemble/inventory")
        enpower = self._enpower(inventory)
        if enpower is None:
            return _error(404, "no IQ System Controller")
        state = data.get("mains_admin_state")
        if state not in ("open", "closed"):
            return _error(400, "mains_admin_state must be open or closed")
        mode = "multimode-ongrid" if state == "closed" else "multimode-offgrid"
        enpower.update(mains_admin_state=state, mains_oper_state=state, Enpwr_grid_mode=mode,
                       admin_state_str="ENPWR_STATE_OPER_CLOSED" if state == "closed" else "ENPWR_STATE_OPER_OPEN")
        self.overlay["/ivp/ensemble/inventory"] = inventory
        relay = {"mains_admin_state": state, "mains_oper_state": state, "Enchg_grid_mode": mode, "Solar_grid_mode": mode}
        self.overlay["/ivp/ensemble/relay"] = relay
        return _json(200, relay)

    def _dry_contact(self, data: dict) -> Response:
        status = self._current("/ivp/ensemble/dry_contacts")
        wanted = data.get("dry_contacts")
        contacts = (status or {}).get("dry_contacts") or []
        contact = next((c for c in contacts if isinstance(wanted, dict) and c.get("id") == wanted.get("id")), None)
        if contact is None or wanted.get("status") not in ("open", "closed"):
            return _error(400, "unknown dry contact or status")
        contact["status"] = wanted["status"]
        self.overlay["/ivp/ensemble/dry_contacts"] = status
        return _json(200, status)

    def _dry_contact_settings(self, data: dict) -> Response:
        settings = self._current("/ivp/ss/dry_contact_settings")
        new = data.get("dry_contacts")
        contacts = (settings or {}).get("dry_contacts") or []
        current = next((c for c in contacts if isinstance(new, dict) and c.get("id") == new.get("id")), None)
        if current is None or set(new) != set(current):
            # What crashes a real gateway: refused here so tests see a partial object at once.
            return _error(400, "the whole dry contact settings object is required")
        current.update(new)
        self.overlay["/ivp/ss/dry_contact_settings"] = settings
        return _json(200, settings)

    def _gen_mode(self, data: dict) -> Response:
        generator = self._current("/ivp/ensemble/generator") or {}
        if not generator.get("present"):
            return _error(404, "no generator")
        if data.get("gen_cmd") not in ("off", "on", "auto"):
            return _error(400, "gen_cmd must be off, on or auto")
        mode = dict(self._current("/ivp/ss/gen_mode") or {}, gen_cmd=data["gen_cmd"], last_updated_by="local")
        self.overlay["/ivp/ss/gen_mode"] = mode
        return _json(200, mode)

    def _production(self, data: dict) -> Response:
        arr = data.get("arr")
        if _POWER not in self.overlay:
            return Response(404, b"", "text/html")
        if not isinstance(arr, list) or len(arr) != 1 or arr[0] not in (0, 1):
            return _error(400, "arr must be [0] or [1]")
        self.overlay[_POWER] = {"powerForcedOff": arr[0] == 1}
        return _json(200, self.overlay[_POWER])

    def _tariff(self, data: dict) -> Response:
        tariff = self._current("/admin/lib/tariff")
        stored = ((tariff or {}).get("tariff") or {}).get("storage_settings")
        if not isinstance(stored, dict):
            return _error(404, "no tariff")
        new = ((data.get("tariff") or {}).get("storage_settings")) if isinstance(data.get("tariff"), dict) else None
        if not isinstance(new, dict):
            return _error(400, "tariff.storage_settings is required")
        if self.firmware < TARIFF_WRITE_IGNORED_FROM:
            for key in ("mode", "reserved_soc", "charge_from_grid"):
                if key in new:
                    stored[key] = new[key]
            self.overlay["/admin/lib/tariff"] = tariff
        return _json(200, tariff)  # accepted either way; ignored from 8.2.4225 (only the cloud changes it)


_ROUTES = {
    ("POST", "/ivp/ensemble/relay"): WritableRecorded._relay,
    ("POST", "/ivp/ensemble/dry_contacts"): WritableRecorded._dry_contact,
    ("POST", "/ivp/ss/dry_contact_settings"): WritableRecorded._dry_contact_settings,
    ("POST", "/ivp/ss/gen_mode"): WritableRecorded._gen_mode,
    ("PUT", _POWER): WritableRecorded._production,
    ("PUT", "/admin/lib/tariff"): WritableRecorded._tariff,
}
