"""Enphase account protection: whatever goes wrong (a wrong password, the cloud down, a gateway refusing
every token, daemon restarts), the daemon never logs in to Enlighten more than the login budget allows
in any 24 hours, and says why in the gateway's status instead.

The daemon's core runs as in Jeedom (socket actions, worker, Envoy client, callback to a receiver), against
a firmware-7 gateway and the cloud stand-in; the clock that the login budget reads moves 10 minutes a tick,
so days pass in seconds."""
import tempfile
import time

import pytest

import gateways
from envoy.auth import CloudSettings, LoginBudget
from gateways import Daemon
from jeedom.callback import Callback
from jeedom_receiver import JeedomReceiver
from sim_helpers import MiniGateway
from simulator.cloud import Account, serve_cloud
from simulator.faults import Episode, FaultPlan
from simulator.server import serve

EMAIL, PASSWORD = "owner@example.invalid", "the-right-password"
SERIAL = "122302045041"
TICK_S = 600
DAY_TICKS = 86400 // TICK_S
BOUND = LoginBudget().max_per_day
WAIT_S = 30


class Site:
    """One gateway configured in a daemon; `restart()` is a new daemon on the same data folder."""

    def __init__(self, sim, cloud, receiver, datadir, password=PASSWORD):
        self.sim, self.cloud, self.receiver, self.datadir = sim, cloud, receiver, datadir
        self.now = time.time()
        self.password = password
        self.logins = []  # clock of each login the cloud saw (attempts included)
        self._counted = cloud.count("/login/login.json")
        self.daemon = None
        self.restart()

    def clock(self):
        return self.now

    def _envoy(self, config, datadir):
        envoy = gateways.make_envoy(config, datadir)
        envoy.cloud = CloudSettings(self.cloud.url, self.cloud.url, timeout_s=WAIT_S)  # a bound: nothing hangs
        envoy.clock = self.clock
        return envoy

    def restart(self):
        if self.daemon is not None:
            self.daemon.stop()
        self.daemon = Daemon(Callback(self.receiver.url, "k", timeout_s=WAIT_S), datadir=self.datadir,
                             envoy_factory=self._envoy)
        self.configure(self.password)

    def configure(self, password):
        self.password = password
        self.daemon.configure({"general_s": 3600, "devices_s": 3600, "gateways": [
            {"id": "g", "host": self.sim.url, "username": EMAIL, "enlighten_password": password}]})
        self.poller = self.daemon.pollers["g"]
        self.poller.clock = self.clock
        self.poller.submit(lambda: None).result(WAIT_S)  # its first cycle
        self._count()

    def _count(self):
        seen = self.cloud.count("/login/login.json")
        self.logins += [self.now] * (seen - self._counted)
        self._counted = seen

    def ticks(self, count):
        for _ in range(count):
            self.now += TICK_S
            self.poller.submit(lambda: self.poller.cadences.mark_due("general")).result(WAIT_S)
            self.poller.submit(lambda: None).result(WAIT_S)
            self._count()

    def most_in_a_day(self):
        return max((sum(1 for u in self.logins if t <= u < t + 86400) for t in self.logins), default=0)

    @property
    def error(self):
        error = self.poller._error
        return None if error is None else (error.code, error.message)

    def last_status(self):
        statuses = [e for b in self.receiver.bodies for e in b["events"] if e["type"] == "status"]
        return statuses[-1]


@pytest.fixture
def world(tmp_path):
    plan = FaultPlan()
    receiver = JeedomReceiver("k")
    with serve_cloud([Account(EMAIL, PASSWORD)], faults=plan.cloud) as cloud, \
            serve(MiniGateway(SERIAL, "7.6.175")) as sim:
        sites = []

        def site(**options):
            sites.append(Site(sim, cloud, receiver, str(tmp_path), **options))
            return sites[-1]

        yield site, sim, cloud, plan
        for s in sites:
            s.daemon.stop()
    receiver.close()


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
