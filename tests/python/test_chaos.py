"""Chaos: the daemon's core (socket, worker, Envoy client, callback) against a synthetic gateway that
misbehaves in every way the fault plans know, for hundreds of cycles, in step with a seeded schedule.

The cadences are driven by hand, one tick per schedule cycle (each tick marks the cadences due exactly as
the `schedule` job does, and the worker runs the cycle), so the run is deterministic and takes seconds:
the gateway's clock moves 60 s per tick, the client waits 0.3 s where it would wait 45 s.
Checked: the worker and the socket never die; after every fault the first cycle the worker attempts
succeeds; whenever Jeedom takes a POST it then holds exactly what the daemon believes it told it (nothing
lost while it was down); no lifetime counter Jeedom holds ever goes down, through reboots that answer
zeros, step counters down or restart them; Enlighten logins stay within the login budget; memory stays
flat; Synchronize pressed at any moment answers (ok or a plain error), never fails inside.
The figures are printed (pytest -s) and kept in the test's user properties.
"""
import json
import logging
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import counters
import gateways
from envoy.auth import LoginBudget
from envoy.enlighten import CloudSettings
from gateways import Daemon
from jeedom.callback import Callback
from jeedom.socket_server import SocketServer, send
from fake_clock import Clock
from jeedom_receiver import JeedomReceiver
from simulator.cloud import Account, serve_cloud
from simulator.faults import CYCLE_KINDS, FaultPlan, chaos_schedule
from simulator.server import GatewaySimulator
from simulator.synthetic import SyntheticGateway

APIKEY = "chaos-apikey-5f1c0e"
EMAIL, PASSWORD = "owner@example.invalid", "chaos-enlighten-password"
SEED = 20261125
TICKS = 320
CLIENT_TIMEOUT_S = 0.3
DEVICES_EVERY = 5  # ticks: 60 s and 300 s cadences
LOGINS_PER_DAY = LoginBudget().max_per_day
WAIT_S = 60  # an upper bound on one cycle; never reached when all is well
# The lifetime counters that must never go backwards in Jeedom (the net lifetime may: the site exports).
MONOTONIC = {command for commands in counters.MONOTONIC.values() for command in commands}
# Episodes that leave the gateway answering: the cycle should succeed during them as well.
HARMLESS = {"jeedom_down", "cloud_down"}


def rss_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Jeedom:
    """What Jeedom holds: the latest value of each command, folded from the delivered events."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.values = {}
        self.lifetime_decreases = []
        self.statuses = []

    def fold(self):
        with self.receiver.changed:
            bodies, self.receiver.bodies[:] = list(self.receiver.bodies), []
        for body in bodies:
            for event in body["events"]:
                if event["type"] == "status":
                    self.statuses.append(event)
                if event["type"] != "values":
                    continue
                for eq, commands in event["values"].items():
                    mine = self.values.setdefault(eq, {})
                    for cmd, value in commands.items():
                        before = mine.get(cmd)
                        if cmd in MONOTONIC and isinstance(before, (int, float)) and \
                                isinstance(value, (int, float)) and value < before:
                            self.lifetime_decreases.append((eq, cmd, before, value))
                        mine[cmd] = value


def lost_values(held, published):
    """(eq, cmd) whose value the daemon believes Jeedom has but Jeedom does not."""
    return [(eq, cmd) for eq, commands in published.items() for cmd, value in commands.items()
            if held.get(eq, {}).get(cmd, object()) != value]


@pytest.fixture
def chaos(tmp_path, monkeypatch, caplog, socket_path):
    caplog.set_level(logging.INFO)
    clock = Clock(int(time.time()))  # the gateway's clock, moved by the test
    plan = FaultPlan(chaos_schedule(SEED, TICKS - 10), seed=SEED, hang_s=30, slow_s=CLIENT_TIMEOUT_S / 2)
    gateway = SyntheticGateway(inverters=12, encharges=2, clock=clock, seed=3)
    receiver = JeedomReceiver(APIKEY)
    with GatewaySimulator(gateway, faults=plan, clock=clock).start() as sim, \
            serve_cloud([Account(EMAIL, PASSWORD)], faults=plan.cloud) as cloud:

        def make_envoy(config, datadir):
            envoy = gateways.make_envoy(config, datadir)
            envoy.cloud = CloudSettings(cloud.url, cloud.url, timeout_s=WAIT_S)  # the cloud never hangs: a bound
            envoy.deadline_s = envoy.connect_timeout_s = CLIENT_TIMEOUT_S
            return envoy

        daemon = Daemon(Callback(receiver.url, APIKEY, timeout_s=WAIT_S), datadir=str(tmp_path),
                        envoy_factory=make_envoy)
        socket_server = SocketServer(socket_path, APIKEY, daemon.handle).start()
        try:
            yield plan, sim, cloud, daemon, socket_server, receiver, clock, caplog
        finally:
            plan.close()
            socket_server.stop()
            daemon.stop()
            receiver.close()


def tick(poller, cadences):
    """One cadence tick, as the schedule job makes it; True when the worker ran a cycle (not backing off)."""
    before = poller.cycles
    poller.submit(lambda: [poller.cadences.mark_due(c) for c in cadences]).result(WAIT_S)
    poller.submit(lambda: None).result(WAIT_S)  # queued behind the cycle that the tick started
    return poller.cycles > before


def test_chaos(chaos, record_property):
    plan, sim, cloud, daemon, socket_server, receiver, clock, caplog = chaos
    started = time.monotonic()
    ask = lambda message: send(socket_server.path, dict(message, apikey=APIKEY), timeout_s=WAIT_S)  # noqa: E731
    assert ask({"action": "configure", "general_s": 3600, "devices_s": 3600,
                "gateways": [{"id": "chaos", "host": sim.url, "username": EMAIL,
                              "enlighten_password": PASSWORD}]})["ok"]
    poller = daemon.pollers["chaos"]
    assert ask({"action": "sync", "gateway": "chaos"})["ok"]
    jeedom = Jeedom(receiver)
    jeedom.fold()
    assert lost_values(jeedom.values, poller.publisher.published) == []

    figures = Counter()
    recoveries, unrecovered, lost = 0, [], []
    rss_warm = rss_peak = 0
    faulty_before = False
    failed = Counter()  # cycles that ended in an error, by its code
    syncs_failed = 0
    cleared_at, slowest_recovery = None, 0  # ticks from a fault's end to a good cycle, backing off included
    for n in range(1, TICKS + 1):
        plan.next_cycle()
        clock.now += 60
        receiver.down = plan.jeedom_down
        active = {e.kind for e in plan.active()}
        faulty = bool(active - HARMLESS)
        ran = tick(poller, ["general"] + (["devices"] if n % DEVICES_EVERY == 0 else []))
        figures["ticks"] += 1
        figures["cycles run"] += ran
        succeeded = ran and poller._error is None
        if ran and not succeeded:
            failed[poller._error.code] += 1
        if succeeded:
            if cleared_at is not None:
                slowest_recovery = max(slowest_recovery, n - cleared_at)
            cleared_at = None
        elif not faulty and cleared_at is None:
            cleared_at = n
        assert poller._thread.is_alive(), f"the worker died at tick {n}"
        if ran and faulty_before and not faulty:  # the first cycle attempted after a fault cleared
            if succeeded:
                recoveries += 1
            else:
                unrecovered.append((n, poller._error.code, poller._error.message))
        if ran and not faulty:
            assert succeeded or active & HARMLESS, (n, active, poller._error)
        if ran:
            faulty_before = faulty
        elif faulty:
            faulty_before = True
        jeedom.fold()
        if ran and not receiver.down:
            lost += [(n,) + v for v in lost_values(jeedom.values, poller.publisher.published)]
        if n % 20 == 0:
            assert ask({"action": "resume", "gateway": "chaos"}) == {"ok": True}  # the socket still answers
        if n % 25 == 0:  # the user presses Synchronize, whatever the gateway is doing: /info and the probe again
            answer = ask({"action": "sync", "gateway": "chaos"})
            figures["syncs"] += 1
            assert answer["ok"] or answer["error"]["code"] in (
                "unreachable", "bad_response", "nothing_readable", "timeout"), answer
            syncs_failed += not answer["ok"]
            jeedom.fold()
        if n == 40:
            rss_warm = rss_kb()
        rss_peak = max(rss_peak, rss_kb())

    # Quiet to finish: everything that waited reaches Jeedom.
    receiver.down = False
    for _ in range(3):
        plan.next_cycle()
        clock.now += 60
        assert tick(poller, ["general", "devices"])
    jeedom.fold()
    lost += [("end",) + v for v in lost_values(jeedom.values, poller.publisher.published)]
    rss_end = rss_kb()
    rss_peak = max(rss_peak, rss_end)

    episodes = Counter(e.kind for e in plan.episodes if e.start <= TICKS)
    internal_errors = [r.getMessage() for r in caplog.records if r.exc_info or "Internal error" in r.getMessage()]
    loud_outages = [r.getMessage() for r in caplog.records
                    if r.levelno >= logging.WARNING and r.name == "enphased.poller" and "(unreachable)" in r.getMessage()]
    summary = {
        "ticks": figures["ticks"], "cycles run": figures["cycles run"], "seconds": round(time.monotonic() - started, 1),
        "episodes by kind": dict(sorted(episodes.items())),
        "requests hit by kind": dict(sorted((k, v) for k, v in plan.injected.items() if k not in CYCLE_KINDS)),
        "syncs under way / failed": [figures["syncs"], syncs_failed],
        "failed cycles by error": dict(failed), "recoveries": recoveries,
        "not recovered in one cycle": len(unrecovered), "most ticks to recover (backing off)": slowest_recovery,
        "values lost": len(lost), "Enlighten logins": cloud.logins, "login bound": LOGINS_PER_DAY,
        "lifetime counter decreases in Jeedom": len(jeedom.lifetime_decreases),
        "RSS kB after warm-up / end / peak": [rss_warm, rss_end, rss_peak],
    }
    print("\nChaos figures: " + json.dumps(summary, indent=1))
    record_property("chaos", summary)

    assert set(episodes) == set(CYCLE_KINDS) | set(k for k in episodes if k not in CYCLE_KINDS)
    assert len(episodes) >= 15, episodes  # every kind played
    assert unrecovered == []
    assert recoveries >= 30
    assert lost == []
    assert cloud.logins <= LOGINS_PER_DAY
    assert internal_errors == []
    assert loud_outages == []  # a silent gateway (the nightly outage) is no alarm
    assert rss_end - rss_warm < 20_000, summary  # kB: flat, not growing with cycles
    assert jeedom.lifetime_decreases == []  # through reboots' zeros, steps down and restarts from zero
