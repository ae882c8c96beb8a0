"""The site's batteries as one, whatever kinds it has: their power, state and charge. Pure, over Readings.

A storage CT measures every battery at once, so it wins when there is one. Without it, AC Batteries give
their total (production.json) and IQ Batteries their power each (/ivp/ensemble/power). Power is positive
while the batteries discharge, whatever the source. These work on a cycle's whole Readings (the AC
Battery total and the IQ Batteries' power come from different cadences; the daemon's view builds the
readings from the latest answers of both), not inside build_readings.
"""
from typing import Optional

from .readings import Meter, Readings


def storage_ct(readings: Readings) -> Optional[Meter]:
    storage = readings.meters.get("storage")
    return storage if storage is not None and storage.state != "disabled" else None


def power_w(readings: Readings) -> Optional[float]:
    storage = storage_ct(readings)
    if storage is not None:
        return storage.total.active_power_w
    parts = []
    if readings.ac_battery_total is not None:
        parts.append(readings.ac_battery_total.watts_now)
    if readings.encharges:
        watts = [encharge.watts_now for encharge in readings.encharges.values()]
        parts.append(None if None in watts else sum(watts))  # one battery unknown: the sum is unknown
    known = [part for part in parts if part is not None]
    return sum(known) if known else None


def state(readings: Readings) -> Optional[str]:
    """charging | discharging | idle. AC Batteries say it themselves; with IQ Batteries or a storage CT,
    it follows the power's sign."""
    total = readings.ac_battery_total
    if total is not None and total.state and not readings.encharges and storage_ct(readings) is None:
        return total.state
    watts = power_w(readings)
    if watts is None:
        return None
    return "discharging" if watts > 0 else "charging" if watts < 0 else "idle"


def percent_full(readings: Readings) -> Optional[float]:
    """The site aggregate (/ivp/ensemble/secctrl) when there is one, else the AC Batteries' total."""
    if readings.battery is not None and readings.battery.percent_full is not None:
        return readings.battery.percent_full
    return readings.ac_battery_total.percent_full if readings.ac_battery_total is not None else None
