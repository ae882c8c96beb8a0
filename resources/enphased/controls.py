"""Action commands -> gateway writes, each confirmed by reading the state back from the gateway.

Every control is `run(poller, target, value)`: it runs in the gateway's worker thread (one request at a
time), `poller.envoy` is the gateway's client, `target` the equipment logicalId the command belongs to and
`value` what Jeedom sent (a slider's number, a select's key, None for a plain action). A control that
cannot be done raises EnvoyError("refused", sentence) before writing anything: missing rights, a firmware
that ignores the write, a value out of range. After the write the control reads the endpoint that shows
the state; if the gateway accepted the write but shows the old state, that is a refusal too. Then the
poller reads the cadence of the state and Jeedom gets the new value by callback.

Settings objects are always sent back whole, as last read: a partial dry contact settings object can crash
the gateway, and a partial tariff loses the rest of the user's tariff.
"""
import copy
import time
from typing import Any, Callable, Optional

from envoy.errors import EnvoyError
from envoy.parse import (
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    GEN_MODE,
    PLC_LEVELS,
    PRODUCTION_POWER,
    TARIFF,
    ensemble_devices,
    firmware_at_least,
    production_enabled_from,
)

RELAY = "/ivp/ensemble/relay"
# From this firmware the gateway accepts a new battery profile or reserve and ignores it: only the Enphase
# cloud changes them (the Enphase app).
TARIFF_IGNORED_FROM = (8, 2, 4225)
STORAGE_MODES = ("self-consumption", "economy", "backup")
GENERATOR_MODES = ("off", "on", "auto")
DRY_CONTACT_MODES = ("manual", "soc")
# Read the state back at once, then after these pauses: a relay takes a moment on a real gateway.
READ_BACK_PAUSES_S = (2.0, 5.0)

sleep = time.sleep  # tests of the slow path replace it


def _refused(message: str) -> EnvoyError:
    return EnvoyError("refused", message)


def _confirm(read: Callable[[], Any], wanted: Any, what: str) -> None:
    """Read until the gateway shows `wanted`; refuse when it keeps showing something else."""
    seen = read()
    for pause in READ_BACK_PAUSES_S:
        if seen == wanted:
            return
        sleep(pause)
        seen = read()
    if seen != wanted:
        raise _refused(f"The gateway accepted the change of {what} but still shows {seen!r} instead of "
                       f"{wanted!r}; it may not allow this change now.")


def _choice(value: Any, choices, what: str) -> str:
    text = str(value if value is not None else "").strip().lower()
    if text not in choices:
        raise _refused(f"Unknown {what} {str(value)[:40]!r}; expected one of: {', '.join(choices)}.")
    return text


def _percent(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _refused(f"{what} needs a number from 0 to 100, not {str(value)[:40]!r}.") from None
    if not 0 <= number <= 100:
        raise _refused(f"{what} must be from 0 to 100 (got {number:g}).")
    return number


def _as_number(value: Any) -> Any:
    """A number the gateway shows, as a float (20 and 20.0 compare equal); anything else (a yes/no too) as is."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _installer(envoy, what: str) -> None:
    if not str(getattr(envoy, "auth_mode", "")).endswith("installer"):
        raise _refused(f"{what} needs installer rights: give an installer token (firmware 7 and later) or "
                       "tick the installer login (older firmware) in the gateway's configuration.")


# --------------------------------------------------------------------------------------------- Enpower


def _enpower_admin_state(envoy) -> Optional[str]:
    devices = ensemble_devices(envoy.get_json(ENSEMBLE_INVENTORY), "ENPOWER")
    return devices[0].get("mains_admin_state") if devices else None


def grid(connected: bool):
    """IQ System Controller: connect the house to the grid (relay closed) or island it (open)."""
    state = "closed" if connected else "open"

    def run(poller, target, value):
        envoy = poller.envoy
        if _enpower_admin_state(envoy) is None:
            raise _refused("This gateway has no IQ System Controller (Enpower) to connect or disconnect the grid.")
        envoy.post_json(RELAY, {"mains_admin_state": state})
        _confirm(lambda: _enpower_admin_state(envoy), state, "the grid relay")
    return run


# --------------------------------------------------------------------------------------------- dry contacts


def _contact_id(target: str) -> str:
    return target.rsplit("_dry_contact_", 1)[-1]


def _contact_status(envoy, contact_id: str) -> Optional[str]:
    for item in (envoy.get_json(DRY_CONTACTS) or {}).get("dry_contacts") or []:
        if isinstance(item, dict) and item.get("id") == contact_id:
            return item.get("status")
    return None


def _contact_settings(envoy, contact_id: str) -> dict:
    for item in (envoy.get_json(DRY_CONTACT_SETTINGS) or {}).get("dry_contacts") or []:
        if isinstance(item, dict) and item.get("id") == contact_id:
            return item
    raise _refused(f"The gateway lists no settings for dry contact {contact_id}.")


def dry_contact(closed: bool):
    """Close (load on) or open (load off) one dry contact of the IQ System Controller."""
    state = "closed" if closed else "open"

    def run(poller, target, value):
        envoy, contact_id = poller.envoy, _contact_id(target)
        if _contact_status(envoy, contact_id) is None:
            raise _refused(f"The gateway has no dry contact {contact_id}.")
        envoy.post_json(DRY_CONTACTS, {"dry_contacts": {"id": contact_id, "status": state}})
        _confirm(lambda: _contact_status(envoy, contact_id), state, f"dry contact {contact_id}")
    return run


def dry_contact_setting(key: str):
    """One field of a dry contact's settings (mode, soc_low, soc_high), the rest of the object unchanged."""

    def run(poller, target, value):
        envoy, contact_id = poller.envoy, _contact_id(target)
        if key == "mode":
            wanted = _choice(value, DRY_CONTACT_MODES, "dry contact mode")
        else:
            wanted = _percent(value, f"The {key.replace('_', ' ')} threshold of dry contact {contact_id}")
        current = _contact_settings(envoy, contact_id)
        if key not in current:
            raise _refused(f"Dry contact {contact_id} has no setting {key!r} on this firmware.")
        settings = copy.deepcopy(current)  # the whole object, as the gateway gave it
        settings[key] = wanted
        envoy.post_json(DRY_CONTACT_SETTINGS, {"dry_contacts": settings})

        def read():
            seen = _contact_settings(envoy, contact_id).get(key)
            return seen if key == "mode" else _as_number(seen)
        _confirm(read, wanted, f"the {key} of dry contact {contact_id}")
    return run


# --------------------------------------------------------------------------------------------- generator


def generator_mode(poller, target, value):
    envoy = poller.envoy
    mode = _choice(value, GENERATOR_MODES, "generator mode")
    envoy.post_json(GEN_MODE, {"gen_cmd": mode})
    _confirm(lambda: str((envoy.get_json(GEN_MODE) or {}).get("gen_cmd", "")).lower(), mode, "the generator mode")


# --------------------------------------------------------------------------------------------- storage


def _tariff_writable(envoy) -> None:
    info = getattr(envoy, "info", None)
    if info is not None and firmware_at_least(info, *TARIFF_IGNORED_FROM):
        raise _refused(f"Firmware {info.firmware} accepts a new battery profile or reserve from the local network "
                       "but ignores it (since 8.2.4225): change it in the Enphase app.")


def _storage_settings(tariff: Any) -> dict:
    settings = ((tariff or {}).get("tariff") or {}).get("storage_settings")
    if not isinstance(settings, dict):
        raise _refused("This gateway has no battery profile to change.")
    return settings


def _storage_write(envoy, change: Callable[[dict], None], read: Callable[[dict], Any], wanted: Any, what: str):
    _tariff_writable(envoy)
    tariff = envoy.get_json(TARIFF)
    updated = copy.deepcopy(tariff)  # everything else of the tariff goes back as it was
    change(_storage_settings(updated))
    envoy.put_json(TARIFF, {"tariff": updated["tariff"]})
    _confirm(lambda: read(_storage_settings(envoy.get_json(TARIFF))), wanted, what)


def _mode_of(settings: dict) -> str:
    mode = str(settings.get("mode", ""))
    return "economy" if mode == "savings-mode" else mode


def storage_mode(poller, target, value):
    mode = _choice(value, STORAGE_MODES, "battery profile")

    def change(settings):
        # Older firmware names the savings profile "savings-mode": answer in the gateway's own words.
        settings["mode"] = "savings-mode" if mode == "economy" and settings.get("mode") == "savings-mode" else mode
    _storage_write(poller.envoy, change, _mode_of, mode, "the battery profile")


def storage_reserve(poller, target, value):
    reserve = _percent(value, "The battery reserve")

    def change(settings):
        settings["reserved_soc"] = reserve

    _storage_write(poller.envoy, change, lambda settings: _as_number(settings.get("reserved_soc")), reserve,
                   "the battery reserve")


# --------------------------------------------------------------------------------------------- installer


def production(enabled: bool):
    """Let the microinverters produce, or force them all off (installer rights)."""

    def run(poller, target, value):
        envoy = poller.envoy
        _installer(envoy, "Turning production on or off")
        plan = envoy.plan or envoy.probe()
        if PRODUCTION_POWER not in plan.paths.get("devices", ()):
            raise _refused("This gateway does not offer turning production on or off (firmware 7 and later).")
        envoy.put_json(PRODUCTION_POWER, {"length": 1, "arr": [0 if enabled else 1]})  # 1 = forced off
        _confirm(lambda: production_enabled_from(envoy.get_json(PRODUCTION_POWER)), enabled, "the production state")
    return run


def plc_check(poller, target, value):
    """Ask the gateway for each device's power-line signal; every later cycle publishes it (installer)."""
    envoy = poller.envoy
    _installer(envoy, "The power-line communication check")
    levels = envoy.get_json(PLC_LEVELS)
    if not isinstance(levels, dict):
        raise EnvoyError("bad_response", "The gateway's communication check answered nothing readable.")
    if envoy.plan is None:
        envoy.probe()
    envoy.plan.remember(PLC_LEVELS, levels)


# --------------------------------------------------------------------------------------------- polling


def polling(active: bool):
    """Pause or resume the cadences of this gateway (the gateway itself is not told)."""

    def run(poller, target, value):
        poller.paused = not active
    return run
