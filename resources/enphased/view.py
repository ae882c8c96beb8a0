"""One view of a gateway per cycle: the latest answer of each endpoint, the readings built once from them,
and each equipment's values.

Every endpoint belongs to one cadence (the plan says which). A read of a cadence replaces the answers of
that cadence's endpoints: one that did not answer this time has no answer, so its readings go empty
rather than repeat an old figure as if it were new. A cadence whose read failed keeps its last answers.
Under them lie the probe's answers that both cadences need (`Plan.carried`: the CT list); over them, the
answers read outside the cadences (a power-line check the user asked for), kept until the next probe.
The readings are then built once from all of it: a general cycle and a devices cycle see the same gateway
(the battery power of one cannot disagree with the other's), and device counts are known every minute.

The per-device answers (DEVICE_ANSWERS: 600 microinverters make them most of a site's bytes) are not kept once
read: the devices they gave (microinverters, AC Batteries, Q-Relays) are, and the builds until the next read
of their cadence take those instead of parsing them again every minute. A daemon reading four such sites then
holds a few MB, not 20, and its general cycles do not parse 600 devices.
"""
import logging
from typing import Any, Dict, Optional, Tuple

import catalog
from envoy.endpoints import DEVICE_DATA, INVENTORY, INVERTERS_V1
from envoy.parse import build_readings
from envoy.readings import GatewayInfo

log = logging.getLogger("enphased.view")

Found = Dict[str, Tuple[Any, Dict[str, Any]]]  # equipment logicalId -> (catalog.Equipment, its values)
DEVICE_ANSWERS = (INVERTERS_V1, DEVICE_DATA, INVENTORY)  # what gives Readings.inverters, .ac_batteries, .qrelays


class GatewayView:
    def __init__(self, detail: catalog.Detail = catalog.Detail()) -> None:
        self.detail = detail  # which equipment get their detail commands' values
        self._plan: Any = None  # the plan the answers were read with (a new probe starts a new view)
        self._answers: Dict[str, Dict[str, Any]] = {}  # cadence -> {endpoint: answer} of its latest read
        self._kept: Dict[str, Any] = {}  # endpoint -> answer read outside the cadences
        self._values: Dict[str, Tuple[Any, Dict[str, Any]]] = {}  # device logicalId -> (reading, its values)
        self._dropped_said = False  # devices without a valid serial (envoy/text.py) are logged once
        # The devices the per-device answers of `cadence` gave, those answers no longer kept: (cadence, devices)
        self._devices: Optional[Tuple[str, Tuple[Any, Any, Any]]] = None

    def _follow(self, plan) -> None:
        if plan is not self._plan:
            self._plan, self._answers, self._kept, self._devices = plan, {}, {}, None

    def update(self, plan, cadence: str, answers: Dict[str, Any]) -> None:
        """The answers of one read of `cadence` (endpoint -> decoded JSON, those that answered)."""
        self._follow(plan)
        self._answers[cadence] = answers
        if self._devices is not None and self._devices[0] == cadence:
            self._devices = None  # read again: the new answers say (one that did not answer gives no device)

    def keep(self, plan, path: str, answer: Any) -> None:
        """An answer read outside the cadences, shown by every cycle until the next probe."""
        self._follow(plan)
        self._kept[path] = answer

    def equipments(self, info: Optional[GatewayInfo]) -> Found:
        """{equipment logicalId: (Equipment, values)} of the gateway as last read; empty before any read."""
        if info is None or not self._answers:
            return {}
        answers = dict(self._plan.carried) if self._plan is not None else {}
        for cadence_answers in self._answers.values():
            answers.update(cadence_answers)
        answers.update(self._kept)
        read = [(cadence, a) for cadence, a in self._answers.items() if any(p in a for p in DEVICE_ANSWERS)]
        readings = build_readings(info, answers, None if read or self._devices is None else self._devices[1])
        if read:
            cadence, cadence_answers = read[0]
            self._devices = (cadence, (readings.inverters, readings.ac_batteries, readings.qrelays))
            self._answers[cadence] = {p: a for p, a in cadence_answers.items() if p not in DEVICE_ANSWERS}
        if readings.dropped and not self._dropped_said:
            self._dropped_said = True
            log.warning("Gateway %s gives what no gateway should; left out (said once): %s", info.serial,
                        "; ".join(sorted(set(readings.dropped))[:5]))
        known, self._values = self._values, {}
        found = {}
        for eq in catalog.equipments(readings):
            if eq.reading is readings:  # the gateway reads the whole site: computed every cycle
                values = catalog.equipment_values(eq, self.detail.wants(eq.logical_id))
            else:
                # A device whose reading is what it was last cycle (the 600 inverters of the devices read, in a
                # general cycle) has the values computed from it then.
                before = known.get(eq.logical_id)
                values = before[1] if before is not None and (before[0] is eq.reading or before[0] == eq.reading) else \
                    catalog.equipment_values(eq, self.detail.wants(eq.logical_id))
                self._values[eq.logical_id] = (eq.reading, values)
            found[eq.logical_id] = (eq, values)
        return found
