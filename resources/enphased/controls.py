"""Action commands of the catalog -> the gateway's write methods (envoy/writes.py), values checked first.

Every control is `run(poller, target, value)`: it runs in the gateway's worker thread (one request at a
time), `poller.envoy` is the gateway's client, `target` the equipment logicalId the command belongs to and
`value` what Jeedom sent (a slider's number, a select's key, None for a plain action). A value out of range
or not among the gateway's words raises EnvoyError("refused", sentence) before anything is sent; the write
method then checks what the gateway needs, writes, and reads the state back. Then the poller reads the
cadence of the state and Jeedom gets the new value by callback.
"""
from typing import Any, Sequence

from envoy.endpoints import DRY_CONTACT_MODES, DRY_CONTACT_THRESHOLDS, GENERATOR_MODES, PLC_LEVELS, STORAGE_MODES
from envoy.errors import EnvoyError


def _refused(message: str) -> EnvoyError:
    return EnvoyError("refused", message, "bad_value")


def _choice(value: Any, choices: Sequence[str], what: str) -> str:
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


def _contact_id(target: str) -> str:
    """The gateway's id of a dry contact from its equipment's logicalId (catalog.equipments names it)."""
    return target.rsplit("_dry_contact_", 1)[-1]


def grid(connected: bool):
    """IQ System Controller: connect the house to the grid (relay closed) or island it (open)."""
    return lambda poller, target, value: poller.envoy.set_grid_relay(connected)


def dry_contact(closed: bool):
    """Close (load on) or open (load off) one dry contact of the IQ System Controller."""
    return lambda poller, target, value: poller.envoy.set_dry_contact(_contact_id(target), closed)


def dry_contact_setting(key: str):
    """One field of a dry contact's settings: its mode, or one of its thresholds (percent)."""
    if key != "mode" and key not in DRY_CONTACT_THRESHOLDS:
        raise ValueError(f"no dry contact setting {key!r}")

    def run(poller, target, value):
        contact_id = _contact_id(target)
        if key == "mode":
            wanted = _choice(value, DRY_CONTACT_MODES, "dry contact mode")
        else:
            wanted = _percent(value, f"The {key.replace('_', ' ')} threshold of dry contact {contact_id}")
        poller.envoy.set_dry_contact_setting(contact_id, key, wanted)
    return run


def generator_mode(poller, target, value):
    poller.envoy.set_generator_mode(_choice(value, GENERATOR_MODES, "generator mode"))


def storage_mode(poller, target, value):
    poller.envoy.set_storage_mode(_choice(value, STORAGE_MODES, "battery profile"))


def storage_reserve(poller, target, value):
    poller.envoy.set_reserve_soc(_percent(value, "The battery reserve"))


def production(enabled: bool):
    """Let the microinverters produce, or force them all off (installer rights)."""
    return lambda poller, target, value: poller.envoy.set_production(enabled)


def plc_check(poller, target, value):
    """Ask the gateway for each device's power-line signal; every later cycle publishes it until the next
    probe (installer)."""
    envoy = poller.envoy
    levels = envoy.check_power_line()
    poller.view.keep(envoy.plan or envoy.probe(), PLC_LEVELS, levels)


def polling(active: bool):
    """Pause or resume the cadences of this gateway (the gateway itself is not told)."""

    def run(poller, target, value):
        poller.paused = not active
    return run
