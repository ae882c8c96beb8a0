"""A synthetic firmware-8 gateway: our own model of a house with panels, batteries and CT meters.

It ships with the plugin (demo, benchmarks); the recorded gateways never do. It answers the same
interface as `recorded.RecordedGateway` (`info_xml()`, `response(path)`) plus `handle_write(method,
path, body)` for the controls, so the servers of this package put it on a socket unchanged.

The model is a simulation in steps of at most one minute, driven by the injected clock:
- photovoltaics follow a sun curve of the clock's local time, the season and a seeded weather of the day
  (or a clear sky every day: `sunny`; `starting_at(hour)` is a clock that plays today from that hour on);
- the house draws a base load plus morning and evening peaks and seeded appliance runs;
- the batteries charge on surplus and give it back when the house needs it, down to the reserve
  (storage mode "backup" keeps them full; "savings-mode"/"economy" only discharge in the evening);
- net consumption = house - production - battery (battery positive when discharging); the gateway's total
  consumption is, as on every recorded battery site, production + net consumption: what the batteries take
  counts as consumed, what they give back as consumption avoided (the house alone is total + battery).
Within a step every power is constant, so every energy counter is the exact integral of the powers the
endpoints show; counters only grow, "today" restarts at local midnight. Everything is computed per phase
and the totals are sums of the phases. The simulation starts at local midnight seven days before the
first reading, from seeded lifetime counters, so the same seed and the same clock readings give the same
answers byte for byte.
"""
import json
import random
import threading
import time
from math import exp, pi, sin
from collections import deque
from typing import Callable, Dict, List, Optional, Tuple
from xml.sax.saxutils import escape

from simulator.recorded import Response

STEP_S = 60
_M64 = (1 << 64) - 1
# The simulator's own copies of the gateway's facts (also in envoy/endpoints.py), kept here on purpose: it
# plays the gateway, so a wrong fact on the reader's side shows as a failing test instead of agreeing with
# itself. writable.py takes them from here.
GATEWAY_EID = 603980032  # the gateway's own device id in /ivp/mod/<eid>/mode/power (all production)
# Device ids (EIDs) of each kind, as the gateway numbers them: kind base + 0x100 per device.
_PCU_EID, _ACB_EID, _NSRB_EID, _EIM_EID = 0x21000000, 0x2B000000, 0x2C000000, 0x2A000000
_CHANNEL = 0x40000011  # a device's first channel EID = device EID + this
STORAGE_MODES = ("self-consumption", "backup", "savings-mode", "economy")
# From this firmware the gateway accepts PUT /admin/lib/tariff but ignores it (only the cloud can change it).
TARIFF_WRITE_IGNORED_FROM = (8, 2, 4225)
DRY_CONTACT_IDS = ("NC1", "NC2", "NO1", "NO2")
# Load shares per phase (single, split, three phase).
_LOAD_SHARES = {1: (1.0,), 2: (0.55, 0.45), 3: (0.40, 0.35, 0.25)}
_ENCHARGE_WH, _ENCHARGE_W = 5000.0, 3840.0  # IQ Battery 5P
_ACB_WH, _ACB_W = 1200.0, 270.0  # AC Battery


def _unit(seed: int, a: int, b: int = 0) -> float:
    """A deterministic number in [0, 1) from integers (splitmix64): seeded noise without state."""
    z = (seed * 0x9E3779B97F4A7C15 + a * 0xBF58476D1CE4E5B9 + b * 0x94D049BB133111EB + 1) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return (z ^ (z >> 31)) / 18446744073709551616.0


def _version(firmware: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in firmware.split(".") if p.isdigit())


def _json(status: int, data) -> Response:
    return Response(status, json.dumps(data, separators=(",", ":")).encode(), "application/json")


_NOT_FOUND = Response(404, b'{"error":"404 - Not Found"}', "application/json")


class _Inverter:
    __slots__ = ("serial", "eid", "phase", "kw", "rating_w", "report_offset", "enabled", "disabled_at_irr",
                 "missed_irr", "missed_irr_midnight")

    def __init__(self, serial, eid, phase, rating_w, orientation, report_offset):
        self.serial, self.eid, self.phase = serial, eid, phase
        self.rating_w = rating_w
        self.kw = rating_w * orientation  # W at full sun for this panel's orientation
        self.report_offset = report_offset
        self.enabled = True
        self.disabled_at_irr = 0.0
        self.missed_irr = 0.0  # sun hours during which production was forced off
        self.missed_irr_midnight = 0.0


def starting_at(hour: float) -> Callable[[], float]:
    """A clock that reads today at `hour` (local time, 0 to 24) now, and runs on at the real pace: the demo plays
    a day time whatever the real hour."""
    now = time.localtime()
    wanted = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0, 0, 0, -1)) + hour * 3600
    offset = wanted - time.time()
    return lambda: time.time() + offset


class SyntheticGateway:
    def __init__(self, inverters: int = 12, encharges: int = 2, acbs: int = 0, phases: int = 1,
                 consumption_cts: bool = True, enpower: bool = False, qrelays: int = 0,
                 generator: bool = False, dry_contacts: int = 0, firmware: str = "8.2.4345",
                 serial: Optional[str] = None, clock: Callable[[], float] = time.time, seed: int = 1,
                 sunny: bool = False):
        if phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        if not 0 <= dry_contacts <= len(DRY_CONTACT_IDS):
            raise ValueError("dry_contacts must be 0 to 4")
        self.seed, self.clock, self.firmware, self.phases = seed, clock, firmware, phases
        self.sunny = sunny
        self.metered = consumption_cts
        self.has_enpower, self.has_generator = enpower, generator
        rng = random.Random(seed)
        self.serial = serial or "1223%08d" % rng.randrange(10 ** 8)
        self.installed = 1_600_000_000 + rng.randrange(60_000_000)  # device creation dates
        start = rng.randrange(10 ** 7, 9 * 10 ** 7)
        self.inverters: List[_Inverter] = [
            _Inverter("4822%08d" % (start + i), _PCU_EID + 0x100 * (i + 1), i % phases,
                      rng.choice((295, 325, 349, 384)), rng.uniform(0.85, 1.0), rng.randrange(300))
            for i in range(inverters)]
        self._by_eid = {inv.eid: inv for inv in self.inverters}
        self.encharge_serials = ["4923%08d" % (start + i) for i in range(encharges)]
        self.acb_serials = ["1219%08d" % (start + i) for i in range(acbs)]
        self.qrelay_serials = ["1221%08d" % (start + i) for i in range(qrelays)]
        self.enpower_serial = "4823%08d" % start if enpower else None
        self.battery_wh = encharges * _ENCHARGE_WH + acbs * _ACB_WH
        self.battery_max_w = encharges * _ENCHARGE_W + acbs * _ACB_W
        self._acb_share = (acbs * _ACB_WH / self.battery_wh) if self.battery_wh else 0.0
        self._house = rng.uniform(0.8, 1.3) * max(1.0, sum(i.kw for i in self.inverters) / 4000.0)
        # Controls (mutable state).
        self.storage_mode = "self-consumption"
        self.reserve_percent = 20.0
        self.very_low_percent = 5.0
        self.charge_from_grid = False
        self.mains_admin_state = "closed"
        self.dry_contacts = [self._dry_contact_settings(i, c) for i, c in enumerate(DRY_CONTACT_IDS[:dry_contacts])]
        self.dry_contact_status = {c["id"]: "open" for c in self.dry_contacts}
        self.generator_mode = "off"
        self.live_stream = False
        self._years = rng.uniform(1.5, 4.0)
        self._soc_start = rng.uniform(0.3, 0.8)
        self._sim_started = False
        self._cache_second: Optional[int] = None
        self._cache: Dict[str, Response] = {}
        self._snap: dict = {}
        self._lock = threading.RLock()  # the servers answer from several threads; the model steps once

    # ---------------------------------------------------------------- simulation
    def _start(self, t: float) -> None:
        """Lay the seeded state at local midnight seven days before `t`, then run up to `t`."""
        lt = time.localtime(t)
        midnight = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday - 7, 0, 0, 0, 0, 0, -1))
        P = self.phases
        self._cap = [sum(i.kw for i in self.inverters if i.phase == p) for p in range(P)]
        self.irr = self._years * 1150.0  # lifetime "sun hours": lifetime Wh of an inverter = kw * irr
        pv = [c * self.irr for c in self._cap]
        total_pv = sum(pv) or 1.0
        shares = _LOAD_SHARES[P]
        load = [1.15 * total_pv * s for s in shares]
        cycles_wh = self.battery_wh * 0.7 * 250 * self._years / P
        exp = [max(0.35 * pv[p], pv[p] - load[p] + 0.05 * load[p]) for p in range(P)]
        imp = [load[p] - pv[p] + exp[p] for p in range(P)]  # load = pv + (dis - chg) + imp - exp
        self.life = {"pv": pv, "load": load, "imp": imp, "exp": exp, "chg": [cycles_wh] * P, "dis": [cycles_wh] * P}
        self._zero_today()
        self.history: deque = deque(maxlen=6)  # the six previous days: (totals per counter per phase, irr)
        self.soc_wh = self.battery_wh * self._soc_start
        self._day_start, self._day_end = midnight, self._next_midnight(midnight)
        self._new_day_weather()
        self._seg_start = midnight
        self._set_powers()
        self._sim_started = True

    def _zero_today(self) -> None:
        self.today = {k: [0.0] * self.phases for k in ("pv", "load", "imp", "exp", "chg", "dis")}
        self.irr_today = 0.0
        self.max_f_today = 0.0

    @staticmethod
    def _next_midnight(midnight: float) -> float:
        lt = time.localtime(midnight + 36 * 3600)  # lands in the next day whatever the DST change
        return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))

    def _new_day_weather(self) -> None:
        lt = time.localtime(self._day_start + 12 * 3600)
        day = int(self._day_start // 86400)
        self._day_ordinal = day
        u = _unit(self.seed, day, 1) * (0.5 if self.sunny else 1.0)  # sunny: always the clear band below
        # clear 55 %, partly cloudy 30 %, overcast 15 %
        self._weather = 0.95 + 0.05 * u if u < 0.55 else (0.55 + 0.35 * u if u < 0.85 else 0.15 + 0.2 * u)
        self._cloudy = 0.55 <= u < 0.85
        season = sin(2 * pi * (lt.tm_yday - 80) / 365.25)
        self._daylen = 12.0 + 3.5 * season
        self._noon = 12.5 + (1.0 if lt.tm_isdst > 0 else 0.0)
        self._season = 0.78 + 0.22 * season

    def _roll_day(self) -> None:
        self.history.append(({k: list(v) for k, v in self.today.items()}, self.irr_today))
        for inv in self.inverters:
            if inv.missed_irr or not inv.enabled:
                inv.missed_irr_midnight = self._missed(inv)
        self._zero_today()
        self._day_start, self._day_end = self._day_end, self._next_midnight(self._day_end)
        self._new_day_weather()

    def _sun(self, t: float) -> float:
        """Output of a panel as a fraction of its rating at `t` (0 at night)."""
        hour = (t - self._day_start) / 3600.0
        x = (hour - (self._noon - self._daylen / 2)) / self._daylen
        if x <= 0.0 or x >= 1.0:
            return 0.0
        f = self._season * self._weather * sin(pi * x) ** 1.3
        if self._cloudy:  # clouds pass: five-minute blocks of shade
            f *= 0.45 + 0.55 * _unit(self.seed, int(t // 300), 2)
        return min(1.0, f)

    def _house_load(self, t: float) -> float:
        hour = (t - self._day_start) / 3600.0
        w = 260.0 + 900.0 * exp(-((hour - 7.5) / 0.9) ** 2) + 450.0 * exp(-((hour - 12.7) / 1.0) ** 2) \
            + 1700.0 * exp(-((hour - 19.7) / 1.6) ** 2)
        if (int(t // 600)) % 3 == 0:  # the fridge
            w += 110.0
        if 6.5 < hour < 23.0 and _unit(self.seed, int(t // 900), 3) < 0.18:  # an appliance runs
            w += 800.0 + 1400.0 * _unit(self.seed, int(t // 900), 4)
        return w * self._house

    def _set_powers(self) -> None:
        """Powers of the segment starting at self._seg_start (constant until self._seg_end)."""
        t = self._seg_start
        self._seg_end = t - t % STEP_S + STEP_S
        dt_h = (self._seg_end - t) / 3600.0
        P = self.phases
        f = self._sun(t)
        pv = [f * c for c in self._cap]
        load = [self._house_load(t) * s for s in _LOAD_SHARES[P]]
        total_pv, total_load = sum(pv), sum(load)
        surplus = total_pv - total_load
        floor_wh = self.battery_wh * self.very_low_percent / 100.0
        reserve_wh = self.battery_wh * self.reserve_percent / 100.0
        can_charge = min(self.battery_max_w, max(0.0, self.battery_wh - self.soc_wh) / dt_h)
        off_grid = self.mains_admin_state == "open" and self.has_enpower
        if off_grid:
            can_discharge = min(self.battery_max_w, max(0.0, self.soc_wh - floor_wh) / dt_h)
            if surplus > can_charge:  # nowhere to send it: the inverters curtail
                k = (total_load + can_charge) / total_pv
                pv = [x * k for x in pv]
                f *= k
            elif -surplus > can_discharge:  # not enough: loads are shed
                k = (sum(pv) + can_discharge) / total_load
                load = [x * k for x in load]
            batt = [load[p] - pv[p] for p in range(P)]  # islanded: nothing crosses the grid
        else:
            hour = (t - self._day_start) / 3600.0
            discharges = self.storage_mode == "self-consumption" or (
                self.storage_mode in ("savings-mode", "economy") and 16.0 <= hour < 22.0)
            can_discharge = min(self.battery_max_w, max(0.0, self.soc_wh - reserve_wh) / dt_h)
            if surplus > 0:
                b = -min(surplus, can_charge)
            elif discharges:
                b = min(-surplus, can_discharge)
            else:
                b = 0.0
            batt = [b / P] * P
        self.f = f
        self.pv, self.load, self.batt = pv, load, batt
        self.net = [load[p] - pv[p] - batt[p] for p in range(P)]
        if f > self.max_f_today:
            self.max_f_today = f

    def _integrate(self, until: float) -> None:
        h = (until - self._seg_start) / 3600.0
        if h <= 0:
            return
        life, today = self.life, self.today
        for p in range(self.phases):
            for key, w in (("pv", self.pv[p]), ("load", self.load[p]),
                           ("imp", max(self.net[p], 0.0)), ("exp", max(-self.net[p], 0.0)),
                           ("chg", max(-self.batt[p], 0.0)), ("dis", max(self.batt[p], 0.0))):
                if w:
                    life[key][p] += w * h
                    today[key][p] += w * h
        self.irr += self.f * h
        self.irr_today += self.f * h
        self.soc_wh = min(self.battery_wh, max(0.0, self.soc_wh - sum(self.batt) * h))
        self._seg_start = until

    def _advance(self, t: float) -> None:
        if not self._sim_started:
            self._start(t)
        while self._seg_end <= t:
            self._integrate(self._seg_end)
            if self._seg_start >= self._day_end:
                self._roll_day()
            self._set_powers()

    def _split_now(self) -> float:
        """Before a control changes the model: close the running segment at now, so the change applies from now."""
        t = self.clock()
        self._advance(t)
        if t > self._seg_start:
            self._integrate(t)
        self._cache_second = None
        return t

    def _after_change(self) -> None:
        self._cap = [sum(i.kw for i in self.inverters if i.phase == p and i.enabled) for p in range(self.phases)]
        self._set_powers()

    # ---------------------------------------------------------------- snapshot per clock second
    def _snapshot(self) -> dict:
        t = self.clock()
        second = int(t)
        if second == self._cache_second:
            return self._snap
        self._advance(t)
        t = max(t, self._seg_start)
        h = (t - self._seg_start) / 3600.0
        P = self.phases
        power = {"pv": self.pv, "load": self.load, "net": self.net, "batt": self.batt,
                 "imp": [max(x, 0.0) for x in self.net], "exp": [max(-x, 0.0) for x in self.net],
                 "chg": [max(-x, 0.0) for x in self.batt], "dis": [max(x, 0.0) for x in self.batt]}
        life = {k: [v[p] + power[k][p] * h for p in range(P)] for k, v in self.life.items()}
        today = {k: [v[p] + power[k][p] * h for p in range(P)] for k, v in self.today.items()}
        week = {k: [today[k][p] + sum(d[0][k][p] for d in self.history) for p in range(P)] for k in today}
        irr_now = self.irr + self.f * h
        self._snap = {
            "t": t, "power": power, "life": life, "today": today, "week": week,
            "irr": irr_now, "irr_today": self.irr_today + self.f * h,
            "irr_yesterday": self.history[-1][1] if self.history else 0.0,
            "irr_week": self.irr_today + self.f * h + sum(d[1] for d in self.history),
            "soc_wh": min(self.battery_wh, max(0.0, self.soc_wh - sum(self.batt) * h)),
        }
        self._cache_second, self._cache = second, {}
        return self._snap

    def _missed(self, inv: _Inverter, irr: Optional[float] = None) -> float:
        irr = self.irr if irr is None else irr
        return inv.missed_irr + (0.0 if inv.enabled else irr - inv.disabled_at_irr)

    def _inverter_energy(self, inv: _Inverter, s: dict) -> Tuple[float, float]:
        """(lifetime Wh, today Wh) of one microinverter."""
        missed = self._missed(inv, s["irr"])
        return inv.kw * (s["irr"] - missed), inv.kw * max(0.0, s["irr_today"] - (missed - inv.missed_irr_midnight))

    def _inverter_watts(self, inv: _Inverter) -> float:
        return self.f * inv.kw if inv.enabled else 0.0

    # ---------------------------------------------------------------- electrical details
    def _volts(self, t: float, p: int) -> float:
        base = 120.0 if self.phases == 2 else 230.0
        return base * (1.0 + 0.012 * sin(t / 97.0 + p * 2.1)) + (0.8 if p == 1 else 0.0)

    def _hz(self, t: float) -> float:
        return (60.0 if self.phases == 2 else 50.0) + 0.02 * sin(t / 41.0)

    # ---------------------------------------------------------------- endpoints
    def info_xml(self) -> bytes:
        pn = "800-00654-r08" if self.metered else "800-00656-r06"
        app = ".".join("%02d" % v for v in _version(self.firmware)[:2]) + ".%s" % self.firmware.split(".")[-1]
        return ("<?xml version='1.0' encoding='UTF-8'?>\n<envoy_info>\n  <time>%d</time>\n  <device>\n"
                "    <sn>%s</sn>\n    <pn>%s</pn>\n    <software>D%s</software>\n    <euaid>4c8675</euaid>\n"
                "    <seqnum>0</seqnum>\n    <apiver>1</apiver>\n    <imeter>%s</imeter>\n  </device>\n"
                "  <web-tokens>true</web-tokens>\n  <package name=\"app\">\n    <pn>500-00002-r01</pn>\n"
                "    <version>%s</version>\n    <build>5f4d83</build>\n  </package>\n</envoy_info>\n" % (
                    int(self.clock()), escape(self.serial), pn, escape(self.firmware),
                    "true" if self.metered else "false", escape(app))).encode()

    def response(self, path: str) -> Response:
        """What this gateway answers to GET `path` (with its query), built at most once per clock second."""
        if path.split("?")[0] == "/info":
            return Response(200, self.info_xml(), "application/xml")
        with self._lock:
            return self._response(path)

    def _response(self, path: str) -> Response:
        self._snapshot()
        cached = self._cache.get(path)
        if cached is None:
            cached = self._build(path)
            self._cache[path] = cached
        return cached

    def _build(self, path: str) -> Response:
        route, _, query = path.partition("?")
        route = route.rstrip("/") or "/"
        builder = self._ROUTES.get(route)
        if builder is not None:
            return _json(200, builder(self))
        if route.startswith("/ivp/mod/") and route.endswith("/mode/power"):
            forced = self._power_forced_off(route)
            return _NOT_FOUND if forced is None else _json(200, {"powerForcedOff": forced})
        return _NOT_FOUND

    # --- production
    def _eim_section(self, measurement: str, s: dict, powers: List[float], life: List[float],
                     today: List[float], week: List[float]) -> dict:
        t = s["t"]
        lines = []
        for p in range(self.phases):
            v = self._volts(t, p)
            pf = 0.97 if measurement == "production" else 0.9
            lines.append({
                "wNow": round(powers[p], 3), "whLifetime": round(life[p], 3),
                "varhLeadLifetime": round(life[p] * 0.01, 3), "varhLagLifetime": round(life[p] * 0.2, 3),
                "vahLifetime": round(abs(life[p]) / pf, 3),
                "rmsCurrent": round(abs(powers[p]) / pf / v, 3), "rmsVoltage": round(v, 3),
                "reactPwr": round(abs(powers[p]) * 0.1, 3), "apprntPwr": round(abs(powers[p]) / pf, 3),
                "pwrFactor": pf if powers[p] >= 0 else -pf,
                "whToday": round(today[p], 3), "whLastSevenDays": round(week[p], 3),
                "vahToday": round(abs(today[p]) / pf, 3), "varhLeadToday": round(today[p] * 0.01, 3),
                "varhLagToday": round(today[p] * 0.2, 3)})
        total = {"type": "eim", "activeCount": 1, "measurementType": measurement, "readingTime": int(t)}
        for key in lines[0]:
            if key == "rmsVoltage":
                total[key] = round(sum(l[key] for l in lines) if self.phases == 2 else lines[0][key], 3)
            elif key == "pwrFactor":
                total[key] = lines[0][key]
            else:
                total[key] = round(sum(l[key] for l in lines), 3)
        total["lines"] = lines
        return total

    def _production_json(self) -> dict:
        s = self._snapshot()
        t = int(s["t"])
        watts = [int(round(self._inverter_watts(i))) for i in self.inverters]
        out = {"production": [{"type": "inverters", "activeCount": sum(1 for i in self.inverters if i.enabled),
                               "readingTime": t - t % 300, "wNow": sum(watts),
                               "whLifetime": int(sum(s["life"]["pv"]))}]}
        if self.metered:
            pw, life, today, week = s["power"], s["life"], s["today"], s["week"]
            P = self.phases
            net_life = [life["imp"][p] - life["exp"][p] for p in range(P)]
            net_today = [today["imp"][p] - today["exp"][p] for p in range(P)]
            net_week = [week["imp"][p] - week["exp"][p] for p in range(P)]
            out["production"].append(self._eim_section("production", s, pw["pv"], life["pv"], today["pv"], week["pv"]))
            total = {k: [d["pv"][p] + d["imp"][p] - d["exp"][p] for p in range(P)]
                     for k, d in (("life", life), ("today", today), ("week", week))}
            out["consumption"] = [
                self._eim_section("total-consumption", s, [pw["pv"][p] + pw["net"][p] for p in range(P)],
                                  total["life"], total["today"], total["week"]),
                self._eim_section("net-consumption", s, pw["net"], net_life, net_today, net_week)]
        storage = {"type": "acb", "activeCount": len(self.acb_serials), "readingTime": 0, "wNow": 0, "whNow": 0,
                   "state": "idle"}
        if self.acb_serials:
            w = sum(s["power"]["batt"]) * self._acb_share
            storage.update(readingTime=t, wNow=int(round(w)), whNow=int(round(s["soc_wh"] * self._acb_share)),
                           state="discharging" if w > 1 else "charging" if w < -1 else "idle",
                           percentFull=self._soc_percent(s))
        out["storage"] = [storage]
        return out

    def _soc_percent(self, s: dict) -> int:
        return int(round(100.0 * s["soc_wh"] / self.battery_wh)) if self.battery_wh else 0

    def _api_v1_production(self) -> dict:
        s = self._snapshot()
        return {"wattHoursToday": int(sum(s["today"]["pv"])), "wattHoursSevenDays": int(sum(s["week"]["pv"])),
                "wattHoursLifetime": int(sum(s["life"]["pv"])),
                "wattsNow": sum(int(round(self._inverter_watts(i))) for i in self.inverters)}

    def _last_report(self, inv_offset: int, t: float) -> int:
        return int(t - (t + inv_offset) % 300)

    def _api_v1_inverters(self) -> list:
        s = self._snapshot()
        t, top = s["t"], self.max_f_today
        out = [{"serialNumber": i.serial, "lastReportDate": self._last_report(i.report_offset, t), "devType": 1,
                "lastReportWatts": int(round(self._inverter_watts(i))),
                "maxReportWatts": int(round(i.kw * top)) if i.enabled else 0} for i in self.inverters]
        per_acb = sum(s["power"]["batt"]) * self._acb_share / max(1, len(self.acb_serials))
        for n, serial in enumerate(self.acb_serials):
            out.append({"serialNumber": serial, "lastReportDate": self._last_report(n * 37, t), "devType": 11,
                        "lastReportWatts": int(round(per_acb)), "maxReportWatts": int(_ACB_W)})
        return out

    # --- inventory
    def _device(self, serial: str, pn: str, dev_type: int, eid: int, firmware: str, **extra) -> dict:
        s = self._snapshot()
        d = {"part_num": pn, "installed": str(self.installed), "serial_num": serial,
             "device_status": ["envoy.global.ok"], "last_rpt_date": str(int(s["t"]) - 60), "admin_state": 1,
             "dev_type": dev_type, "created_date": str(self.installed), "img_load_date": str(self.installed),
             "img_pnum_running": firmware, "ptpn": firmware, "chaneid": eid + _CHANNEL,
             "device_control": [{"gficlearset": False}], "producing": True, "communicating": True,
             "provisioned": True, "operating": True}
        d.update(extra)
        return d

    def _inventory(self) -> list:
        s = self._snapshot()
        pcus = [self._device(i.serial, "800-01391-r03", 1, i.eid, "520-00082-r01-v04.30.32",
                             producing=i.enabled and self.f > 0, phase="ph-%s" % "abc"[i.phase])
                for i in self.inverters]
        soc = self._soc_percent(s)
        acb_w = sum(s["power"]["batt"]) * self._acb_share
        acbs = [self._device(serial, "800-00930-r03", 11, _ACB_EID + 0x100 * (n + 1), "520-00092-r01-v02.13.02",
                             sleep_enabled=False, percentFull=soc, maxCellTemp=24, sleep_min_soc=25,
                             sleep_max_soc=30,
                             charge_status="discharging" if acb_w > 1 else "charging" if acb_w < -1 else "idle")
                for n, serial in enumerate(self.acb_serials)]
        relay = "open" if self.mains_admin_state == "open" else "closed"
        nsrbs = [self._device(serial, "800-00598-r04", 12, _NSRB_EID + 0x100 * (n + 1), "520-00086-r01-v02.12.07",
                              producing=False, relay=relay, reason_code=0, reason="ok",
                              **{"line-count": self.phases,
                                 **{"line%d-connected" % (k + 1): relay == "closed" for k in range(self.phases)}})
                for n, serial in enumerate(self.qrelay_serials)]
        return [{"type": "PCU", "devices": pcus}, {"type": "ACB", "devices": acbs},
                {"type": "NSRB", "devices": nsrbs}, {"type": "ESUB", "devices": []}]

    # --- meters
    def _meters(self) -> list:
        if not self.metered:
            return []
        mode = {1: "three", 2: "split", 3: "three"}[self.phases]
        return [{"eid": _EIM_EID + 0x100 * (n + 1), "state": "enabled", "measurementType": kind, "phaseMode": mode,
                 "phaseCount": self.phases, "meteringStatus": "normal", "statusFlags": []}
                for n, kind in enumerate(("production", "net-consumption"))]

    def _meter_reading(self, eid: int, powers: List[float], delivered: List[float], received: List[float],
                       t: float) -> dict:
        channels = []
        for p in range(3):  # the gateway always lists three channels; unused ones read zero
            if p < self.phases:
                w, v = powers[p], self._volts(t, p)
                pf = 0.97 if w >= 0 else -0.97
                a = abs(w) / abs(pf)
                channels.append({"eid": eid + _CHANNEL + p, "timestamp": int(t),
                                 "actEnergyDlvd": round(delivered[p], 3), "actEnergyRcvd": round(received[p], 3),
                                 "apparentEnergy": round((delivered[p] + received[p]) / 0.97, 3),
                                 "reactEnergyLagg": round(delivered[p] * 0.2, 3),
                                 "reactEnergyLead": round(received[p] * 0.01, 3),
                                 "instantaneousDemand": round(w, 3), "activePower": round(w, 3),
                                 "apparentPower": round(a, 3), "reactivePower": round(a * 0.1, 3),
                                 "pwrFactor": pf, "voltage": round(v, 3), "current": round(a / v, 3),
                                 "freq": round(self._hz(t), 3)})
            else:
                channels.append(dict({k: 0.0 for k in (
                    "actEnergyDlvd", "actEnergyRcvd", "apparentEnergy", "reactEnergyLagg", "reactEnergyLead",
                    "instantaneousDemand", "activePower", "apparentPower", "reactivePower", "pwrFactor", "voltage",
                    "current")}, eid=eid + _CHANNEL + p, timestamp=int(t), freq=round(self._hz(t), 3)))
        used = channels[:self.phases]
        total = {"eid": eid, "timestamp": int(t)}
        for key in channels[0]:
            if key in ("eid", "timestamp", "freq"):
                continue
            if key == "voltage":
                total[key] = round(sum(c[key] for c in used) if self.phases == 2 else used[0][key], 3)
            elif key == "pwrFactor":
                total[key] = used[0][key]
            else:
                total[key] = round(sum(c[key] for c in used), 3)
        total["freq"] = round(self._hz(t), 3)
        total["channels"] = channels
        return total

    def _meters_readings(self) -> list:
        if not self.metered:
            return []
        s = self._snapshot()
        pw, life = s["power"], s["life"]
        small = [0.0] * self.phases
        return [self._meter_reading(_EIM_EID + 0x100, pw["pv"], life["pv"], small, s["t"]),
                self._meter_reading(_EIM_EID + 0x200, pw["net"], life["imp"], life["exp"], s["t"])]

    # --- ensemble (IQ Batteries, IQ System Controller)
    def _encharge_percent(self, s: dict, n: int) -> int:
        # each battery reads a little differently from the aggregate, as real ones do
        return max(0, min(100, self._soc_percent(s) + (n % 3) - 1))

    def _ensemble_inventory(self) -> list:
        s = self._snapshot()
        t = int(s["t"])
        out = []
        if self.encharge_serials or self.has_enpower:
            out.append({"type": "ENCHARGE", "devices": [{
                "part_num": "836-01826-r76", "serial_num": serial, "installed": self.installed,
                "device_status": ["envoy.global.ok", "prop.done"], "last_rpt_date": t - 30 - n,
                "admin_state": 6, "admin_state_str": "ENCHG_STATE_READY", "created_date": self.installed,
                "img_load_date": self.installed, "img_pnum_running": "3.0.7545_rel/31.33",
                "bmu_fw_version": "3.8.69", "communicating": True, "sleep_enabled": False,
                "percentFull": self._encharge_percent(s, n), "temperature": 21 + n % 3, "maxCellTemp": 22 + n % 3,
                "reported_enc_grid_state": "grid-tied" if self.mains_admin_state == "closed" else "off-grid",
                "comm_level_sub_ghz": 4, "comm_level_2_4_ghz": 4, "led_status": 12, "dc_switch_off": False,
                "encharge_rev": 3, "encharge_capacity": int(_ENCHARGE_WH), "phase": "ph-a", "der_index": 1 + n % 3}
                for n, serial in enumerate(self.encharge_serials)]})
        if self.has_enpower:
            closed = self.mains_admin_state == "closed"
            out.append({"type": "ENPOWER", "devices": [{
                "part_num": "865-00378-r27", "serial_num": self.enpower_serial, "installed": self.installed,
                "device_status": ["envoy.global.ok", "prop.done"], "last_rpt_date": t - 20, "admin_state": 24,
                "admin_state_str": "ENPWR_STATE_OPER_CLOSED" if closed else "ENPWR_STATE_OPER_OPEN",
                "created_date": self.installed, "img_load_date": self.installed,
                "img_pnum_running": "3.0.6297_rel/31.33", "communicating": True, "temperature": 79,
                "comm_level_sub_ghz": 5, "comm_level_2_4_ghz": 5, "mains_admin_state": self.mains_admin_state,
                "mains_oper_state": self.mains_admin_state,
                "Enpwr_grid_mode": "multimode-ongrid" if closed else "multimode-offgrid",
                "Enchg_grid_mode": "multimode-ongrid" if closed else "multimode-offgrid",
                "Enpwr_relay_state_bm": 15868 if closed else 14844, "Enpwr_curr_state_id": 16}]})
        return out

    def _secctrl(self) -> dict:
        s = self._snapshot()
        soc = self._soc_percent(s)
        enc_wh = len(self.encharge_serials) * _ENCHARGE_WH
        acb_wh = len(self.acb_serials) * _ACB_WH
        reserve = int(self.reserve_percent)
        d = {"shutdown": False}
        for suffix in ("", "_phaseb", "_phasec"):
            d.update({"freq_bias_hz" + suffix: 0.0, "voltage_bias_v" + suffix: 0.0,
                      "freq_bias_hz_q8" + suffix: 0, "voltage_bias_v_q5" + suffix: 0})
        d.update({"configured_backup_soc": reserve, "adjusted_backup_soc": reserve, "agg_soc": soc,
                  "Max_energy": int(self.battery_wh), "ENC_agg_soc": soc if enc_wh else 0, "ENC_agg_soh": 100,
                  "ENC_agg_backup_energy": int(enc_wh * reserve / 100),
                  "ENC_agg_avail_energy": int(round(s["soc_wh"] * enc_wh / self.battery_wh)) if enc_wh else 0,
                  "Enc_commissioned_capacity": int(enc_wh), "Enc_max_available_capacity": int(enc_wh),
                  "ACB_agg_soc": soc if acb_wh else 0,
                  "ACB_agg_energy": int(round(s["soc_wh"] * self._acb_share)) if acb_wh else 0,
                  "VLS_Limit": int(self.very_low_percent), "soc_rec_enabled": False, "soc_recovery_entry": 0,
                  "soc_recovery_exit": 10, "Commission_in_progress": False, "ESS_in_progress": False})
        return d

    def _relay(self) -> dict:
        state = self.mains_admin_state
        mode = "multimode-ongrid" if state == "closed" else "multimode-offgrid"
        return {"mains_admin_state": state, "mains_oper_state": state, "srt12_state": "open", "srt13_state": "open",
                "der1_state": 1, "der2_state": 1, "der3_state": 1, "Enchg_grid_mode": mode, "Solar_grid_mode": mode}

    def _ensemble_status(self) -> dict:
        serials = {}
        for n, serial in enumerate(self.encharge_serials):
            serials[serial] = {"device_type": 13, "com_interface_str": "CAN", "device_id": serial, "admin_state": 6,
                               "admin_state_str": "ENCHG_STATE_READY", "reported_grid_mode": "multimode-ongrid",
                               "phase": "ph-a", "der_index": 1 + n % 3, "encharge_revision": 3,
                               "encharge_capacity": int(_ENCHARGE_WH), "encharge_rated_power": int(_ENCHARGE_W),
                               "reported_enc_grid_state": "multimode-ongrid", "msg_retry_count": 0,
                               "part_number": "836-01826-r76", "assembly_number": "892-00024-r78",
                               "app_fw_version": "3.0.7545_rel/31.33", "ibl_fw_version": "3.1.813-8c003b",
                               "swift_asic_fw_version": "001.002.1.7.2", "bmu_fw_version": "3.8.69",
                               "submodule_count": 0, "submodules": {}}
        if self.has_enpower:
            serials[self.enpower_serial] = {
                "device_type": 17, "com_interface_str": "CAN", "device_id": self.enpower_serial, "admin_state": 24,
                "admin_state_str": "ENPWR_STATE_OPER_CLOSED" if self.mains_admin_state == "closed"
                else "ENPWR_STATE_OPER_OPEN", "msg_retry_count": 0, "part_number": "865-00378-r27",
                "app_fw_version": "3.0.6297_rel/31.33", "submodule_count": 0, "submodules": {}}
        return {"inventory": {"serial_nums": serials}, "secctrl": self._secctrl(), "relay": self._relay()}

    def _ensemble_power(self) -> dict:
        s = self._snapshot()
        enc_w = sum(s["power"]["batt"]) * (1.0 - self._acb_share)
        n = len(self.encharge_serials)
        return {"devices:": [{"serial_num": serial, "real_power_mw": int(round(enc_w / n * 1000)),
                              "apparent_power_mva": int(round(abs(enc_w) / n * 1000)),
                              "soc": self._encharge_percent(s, k)}
                             for k, serial in enumerate(self.encharge_serials)]}

    # --- dry contacts, generator, tariff
    @staticmethod
    def _dry_contact_settings(n: int, contact_id: str) -> dict:
        shed = contact_id.startswith("NO")
        return {"id": contact_id, "type": "LOAD" if shed else "NONE",
                "grid_action": "shed" if shed else "apply", "micro_grid_action": "shed" if shed else "apply",
                "gen_action": "shed" if shed else "apply", "essential_start_time": 32400.0,
                "essential_end_time": 57600.0, "priority": float(n + 1), "black_s_start": 5.0, "override": "false",
                "manual_override": "true", "load_name": "Charge %d" % (n + 1) if shed else "", "mode": "manual",
                "soc_low": 30.0, "soc_high": 70.0, "pv_serial_nb": []}

    def _dry_contacts_status(self) -> dict:
        return {"dry_contacts": [{"id": c["id"], "status": self.dry_contact_status[c["id"]]}
                                 for c in self.dry_contacts]}

    def _dry_contacts_settings(self) -> dict:
        return {"dry_contacts": [dict(c) for c in self.dry_contacts]}

    def _generator_running(self) -> bool:
        if not self.has_generator:
            return False
        if self.generator_mode == "auto":
            return self.mains_admin_state == "open" and self._soc_percent(self._snapshot()) < 30
        return self.generator_mode == "on"

    def _generator(self) -> dict:
        if not self.has_generator:
            return {"admin_state": "unknown", "oper_state": "open", "admin_mode": 0, "schedule": 0,
                    "start_soc": 100, "stop_soc": -1, "exc_on": 0, "present": 0, "type": 1}
        return {"admin_state": {"on": "closed", "off": "open", "auto": "auto"}[self.generator_mode],
                "oper_state": "closed" if self._generator_running() else "open",
                "admin_mode": {"off": 0, "on": 1, "auto": 2}[self.generator_mode], "schedule": 0,
                "start_soc": 30, "stop_soc": 70, "exc_on": 0, "present": 1, "type": 1}

    def _gen_config(self) -> dict:
        if not self.has_generator:
            return {}
        return {"max_cont_gen_amps": 40.0, "min_gen_loading_perc": 5, "max_gen_efficiency_perc": 100,
                "name_plate_rating_wat": 10000.0, "start_method": "auto", "warm_up_mins": 5, "cool_down_mins": 5,
                "gen_type": "Standby", "model": "Synthetic 10 kW", "manufacturer": "Demo",
                "last_updated_by": "ITK", "generator_id": "%s01" % self.serial[-8:],
                "charge_from_generator": True}

    def _gen_mode(self) -> Optional[dict]:
        return {"gen_cmd": self.generator_mode, "last_updated_by": "ITK"}

    def _tariff(self) -> dict:
        s = {"mode": self.storage_mode, "operation_mode_sub_type": "", "reserved_soc": float(self.reserve_percent),
             "very_low_soc": int(self.very_low_percent), "charge_from_grid": self.charge_from_grid,
             "date": str(self.installed), "opt_schedules": True}
        return {"tariff": {"currency": {"code": "EUR"}, "logger": "mylogger", "date": str(self.installed),
                           "storage_settings": s, "single_rate": {"rate": 0.25, "sell": 0.13},
                           "seasons": [], "seasons_sell": []},
                "schedule": {"source": "Tariff", "date": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                                       time.gmtime(self.installed)),
                             "reserved_soc": float(self.reserve_percent), "very_low_soc": int(self.very_low_percent),
                             "charge_from_grid": self.charge_from_grid, "batt_mode": self.storage_mode,
                             "battery_mode": self.storage_mode, "filename": "", "version": "",
                             "operation_mode_sub_type": "", "opt_schedules": False, "override": False,
                             "override_backup_soc": float(self.reserve_percent), "override_chg_dischg_rate": 0.0,
                             "override_tou_mode": "StorageTouMode_DEFAULT_TOU_MODE", "schedule": {}}}

    # --- per-device data (firmware 8.2+)
    def _device_data(self) -> dict:
        s = self._snapshot()
        t = int(s["t"])
        out = {}
        for i in self.inverters:
            life_wh, today_wh = self._inverter_energy(i, s)
            w = self._inverter_watts(i)
            v = self._volts(t, i.phase)
            dc_v = 36.0 + 6.0 * self.f if w > 0 else 0.0
            out[str(i.eid)] = {"devName": "pcu", "sn": i.serial, "active": True, "modGone": False, "channels": [{
                "chanEid": i.eid + _CHANNEL, "created": self._last_report(i.report_offset, t),
                "wattHours": {"today": int(today_wh), "yesterday": int(i.kw * s["irr_yesterday"]),
                              "week": int(i.kw * s["irr_week"])},
                "watts": {"now": int(round(w)), "nowUsed": 0, "max": int(round(i.kw * self.max_f_today))},
                "lastReading": {
                    "eid": i.eid + _CHANNEL, "interval_type": 0, "endDate": self._last_report(i.report_offset, t),
                    "duration": 900, "flags": 0, "flags_hex": "0x0000000000000000",
                    "joulesProduced": int(w * 900), "acVoltageINmV": int(v * 1000),
                    "acFrequencyINmHz": int(self._hz(t) * 1000), "dcVoltageINmV": int(dc_v * 1000),
                    "dcCurrentINmA": int(w / 0.965 / dc_v * 1000) if dc_v else 0,
                    "channelTemp": int(12 + 28 * self.f), "pwrConvErrSecs": 0, "pwrConvMaxErrCycles": 0,
                    "joulesUsed": 0, "leadingVArs": 0, "laggingVArs": int(w * 0.05),
                    "acCurrentInmA": int(w / v * 1000), "l1NAcVoltageInmV": 0, "l2NAcVoltageInmV": 0,
                    "l3NAcVoltageInmV": 0, "rssi": 106, "issi": 70},
                "lifetime": {"createdTime": self.installed, "duration": t - self.installed,
                             "joulesProduced": int(life_wh * 3600)}}]}
        if self.metered:
            pw, life, today = s["power"], s["life"], s["today"]
            for n, key in enumerate(("pv", "imp")):
                eid = _EIM_EID + 0x100 * (n + 1)
                w = sum(pw["pv"] if key == "pv" else pw["net"])
                wh = sum(life[key])
                out[str(eid)] = {"devName": "eim", "sn": "%sEIM%d" % (self.serial, n + 1), "active": True,
                                 "modGone": False, "channels": [{
                                     "chanEid": eid + _CHANNEL, "created": t - t % 900,
                                     "wattHours": {"today": int(sum(today[key])), "yesterday": 0, "week": 0},
                                     "watts": {"now": int(round(w)), "nowUsed": 0, "max": 0},
                                     "lastReading": {"eid": eid + _CHANNEL, "interval_type": 0, "endDate": t - t % 900,
                                                     "duration": 900, "curr_w": int(round(w)),
                                                     "wh_dlvd_cum": int(wh), "rms_mvolt": int(self._volts(t, 0) * 1000),
                                                     "freq_mhz": int(self._hz(t) * 1000)},
                                     "lifetime": {"createdTime": self.installed, "duration": t - self.installed,
                                                  "wh_dlvd_cum": int(wh)}}]}
        out["deviceCount"] = len(out)
        out["deviceDataLimit"] = max(50, len(out))
        return out

    def _grid_profile(self) -> dict:
        name = "IEEE 1547-2018 Default" if self.phases == 2 else "EN 50549-1:2019 VFR2019 France"
        return {"name": name, "id": "%s01" % self.serial[-6:], "version": "1.0.3", "item_count": 74}

    def _pcu_comm_check(self) -> dict:
        # Power-line signal per device, 0 (none) to 5; slightly worse the further down the string.
        levels = {i.serial: 5 - min(3, n // 4) for n, i in enumerate(self.inverters)}
        levels.update({serial: 4 for serial in self.acb_serials + self.qrelay_serials})
        return levels

    def _livedata(self) -> dict:
        s = self._snapshot()
        pw = s["power"]
        flows = {"pv": pw["pv"], "storage": pw["batt"], "grid": pw["net"], "load": pw["load"],
                 "generator": [0.0] * self.phases}

        def meter(values):
            d = {"agg_p_mw": int(round(sum(values) * 1000)), "agg_s_mva": int(round(sum(values) * 1000 / 0.97))}
            for k, ph in enumerate("abc"):
                w = values[k] if k < len(values) else 0.0
                d["agg_p_ph_%s_mw" % ph] = int(round(w * 1000))
            for k, ph in enumerate("abc"):
                w = values[k] if k < len(values) else 0.0
                d["agg_s_ph_%s_mva" % ph] = int(round(w * 1000 / 0.97))
            return d

        soc = self._soc_percent(s)
        enc = bool(self.encharge_serials)
        return {"connection": {"mqtt_state": "connected", "prov_state": "configured", "auth_state": "ok",
                               "sc_stream": "enabled" if self.live_stream else "disabled", "sc_debug": "disabled"},
                "meters": dict({
                    "last_update": int(s["t"]), "soc": soc,
                    "main_relay_state": 1 if self.mains_admin_state == "closed" else 0,
                    "gen_relay_state": 5, "backup_bat_mode": 1, "backup_soc": int(self.reserve_percent),
                    "is_split_phase": 1 if self.phases == 2 else 0, "phase_count": self.phases,
                    "enc_agg_soc": soc if enc else 0,
                    "enc_agg_energy": int(round(s["soc_wh"] * (1 - self._acb_share))) if enc else 0,
                    "acb_agg_soc": soc if self.acb_serials else 0,
                    "acb_agg_energy": int(round(s["soc_wh"] * self._acb_share))},
                    **{k: meter(v) for k, v in flows.items()}),
                "tasks": {"task_id": 0, "timestamp": int(s["t"])}, "counters": {}}

    def _livedata_status(self) -> dict:
        # The gateway only refreshes live data while the stream is on; otherwise the last picture stays.
        if self.live_stream or self._frozen_live is None:
            self._frozen_live = self._livedata()
        return self._frozen_live

    _frozen_live: Optional[dict] = None

    _ROUTES = {
        "/production.json": _production_json,
        "/api/v1/production": _api_v1_production,
        "/api/v1/production/inverters": _api_v1_inverters,
        "/inventory.json": _inventory,
        "/ivp/meters": _meters,
        "/ivp/meters/readings": _meters_readings,
        "/ivp/ensemble/inventory": _ensemble_inventory,
        "/ivp/ensemble/status": _ensemble_status,
        "/ivp/ensemble/secctrl": _secctrl,
        "/ivp/ensemble/power": _ensemble_power,
        "/ivp/ensemble/relay": _relay,
        "/ivp/ensemble/dry_contacts": _dry_contacts_status,
        "/ivp/ss/dry_contact_settings": _dry_contacts_settings,
        "/ivp/ensemble/generator": _generator,
        "/ivp/ss/gen_config": _gen_config,
        "/ivp/ss/gen_mode": _gen_mode,
        "/admin/lib/tariff": _tariff,
        "/ivp/pdm/device_data": _device_data,
        "/ivp/livedata/status": _livedata_status,
        "/ivp/arf/profile": _grid_profile,
        "/installer/pcu_comm_check": _pcu_comm_check,
    }

    # ---------------------------------------------------------------- controls
    def _power_forced_off(self, route: str) -> Optional[bool]:
        target = self._power_target(route)
        if target is None:
            return None
        return all(not i.enabled for i in target)

    def _power_target(self, route: str) -> Optional[List[_Inverter]]:
        try:
            eid = int(route.split("/")[3])
        except (IndexError, ValueError):
            return None
        if eid == GATEWAY_EID:
            return list(self.inverters)
        inv = self._by_eid.get(eid)
        return [inv] if inv else None

    def set_storage(self, mode: str, reserve_percent: float) -> None:
        """Storage profile as the Enphase cloud sets it (the only way from firmware 8.2.4225)."""
        if mode not in STORAGE_MODES or not 0 <= reserve_percent <= 100:
            raise ValueError("unknown storage mode or reserve out of 0..100")
        with self._lock:
            self._split_now()
            self.storage_mode, self.reserve_percent = mode, float(reserve_percent)
            self._after_change()

    def handle_write(self, method: str, path: str, body: bytes) -> Response:
        """A control request (POST/PUT): change the state as the gateway would and answer like it."""
        with self._lock:
            return self._handle_write(method, path, body)

    def _handle_write(self, method: str, path: str, body: bytes) -> Response:
        route = path.split("?")[0].rstrip("/")
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        if not isinstance(data, dict):
            return _json(400, {"error": "a JSON object is expected"})
        method = method.upper()
        if method == "POST" and route == "/ivp/ensemble/relay" and self.has_enpower:
            state = data.get("mains_admin_state")
            if state not in ("open", "closed"):
                return _json(400, {"error": "mains_admin_state must be open or closed"})
            self._split_now()
            self.mains_admin_state = state
            self._after_change()
            return _json(200, self._relay())
        if method == "POST" and route == "/ivp/ensemble/dry_contacts" and self.dry_contacts:
            contact = data.get("dry_contacts")
            if not isinstance(contact, dict) or contact.get("id") not in self.dry_contact_status \
                    or contact.get("status") not in ("open", "closed"):
                return _json(400, {"error": "unknown dry contact or status"})
            self.dry_contact_status[contact["id"]] = contact["status"]
            self._cache_second = None
            return _json(200, self._dry_contacts_status())
        if method == "POST" and route == "/ivp/ss/dry_contact_settings" and self.dry_contacts:
            new = data.get("dry_contacts")
            current = next((c for c in self.dry_contacts if isinstance(new, dict) and c["id"] == new.get("id")), None)
            if current is None or set(new) != set(current):
                # A partial object is what crashes a real gateway: refuse it here so tests can see it.
                return _json(400, {"error": "the whole dry contact settings object is required"})
            current.update(new)
            self._cache_second = None
            return _json(200, self._dry_contacts_settings())
        if method == "POST" and route == "/ivp/ss/gen_mode" and self.has_generator:
            if data.get("gen_cmd") not in ("on", "off", "auto"):
                return _json(400, {"error": "gen_cmd must be on, off or auto"})
            self.generator_mode = data["gen_cmd"]
            self._cache_second = None
            return _json(200, self._gen_mode())
        if method == "PUT" and route.startswith("/ivp/mod/") and route.endswith("/mode/power"):
            target = self._power_target(route)
            arr = data.get("arr")
            if target is None:
                return _NOT_FOUND
            if not isinstance(arr, list) or len(arr) != 1 or arr[0] not in (0, 1):
                return _json(400, {"error": "arr must be [0] or [1]"})
            self._split_now()
            for inv in target:
                enable = arr[0] == 0  # arr [1] forces production off
                if enable and not inv.enabled:
                    inv.missed_irr += self.irr - inv.disabled_at_irr
                elif not enable and inv.enabled:
                    inv.disabled_at_irr = self.irr
                inv.enabled = enable
            self._after_change()
            return _json(200, {"powerForcedOff": arr[0] == 1})
        if method == "PUT" and route == "/admin/lib/tariff":
            settings = (data.get("tariff") or {}).get("storage_settings") or {}
            if _version(self.firmware) < TARIFF_WRITE_IGNORED_FROM:
                mode = settings.get("mode", self.storage_mode)
                reserve = settings.get("reserved_soc", self.reserve_percent)
                try:
                    self.set_storage(mode, float(reserve))
                except (TypeError, ValueError):
                    return _json(400, {"error": "unknown storage mode or reserve"})
            return _json(200, self._tariff())  # accepted; ignored from 8.2.4225 (cloud only)
        if method == "POST" and route == "/ivp/livedata/stream":
            self.live_stream = bool(data.get("enable"))
            self._cache_second = None
            return _json(200, {"sc_stream": "enabled" if self.live_stream else "disabled"})
        return _NOT_FOUND
