"""Every equipment kind and its commands, as data: the one place that says what Jeedom shows.

A command's `read` takes the equipment's reading (the whole `Readings` for the gateway, the device's
dataclass for the others) and returns its value, or None when this reading does not have it (then nothing
is published for it, and a sync does not create it). Adding a reading is one `Command(...)` record, built
by keyword (records.py). The kinds live in gateway.py (the site), devices.py (microinverters, batteries,
CT meters, Q-Relays) and controller.py (IQ System Controller, its dry contacts and generator, the collar).
"""
from typing import Any, Dict, FrozenSet, List, NamedTuple, Optional, Tuple

from envoy.readings import Readings

from .controller import COLLAR, DRY_CONTACT, ENPOWER, GENERATOR
from .devices import (AC_BATTERY, ENCHARGE, INVERTER, METER, METER_DELIVERED, METER_NAMES, METER_RECEIVED, NET_CT,
                      QRELAY)
from .gateway import BALANCES, DAY_FIGURES, DAY_RATES, GATEWAY, NET_BALANCE, Balance, DayFlow, DayRate, day_flows
from .records import (QUANTITIES, Command, Described, Equipment, Kind, Range, describe_command,  # noqa: F401
                      describe_inventory, json_value, read_command)

KINDS = {k.kind: k for k in (GATEWAY, INVERTER, AC_BATTERY, ENCHARGE, METER, ENPOWER, COLLAR, QRELAY,
                             DRY_CONTACT, GENERATOR)}
COUNTED = DAY_FIGURES  # the gateway's commands that counters.py computes (no `read`)


def net_meter_id(serial: str) -> str:
    """The logicalId of the gateway's net-consumption CT."""
    return METER.attached_id(serial, NET_CT)


DAY_FLOWS: Tuple[DayFlow, ...] = day_flows(net_meter_id, METER_DELIVERED, METER_RECEIVED)


def monotonic_commands() -> Dict[str, Tuple[str, ...]]:
    """{kind: its lifetime counters}: the commands counters.py publishes never going down."""
    found = {kind.kind: tuple(c.logical_id for c in kind.commands if c.monotonic) for kind in KINDS.values()}
    return {kind: ids for kind, ids in found.items() if ids}


def rated_power_w() -> Dict[str, float]:
    """{kind: the most one device of that kind gives}, for the devices whose power has a range of its own (the
    top of that range): counters.py bounds how fast a site's energy counters can rise by them."""
    return {kind.kind: QUANTITIES[c.quantity].high for kind in KINDS.values() for c in kind.commands
            if c.logical_id == "power_w" and c.quantity not in ("", "power")}


def short_names(serials) -> Dict[str, str]:
    """{serial: "…0054"}: the end of each serial that tells it from the others of the same kind, four digits or
    as many as it takes (a dashboard tile's title fits, the serial stays on the equipment's page)."""
    serials = list(serials)
    longest = max((len(s) for s in serials), default=0)
    digits = 4
    while digits < longest and len({s[-digits:] for s in serials}) < len(serials):
        digits += 1
    return {s: "…" + s[-digits:] if len(s) > digits else s for s in serials}


def equipments(r: Readings) -> List[Equipment]:
    """The gateway and every device this reading lists, each with what its commands read, named after its
    kind and the end of its serial ("Micro-onduleur …0054")."""
    serial = r.gateway.serial
    found = [GATEWAY.equipment(serial, short_names([serial])[serial], r)]
    for kind, devices in ((INVERTER, r.inverters), (AC_BATTERY, r.ac_batteries), (ENCHARGE, r.encharges),
                          (QRELAY, r.qrelays)):
        names = short_names(devices)
        found += [kind.equipment(s, names[s], d) for s, d in sorted(devices.items())]
    # One of each per gateway: named by what it measures or is.
    for measurement, meter in sorted(r.meters.items()):
        fr, en = METER_NAMES.get(measurement, (measurement, measurement))
        found.append(METER.equipment(METER.attached_id(serial, measurement), "", meter, fr, en))
    for kind, device in ((ENPOWER, r.enpower), (COLLAR, r.collar)):
        if device is not None:
            found.append(kind.equipment(device.serial, "", device))
    # Dry contacts and the generator hang on the IQ System Controller, but each is its own equipment: each
    # drives its own load or machine, which the user puts in its own room and uses in its own scenarios.
    if r.enpower is not None:
        found += [DRY_CONTACT.equipment(DRY_CONTACT.attached_id(serial, c), "", d, c, c)
                  for c, d in sorted(r.dry_contacts.items())]
    if r.generator is not None:
        found.append(GENERATOR.equipment(GENERATOR.attached_id(serial), "", r.generator))
    return found


class Detail(NamedTuple):
    """Which equipment of a gateway get their kind's detail commands (Command.detail): those the user turned it
    on for, and every other when the plugin setting says so, unless turned off on the equipment."""

    default: bool = False
    on: FrozenSet[str] = frozenset()
    off: FrozenSet[str] = frozenset()

    def wants(self, eq_id: str) -> bool:
        return eq_id in self.on or (self.default and eq_id not in self.off)


def equipment_values(eq: Equipment, detail: bool = True) -> Dict[str, Any]:
    """{command logicalId: value} of one equipment, for the commands its reading has (the detail ones only
    with `detail`)."""
    out = {}
    reading, source = eq.reading, eq.logical_id
    for command in eq.kind.published(detail):
        value = read_command(command, reading, source)
        if value is not None:
            out[command.logical_id] = value
    return out


def values(r: Readings) -> Dict[str, Dict[str, Any]]:
    """{equipment logicalId: {command logicalId: value}} for everything this reading has."""
    out = {}
    for eq in equipments(r):
        found = equipment_values(eq)
        if found:
            out[eq.logical_id] = found
    return out


def present_commands(kind: Kind, info_ids) -> List[str]:
    """Commands worth creating: the info commands that have a value (`info_ids`), and the action commands
    whose info command is there (or that set none)."""
    return [c.logical_id for c in kind.commands
            if c.logical_id in info_ids or (c.type == "action" and (not c.value or c.value in info_ids))]


def find_command(kind: str, logical_id: str) -> Optional[Command]:
    return KINDS[kind].find(logical_id) if kind in KINDS else None


__all__ = ["AC_BATTERY", "BALANCES", "COLLAR", "COUNTED", "DAY_FLOWS", "DAY_RATES", "DRY_CONTACT", "ENCHARGE", "ENPOWER",
           "GATEWAY", "GENERATOR", "INVERTER", "KINDS", "METER", "NET_BALANCE", "QRELAY", "QUANTITIES", "Balance",
           "Command", "Detail", "Range",
           "DayFlow", "DayRate", "Equipment", "Kind", "describe_command", "describe_inventory", "Described", "equipment_values",
           "equipments", "find_command", "json_value", "monotonic_commands", "net_meter_id", "present_commands",
           "rated_power_w", "read_command", "values"]
