"""Typed readings of one Envoy gateway: what the parsers produce and the catalog reads.

Every field is Optional: None means "the gateway did not give it" (or this cycle did not read it), never 0.
Units are in the field names where a number could be read two ways.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class GatewayInfo:
    """From GET /info (XML, no auth)."""

    serial: str
    part_number: Optional[str] = None
    firmware: str = ""  # without the leading "D", e.g. "7.6.175"
    imeter: Optional[bool] = None  # metered hardware (Envoy-S Metered / IQ Gateway Metered)

    @property
    def firmware_major(self) -> int:
        try:
            return int(self.firmware.split(".")[0])
        except ValueError:
            return 0


@dataclass
class Energy:
    """One energy flow (production, total consumption or net consumption) for the site or one phase."""

    watts_now: Optional[float] = None
    wh_today: Optional[float] = None
    wh_last_7_days: Optional[float] = None
    wh_lifetime: Optional[float] = None


@dataclass
class Inverter:
    """One microinverter (PCU)."""

    serial: str
    watts_now: Optional[float] = None  # lastReportWatts
    max_watts: Optional[float] = None  # maxReportWatts
    last_report_ts: Optional[int] = None  # epoch seconds
    # /inventory.json
    provisioned: Optional[bool] = None
    communicating: Optional[bool] = None
    producing: Optional[bool] = None
    operating: Optional[bool] = None
    # /ivp/pdm/device_data (firmware 8.2+)
    ac_voltage_v: Optional[float] = None
    ac_current_a: Optional[float] = None
    ac_frequency_hz: Optional[float] = None
    dc_voltage_v: Optional[float] = None
    dc_current_a: Optional[float] = None
    temperature_c: Optional[float] = None
    energy_today_wh: Optional[float] = None
    lifetime_wh: Optional[float] = None
    # installer rights
    plc_level: Optional[int] = None  # power-line signal, 0 (none) to 5


@dataclass
class AcBattery:
    """One AC Battery (ACB), from /inventory.json and the per-device list of /api/v1/production/inverters."""

    serial: str
    provisioned: Optional[bool] = None
    communicating: Optional[bool] = None
    producing: Optional[bool] = None
    operating: Optional[bool] = None
    watts_now: Optional[float] = None
    max_watts: Optional[float] = None
    last_report_ts: Optional[int] = None
    percent_full: Optional[float] = None
    max_cell_temp_c: Optional[float] = None
    sleep_enabled: Optional[bool] = None
    charge_status: Optional[str] = None  # "charging" | "discharging" | "idle"
    plc_level: Optional[int] = None  # installer rights: power-line signal, 0 (none) to 5


@dataclass
class AcBatteryTotal:
    """All AC Batteries together, from production.json storage[]."""

    count: Optional[int] = None
    watts_now: Optional[float] = None
    wh_now: Optional[float] = None
    state: Optional[str] = None  # "charging" | "discharging" | "idle"
    percent_full: Optional[float] = None


@dataclass
class Encharge:
    """One IQ Battery (Encharge), from /ivp/ensemble/inventory and /ivp/ensemble/power."""

    serial: str
    percent_full: Optional[float] = None
    watts_now: Optional[float] = None  # real power, W (positive = discharging)
    apparent_power_va: Optional[float] = None
    temperature_c: Optional[float] = None
    max_cell_temp_c: Optional[float] = None
    capacity_wh: Optional[float] = None
    dc_switch_off: Optional[bool] = None
    communicating: Optional[bool] = None
    provisioned: Optional[bool] = None
    operating: Optional[bool] = None
    status: Optional[str] = None  # e.g. "ENCHG_STATE_READY"
    led_status: Optional[int] = None
    last_report_ts: Optional[int] = None


@dataclass
class BatteryAggregate:
    """All batteries of the site together (Encharge /ivp/ensemble/secctrl, or the ACB + Encharge total)."""

    percent_full: Optional[float] = None
    available_energy_wh: Optional[float] = None
    max_available_capacity_wh: Optional[float] = None
    reserve_percent: Optional[float] = None
    configured_reserve_percent: Optional[float] = None
    backup_reserve_wh: Optional[float] = None


@dataclass
class MeterReading:
    """Instant values and energy registers of one CT meter, whole meter or one phase."""

    active_power_w: Optional[float] = None
    apparent_power_va: Optional[float] = None
    reactive_power_var: Optional[float] = None
    voltage_v: Optional[float] = None
    current_a: Optional[float] = None
    power_factor: Optional[float] = None
    frequency_hz: Optional[float] = None
    energy_delivered_wh: Optional[float] = None
    energy_received_wh: Optional[float] = None


@dataclass
class Meter:
    """One CT meter from /ivp/meters + /ivp/meters/readings."""

    eid: str
    measurement_type: str  # "production" | "net-consumption" | "total-consumption" | "storage"
    state: Optional[str] = None  # "enabled" | "disabled"
    phase_mode: Optional[str] = None
    phase_count: Optional[int] = None
    metering_status: Optional[str] = None  # "normal", "check-wiring", "not-metering"...
    status_flags: Optional[str] = None  # e.g. "negative-production", comma-separated; "" = none, None = not said
    total: MeterReading = field(default_factory=MeterReading)
    phases: List[MeterReading] = field(default_factory=list)


@dataclass
class Enpower:
    """IQ System Controller (Enpower)."""

    serial: str
    grid_state: Optional[str] = None  # "on-grid" | "off-grid", from grid_mode
    grid_mode: Optional[str] = None  # as reported, e.g. "multimode-ongrid", "grid-tied"
    mains_admin_state: Optional[str] = None  # "closed" | "open"
    mains_oper_state: Optional[str] = None
    temperature_c: Optional[float] = None  # the gateway reports Fahrenheit; converted
    communicating: Optional[bool] = None
    status: Optional[str] = None
    last_report_ts: Optional[int] = None


@dataclass
class Collar:
    """IQ Meter Collar: the grid disconnect of IQ Battery systems that have no IQ System Controller."""

    serial: str
    grid_state: Optional[str] = None  # "on-grid" | "off-grid"
    relay_closed: Optional[bool] = None  # its microgrid interconnect device ("mid_state")
    temperature_c: Optional[float] = None
    communicating: Optional[bool] = None
    status: Optional[str] = None
    last_report_ts: Optional[int] = None


@dataclass
class QRelay:
    """One Q-Relay (NSRB)."""

    serial: str
    relay_state: Optional[str] = None  # "closed" | "open"
    line_states: List[Optional[bool]] = field(default_factory=list)  # per phase, True = connected
    communicating: Optional[bool] = None
    provisioned: Optional[bool] = None
    operating: Optional[bool] = None
    plc_level: Optional[int] = None  # installer rights: power-line signal, 0 (none) to 5


@dataclass
class DryContact:
    """One dry contact (load shedding / generator start) with its full settings object."""

    id: str
    name: Optional[str] = None
    type: Optional[str] = None
    status: Optional[str] = None  # "closed" | "open"
    mode: Optional[str] = None
    settings: Dict[str, object] = field(default_factory=dict)  # the whole object, for safe writes


@dataclass
class Generator:
    """Standby generator behind an Enpower, from /ivp/ensemble/generator."""

    admin_state: Optional[str] = None  # relay asked for: "open" | "closed"
    oper_state: Optional[str] = None  # relay as it is: "open" | "closed"
    running: Optional[bool] = None  # oper_state == "closed"
    admin_mode: Optional[int] = None  # numeric mode as reported
    mode: Optional[str] = None  # "off" | "on" | "auto", as last set (/ivp/ss/gen_mode)
    start_percent: Optional[float] = None  # None: not set (the gateway says -1)
    stop_percent: Optional[float] = None


@dataclass
class StorageSettings:
    """Battery profile from /admin/lib/tariff storage_settings."""

    mode: Optional[str] = None  # "self-consumption" | "savings-mode" | "economy" | "backup"
    reserve_percent: Optional[float] = None
    charge_from_grid: Optional[bool] = None
    very_low_percent: Optional[float] = None


@dataclass
class Readings:
    """Everything read from one gateway in one cycle. What a cycle did not read stays None / empty."""

    gateway: GatewayInfo
    production: Optional[Energy] = None
    consumption: Optional[Energy] = None  # total consumption
    net_consumption: Optional[Energy] = None
    # per phase (L1, L2, L3), only on multi-phase sites with CTs
    production_phases: List[Energy] = field(default_factory=list)
    consumption_phases: List[Energy] = field(default_factory=list)
    net_consumption_phases: List[Energy] = field(default_factory=list)
    ac_battery_total: Optional[AcBatteryTotal] = None
    battery: Optional[BatteryAggregate] = None
    inverters: Dict[str, Inverter] = field(default_factory=dict)
    ac_batteries: Dict[str, AcBattery] = field(default_factory=dict)
    encharges: Dict[str, Encharge] = field(default_factory=dict)
    meters: Dict[str, Meter] = field(default_factory=dict)  # keyed by measurement_type
    enpower: Optional[Enpower] = None
    collar: Optional[Collar] = None
    qrelays: Dict[str, QRelay] = field(default_factory=dict)
    dry_contacts: Dict[str, DryContact] = field(default_factory=dict)
    generator: Optional[Generator] = None
    storage: Optional[StorageSettings] = None
    grid_profile: Optional[str] = None
    production_enabled: Optional[bool] = None  # installer rights: False when production is forced off
    # What the parsers left out because an identifier had not its shape (envoy/text.py), said in words for
    # the log: "a serial that is not one: img?src?x... (40 characters)".
    dropped: List[str] = field(default_factory=list)
