"""Our readings of every recorded gateway agree with what pyenphase 3.2.1 read (expected.json).

For each recorded gateway: probe it as the client would (the PROBE_PATHS that answer 200 and decode), plan,
read the plan's endpoints of both cadences, build the readings, and compare every value of expected.json
that maps onto our model. Deliberate differences are listed once, below, with the reason (and in
docs/readings.md).
"""
import pytest

from conftest import fixtures_dir, load_expected, recorded_gateways
from envoy import parse, probe
from envoy.legacy_html import decoded
from expected import as_expected, differences, expectations, without_deliberate
from simulator.recorded import RecordedGateway

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

NO_BATTERY = [
    "7.3.130_no_consumption", "7.3.466_metered_disabled_cts", "7.3.466_with_cts_3phase", "7.6.175_total",
    "7.6.175_with_cts", "7.6.175_with_cts_3phase", "8.2.4264_metered_noct", "8.2.4345_with_device_data",
    "8.3.5169_with_generator", "8.3.5289_modGone", "8.3.5433_tot_is_net_cons",
]
NO_PRODUCTION_CT = ["7.3.466_metered_disabled_cts", "7.6.175_total", "8.2.4264_metered_noct"]

# (fixture pattern, difference path pattern) -> why we differ on purpose.
DELIBERATE = {}
for _name in NO_BATTERY:
    DELIBERATE[(_name, "tariff")] = (
        "the tariff is read only for its battery profile, so only on sites with batteries")
for _name in NO_PRODUCTION_CT:
    DELIBERATE[(_name, "system_production.watt_hours_*")] = (
        "without an active production CT (eim activeCount 0) the eim counters come from an unconnected "
        "input: production comes from the microinverters' total, which has no today / 7 days counters")
DELIBERATE.update({
    ("8.2.4345_with_device_data", "encharge_aggregate"): (
        "no IQ Battery on the site: the all-zero aggregate is no battery, not an empty one (None)"),
    ("8.3.5169_with_generator", "encharge_aggregate"): (
        "no IQ Battery on the site: the all-zero aggregate is no battery, not an empty one (None)"),
    ("8.2.4382_ACB", "encharge_aggregate"): (
        "with AC Batteries and IQ Batteries together we keep the site aggregate (battery_aggregate) only"),
    ("8.2.127_with_generator_running", "generator.stop_soc"): (
        "a generator threshold the gateway writes as -1 is not set: None, shown as nothing rather than -1 %"),
    ("8.2.127_with_generator_running", "generator.*_state"): (
        "relay states are one of closed/open (the gateway also says 'close'); 'unknown' and unknown words are None"),
    ("8.3.5433_tot_is_net_cons", "system_consumption*.watt_hours_*"): (
        "total consumption is a copy of net consumption on this firmware; its today and 7 days are that copied "
        "lifetime (5,649,402 Wh 'today'): None, the counted figures replace them"),
    ("8.2.4382_ACB", "encharge_inventory.*.percent_full"): (
        "an IQ Battery's charge comes from /ivp/ensemble/power soc, live and consistent with the site "
        "aggregate; the inventory's percentFull lags behind"),
})


class AsPyenphaseServedIt(RecordedGateway):
    """A recorded gateway answering as pyenphase's test harness did when it produced expected.json:
    /production.json?details=1 from the recorded /production.json (a few gateways also have a separate
    details=1 recording, taken seconds later, whose numbers differ slightly)."""

    def response(self, path):
        return super().response("/production.json" if path == parse.PRODUCTION_JSON else path)


def _answers(gateway, paths):
    """What the client would get: the 200 answers it can decode (JSON, or a page it reads)."""
    out = {}
    for path in paths:
        answer = gateway.response(path)
        data = decoded(path, answer.body) if answer.status == 200 else None
        if data is not None:
            out[path] = data
    return out


def read_recorded(name):
    gateway = AsPyenphaseServedIt(fixtures_dir() / name)
    info = parse.parse_info(gateway.info_xml())
    plan = probe.plan_from(info, _answers(gateway, probe.probe_paths(info)))
    responses = _answers(gateway, plan.paths["general"] + plan.paths["devices"])
    return plan, parse.build_readings(info, responses)


@pytest.mark.parametrize("name", recorded_gateways())
def test_readings_match_expected(name):
    plan, readings = read_recorded(name)
    diffs = differences(as_expected(readings, plan), expectations(load_expected(name)))
    unexplained = without_deliberate(diffs, name, DELIBERATE)
    assert not unexplained, f"{name}: {len(unexplained)} values differ from expected.json:\n" + "\n".join(
        unexplained)


def test_every_deliberate_difference_still_happens():
    """A listed difference that no longer occurs is stale: remove it (and from docs/readings.md)."""
    seen = set()
    for name in recorded_gateways():
        plan, readings = read_recorded(name)
        for diff in differences(as_expected(readings, plan), expectations(load_expected(name))):
            seen.update(k for k in DELIBERATE if without_deliberate([diff], name, {k: ""}) == [])
    assert set(DELIBERATE) - seen == set()
