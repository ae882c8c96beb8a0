"""What the gateway answers where, and the words and numbers its endpoints take: each fact written once.

Reads (parse, probe), writes (writes) and the client take their paths, ids, firmware cut-offs and
vocabularies from here. The simulator keeps its own copy of some of these on purpose (it plays the
gateway: a wrong fact here must show as a failing test, not agree with itself); tests/python/
test_facts_once.py fails when one of them is written a second time elsewhere in resources/enphased.
"""
from typing import Tuple

# --- reads
INFO = "/info"  # XML, no auth: serial, part number, firmware
CHECK_JWT = "/auth/check_jwt"  # firmware 7+: a token opens a session (a sessionId cookie)
PRODUCTION_JSON = "/production.json?details=1"
PRODUCTION_V1 = "/api/v1/production"
PRODUCTION_PAGE = "/production"  # HTML: firmware 3.x without JSON gives its figures only there
INVERTERS_V1 = "/api/v1/production/inverters"
DEVICE_DATA = "/ivp/pdm/device_data"
INVENTORY = "/inventory.json"
METERS = "/ivp/meters"
METER_READINGS = "/ivp/meters/readings"
ENSEMBLE_INVENTORY = "/ivp/ensemble/inventory"
ENSEMBLE_SECCTRL = "/ivp/ensemble/secctrl"
ENSEMBLE_POWER = "/ivp/ensemble/power"
DRY_CONTACTS = "/ivp/ensemble/dry_contacts"
DRY_CONTACT_SETTINGS = "/ivp/ss/dry_contact_settings"
GENERATOR = "/ivp/ensemble/generator"
GEN_CONFIG = "/ivp/ss/gen_config"
GEN_MODE = "/ivp/ss/gen_mode"
TARIFF = "/admin/lib/tariff"
GRID_PROFILE = "/ivp/arf/profile"
# The gateway's own device id in its numbering of devices (kind 0x24, first device): production on/off of
# the whole site is asked of it. Installer rights.
GATEWAY_DEVICE_ID = 603980032
PRODUCTION_POWER = f"/ivp/mod/{GATEWAY_DEVICE_ID}/mode/power"
PLC_LEVELS = "/installer/pcu_comm_check"  # installer rights

# --- writes (and the endpoints above that take one: DRY_CONTACTS, DRY_CONTACT_SETTINGS, GEN_MODE,
# TARIFF, PRODUCTION_POWER)
RELAY = "/ivp/ensemble/relay"

# --- firmware
# From this firmware the gateway accepts a new battery profile or reserve and ignores it: only the Enphase
# cloud changes them (the Enphase app).
TARIFF_WRITES_IGNORED_FROM: Tuple[int, ...] = (8, 2, 4225)
# Metered gateways without a CT stop updating /api/v1/production from this firmware.
V1_PRODUCTION_STALLS_FROM: Tuple[int, ...] = (8, 2, 4264)
ENSEMBLE_FROM: Tuple[int, ...] = (5,)  # Encharge, Enpower, generator
DEVICE_DATA_FROM: Tuple[int, ...] = (8, 2)  # per-device data
PRODUCTION_POWER_FROM: Tuple[int, ...] = (7,)  # production on/off
PRODUCTION_PAGE_BEFORE: Tuple[int, ...] = (4,)  # the HTML production page is probed only below this

# --- words
RELAY_STATES = ("closed", "open")
BATTERY_STATES = ("charging", "discharging", "idle")
# Battery profiles, in the order the plugin offers them.
STORAGE_MODES = ("self-consumption", "economy", "backup")
# Older firmware names the economy profile "savings-mode"; newer ones and the Enphase app, "economy".
STORAGE_MODE_OLD_NAMES = {"savings-mode": "economy"}
GENERATOR_MODES = ("off", "on", "auto")
DRY_CONTACT_MODES = ("manual", "soc")
DRY_CONTACT_THRESHOLDS = ("soc_low", "soc_high")  # percent of battery charge
# Device type of an AC Battery in /api/v1/production/inverters (devType; microinverters are 1).
DEV_TYPE_ACB = 11


def version_text(version: Tuple[int, ...]) -> str:
    """(7, 6, 175) -> "7.6.175", for messages."""
    return ".".join(str(part) for part in version)
