"""The site's batteries as one, whatever kinds it has: their power, state and charge. Pure, over Readings.

A storage CT measures every battery at once, so it wins when there is one. Without it, AC Batteries give
their total (production.json) and IQ Batteries their power each (/ivp/ensemble/power). Power is positive
while the batteries discharge, whatever the source. The charge is the energy stored over the capacity of
every battery: the AC Batteries' total and each IQ Battery's charge (/ivp/ensemble/power) weighted by its
capacity, all read every minute; the aggregate of /ivp/ensemble/secctrl (read every 5 minutes) only where
those do not tell. These work on the poller's view of a cycle (the AC Battery total, the IQ Batteries' power
and their capacities come from different endpoints and cadences), not inside build_readings.
"""
from typing import List, Optional, Tuple

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


def has_batteries(readings: Readings) -> bool:
    return bool(storage_ct(readings) or readings.ac_battery_total or readings.ac_batteries or readings.encharges)


def _aggregate_capacity(readings: Readings) -> Optional[float]:
    capacity = readings.battery.max_available_capacity_wh if readings.battery is not None else None
    return capacity if capacity else None


def _ac_batteries(readings: Readings, others_wh: float) -> Optional[Tuple[float, float]]:
    """(stored Wh, capacity Wh) of the AC Batteries together, None when not known. Their capacity: from their own
    charge, else what the aggregate's capacity leaves to them."""
    total = readings.ac_battery_total
    if total is None or total.wh_now is None:
        return None
    if total.percent_full:
        return total.wh_now, 100.0 * total.wh_now / total.percent_full
    aggregate = _aggregate_capacity(readings)
    return (total.wh_now, aggregate - others_wh) if aggregate and aggregate > others_wh else None


def percent_full(readings: Readings) -> Optional[float]:
    """The energy stored in every battery over their capacity, from the figures read every minute; the aggregate
    (/ivp/ensemble/secctrl) where they do not tell."""
    parts: List[Optional[Tuple[float, float]]] = []  # (stored, capacity) Wh of each kind; None: not known
    iq = [(e.percent_full, e.capacity_wh) for e in readings.encharges.values()]
    total = readings.ac_battery_total
    if iq:
        if any(percent is None for percent, _ in iq):
            parts.append(None)
        elif all(capacity for _, capacity in iq):
            parts.append((sum(p * c / 100.0 for p, c in iq), sum(c for _, c in iq)))
        elif total is None:
            return sum(p for p, _ in iq) / len(iq)  # capacities unknown: alike, as a site's IQ Batteries are
        else:
            parts.append(None)
    if total is not None:
        if not iq and total.percent_full is not None:
            return total.percent_full
        parts.append(_ac_batteries(readings, sum(part[1] for part in parts if part is not None)))
    if parts and None not in parts:
        stored, capacity = (sum(values) for values in zip(*parts))
        if capacity:
            return max(0.0, min(100.0, 100.0 * stored / capacity))
    return readings.battery.percent_full if readings.battery is not None else None


def home_w(readings: Readings) -> Optional[float]:
    """The house's consumption now: production + net + the batteries' power. The gateway's total consumption is
    production + net (every recorded battery site: what the batteries take counts as consumed), so on a site with
    batteries it is not the house's; without batteries the two are the same. None while a part is unknown."""
    production = readings.production.watts_now if readings.production is not None else None
    net = readings.net_consumption.watts_now if readings.net_consumption is not None else None
    total = readings.consumption.watts_now if readings.consumption is not None else None
    if production is not None and net is not None:
        total = production + net
    if total is None:
        return None
    if not has_batteries(readings):
        return total
    batteries = power_w(readings)
    return None if batteries is None else total + batteries
