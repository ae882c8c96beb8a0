"""Which endpoints feed which cadence, decided once per connection from what the gateway answered.

The gateway has a weak CPU: every cadence reads the fewest endpoints that give its readings, one request
per endpoint, and never an endpoint that this gateway does not have or answers badly.
- "general" (every 60 s): production, consumption, net consumption, CT meters, the site's battery power, state
  and charge (with the IQ Batteries' power and charge each: the same request).
- "devices" (every 300 s): per microinverter, per battery, inventory, ensemble devices, the battery aggregate,
  dry contacts, generator, tariff, CT configuration.
Pure: `plan_from(info, probe_responses)` takes the decoded answers (`legacy_html.decoded`) of the
`PROBE_PATHS` that answered.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from . import legacy_html, parse, parse_devices, parse_ensemble
from .endpoints import (
    DEVICE_DATA,
    DEVICE_DATA_FROM,
    DRY_CONTACT_SETTINGS,
    DRY_CONTACTS,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_POWER,
    ENSEMBLE_FROM,
    ENSEMBLE_SECCTRL,
    GEN_CONFIG,
    GEN_MODE,
    GENERATOR,
    GRID_PROFILE,
    INVENTORY,
    INVERTERS_V1,
    METER_READINGS,
    METERS,
    PRODUCTION_JSON,
    PRODUCTION_PAGE,
    PRODUCTION_PAGE_BEFORE,
    PRODUCTION_POWER,
    PRODUCTION_POWER_FROM,
    PRODUCTION_V1,
    TARIFF,
    V1_PRODUCTION_STALLS_FROM,
)
from .readings import GatewayInfo

# Tried once per connection, cheap and static ones first, each once.
PROBE_PATHS: Tuple[str, ...] = (
    METERS,
    PRODUCTION_JSON,
    PRODUCTION_V1,
    INVERTERS_V1,
    DEVICE_DATA,
    INVENTORY,
    ENSEMBLE_INVENTORY,
    ENSEMBLE_SECCTRL,
    GEN_CONFIG,
    GEN_MODE,
    TARIFF,
    GRID_PROFILE,
)
# Tried only with installer rights: an owner's token gets 401 there, which costs a session check each time.
INSTALLER_PROBE_PATHS: Tuple[str, ...] = (PRODUCTION_POWER,)
# Tried only on old firmware: an HTML page, the only source of figures of 3.x gateways without JSON.
LEGACY_PROBE_PATHS: Tuple[str, ...] = (PRODUCTION_PAGE,)
_ENSEMBLE_PATHS = (ENSEMBLE_INVENTORY, ENSEMBLE_SECCTRL, GEN_CONFIG, GEN_MODE)


def probe_paths(info: GatewayInfo, installer: bool = False) -> Tuple[str, ...]:
    """PROBE_PATHS (and INSTALLER_PROBE_PATHS for an installer, LEGACY_PROBE_PATHS on old firmware) without
    those this firmware cannot have (saves a few 404s on old gateways)."""
    skip = set()
    if info.firmware and not parse.firmware_at_least(info, *ENSEMBLE_FROM):
        skip.update(_ENSEMBLE_PATHS)
    if info.firmware and not parse.firmware_at_least(info, *DEVICE_DATA_FROM):
        skip.add(DEVICE_DATA)
    if info.firmware and not parse.firmware_at_least(info, *PRODUCTION_POWER_FROM):
        skip.add(PRODUCTION_POWER)
    paths = PROBE_PATHS + (INSTALLER_PROBE_PATHS if installer else ())
    if not info.firmware or not parse.firmware_at_least(info, *PRODUCTION_PAGE_BEFORE):
        paths += LEGACY_PROBE_PATHS
    return tuple(p for p in paths if p not in skip)


@dataclass
class Plan:
    """What each cadence reads on this gateway, and why (`sources`, for the probe command)."""

    paths: Dict[str, Tuple[str, ...]]
    sources: Dict[str, Optional[str]]
    phase_count: int = 1
    phase_mode: Optional[str] = None
    ct_meters: Tuple[str, ...] = ()  # measurement types of the enabled CTs
    # The probe's answers of endpoints read in one cadence and needed by both (the CT list names the meters
    # and gives the phase count): a cycle's view holds them until that cadence's read brings newer ones.
    carried: Dict[str, object] = field(default_factory=dict, repr=False)

    def readable(self) -> bool:
        """Whether some endpoint of the plan gives a reading (else the gateway yields nothing we can read)."""
        return any(self.sources.values())


def _is_list(value) -> bool:
    return isinstance(value, list)


def _has_content(value) -> bool:
    """Answered with data: not empty, not {"error": ...} / {"err": ...}."""
    if isinstance(value, dict):
        return bool(value) and "error" not in value and "err" not in value
    return isinstance(value, list) and bool(value)


def _production_source(info: GatewayInfo, responses, ct_count: int) -> Optional[str]:
    production_json = responses.get(PRODUCTION_JSON)
    if parse.eim_production(production_json) is not None:
        return PRODUCTION_JSON + " eim"
    v1 = responses.get(PRODUCTION_V1)
    if isinstance(v1, dict) and not parse.v1_production_is_broken(v1) and not _v1_stalls(info, ct_count):
        return PRODUCTION_V1
    if parse.inverters_production(production_json) is not None:
        return PRODUCTION_JSON + " inverters"
    if legacy_html.production_from_page(responses.get(PRODUCTION_PAGE)) is not None:
        return PRODUCTION_PAGE
    return None


def _v1_stalls(info: GatewayInfo, ct_count: int) -> bool:
    return bool(info.imeter) and ct_count == 0 and parse.firmware_at_least(info, *V1_PRODUCTION_STALLS_FROM)


def _inverter_source(responses) -> Optional[str]:
    device_data = responses.get(DEVICE_DATA)
    if parse_devices.device_data_is_complete(device_data) and parse_devices.inverters_from_device_data(device_data):
        return DEVICE_DATA
    if _is_list(responses.get(INVERTERS_V1)):
        return INVERTERS_V1
    return None


def plan_from(info: GatewayInfo, probe_responses: Dict[str, object]) -> Plan:
    """Decide each reading's source once. `probe_responses`: path -> decoded answer of those that answered."""
    got = probe_responses
    meters = parse_devices.meters_config(got.get(METERS))
    ct_meters = tuple(m["measurementType"] for m in meters.values())
    production_json = got.get(PRODUCTION_JSON)

    production = _production_source(info, got, len(meters))
    has_consumption = any(
        parse.consumption_section(production_json, kind) is not None
        for kind in ("total-consumption", "net-consumption")
    )
    has_acb_total = parse.ac_battery_total(production_json) is not None
    inverters = _inverter_source(got)
    inventory = got.get(INVENTORY)
    has_acb = has_acb_total or any(
        g.get("type") == "ACB" and g.get("devices") for g in (inventory if _is_list(inventory) else [])
        if isinstance(g, dict)
    )
    ensemble = got.get(ENSEMBLE_INVENTORY) if parse.firmware_at_least(info, *ENSEMBLE_FROM) else None
    encharges = parse_ensemble.ensemble_devices(ensemble, "ENCHARGE")
    enpower = parse_ensemble.enpower_from(ensemble) is not None
    generator = enpower and _has_content(got.get(GEN_CONFIG))

    # The site's battery power, state and charge every minute, each from the one request that carries it: a storage
    # CT (the CT readings) or the AC Batteries' total (production.json), and the IQ Batteries' power and charge
    # (/ivp/ensemble/power). The aggregate (/ivp/ensemble/secctrl: available energy, capacity, reserve) changes
    # slowly: every 5 minutes, and only where it has a battery to tell of.
    battery = ("storage CT" if "storage" in ct_meters else PRODUCTION_JSON if has_acb_total
               else ENSEMBLE_POWER if encharges else None)
    aggregate = parse.battery_aggregate(got.get(ENSEMBLE_SECCTRL), has_acb) is not None and bool(encharges or has_acb)

    general = []
    if production in (PRODUCTION_JSON + " eim", PRODUCTION_JSON + " inverters") or has_consumption \
            or has_acb_total:
        general.append(PRODUCTION_JSON)
    if production in (PRODUCTION_V1, PRODUCTION_PAGE):
        general.append(production)
    if meters:
        general.append(METER_READINGS)
    if encharges:
        general.append(ENSEMBLE_POWER)

    devices = []
    if meters:
        devices.append(METERS)
    if inverters:
        devices.append(inverters)
    if has_acb and inverters != INVERTERS_V1 and _is_list(got.get(INVERTERS_V1)):
        devices.append(INVERTERS_V1)  # the AC Batteries' own power is only there (devType 11)
    if _is_list(inventory):
        devices.append(INVENTORY)
    if encharges or enpower or parse_ensemble.collar_from(ensemble) is not None:
        devices.append(ENSEMBLE_INVENTORY)
    if aggregate:
        devices.append(ENSEMBLE_SECCTRL)
    if enpower:
        devices += [DRY_CONTACTS, DRY_CONTACT_SETTINGS]
    if generator:
        devices.append(GENERATOR)
    if generator and parse_ensemble.generator_mode_from(got.get(GEN_MODE)) is not None:
        devices.append(GEN_MODE)
    if (encharges or has_acb) and parse_ensemble.storage_settings_from(got.get(TARIFF)) is not None:
        devices.append(TARIFF)  # only the battery profile is used from it
    if parse.grid_profile_from(got.get(GRID_PROFILE)) is not None:
        devices.append(GRID_PROFILE)
    if parse.production_enabled_from(got.get(PRODUCTION_POWER)) is not None:
        devices.append(PRODUCTION_POWER)

    return Plan(
        paths={"general": tuple(general), "devices": tuple(devices)},
        sources={
            "production": production,
            "consumption": PRODUCTION_JSON if has_consumption else None,
            "meters": METER_READINGS if meters else None,
            "inverters": inverters,
            "ac_batteries": (INVENTORY if has_acb else None),
            "battery": battery,
            "encharges": ENSEMBLE_INVENTORY if encharges else None,
            "enpower": ENSEMBLE_INVENTORY if enpower else None,
            "generator": GENERATOR if generator else None,
        },
        phase_count=parse_devices.phase_count_from_meters(got.get(METERS)) or 1,
        phase_mode=next((m["phaseMode"] for m in meters.values() if isinstance(m.get("phaseMode"), str)), None),
        ct_meters=ct_meters,
        carried={METERS: got[METERS]} if meters else {},
    )
