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


def _energy(flow: str, attr: str, fr: str, en: str, now_generic: str, total_generic: str,
            monotonic: bool) -> EnergyFlow:
    return EnergyFlow(
        now=Command(logical_id=f"{flow}_w", fr=f"{fr} instantanée", en=f"Instant {en}", subtype="numeric",
                    unit="W", generic=now_generic, historized=True, read=lambda r: nested(r, attr, "watts_now")),
        # The day's generic types go to the counted figures (DAY_FIGURES), which every gateway has and which
        # survive late resets: Jeedom's energy apps must find one command per type.
        today=Command(logical_id=f"{flow}_today_wh", fr=f"{fr} du jour", en=f"{en.capitalize()} today",
                      subtype="numeric", unit="Wh", historized=True, read=lambda r: nested(r, attr, "wh_today")),
        week=Command(logical_id=f"{flow}_7days_wh", fr=f"{fr} 7 jours", en=f"{en.capitalize()} last 7 days",
                     subtype="numeric", unit="Wh", read=lambda r: nested(r, attr, "wh_last_7_days")),
        lifetime=Command(logical_id=f"{flow}_lifetime_wh", fr=f"{fr} totale", en=f"Lifetime {en}",
                         subtype="numeric", unit="Wh", generic=total_generic, historized=True,
                         read=lambda r: nested(r, attr, "wh_lifetime"), monotonic=monotonic),
    )


PRODUCTION = _energy("production", "production", "Production", "production", "PRODUCTION", "PRODUCTION", True)
CONSUMPTION = _energy("consumption", "consumption", "Consommation", "consumption", "POWER", "CONSUMPTION", True)
# Net lifetime goes down while the site exports: not monotonic (counters.py rebuilds it, see NET_BALANCE).
NET = _energy("net", "net_consumption", "Consommation nette", "net consumption", "POWER", "GENERIC_INFO", False)


# --- what counters.py counts (docs/counters.md), named here so that it knows no logicalId of its own


@keyword_only
@dataclass(frozen=True)
class DayFlow:
    """A flow of energy whose day counters.py counts from a monotonic lifetime counter."""

    name: str
    equipment: Callable[[str], str]  # the gateway's serial -> logicalId of the equipment holding the counter
    lifetime: str  # that counter (a monotonic command)
    day: str  # the gateway's commands: the day so far, and yesterday's figure
    yesterday: str
    # The gateway's own "today" and "last 7 days" of the flow, published only when the counter agrees.
    gateway_today: str = ""
    gateway_week: str = ""


@keyword_only
@dataclass(frozen=True)
class DayRate:
    """100 % × (1 - part / whole) of the day so far, from two flows."""

    logical_id: str
    whole: str  # flow names
    part: str


@keyword_only
@dataclass(frozen=True)
class Balance:
    """A lifetime balance rebuilt from two monotonic counters: plus - minus."""

    logical_id: str
    plus: str  # flow names
    minus: str


class DayFigures(NamedTuple):
    """The day so far and yesterday of one flow. No `read`: no single reading holds them; counters.py adds
    them to the gateway's values."""

    day: Command
    yesterday: Command


def _day_figures(flow: str, fr: str, en: str, generic: str, mark: Tuple[str, str]) -> DayFigures:
    return DayFigures(
        day=Command(logical_id=f"{flow}_day_wh", fr=f"{fr} du jour{mark[0]}", en=f"{en} today{mark[1]}",
                    subtype="numeric", unit="Wh", generic=generic, historized=True),
        yesterday=Command(logical_id=f"{flow}_yesterday_wh", fr=f"{fr} de la veille{mark[0]}",
                          en=f"{en} yesterday{mark[1]}", subtype="numeric", unit="Wh", historized=True),
    )


# The gateway's own "today" is already named "Production du jour": these say where they come from.
_COUNTER = (" (compteur)", " (counter)")
_PRODUCTION_DAY = _day_figures("production", "Production", "Production", "DAILY_PRODUCTION", _COUNTER)
_CONSUMPTION_DAY = _day_figures("consumption", "Consommation", "Consumption", "DAILY_CONSUMPTION", _COUNTER)
_IMPORT_DAY = _day_figures("grid_import", "Import réseau", "Grid import", "GENERIC_INFO", ("", ""))
_EXPORT_DAY = _day_figures("grid_export", "Export réseau", "Grid export", "GENERIC_INFO", ("", ""))
_SELF_CONSUMPTION = Command(logical_id="self_consumption_day_pct", fr="Taux d’autoconsommation du jour",
                            en="Self-consumption today", subtype="numeric", unit="%", historized=True)
_SELF_SUFFICIENCY = Command(logical_id="self_sufficiency_day_pct", fr="Taux d’autoproduction du jour",
                            en="Self-sufficiency today", subtype="numeric", unit="%", historized=True)
DAY_FIGURES = (list(_PRODUCTION_DAY) + list(_CONSUMPTION_DAY) + list(_IMPORT_DAY) + list(_EXPORT_DAY)
               + [_SELF_CONSUMPTION, _SELF_SUFFICIENCY])


def _flow(name: str, equipment: Callable[[str], str], lifetime: Command, figures: DayFigures,
          own: Optional[EnergyFlow] = None) -> DayFlow:
    return DayFlow(name=name, equipment=equipment, lifetime=lifetime.logical_id, day=figures.day.logical_id,
                   yesterday=figures.yesterday.logical_id, gateway_today=own.today.logical_id if own else "",
                   gateway_week=own.week.logical_id if own else "")


def _on_gateway(serial: str) -> str:
    return serial


def day_flows(net_meter: Callable[[str], str], delivered: Command, received: Command) -> Tuple[DayFlow, ...]:
    """The flows counted each day; the grid's come from the net CT's registers (catalog/__init__.py)."""
    return (
        _flow("production", _on_gateway, PRODUCTION.lifetime, _PRODUCTION_DAY, PRODUCTION),
        _flow("consumption", _on_gateway, CONSUMPTION.lifetime, _CONSUMPTION_DAY, CONSUMPTION),
        _flow("grid_import", net_meter, delivered, _IMPORT_DAY),
        _flow("grid_export", net_meter, received, _EXPORT_DAY),
    )


# Self-consumption: the share of production not exported; self-sufficiency: of consumption not imported.
DAY_RATES = (DayRate(logical_id=_SELF_CONSUMPTION.logical_id, whole="production", part="grid_export"),
             DayRate(logical_id=_SELF_SUFFICIENCY.logical_id, whole="consumption", part="grid_import"))
# Net lifetime = grid import - grid export, from the net CT's registers once they have been seen.
NET_BALANCE = Balance(logical_id=NET.lifetime.logical_id, plus="grid_import", minus="grid_export")


GATEWAY = Kind(kind="gateway", fr="Passerelle", en="Gateway", commands=tuple(
    list(PRODUCTION) + list(CONSUMPTION) + list(NET) + DAY_FIGURES + [
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
    # Batteries of the site together (/ivp/ensemble/secctrl) and their profile (/admin/lib/tariff).
    Command(logical_id="battery_available_wh", fr="Énergie disponible batteries", en="Battery available energy",
            subtype="numeric", unit="Wh", historized=True, read=lambda r: nested(r, "battery", "available_energy_wh")),
    Command(logical_id="battery_capacity_wh", fr="Capacité batteries", en="Battery capacity", subtype="numeric",
            unit="Wh", read=lambda r: nested(r, "battery", "max_available_capacity_wh"), visible=False),
    Command(logical_id="battery_reserve_percent", fr="Réserve batteries appliquée", en="Battery reserve in force",
            subtype="numeric", unit="%", read=lambda r: nested(r, "battery", "reserve_percent")),
    Command(logical_id="battery_backup_wh", fr="Énergie de secours", en="Backup energy", subtype="numeric",
            unit="Wh", read=lambda r: nested(r, "battery", "backup_reserve_wh"), visible=False),
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
