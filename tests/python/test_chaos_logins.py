"""Enphase account protection: whatever goes wrong (a wrong password, the cloud down, a gateway refusing
every token, daemon restarts), the daemon never logs in to Enlighten more than the login budget allows
in any 24 hours, and says why in the gateway's status instead.

The daemon's core runs as in Jeedom (socket actions, worker, Envoy client, callback to a receiver), against
a firmware-7 gateway and the cloud stand-in; the clock that the login budget reads moves 10 minutes a tick,
so days pass in seconds."""
import time
from pathlib import Path

import pytest

import gateways
from chaos_helpers import APIKEY, DaemonProcess
from envoy.auth import LoginBudget
from envoy.enlighten import CloudSettings
from envoy.token_store import ACCOUNT_LOGINS
from jeedom_receiver import JeedomReceiver
from sim_helpers import MiniGateway
from simulator.cloud import Account, serve_cloud
from simulator.faults import Episode, FaultPlan
from simulator.server import serve
from site_helpers import Site

EMAIL, PASSWORD = "owner@example.invalid", "the-right-password"
SERIAL = "122302045041"
TICK_S = 600
DAY_TICKS = 86400 // TICK_S
BOUND = LoginBudget().max_per_day
WAIT_S = 30


class AccountGateways:
    """Gateways of one Enlighten account (one, or `gateways` of them) in a daemon Site whose clock moves TICK_S
    a tick; `logins` holds the clock's time of each login the cloud saw (attempts included). `restart()` is a
    new daemon on the same data folder."""

    def __init__(self, sim, cloud, folder, password=PASSWORD, gateways=1):
        self.sim, self.cloud = sim, cloud
        self.ids = ["g"] if gateways == 1 else [f"g{n}" for n in range(1, gateways + 1)]
        self.now = time.time()
        self.logins = []
        self._counted = cloud.count("/login/login.json")
        self.site = Site(folder, clock=self.clock, envoy_factory=self._envoy)
        self.configure(password)

    def clock(self):
        return self.now

    def _envoy(self, config, datadir):
        envoy = gateways.make_envoy(config, datadir)
        envoy.cloud = CloudSettings(self.cloud.url, self.cloud.url, timeout_s=WAIT_S)  # a bound: nothing hangs
        envoy.clock = self.clock
        return envoy

    def restart(self):
        self.site.restart()
        self._first_cycles()

    def configure(self, password):
        self.site.configure(general_s=3600, devices_s=3600, gateways=[
            {"id": gid, "host": self.sim.url, "username": EMAIL, "enlighten_password": password}
            for gid in self.ids])
        self._first_cycles()

    def _first_cycles(self):
        for poller in self.pollers:
            poller.submit(lambda: None).result(WAIT_S)
        self._count()

    @property
    def pollers(self):
        return self.site.pollers

    def _count(self):
        seen = self.cloud.count("/login/login.json")
        self.logins += [self.now] * (seen - self._counted)
        self._counted = seen

    def ticks(self, count):
        for _ in range(count):
            self.now += TICK_S
            for poller in self.pollers:
                poller.submit(lambda: poller.cadences.mark_due("general")).result(WAIT_S)
                poller.submit(lambda: None).result(WAIT_S)
            self._count()

    def most_in_a_day(self):
        return max((sum(1 for u in self.logins if t <= u < t + 86400) for t in self.logins), default=0)

    @property
    def error(self):
        return self.error_of(self.site.poller)

    @staticmethod
    def error_of(poller):
        error = poller._error
        return None if error is None else (error.code, error.message)

    def last_status(self):
        statuses = [e for b in self.site.jeedom.bodies for e in b["events"] if e["type"] == "status"]
        return statuses[-1]


@pytest.fixture
def world(tmp_path):
    plan = FaultPlan()
    with serve_cloud([Account(EMAIL, PASSWORD)], faults=plan.cloud) as cloud, \
            serve(MiniGateway(SERIAL, "7.6.175")) as sim:
        sites = []

        def site(**options):
            sites.append(AccountGateways(sim, cloud, tmp_path, **options))
            return sites[-1]

        yield site, sim, cloud, plan
        for s in sites:
            s.site.close()


def test_a_wrong_password_is_tried_once_then_the_status_says_so_until_it_is_changed(world):
    site, sim, cloud, plan = world
    s = site(password="a-wrong-password")
    s.ticks(3 * DAY_TICKS)
    assert len(s.logins) == 1
    code, message = s.error
    assert code == "auth_failed" and "refused this email and password" in message and "not try them again" in message
    assert s.last_status()["error"] == {"code": code, "message": message}
    s.configure(PASSWORD)  # the user types the right one: used at once
    s.ticks(1)
    assert len(s.logins) == 2 and s.error is None and s.last_status()["error"] is None


def test_the_cloud_down_for_days_costs_at_most_the_budget_a_day_then_it_recovers(world):
    site, sim, cloud, plan = world
    plan.episodes.append(Episode("cloud_down", 0, 10 ** 9))
    s = site()
    s.ticks(3 * DAY_TICKS)
    assert 3 <= len(s.logins) and s.most_in_a_day() <= BOUND
    assert s.error[0] in ("bad_response", "login_throttled")
    plan.episodes.clear()
    s.ticks(DAY_TICKS + 1)  # the longest back-off is a day
    assert s.error is None and s.most_in_a_day() <= BOUND


def test_a_gateway_refusing_every_token_costs_at_most_the_budget_a_day_even_across_restarts(world):
    site, sim, cloud, plan = world
    sim.auth.token_key = b"not the key the cloud signs with"
    s = site()
    s.ticks(DAY_TICKS // 2)
    s.restart()
    s.ticks(DAY_TICKS // 2)
    s.restart()
    s.ticks(2 * DAY_TICKS)
    assert s.most_in_a_day() <= BOUND and len(s.logins) >= BOUND
    assert s.error[0] in ("auth_failed", "login_throttled")
    assert "Enlighten" in s.error[1] or "Enphase" in s.error[1]


def test_restarts_alone_do_not_buy_more_logins(world):
    site, sim, cloud, plan = world
    sim.auth.token_key = b"not the key the cloud signs with"
    s = site()
    for _ in range(20):  # Jeedom restarting the daemon over and over
        s.restart()
        s.ticks(1)
    assert s.most_in_a_day() <= BOUND


# --- one Enlighten account, three gateways (issue 12, point 13) ---

def test_three_gateways_of_one_account_with_a_wrong_password_log_in_once_across_days_and_restarts(world, capsys):
    site, sim, cloud, plan = world
    s = site(password="a-wrong-password", gateways=3)
    for _ in range(6):  # three days, the daemon restarted twice a day
        s.ticks(DAY_TICKS // 2)
        s.restart()
    print(f"\nlogins per account per day, 3 gateways, wrong password: {s.most_in_a_day()} ({len(s.logins)} in 3 days)")
    assert len(s.logins) == 1  # the refusal is the account's, and it outlives restarts
    for poller in s.pollers:
        code, message = s.error_of(poller)
        assert code == "auth_failed" and "not try them again" in message
    book = (Path(s.site.datadir) / ACCOUNT_LOGINS).read_text()
    assert "a-wrong-password" not in book and EMAIL not in book  # a salted fingerprint, a keyed account
    s.configure(PASSWORD)  # the user types the right one: each gateway gets its token at once
    s.ticks(1)
    assert len(s.logins) == 4 and all(s.error_of(p) is None for p in s.pollers)


def test_three_gateways_of_one_account_share_its_login_budget_across_restarts(world, capsys):
    site, sim, cloud, plan = world
    sim.auth.token_key = b"not the key the cloud signs with"  # every gateway refuses every token
    s = site(gateways=3)
    for _ in range(6):
        s.ticks(DAY_TICKS // 2)
        s.restart()
    print(f"\nlogins per account per day, 3 gateways, tokens refused: {s.most_in_a_day()} "
          f"({len(s.logins)} in 3 days)")
    assert BOUND <= s.most_in_a_day() <= BOUND
    assert {s.error_of(p)[0] for p in s.pollers} <= {"auth_failed", "login_throttled"}


def test_the_refusal_outlives_the_daemon_process(tmp_path):
    """The daemon as Jeedom runs it, started four times on the same data folder, three gateways of one account
    with a wrong password: Enlighten sees one login attempt, not one per process (nor per gateway)."""
    receiver = JeedomReceiver(APIKEY)
    with serve_cloud([Account(EMAIL, PASSWORD)]) as cloud, serve(MiniGateway(SERIAL, "7.6.175")) as sim:
        for run in range(4):
            daemon = DaemonProcess(tmp_path, receiver.url, loglevel="info", launcher=True,
                                   env={"CHAOS_CLOUD_URL": cloud.url, "CHAOS_TIMEOUT_S": "5"})
            try:
                seen = len(receiver.bodies)
                assert daemon.send({"action": "configure", "general_s": 0.05, "devices_s": 0.05, "gateways": [
                    {"id": f"g{n}", "host": sim.url, "username": EMAIL, "enlighten_password": "a-wrong-password"}
                    for n in (1, 2, 3)]})["ok"]

                def refused(r):
                    said = {e["gateway"] for b in r.bodies[seen:] for e in b["events"] if e["type"] == "status"
                            and (e.get("error") or {}).get("code") == "auth_failed"}
                    return said >= {"g1", "g2", "g3"}

                assert receiver.wait_for(refused, 60), daemon.output()[-3000:]
            finally:
                assert daemon.stop() == 0
    receiver.close()
    print(f"\nEnlighten logins, 3 gateways of one account, wrong password, 4 daemon processes: {cloud.logins}")
    assert cloud.logins == 1
