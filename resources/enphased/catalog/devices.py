"""The devices of a site, each its own equipment: microinverters, AC Batteries, IQ Batteries, CT meters,
Q-Relays. Their commands read the device's own reading (envoy/readings.py).

A kind's commands are in the order its dashboard tile shows them (Jeedom lays them out left to right in a
230 px tile): the figures first, two by two, then the yes/no states, one line each; what a user rarely looks at
is created but not shown (visible=False), and stays one click away on the equipment's Commands tab."""
import dataclasses
import time

from .records import Command, Kind, nested

# A report time outside these years is no time (epoch seconds: 2000-01-01, 2100-01-01).
REPORTED_FROM, REPORTED_UNTIL = 946_684_800, 4_102_444_800


def report_time(device):
    """A device's last report as Jeedom shows a date and time: "Y-m-d H:i:s", local time (the daemon runs in
    Jeedom's time zone)."""
    ts = device.last_report_ts
    if ts is None or not REPORTED_FROM <= ts < REPORTED_UNTIL:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


LAST_REPORT = Command(logical_id="last_report", fr="Dernier rapport", en="Last report", subtype="string",
                      read=report_time, cadence="devices", visible=False)

# Commands several device kinds share, word for word.
PROVISIONED = Command(logical_id="provisioned", fr="Provisionné", en="Provisioned", subtype="binary",
                      read=lambda d: d.provisioned, cadence="devices")
COMMUNICATING = Command(logical_id="communicating", fr="Communique", en="Communicating", subtype="binary",
                        read=lambda d: d.communicating, cadence="devices")
_PRODUCING = Command(logical_id="producing", fr="Produit", en="Producing", subtype="binary",
                     read=lambda d: d.producing, cadence="devices")
_OPERATING = Command(logical_id="operating", fr="En service", en="Operating", subtype="binary",
                     read=lambda d: d.operating, cadence="devices")
_MAX_POWER = Command(logical_id="max_power_w", fr="Puissance max", en="Max power", subtype="numeric", unit="W",
                     quantity="device_power", read=lambda d: d.max_watts, cadence="devices")
TEMPERATURE = Command(logical_id="temperature_c", fr="Température", en="Temperature", subtype="numeric",
                      unit="°C", generic="TEMPERATURE", historized=True, read=lambda d: d.temperature_c,
                      cadence="devices")
_PLC_LEVEL = Command(logical_id="plc_level", fr="Niveau CPL", en="PLC level", subtype="numeric",
                     read=lambda d: d.plc_level, cadence="devices", detail=True)
_DEVICE_STATE = [PROVISIONED, COMMUNICATING]  # yes/no states from /inventory.json


def _hidden(command: Command) -> Command:
    """The command, created but not shown on the dashboard (its tile keeps what a user looks at)."""
    return dataclasses.replace(command, visible=False)


def state_is(attr: str, wanted: str):
    """Binary: the device's `attr` equals `wanted` (None when the gateway did not say)."""
    return lambda d: None if getattr(d, attr) is None else getattr(d, attr) == wanted


INVERTER = Kind(kind="inverter", fr="Micro-onduleur", en="Microinverter", commands=tuple([
    Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric", unit="W", generic="PRODUCTION",
            historized=True, quantity="device_power", read=lambda d: d.watts_now, cadence="devices"),
    # Firmware 8.2+ (/ivp/pdm/device_data) only; absent elsewhere, so never created there.
    Command(logical_id="energy_today_wh", fr="Production du jour", en="Production today", subtype="numeric",
            unit="Wh", generic="DAILY_PRODUCTION", historized=True, read=lambda d: d.energy_today_wh,
            cadence="devices"),
    _PRODUCING,
    COMMUNICATING,
    _hidden(PROVISIONED),
    _hidden(_MAX_POWER),
    Command(logical_id="lifetime_wh", fr="Production totale", en="Lifetime production", subtype="numeric",
            unit="Wh", read=lambda d: d.lifetime_wh, cadence="devices", monotonic=True),
    # The detail, only where the user asked for it (Command.detail).
    Command(logical_id="ac_voltage_v", fr="Tension AC", en="AC voltage", subtype="numeric", unit="V",
            generic="VOLTAGE", historized=True, read=lambda d: d.ac_voltage_v, cadence="devices", visible=False,
            detail=True),
    Command(logical_id="dc_voltage_v", fr="Tension DC", en="DC voltage", subtype="numeric", unit="V",
            generic="VOLTAGE", read=lambda d: d.dc_voltage_v, cadence="devices", visible=False, detail=True),
    Command(logical_id="dc_current_a", fr="Courant DC", en="DC current", subtype="numeric", unit="A",
            read=lambda d: d.dc_current_a, cadence="devices", visible=False, detail=True),
    Command(logical_id="temperature_c", fr="Température", en="Temperature", subtype="numeric", unit="°C",
            generic="TEMPERATURE", historized=True, read=lambda d: d.temperature_c, cadence="devices",
            visible=False, detail=True),
    # Microinverter details of firmware 8.2+, and the power-line level an installer's check gives.
    Command(logical_id="ac_current_a", fr="Courant AC", en="AC current", subtype="numeric", unit="A",
            read=lambda d: d.ac_current_a, cadence="devices", visible=False, detail=True),
    Command(logical_id="ac_frequency_hz", fr="Fréquence AC", en="AC frequency", subtype="numeric", unit="Hz",
            read=lambda d: d.ac_frequency_hz, cadence="devices", visible=False, detail=True),
    _PLC_LEVEL,
    # Every 5 minutes for each of up to 600 microinverters: a detail, where the user asked for it.
    Command(logical_id="last_report", fr="Dernier rapport", en="Last report", subtype="string", read=report_time,
            cadence="devices", visible=False, detail=True),
]))

AC_BATTERY = Kind(kind="ac_battery", fr="Batterie AC", en="AC Battery", commands=tuple([
    Command(logical_id="percent", fr="Charge", en="Charge", subtype="numeric", unit="%", generic="BATTERY",
            historized=True, template="core::gauge", read=lambda d: d.percent_full, cadence="devices"),
    Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric", unit="W", generic="POWER",
            historized=True, quantity="device_power", read=lambda d: d.watts_now, cadence="devices"),
    Command(logical_id="max_temperature_c", fr="Température max", en="Max temperature", subtype="numeric",
            unit="°C", generic="TEMPERATURE", historized=True, read=lambda d: d.max_cell_temp_c, cadence="devices"),
    COMMUNICATING,
    _hidden(PROVISIONED),
    _hidden(_PRODUCING),
    _hidden(_MAX_POWER),
    _PLC_LEVEL,
    LAST_REPORT,
]))

_ENCHARGE_STATES = (
    ("ENCHG_STATE_READY", "Prête", "Ready"),
    ("ENCMN_MDE_ENCHARGE_READY", "Prête", "Ready"),  # with an IQ Meter Collar (8.3)
    ("ENCHG_STATE_IDLE", "En veille", "Idle"),
    ("ENCHG_STATE_CHARGING", "En charge", "Charging"),
    ("ENCHG_STATE_DISCHARGING", "En décharge", "Discharging"),
    ("ENCHG_STATE_SLEEP", "En sommeil", "Asleep"),
    ("ENCHG_STATE_FAULT", "En défaut", "Fault"),
)

# Their power and charge come every minute with the site's (/ivp/ensemble/power); the rest every 5 minutes. The
# gateway never gives an IQ Battery's "producing" or maximum power (docs/readings.md).
ENCHARGE = Kind(kind="encharge", fr="Batterie IQ", en="IQ Battery", commands=tuple([
    Command(logical_id="percent", fr="Charge", en="Charge", subtype="numeric", unit="%", generic="BATTERY",
            historized=True, template="core::gauge", read=lambda d: d.percent_full),
    Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric", unit="W", generic="POWER",
            historized=True, quantity="battery_power", read=lambda d: d.watts_now),
    TEMPERATURE,
    Command(logical_id="status", fr="État", en="Status", subtype="string", read=lambda d: d.status,
            cadence="devices", labels=_ENCHARGE_STATES),
    COMMUNICATING,
    # Not shown: "open: ✗" (all is well) reads as a fault on a tile.
    Command(logical_id="dc_switch_off", fr="Interrupteur DC ouvert", en="DC switch off", subtype="binary",
            read=lambda d: d.dc_switch_off, cadence="devices", visible=False),
    _hidden(PROVISIONED),
    _hidden(_OPERATING),
    Command(logical_id="apparent_power_va", fr="Puissance apparente", en="Apparent power", subtype="numeric",
            unit="VA", quantity="battery_power", read=lambda d: d.apparent_power_va, visible=False),
    Command(logical_id="max_temperature_c", fr="Température max", en="Max temperature", subtype="numeric",
            unit="°C", generic="TEMPERATURE", read=lambda d: d.max_cell_temp_c, cadence="devices", visible=False),
    Command(logical_id="capacity_wh", fr="Capacité", en="Capacity", subtype="numeric", unit="Wh",
            read=lambda d: d.capacity_wh, cadence="devices", visible=False),
    LAST_REPORT,
]))


def _phase(index: int, name: str):
    return lambda m: nested(m.phases[index], name) if len(m.phases) > index else None


# The CT registers: on the net CT, grid import (delivered to the site) and export (received from it).
METER_DELIVERED = Command(logical_id="energy_delivered_wh", fr="Énergie délivrée", en="Energy delivered",
                          subtype="numeric", unit="Wh", generic="CONSUMPTION", historized=True,
                          read=lambda m: m.total.energy_delivered_wh, monotonic=True)
METER_RECEIVED = Command(logical_id="energy_received_wh", fr="Énergie reçue", en="Energy received",
                         subtype="numeric", unit="Wh", historized=True, read=lambda m: m.total.energy_received_wh,
                         monotonic=True)

METER = Kind(kind="meter", fr="Compteur", en="CT meter", commands=tuple([
    Command(logical_id="power_w", fr="Puissance", en="Power", subtype="numeric", unit="W", generic="POWER",
            historized=True, read=lambda m: m.total.active_power_w),
    Command(logical_id="voltage_v", fr="Tension", en="Voltage", subtype="numeric", unit="V", generic="VOLTAGE",
            historized=True, read=lambda m: m.total.voltage_v),
    Command(logical_id="current_a", fr="Courant", en="Current", subtype="numeric", unit="A",
            read=lambda m: m.total.current_a),
    METER_DELIVERED,
    METER_RECEIVED,
    Command(logical_id="apparent_power_va", fr="Puissance apparente", en="Apparent power", subtype="numeric",
            unit="VA", read=lambda m: m.total.apparent_power_va, visible=False),
    Command(logical_id="reactive_power_var", fr="Puissance réactive", en="Reactive power", subtype="numeric",
            unit="var", read=lambda m: m.total.reactive_power_var, visible=False),
    Command(logical_id="power_factor", fr="Facteur de puissance", en="Power factor", subtype="numeric",
            quantity="power_factor", read=lambda m: m.total.power_factor, visible=False),
    Command(logical_id="frequency_hz", fr="Fréquence", en="Frequency", subtype="numeric", unit="Hz",
            read=lambda m: m.total.frequency_hz, visible=False),
    Command(logical_id="state", fr="État", en="State", subtype="string", read=lambda m: m.state, visible=False,
            labels=(("enabled", "Activé", "Enabled"), ("disabled", "Désactivé", "Disabled"))),
    # Whether the CT measures as it should (/ivp/meters, every 5 minutes): its status and the gateway's flags.
    Command(logical_id="metering_status", fr="État de mesure", en="Metering status", subtype="string",
            read=lambda m: m.metering_status, cadence="devices",
            labels=(("normal", "Normal", "Normal"), ("check-wiring", "Vérifier le câblage", "Check wiring"),
                    ("not-metering", "Ne mesure pas", "Not metering"))),
    Command(logical_id="status_flags", fr="Alertes de mesure", en="Metering flags", subtype="string",
            read=lambda m: None if m.status_flags is None else m.status_flags or "none", cadence="devices",
            visible=False, labels=(("none", "Aucune", "None"),)),
] + [
    Command(logical_id=f"l{i + 1}_{key}", fr=f"{fr} L{i + 1}", en=f"{en} L{i + 1}", subtype="numeric", unit=unit,
            generic=generic, read=_phase(i, attr), visible=False)
    for i in range(3)
    for key, fr, en, unit, generic, attr in (
        ("power_w", "Puissance", "Power", "W", "POWER", "active_power_w"),
        ("voltage_v", "Tension", "Voltage", "V", "VOLTAGE", "voltage_v"),
        ("current_a", "Courant", "Current", "A", "GENERIC_INFO", "current_a"),
    )
] + [
    # Power factor and frequency per phase, for production, net and storage CTs alike.
    Command(logical_id=f"l{i + 1}_{key}", fr=f"{fr} L{i + 1}", en=f"{en} L{i + 1}", subtype="numeric", unit=unit,
            quantity=quantity, read=_phase(i, attr), visible=False)
    for i in range(3)
    for key, fr, en, unit, quantity, attr in (
        ("power_factor", "Facteur de puissance", "Power factor", "", "power_factor", "power_factor"),
        ("frequency_hz", "Fréquence", "Frequency", "Hz", "frequency", "frequency_hz"),
    )
]))

# French and English of each CT's measurement type, in its equipment's name.
METER_NAMES = {
    "production": ("production", "production"),
    "net-consumption": ("consommation nette", "net consumption"),
    "total-consumption": ("consommation totale", "total consumption"),
    "storage": ("stockage", "storage"),
}
NET_CT = "net-consumption"  # the CT whose registers count grid import and export

QRELAY = Kind(kind="qrelay", fr="Q-Relay", en="Q-Relay", commands=tuple([
    Command(logical_id="relay_closed", fr="Relais fermé", en="Relay closed", subtype="binary", historized=True,
            read=state_is("relay_state", "closed"), cadence="devices"),
] + [
    Command(logical_id=f"l{i + 1}_connected", fr=f"Phase L{i + 1} connectée", en=f"Line L{i + 1} connected",
            subtype="binary", read=(lambda i: lambda d: d.line_states[i] if len(d.line_states) > i else None)(i),
            cadence="devices", visible=False)
    for i in range(3)
] + _DEVICE_STATE + [
    _OPERATING,
    _PLC_LEVEL,
]))
