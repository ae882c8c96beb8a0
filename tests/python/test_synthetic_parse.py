"""Our parser reads the synthetic gateway completely: every value present where the device exists."""
import dataclasses
import json
import time

import pytest

from envoy import parse, probe
from simulator.synthetic import SyntheticGateway

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

# What a firmware-8 gateway does not tell an owner's token on these endpoints, whatever its devices.
NOT_GIVEN = {
    "production_enabled", "inverters.plc_level", "ac_batteries.plc_level",  # installer-only endpoints
    "qrelays.plc_level",
    "encharges.provisioned", "encharges.operating",  # not in /ivp/ensemble/inventory
    "dry_contacts.name",  # empty load name on contacts that shed nothing
}
HOUSES = {
    "default": dict(),
    "everything, three phase": dict(inverters=9, encharges=2, acbs=2, phases=3, enpower=True, qrelays=1,
                                    generator=True, dry_contacts=4),
    "split phase": dict(phases=2, encharges=1, enpower=True, dry_contacts=2),
}


def missing_values(value, name=""):
    """Dotted names (collections collapsed) of the None fields in a readings tree."""
    if dataclasses.is_dataclass(value):
        found = set()
        for item in dataclasses.fields(value):
            found |= missing_values(getattr(value, item.name), f"{name}.{item.name}" if name else item.name)
        return found
    if isinstance(value, dict):
        return set().union(*(missing_values(v, name) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(missing_values(v, name) for v in value)) if value else set()
    return {name} if value is None else set()


def read(gateway):
    """One probe and one read of both cadences, as the client does, without the sockets."""
    def answered(paths):
        answers = {p: gateway.response(p) for p in paths}
        return {p: json.loads(a.body) for p, a in answers.items() if a.status == 200}

    info = parse.parse_info(gateway.info_xml())
    plan = probe.plan_from(info, answered(probe.PROBE_PATHS))
    paths = set(plan.paths["general"]) | set(plan.paths["devices"])
    return parse.build_readings(info, answered(paths))


@pytest.mark.parametrize("house", sorted(HOUSES))
def test_every_value_is_read(house):
    options = HOUSES[house]
    gateway = SyntheticGateway(clock=lambda: time.mktime((2025, 6, 21, 13, 0, 0, 0, 0, -1)), seed=5, **options)
    readings = read(gateway)
    absent = {"enpower", "generator", "collar"} - {k for k in ("enpower", "generator") if options.get(k)}
    if not options.get("acbs"):
        absent.add("ac_battery_total")
    gaps = {n for n in missing_values(readings) if n.split(".")[0] not in absent} - NOT_GIVEN
    assert not gaps
    assert len(readings.inverters) == len(gateway.inverters)
    assert len(readings.encharges) == len(gateway.encharge_serials)
    assert len(readings.ac_batteries) == len(gateway.acb_serials)
    assert len(readings.qrelays) == len(gateway.qrelay_serials)
    assert len(readings.dry_contacts) == len(gateway.dry_contacts)
    production = json.loads(gateway.response("/production.json?details=1").body)
    assert readings.production.watts_now == pytest.approx(production["production"][1]["wNow"])
    assert readings.consumption.wh_lifetime == pytest.approx(production["consumption"][0]["whLifetime"])
    if gateway.phases == 3:
        assert sum(p.watts_now for p in readings.production_phases) == pytest.approx(readings.production.watts_now)


def test_a_house_without_cts_reads_production_from_the_inverters():
    gateway = SyntheticGateway(consumption_cts=False, encharges=0,
                               clock=lambda: time.mktime((2025, 6, 21, 13, 0, 0, 0, 0, -1)))
    readings = read(gateway)
    assert readings.production.watts_now > 0 and readings.production.wh_lifetime > 0
    assert readings.consumption is None and readings.net_consumption is None
    assert not readings.meters
