"""What a gateway, the network and the Enphase cloud do wrong, played by the simulators on demand.

A `FaultPlan` is handed to a simulated gateway (and, through `plan.cloud`, to the cloud stand-in). It is
consulted when a connection is accepted, before a request is served and on the answer, and injects:
- per-request faults: each request has a chance (seeded) of one of REQUEST_KINDS;
- episodes: a fault that lasts whole poll cycles (a reboot, the nightly outage, absurd or poisoned numbers, a
  token the gateway stops accepting, the cloud or Jeedom down, or a per-request kind hitting a share of the
  requests for a while).
The plan's cycle moves on when the test calls `next_cycle()` (in step with the reader's cycles) or, from
the command line, every `cycle_s` seconds. One seeded generator draws everything, so the same seed and the
same sequence of requests give the same faults. `injected` counts what was done, by kind.

    python3 -m simulator --synthetic --faults "reset=0.05,http503=0.02,reboot@10+2,outage@30+5"
    python3 -m simulator --synthetic --faults chaos --fault-seed 7 --cycle-s 60
"""
import json
import random
import re
import threading
import time
from collections import Counter
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from .server import RESET, Faults, Reply

# One request goes wrong.
REQUEST_KINDS = (
    "reset",  # the connection is dropped without an answer
    "timeout",  # accepted, then silence until the reader gives up (held until the episode ends)
    "slow",  # the right answer, after slow_s seconds (some firmware take tens of seconds)
    "http500", "http502", "http503",  # an error page
    "unauthorized",  # 401 although the session was valid: the gateway forgot its sessions
    "truncated",  # the JSON answer cut short
    "malformed",  # the JSON answer with garbage in the middle
    "html",  # 200 with an HTML error page where JSON is expected
)
# Something lasts whole cycles.
CYCLE_KINDS = (
    "reboot",  # down for the episode's cycles, then zeros and "unknown" for a while; lifetime counters step down
    "outage",  # the nightly outage around 23:00: every request hangs for the episode's cycles
    "token_expired",  # the gateway refuses every token it has seen; a new one must come from Enlighten
    "cloud_down",  # Enlighten and the token service answer 503
    "absurd",  # every reading (power, voltage, temperature, charge...) a trillion times what it is: 1e15 W
    "poison",  # every lifetime counter 10 GWh ahead of itself, as no site can count (a plausible size, still)
    "jeedom_down",  # not played here: the test reads `plan.jeedom_down` and takes its callback receiver down
)
KINDS = REQUEST_KINDS + CYCLE_KINDS

LIFETIME_STEP_WH = 1_190_000.0  # the step down seen on real units after some reboots
ABSURD_FACTOR = 1e12  # what "absurd" multiplies readings by
POISON_WH = 1e10  # what "poison" adds to lifetime counters
UNKNOWN_CYCLES = 2  # after a reboot, this many cycles answer zeros and "unknown"

_HTML_ERROR = b"<!DOCTYPE html><html><head><title>%d</title></head><body><h1>%d %s</h1></body></html>\n"
_REASONS = {500: b"Internal Server Error", 502: b"Bad Gateway", 503: b"Service Unavailable"}
# A number under one of these keys is a reading (zeroed after a reboot), not an id, count or time.
_READING_KEY = re.compile(r"wnow|wh|watt|energy|power|pwr|percent|soc|voltage|current|freq|temp|joules", re.I)
_LIFETIME_KEY = re.compile(r"lifetime|joulesproduced|actenergydlvd|actenergyrcvd", re.I)


class Episode(NamedTuple):
    kind: str
    start: int  # first cycle
    cycles: int = 1
    rate: float = 1.0  # request kinds: the share of requests hit during the episode

    def covers(self, cycle: int) -> bool:
        return self.start <= cycle < self.start + self.cycles


def _error_page(status: int) -> Reply:
    reason = _REASONS.get(status, b"Error")
    return Reply(status, _HTML_ERROR % (status, status, reason), "text/html")


class FaultPlan(Faults):
    """Faults for one run. `episodes` and `rates` (request kind -> chance per request) may be changed
    between cycles; everything else is drawn from `seed`."""

    def __init__(self, episodes: Iterable[Episode] = (), rates: Optional[Dict[str, float]] = None, *,
                 seed: int = 0, hang_s: float = 120.0, slow_s: float = 20.0, cycle_s: Optional[float] = None,
                 unknown_cycles: int = UNKNOWN_CYCLES):
        self.episodes: List[Episode] = list(episodes)
        self.rates: Dict[str, float] = dict(rates or {})
        for kind in [e.kind for e in self.episodes] + list(self.rates):
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
        self.hang_s = hang_s
        self.slow_s = slow_s
        self.cycle_s = cycle_s
        self.unknown_cycles = unknown_cycles
        self.cycle = 0
        self.injected: Counter = Counter()  # kind -> episodes begun (cycle kinds) or requests hit
        self.gateway = None  # the GatewaySimulator this plan is attached to
        self.cloud = _CloudFaults(self)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._release = threading.Event()  # set when the cycle ends: hung requests give up then
        self._spoil = threading.local()  # truncated/malformed, from before() to after() of one request
        self._started = time.monotonic()
        self._lifetime_steps: List[Tuple[int, str]] = []  # (from cycle, "step" | "reset") per reboot
        self._reset_offsets: Dict[Tuple[int, str, Tuple], float] = {}  # reset reboot -> value at restart
        self._begin(0)

    # --- the run ---

    def attach(self, server) -> None:
        self.gateway = server

    def next_cycle(self) -> int:
        """The reader starts a new cycle: hung requests are let go, episodes starting now begin."""
        with self._lock:
            self.cycle += 1
            self._release.set()
            self._release = threading.Event()
            cycle = self.cycle
        self._begin(cycle)
        return cycle

    def close(self) -> None:
        """Let every hung request go (the server is stopping)."""
        self.hang_s = 0
        self._release.set()

    def start_clock(self, cycle_s: float) -> None:
        """Cycles follow the clock from now on, one every `cycle_s` seconds, counting from the current one
        (a test lets its reader start and sync on a quiet gateway first, however slow the machine)."""
        with self._lock:
            self._started = time.monotonic() - self.cycle * cycle_s
            self.cycle_s = cycle_s

    def follow_clock(self) -> int:
        """With `cycle_s`: move to the cycle the clock is in (hooks call it; so may a test waiting for it)."""
        if self.cycle_s:
            while (time.monotonic() - self._started) // self.cycle_s > self.cycle:
                self.next_cycle()
        return self.cycle

    def _begin(self, cycle: int) -> None:
        for episode in self.episodes:
            if episode.start != cycle:
                continue
            if episode.kind in CYCLE_KINDS:
                self.injected[episode.kind] += 1
            if episode.kind == "reboot":
                with self._lock:
                    mode = self._rng.choice(("step", "reset"))
                    self._lifetime_steps.append((cycle + episode.cycles, mode))
                if self.gateway is not None:
                    self.gateway.drop_sessions()
            elif episode.kind == "token_expired" and self.gateway is not None:
                self.gateway.revoke_tokens()

    def active(self, kind: Optional[str] = None) -> List[Episode]:
        """Episodes covering the current cycle (of one kind)."""
        self.follow_clock()
        return [e for e in self.episodes if e.covers(self.cycle) and (kind is None or e.kind == kind)]

    @property
    def jeedom_down(self) -> bool:
        return bool(self.active("jeedom_down"))

    @property
    def gateway_down(self) -> bool:
        return bool(self.active("reboot"))

    @property
    def quiet(self) -> bool:
        """No episode this cycle and no per-request fault: the gateway answers as it should."""
        return not self.active() and not any(self.rates.values())

    def _after_reboot(self) -> bool:
        return any(e.kind == "reboot" and e.start + e.cycles <= self.cycle < e.start + e.cycles + self.unknown_cycles
                   for e in self.episodes)

    def _draw(self, path: str) -> Optional[str]:
        """The request kind that hits this request, if any."""
        chances = dict(self.rates)
        for episode in self.active():
            if episode.kind in REQUEST_KINDS:
                chances[episode.kind] = max(chances.get(episode.kind, 0.0), episode.rate)
        with self._lock:
            for kind in REQUEST_KINDS:  # a fixed order: the same draws for the same requests
                chance = chances.get(kind, 0.0)
                if chance > 0 and self._rng.random() < chance:
                    if kind == "unauthorized" and path.split("?")[0] in ("/info", "/info.xml", "/auth/check_jwt"):
                        continue  # those never need a session
                    return kind
        return None

    def _hang(self, seconds: float) -> None:
        self._release.wait(seconds)

    # --- the hooks the server calls ---

    def accept(self) -> bool:
        if self.gateway_down:
            self.injected["refused_connections"] += 1
            return False
        return True

    def before(self, method: str, path: str):
        self._spoil.kind = None
        if self.gateway_down:
            return RESET  # a keep-alive connection opened before the reboot
        if self.active("outage"):
            self._hang(self.hang_s)
            return RESET
        kind = self._draw(path)
        if kind is None:
            return None
        self.injected[kind] += 1
        if kind == "reset":
            return RESET
        if kind == "timeout":
            self._hang(self.hang_s)
            return RESET
        if kind == "slow":
            time.sleep(self.slow_s)
            return None
        if kind.startswith("http"):
            return _error_page(int(kind[4:]))
        if kind == "unauthorized":
            if self.gateway is not None:
                self.gateway.drop_sessions()
            return Reply(401, b'{"status":401,"error":"","info":"","moreInfo":""}')
        if kind == "html":
            return Reply(200, b"<!DOCTYPE html><html><body><h1>Envoy</h1><p>Internal error, please retry.</p>"
                              b"</body></html>\n", "text/html")
        self._spoil.kind = kind  # truncated, malformed: the answer is spoiled on its way out
        return None

    def after(self, method: str, path: str, reply: Reply):
        spoil, self._spoil.kind = getattr(self._spoil, "kind", None), None
        if spoil is not None and reply.body:
            with self._lock:
                cut = self._rng.randrange(max(1, len(reply.body) - 1))
                span = self._rng.randrange(1, 16)
                garbage = bytes(self._rng.choice(b'{}[]":,\\\x00\xff\xfe0123456789e.-') for _ in range(span))
            body = reply.body[:cut] if spoil == "truncated" else reply.body[:cut] + garbage + reply.body[cut + span:]
            return reply._replace(body=body)
        if reply.content_type.startswith("application/json") and reply.status == 200:
            return self._spoiled_values(path, reply)
        return reply

    # --- what a reboot (or an absurd or poisoned answer) does to the numbers ---

    def _spoiled_values(self, path: str, reply: Reply) -> Reply:
        spoil = _Spoil(zeroing=self._after_reboot(),
                       steps=[(start, mode) for start, mode in self._lifetime_steps if start <= self.cycle],
                       absurd=bool(self.active("absurd")), poison=bool(self.active("poison")))
        if not (spoil.zeroing or spoil.steps or spoil.absurd or spoil.poison):
            return reply
        try:
            data = json.loads(reply.body)
        except ValueError:
            return reply
        with self._lock:
            data = self._walk(path, data, (), spoil)
        return reply._replace(body=json.dumps(data, separators=(",", ":")).encode())

    def _walk(self, path, value, where, spoil: "_Spoil"):
        if isinstance(value, dict):
            return {k: self._walk(path, v, where + (k,), spoil) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(path, v, where + (i,), spoil) for i, v in enumerate(value)]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not where:
            return value
        key = str(where[-1])
        lifetime = _LIFETIME_KEY.search(key)
        joules = 3600 if "joules" in key.lower() else 1
        if lifetime:
            for start, mode in spoil.steps:
                if mode == "step":
                    value = max(0.0, value - LIFETIME_STEP_WH * joules)
                else:  # the counter restarts from zero at the reboot
                    offset = self._reset_offsets.setdefault((start, path, where), value)
                    value = max(0.0, value - offset)
            if spoil.poison:
                value += POISON_WH * joules
        if spoil.zeroing and _READING_KEY.search(key):
            return self._rng.choice((0, 0.0, "unknown"))
        if spoil.absurd and not lifetime and _READING_KEY.search(key):
            return value * ABSURD_FACTOR
        return value


class _Spoil(NamedTuple):
    """What this cycle does to an answer's numbers."""

    zeroing: bool  # after a reboot: zeros and "unknown"
    steps: List[Tuple[int, str]]  # lifetime counters: each reboot's step down or restart from zero
    absurd: bool
    poison: bool


class _CloudFaults(Faults):
    """The plan as the cloud stand-in sees it: only `cloud_down`."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan

    def before(self, method: str, path: str):
        if self.plan.active("cloud_down"):
            return _error_page(503)
        return None


# --- plans from a line of text (command line) or from a seed (chaos tests) --------------------------------

def parse_spec(spec: str, *, seed: int = 0, **options) -> FaultPlan:
    """`kind=P` (each request, chance P), `kind@C` or `kind@C+N` (an episode from cycle C for N cycles),
    `kind@C+N*P` (a request kind hitting a share P of the requests), or `chaos` (a seeded mix of every kind)."""
    episodes, rates = [], {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        if item == "chaos":
            episodes += chaos_schedule(seed, cycles=10_000)
            continue
        match = re.fullmatch(r"([a-z_0-9]+)(?:=([0-9.]+)|@(\d+)(?:\+(\d+))?(?:\*([0-9.]+))?)", item)
        if not match:
            raise ValueError(f"cannot read fault {item!r}: use kind=P, kind@C, kind@C+N or chaos")
        kind, chance, start, cycles, rate = match.groups()
        if chance is not None:
            rates[kind] = float(chance)
        else:
            episodes.append(Episode(kind, int(start), int(cycles or 1), float(rate or 1.0)))
    return FaultPlan(episodes, rates, seed=seed, **options)


# How long an episode of each kind lasts (cycles: min, max) and the share of requests hit.
_DURATIONS = {"reboot": (1, 3), "outage": (2, 5), "jeedom_down": (1, 6), "cloud_down": (1, 3),
              "token_expired": (1, 1)}


def chaos_schedule(seed: int, cycles: int, kinds: Iterable[str] = KINDS, *, max_token_expiries: int = 3,
                   clean_between: Tuple[int, int] = (1, 3)) -> List[Episode]:
    """A seeded mix of every kind over `cycles` cycles: episodes apart by a few clean cycles (so that
    recovery can be seen), every kind at least once, each kind in turn in a shuffled order.

    Token expiries are few (`max_token_expiries`): each one costs an Enlighten login, which is bounded."""
    rng = random.Random(seed)
    kinds = list(kinds)
    episodes: List[Episode] = []
    cycle = rng.randint(*clean_between)
    expiries = 0
    order: List[str] = []
    while cycle < cycles:
        if not order:
            order = kinds[:]
            rng.shuffle(order)
        kind = order.pop()
        if kind == "token_expired":
            if expiries >= max_token_expiries:
                continue
            expiries += 1
        low, high = _DURATIONS.get(kind, (1, 2))
        length = rng.randint(low, high)
        rate = 1.0 if kind in CYCLE_KINDS else rng.choice((0.3, 0.6, 1.0))
        episodes.append(Episode(kind, cycle, length, rate))
        # Jeedom down says nothing of the gateway: a gateway fault may come while it lasts.
        cycle += (rng.randint(0, length) if kind == "jeedom_down" else length) + rng.randint(*clean_between)
    return [e for e in episodes if e.start + e.cycles <= cycles]
