"""The gateway's equipment: the site's energy flows, the figures of the day that counters.py counts, the
batteries of the site together, and the gateway's actions. Its commands read the whole `Readings`."""
from dataclasses import dataclass
from typing import Callable, Dict, NamedTuple, Optional, Tuple

import controls
from envoy import battery
from envoy.endpoints import STORAGE_MODES

from .records import Command, Kind, action, keyword_only, nested

PERCENT = dict(min_value=0, max_value=100)


def select(words, labels: Dict[str, Tuple[str, str]]) -> Tuple[Tuple[str, str, str], ...]:
    """The labels of a gateway's words ((word, French, English), ...), in the gateway's order: a select's
    choices, and what its info command shows for each word."""
    if set(labels) != set(words):
        raise ValueError(f"labels for {sorted(labels)}, but the gateway's words are {list(words)}")
    return tuple((word,) + tuple(labels[word]) for word in words)


STORAGE_MODE_LABELS = select(STORAGE_MODES, {"self-consumption": ("Autoconsommation", "Self-consumption"),
                                             "economy": ("Économies", "Savings"),
                                             "backup": ("Secours intégral", "Full backup")})


def _count(*groups):
    """Number of devices in the given lists, None when this reading listed none (not read, or none there)."""
    total = sum(len(group) for group in groups)
    return total or None


class EnergyFlow(NamedTuple):
    """The four readings of one energy flow of the site (production, consumption, net)."""

    now: Command
    today: Command
    week: Command
    lifetime: Command


def _energy(flow: str, attr: str, fr: str, en: str, now_generic: str, day_generic: str, total_generic: str,
            monotonic: bool, replaces: Tuple[str, ...] = (), now: Optional[Callable] = None) -> EnergyFlow:
    return EnergyFlow(
        now=Command(logical_id=f"{flow}_w", fr=f"{fr} instantanée", en=f"Instant {en}", subtype="numeric",
                    unit="W", generic=now_generic, historized=True,
                    read=now or (lambda r: nested(r, attr, "watts_now"))),
        # The day and the last 7 days: the gateway's own figure is read here, then counters.py publishes the
        # best source's (figures.py).
        today=Command(logical_id=f"{flow}_today_wh", fr=f"{fr} du jour", en=f"{en.capitalize()} today",
                      subtype="numeric", unit="Wh", generic=day_generic, historized=True,
                      read=lambda r: nested(r, attr, "wh_today"), replaces=replaces),
        week=Command(logical_id=f"{flow}_7days_wh", fr=f"{fr} 7 jours", en=f"{en.capitalize()} last 7 days",
                     subtype="numeric", unit="Wh", read=lambda r: nested(r, attr, "wh_last_7_days")),
        lifetime=Command(logical_id=f"{flow}_lifetime_wh", fr=f"{fr} totale", en=f"Lifetime {en}",
                         subtype="numeric", unit="Wh", generic=total_generic, historized=True,
                         read=lambda r: nested(r, attr, "wh_lifetime"), monotonic=monotonic),
    )


# Version 0.1 had a second, counted "Production du jour (compteur)": the one command of the day replaces it.
PRODUCTION = _energy("production", "production", "Production", "production", "PRODUCTION", "DAILY_PRODUCTION",
                     "PRODUCTION", True, replaces=("production_day_wh",))
# Its power now is the house's (the energy-flow widget's "home": solar + grid + battery); its energies, the
# gateway's total consumption, count the batteries' charge as consumed (docs/readings.md).
CONSUMPTION = _energy("consumption", "consumption", "Consommation", "consumption", "POWER", "DAILY_CONSUMPTION",
                      "CONSUMPTION", True, replaces=("consumption_day_wh",), now=battery.home_w)
# Net lifetime goes down while the site exports: not monotonic (counters.py rebuilds it, see NET).
NET = _energy("net", "net_consumption", "Consommation nette", "net consumption", "POWER", "GENERIC_INFO",
              "GENERIC_INFO", False)


# --- the day's and the week's figures: one command per quantity (docs/counters.md). counters.py counts them from
# the monotonic lifetime counters and figures.py chooses each one's source; both take every logicalId from here.


@keyword_only
@dataclass(frozen=True)
class DayFlow:
    """A flow of energy counted each day from one monotonic lifetime counter."""

    name: str
    equipment: Callable[[str], str]  # the gateway's serial -> logicalId of the equipment holding the counter
    lifetime: str  # that counter (a monotonic command)
    day: str  # the gateway's commands: the day so far, yesterday, the last 7 days ("": none)
    yesterday: str
    week: str = ""
    power: str = ""  # the gateway's command of the flow's power now ("": none)


@keyword_only
@dataclass(frozen=True)
class Balance:
    """A quantity that is the difference of two flows, so may be negative: net = grid import - grid export. Its
    lifetime, day and 7 days. Where those two flows are not counted, the same quantity is `also_plus` -
    `also_minus` of the day (the gateway's consumption is production + net)."""

    name: str
    lifetime: str
    day: str
    week: str
    plus: str  # flow names
    minus: str
    also_plus: str = ""
    also_minus: str = ""
    power: str = ""


@keyword_only
@dataclass(frozen=True)
class DayRate:
    """100 % × (1 - part / whole) of the day so far, from two flows."""

    logical_id: str
    whole: str  # flow names
    part: str


def _yesterday(flow: str, fr: str, en: str) -> Command:
    return Command(logical_id=f"{flow}_yesterday_wh", fr=f"{fr} de la veille", en=f"{en} yesterday",
                   subtype="numeric", unit="Wh", historized=True)


def _day(flow: str, fr: str, en: str) -> Command:
    return Command(logical_id=f"{flow}_day_wh", fr=f"{fr} du jour", en=f"{en} today", subtype="numeric",
                   unit="Wh", historized=True)


# No `read`: no single reading holds them; counters.py adds them to the gateway's values.
_PRODUCTION_YESTERDAY = _yesterday("production", "Production", "Production")
_CONSUMPTION_YESTERDAY = _yesterday("consumption", "Consommation", "Consumption")
_IMPORT_DAY, _IMPORT_YESTERDAY = _day("grid_import", "Import réseau", "Grid import"), \
    _yesterday("grid_import", "Import réseau", "Grid import")
_EXPORT_DAY, _EXPORT_YESTERDAY = _day("grid_export", "Export réseau", "Grid export"), \
    _yesterday("grid_export", "Export réseau", "Grid export")
_SELF_CONSUMPTION = Command(logical_id="self_consumption_day_pct", fr="Taux d’autoconsommation du jour",
                            en="Self-consumption today", subtype="numeric", unit="%", historized=True)
_SELF_SUFFICIENCY = Command(logical_id="self_sufficiency_day_pct", fr="Taux d’autoproduction du jour",
                            en="Self-sufficiency today", subtype="numeric", unit="%", historized=True)
DAY_FIGURES = [_PRODUCTION_YESTERDAY, _CONSUMPTION_YESTERDAY, _IMPORT_DAY, _IMPORT_YESTERDAY, _EXPORT_DAY,
               _EXPORT_YESTERDAY, _SELF_CONSUMPTION, _SELF_SUFFICIENCY]


def _on_gateway(serial: str) -> str:
    return serial


# --- per phase (multi-phase sites with CTs): each flow's energy of the day and lifetime, L1 to L3


class PhaseEnergy(NamedTuple):
    today: Command
    lifetime: Command


def _phase_energy(flow: str, attr: str, fr: str, en: str, phase: int, monotonic: bool) -> PhaseEnergy:
    line = f"l{phase + 1}"

    def read(field: str):
        def value(r):
            lines = getattr(r, f"{attr}_phases")
            return nested(lines[phase], field) if len(lines) > phase else None
        return value

    return PhaseEnergy(
        today=Command(logical_id=f"{flow}_{line}_today_wh", fr=f"{fr} {line.upper()} du jour",
                      en=f"{en} {line.upper()} today", subtype="numeric", unit="Wh", historized=True,
                      read=read("wh_today"), visible=False),
        lifetime=Command(logical_id=f"{flow}_{line}_lifetime_wh", fr=f"{fr} totale {line.upper()}",
                         en=f"Lifetime {en.lower()} {line.upper()}", subtype="numeric", unit="Wh",
                         read=read("wh_lifetime"), monotonic=monotonic, visible=False),
    )


PHASES = range(3)
PHASE_ENERGY = {(flow, phase): _phase_energy(flow, attr, fr, en, phase, monotonic)
                for flow, attr, fr, en, monotonic in (
                    ("production", "production", "Production", "Production", True),
                    ("consumption", "consumption", "Consommation", "Consumption", True),
                    ("net", "net_consumption", "Consommation nette", "Net consumption", False))
                for phase in PHASES}


def _phase_flow(flow: str, phase: int) -> DayFlow:
    energy = PHASE_ENERGY[(flow, phase)]
    return DayFlow(name=f"{flow}_l{phase + 1}", equipment=_on_gateway, lifetime=energy.lifetime.logical_id,
                   day=energy.today.logical_id, yesterday="")


def day_flows(net_meter: Callable[[str], str], delivered: Command, received: Command) -> Tuple[DayFlow, ...]:
    """The flows counted each day; the grid's come from the net CT's registers (catalog/__init__.py)."""
    return (
        DayFlow(name="production", equipment=_on_gateway, lifetime=PRODUCTION.lifetime.logical_id,
                day=PRODUCTION.today.logical_id, yesterday=_PRODUCTION_YESTERDAY.logical_id,
                week=PRODUCTION.week.logical_id, power=PRODUCTION.now.logical_id),
        DayFlow(name="consumption", equipment=_on_gateway, lifetime=CONSUMPTION.lifetime.logical_id,
                day=CONSUMPTION.today.logical_id, yesterday=_CONSUMPTION_YESTERDAY.logical_id,
                week=CONSUMPTION.week.logical_id, power=CONSUMPTION.now.logical_id),
        DayFlow(name="grid_import", equipment=net_meter, lifetime=delivered.logical_id, day=_IMPORT_DAY.logical_id,
                yesterday=_IMPORT_YESTERDAY.logical_id),
        DayFlow(name="grid_export", equipment=net_meter, lifetime=received.logical_id, day=_EXPORT_DAY.logical_id,
                yesterday=_EXPORT_YESTERDAY.logical_id),
    ) + tuple(_phase_flow(flow, phase) for flow in ("production", "consumption") for phase in PHASES)


# Self-consumption: the share of production not exported; self-sufficiency: of consumption not imported.
DAY_RATES = (DayRate(logical_id=_SELF_CONSUMPTION.logical_id, whole="production", part="grid_export"),
             DayRate(logical_id=_SELF_SUFFICIENCY.logical_id, whole="consumption", part="grid_import"))
# Net = grid import - grid export, from the net CT's registers once they have been seen; else, for the day and the
# week, consumption - production (the gateway's total consumption is production + net).
NET_BALANCE = Balance(name="net", lifetime=NET.lifetime.logical_id, day=NET.today.logical_id,
                      week=NET.week.logical_id, plus="grid_import", minus="grid_export", also_plus="consumption",
                      also_minus="production", power=NET.now.logical_id)
# Per phase, the net of the day is consumption - production of that phase (its import and export are not
# counted); its lifetime is the gateway's.
BALANCES = (NET_BALANCE,) + tuple(
    Balance(name=f"net_l{phase + 1}", lifetime=PHASE_ENERGY[("net", phase)].lifetime.logical_id,
            day=PHASE_ENERGY[("net", phase)].today.logical_id, week="", plus="", minus="",
            also_plus=f"consumption_l{phase + 1}", also_minus=f"production_l{phase + 1}")
    for phase in PHASES)


GATEWAY = Kind(kind="gateway", fr="Passerelle", en="Gateway", commands=tuple(
    list(PRODUCTION) + list(CONSUMPTION) + list(NET) + DAY_FIGURES
    + [command for energy in PHASE_ENERGY.values() for command in energy] + [
    Command(logical_id="battery_percent", fr="Charge batteries", en="Battery charge", subtype="numeric", unit="%",
            generic="BATTERY", historized=True, template="core::gauge", read=battery.percent_full),
    Command(logical_id="battery_power_w", fr="Puissance batteries", en="Battery power", subtype="numeric", unit="W",
            generic="POWER", historized=True, read=battery.power_w),
    Command(logical_id="battery_state", fr="État batteries", en="Battery state", subtype="string",
            read=battery.state, labels=(("charging", "En charge", "Charging"),
                                        ("discharging", "En décharge", "Discharging"),
                                        ("idle", "En veille", "Idle"))),
    Command(logical_id="inverters_count", fr="Nombre de micro-onduleurs", en="Number of microinverters",
            subtype="numeric", template="core::line", read=lambda r: _count(r.inverters), cadence="devices"),
    Command(logical_id="batteries_count", fr="Nombre de batteries", en="Number of batteries", subtype="numeric",
            template="core::line", read=lambda r: _count(r.ac_batteries, r.encharges), cadence="devices"),
    # Batteries of the site together (/ivp/ensemble/secctrl, every 5 minutes) and their profile (/admin/lib/tariff).
    Command(logical_id="battery_available_wh", fr="Énergie disponible batteries", en="Battery available energy",
            subtype="numeric", unit="Wh", historized=True, read=lambda r: nested(r, "battery", "available_energy_wh"),
            cadence="devices"),
    Command(logical_id="battery_capacity_wh", fr="Capacité batteries", en="Battery capacity", subtype="numeric",
            unit="Wh", read=lambda r: nested(r, "battery", "max_available_capacity_wh"), visible=False,
            cadence="devices"),
    Command(logical_id="battery_reserve_percent", fr="Réserve batteries appliquée", en="Battery reserve in force",
            subtype="numeric", unit="%", read=lambda r: nested(r, "battery", "reserve_percent"), cadence="devices"),
    Command(logical_id="battery_backup_wh", fr="Énergie de secours", en="Backup energy", subtype="numeric",
            unit="Wh", read=lambda r: nested(r, "battery", "backup_reserve_wh"), visible=False, cadence="devices"),
    Command(logical_id="storage_mode", fr="Profil batteries", en="Battery profile", subtype="string",
            read=lambda r: nested(r, "storage", "mode"), cadence="devices", labels=STORAGE_MODE_LABELS),
    Command(logical_id="storage_reserve_percent", fr="Réserve batteries", en="Battery reserve", subtype="numeric",
            unit="%", read=lambda r: nested(r, "storage", "reserve_percent"), cadence="devices"),
    Command(logical_id="charge_from_grid", fr="Charge depuis le réseau", en="Charge from grid", subtype="binary",
            read=lambda r: nested(r, "storage", "charge_from_grid"), cadence="devices"),
    Command(logical_id="grid_profile", fr="Profil réseau", en="Grid profile", subtype="string",
            read=lambda r: r.grid_profile, cadence="devices"),
    Command(logical_id="production_enabled", fr="Production autorisée", en="Production allowed", subtype="binary",
            read=lambda r: r.production_enabled, cadence="devices"),
    action(logical_id="set_storage_mode", fr="Choisir le profil batteries", en="Set battery profile",
           run=controls.storage_mode, value="storage_mode", subtype="select",
           labels=STORAGE_MODE_LABELS),
    action(logical_id="set_storage_reserve", fr="Régler la réserve batteries", en="Set battery reserve",
           run=controls.storage_reserve, value="storage_reserve_percent", subtype="slider", **PERCENT),
    action(logical_id="production_on", fr="Autoriser la production", en="Allow production",
           run=controls.production(True), value="production_enabled"),
    action(logical_id="production_off", fr="Couper la production", en="Force production off",
           run=controls.production(False), value="production_enabled"),
    action(logical_id="plc_check", fr="Tester la communication CPL", en="Check power-line communication",
           run=controls.plc_check, cadence="devices", visible=False),
    action(logical_id="pause", fr="Suspendre le relevé", en="Pause polling", run=controls.polling(False),
           visible=False),
    action(logical_id="resume", fr="Reprendre le relevé", en="Resume polling", run=controls.polling(True),
           visible=False),
]))
