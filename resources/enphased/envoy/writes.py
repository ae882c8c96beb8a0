"""The gateway's writes, each confirmed by reading the state back. Mixed into `Envoy` (client.py).

Each write first checks what the gateway needs (the device it acts on, installer rights, a firmware that
applies it) and raises EnvoyError("refused", sentence) before sending anything. After the write it reads
the endpoint that shows the state, at once and after each of READ_BACK_PAUSES_S: a gateway that accepted
the write but keeps showing the old state has refused it too. The read-back goes through the parsers, so a
state is read one way whether a cycle or a write reads it. The values themselves (a mode among
endpoints.STORAGE_MODES, a percentage) are checked by the caller (controls.py) before it calls.

Settings objects are always sent back whole, as last read: a partial dry contact settings object can crash
the gateway, and a partial tariff loses the rest of the user's tariff.

The class it is mixed into gives `get_json`, `post_json`, `put_json`, `info`, `auth_mode`, `plan` and
`probe()`.
"""
import copy
import time
from typing import Any, Callable, Dict, Optional

from . import parse, parse_ensemble
from .endpoints import (
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    GEN_MODE,
    PLC_LEVELS,
    PRODUCTION_POWER,
    PRODUCTION_POWER_FROM,
    RELAY,
    STORAGE_MODE_OLD_NAMES,
    TARIFF,
    TARIFF_WRITES_IGNORED_FROM,
    version_text,
)
from .errors import EnvoyError
from .text import free_text

# Read the state back at once, then after these pauses: a relay takes a moment on a real gateway.
READ_BACK_PAUSES_S = (2.0, 5.0)

sleep = time.sleep  # tests of the slow path replace it


def _refused(reason: str, message: str) -> EnvoyError:
    return EnvoyError("refused", message, reason)


def _confirm(read: Callable[[], Any], wanted: Any, what: str) -> None:
    """Read until the gateway shows `wanted`; refuse when it keeps showing something else."""
    seen = read()
    for pause in READ_BACK_PAUSES_S:
        if seen == wanted:
            return
        sleep(pause)
        seen = read()
    if seen != wanted:
        raise _refused("not_applied", f"The gateway accepted the change of {what} but still shows {_said(seen)} "
                       f"instead of {wanted!r}; it may not allow this change now.")


def _said(value: Any) -> str:
    """What the gateway shows, for a message a page displays: its text cleaned (text.free_text)."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return repr(free_text(str(value), 40) or "")


def _as_number(value: Any) -> Any:
    """A number the gateway shows, as a float (20 and 20.0 compare equal); anything else (a word, a yes/no)
    as is."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class GatewayWrites:
    # --- IQ System Controller (Enpower)

    def _grid_relay(self) -> Optional[str]:
        enpower = parse_ensemble.enpower_from(self.get_json(ENSEMBLE_INVENTORY))
        return enpower.mains_admin_state if enpower is not None else None

    def set_grid_relay(self, closed: bool) -> None:
        """Connect the house to the grid (relay closed) or island it (open)."""
        state = "closed" if closed else "open"
        if self._grid_relay() is None:
            raise _refused("no_device", "This gateway has no IQ System Controller (Enpower) to connect or "
                           "disconnect the grid.")
        self.post_json(RELAY, {"mains_admin_state": state})
        _confirm(self._grid_relay, state, "the grid relay")

    # --- its dry contacts

    def _dry_contact_status(self, contact_id: str) -> Optional[str]:
        contact = parse_ensemble.dry_contacts_from(self.get_json(DRY_CONTACTS), None).get(contact_id)
        return contact.status if contact is not None else None

    def _dry_contact_settings(self, contact_id: str) -> Dict[str, Any]:
        contact = parse_ensemble.dry_contacts_from(None, self.get_json(DRY_CONTACT_SETTINGS)).get(contact_id)
        if contact is None:
            raise _refused("no_device", f"The gateway lists no settings for dry contact {contact_id}.")
        return contact.settings

    def set_dry_contact(self, contact_id: str, closed: bool) -> None:
        """Close (load on) or open (load off) one dry contact."""
        state = "closed" if closed else "open"
        if self._dry_contact_status(contact_id) is None:
            raise _refused("no_device", f"The gateway has no dry contact {contact_id}.")
        self.post_json(DRY_CONTACTS, {"dry_contacts": {"id": contact_id, "status": state}})
        _confirm(lambda: self._dry_contact_status(contact_id), state, f"dry contact {contact_id}")

    def set_dry_contact_setting(self, contact_id: str, key: str, value: Any) -> None:
        """One field of a dry contact's settings (its mode, a threshold), the rest of the object unchanged."""
        current = self._dry_contact_settings(contact_id)
        if key not in current:
            raise _refused("no_device", f"Dry contact {contact_id} has no setting {key!r} on this firmware.")
        settings = copy.deepcopy(current)  # the whole object, as the gateway gave it
        settings[key] = value
        self.post_json(DRY_CONTACT_SETTINGS, {"dry_contacts": settings})
        _confirm(lambda: _as_number(self._dry_contact_settings(contact_id).get(key)), _as_number(value),
                 f"the {key} of dry contact {contact_id}")

    # --- generator

    def set_generator_mode(self, mode: str) -> None:
        """One of endpoints.GENERATOR_MODES."""
        self.post_json(GEN_MODE, {"gen_cmd": mode})
        _confirm(lambda: parse_ensemble.generator_mode_from(self.get_json(GEN_MODE)), mode, "the generator mode")

    # --- battery profile and reserve (the tariff)

    def _write_storage(self, change: Callable[[dict], None], read: Callable[[Any], Any], wanted: Any,
                       what: str) -> None:
        tariff = self.get_json(TARIFF)
        if self.info is not None and parse.firmware_at_least(self.info, *TARIFF_WRITES_IGNORED_FROM):
            raise _refused("firmware_ignores", f"Firmware {self.info.firmware} accepts a new battery profile or "
                           "reserve from the local network but ignores it (since "
                           f"{version_text(TARIFF_WRITES_IGNORED_FROM)}): change it in the Enphase app.")
        updated = copy.deepcopy(tariff)  # everything else of the tariff goes back as it was
        inner = updated.get("tariff") if isinstance(updated, dict) else None
        settings = inner.get("storage_settings") if isinstance(inner, dict) else None
        if not isinstance(settings, dict):
            raise _refused("no_device", "This gateway has no battery profile to change.")
        change(settings)
        self.put_json(TARIFF, {"tariff": inner})

        def read_back():
            storage = parse_ensemble.storage_settings_from(self.get_json(TARIFF))
            return read(storage) if storage is not None else None
        _confirm(read_back, wanted, what)

    def set_storage_mode(self, mode: str) -> None:
        """One of endpoints.STORAGE_MODES."""

        def change(settings):
            # A firmware that uses an older name for this profile is answered in its own words.
            old = next((name for name, new in STORAGE_MODE_OLD_NAMES.items()
                        if new == mode and settings.get("mode") == name), None)
            settings["mode"] = old or mode
        self._write_storage(change, lambda storage: storage.mode, mode, "the battery profile")

    def set_reserve_soc(self, percent: float) -> None:
        """The share of the batteries kept for a grid outage, 0 to 100."""

        def change(settings):
            settings["reserved_soc"] = percent
        self._write_storage(change, lambda storage: storage.reserve_percent, _as_number(percent),
                            "the battery reserve")

    # --- installer rights

    def _needs_installer(self, what: str) -> None:
        if not str(self.auth_mode).endswith("installer"):
            raise _refused("installer_required", f"{what} needs installer rights: give an installer token "
                           "(firmware 7 and later) or tick the installer login (older firmware) in the gateway's "
                           "configuration.")

    def set_production(self, enabled: bool) -> None:
        """Let the microinverters produce, or force them all off."""
        self._needs_installer("Turning production on or off")
        plan = self.plan or self.probe()
        if PRODUCTION_POWER not in plan.paths.get("devices", ()):
            raise _refused("no_control", "This gateway does not offer turning production on or off (firmware "
                           f"{version_text(PRODUCTION_POWER_FROM)} and later).")
        self.put_json(PRODUCTION_POWER, {"length": 1, "arr": [0 if enabled else 1]})  # 1 = forced off
        _confirm(lambda: parse.production_enabled_from(self.get_json(PRODUCTION_POWER)), enabled,
                 "the production state")

    def check_power_line(self) -> Dict[str, Any]:
        """Ask the gateway for each device's power-line signal (the check is slow on the gateway, so it is
        not a cadence: the daemon's view keeps the answer)."""
        self._needs_installer("The power-line communication check")
        levels = self.get_json(PLC_LEVELS)
        if not isinstance(levels, dict):
            raise EnvoyError("bad_response", "The gateway's communication check answered nothing readable.")
        return levels
