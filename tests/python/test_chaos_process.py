"""Chaos against the daemon as Jeedom runs it: a real enphased.py process polling every 50 ms a synthetic
gateway that goes through a seeded mix of every fault on the clock (a fault cycle every 0.2 s), for a few
seconds. The process must never exit, its socket must keep answering, its memory (read from /proc) must
stay flat, its Enlighten logins within the budget, and it must stop cleanly on SIGTERM afterwards.
(test_chaos.py checks recovery and lost values cycle by cycle, in step with the schedule, in-process.)"""
import time

from chaos_helpers import APIKEY, DaemonProcess
from envoy.auth import LoginBudget
from jeedom_receiver import JeedomReceiver
from simulator.cloud import Account, serve_cloud
from simulator.faults import FaultPlan, chaos_schedule
from simulator.server import serve
from simulator.synthetic import SyntheticGateway

EMAIL, PASSWORD = "owner@example.invalid", "process-chaos-password"
CYCLE_S = 0.2
CYCLES = 30  # 6 s of faults
SEED = 77


def test_the_daemon_process_survives_every_fault_with_flat_memory(tmp_path):
    plan = FaultPlan(chaos_schedule(SEED, CYCLES, clean_between=(1, 2)), seed=SEED, cycle_s=CYCLE_S, hang_s=2,
                     slow_s=0.1)
    receiver = JeedomReceiver(APIKEY)
    with serve_cloud([Account(EMAIL, PASSWORD)], faults=plan.cloud) as cloud, \
            serve(SyntheticGateway(inverters=8, encharges=1, seed=4), faults=plan) as sim:
        daemon = DaemonProcess(tmp_path, receiver.url, loglevel="info", launcher=True,
                               env={"CHAOS_CLOUD_URL": cloud.url, "CHAOS_TIMEOUT_S": "0.3"})
        try:
            assert daemon.send({"action": "configure", "general_s": 0.05, "devices_s": 0.25, "gateways": [
                {"id": "p", "host": sim.url, "username": EMAIL, "enlighten_password": PASSWORD}]})["ok"]
            rss = []
            while plan.follow_clock() < CYCLES + 4:  # the schedule, then a few clean cycles
                receiver.down = plan.jeedom_down
                assert daemon.alive(), daemon.output()[-3000:]
                assert daemon.send({"action": "resume", "gateway": "p"}, timeout_s=10) == {"ok": True}
                rss.append(daemon.rss_kb())
                time.sleep(CYCLE_S)
            receiver.down = False
            events_before = len(receiver.bodies)
            deadline = time.monotonic() + 10
            while len(receiver.bodies) == events_before and time.monotonic() < deadline:
                time.sleep(0.05)  # values flow again once the faults are over
            assert len(receiver.bodies) > events_before
        finally:
            plan.close()
            code = daemon.stop()
            receiver.close()
    warm = rss[len(rss) // 4]
    print(f"\nProcess chaos: {plan.cycle} fault cycles, injected {dict(plan.injected)}, "
          f"{cloud.count('/login/login.json')} login attempts, RSS kB warm {warm} end {rss[-1]} peak {max(rss)}")
    assert code == 0
    assert "Traceback" not in daemon.output()
    assert cloud.count("/login/login.json") <= LoginBudget().max_per_day
    assert rss[-1] - warm < 10_000 and max(rss) < 120_000  # kB
