"""The one figure to trust for each quantity of the day and of the last 7 days, and the rules that judge them.

Every quantity ("Production du jour", "Consommation 7 jours", "Consommation nette du jour"...) is one command.
Its value comes from the first source that has one, in this order (SOURCES, docs/counters.md):
1. the gateway's own figure, when it breaks none of the plausibility rules (RULES);
2. the figure counted from the monotonic lifetime counters (counters.py): the increase since local midnight,
   or since local midnight six days ago for the last 7 days (today and the six days before). Only a whole span
   is counted: on the first day, the counters have not seen midnight and give no figure;
3. for net consumption only, consumption - production of the same span (as the gateway computes it);
otherwise nothing is published and Jeedom keeps its last value. A gateway figure a rule rejects is never
published: it is logged once at info level (once more for each other rule it breaks meanwhile; again only after
the figure has been accepted meanwhile, and not within SAY_AGAIN_S of its last line, so that a figure accepted
and rejected in turn cannot fill the log).

Pure apart from that log: `Judge.choose` takes the gateway's figure and the facts (`Facts`) it is checked
against, and says what to publish.
"""
import logging
from typing import Callable, Dict, FrozenSet, NamedTuple, Optional, Tuple

log = logging.getLogger("enphased.figures")

# How far a figure may be from a counted bound (the day so far, the week's known days, earlier today).
SLACK_WH, SLACK_SHARE = 250.0, 0.10
# How far two measures of the same energy may differ (the gateway's day and the lifetime counter's increase since
# midnight; net and consumption - production), beside what the counted one itself does not know (`*_within`).
MATCH_WH, MATCH_SHARE = 25.0, 0.01
ROUNDING_WH = 1.0  # how far two figures of one gateway answer may differ (its rounding)
LIFETIME_MISFILED_ABOVE_WH = 100_000.0  # a day or week of 90 % of a lifetime above this is the lifetime, misfiled
LIFETIME_MISFILED_SHARE = 0.9
FLOWING_W = 10.0  # a flow of at least this power for QUIET_S since local midnight made at least 1 Wh today
QUIET_S = 600
SAY_AGAIN_S = 3600  # a figure's rejection is said again, after it was accepted meanwhile, this long after its last line

SOURCES = ("gateway", "counted", "balance")


class Facts(NamedTuple):
    """What a gateway figure is judged against. None: not known (a rule that needs it cannot reject)."""

    span: str  # "day" | "week"
    signed: bool = False  # a balance (net): may be negative, and is no lifetime's part
    lifetime: Optional[float] = None  # the gateway's own lifetime of the same flow, from the same answer
    power_w: Optional[float] = None  # the flow's power now, from the same answer
    since_midnight_s: Optional[float] = None  # how long today has lasted (local time)
    counted: Optional[float] = None  # counted from the lifetime counters over the same whole span
    counted_within: float = 0.0  # how far it may be off: the energy counted across the gap around local midnight
    at_least: Optional[float] = None  # counted lower bound: the day since the first reading; the week's known days
    at_most: Optional[float] = None  # counted upper bound: the week, since local midnight seven days ago
    held: Optional[float] = None  # the day: what was published for it earlier today (an energy never goes down)
    day: Optional[float] = None  # the week: the day's published figure
    balance: Optional[float] = None  # net: consumption - production of the same span
    balance_within: float = 0.0  # how far that may be off (what the two figures themselves may be off)


def slack(reference: float) -> float:
    return max(SLACK_WH, SLACK_SHARE * abs(reference))


def match(reference: float) -> float:
    return max(MATCH_WH, MATCH_SHARE * abs(reference))


def _near(value: float, reference: Optional[float], within: float) -> bool:
    return reference is None or abs(value - reference) <= match(reference) + within


def _not_below(value: float, bound: Optional[float]) -> bool:
    return bound is None or value >= bound - slack(bound)


def _not_above(value: float, bound: Optional[float]) -> bool:
    return bound is None or value <= bound + slack(bound)


def _nothing_while_flowing(value: float, f: Facts) -> bool:
    return (value == 0 and f.power_w is not None and abs(f.power_w) >= FLOWING_W
            and f.since_midnight_s is not None and f.since_midnight_s >= QUIET_S)


class Rule(NamedTuple):
    name: str
    spans: Tuple[str, ...]  # the figures it judges
    holds: Callable[[float, Facts], bool]  # True: the figure passes (or a fact the rule needs is unknown)
    says: str  # what a figure breaking it is, for the log


_BOTH, _DAY, _WEEK = ("day", "week"), ("day",), ("week",)

# Every plausibility rule, once. tests/python/test_figures.py shows each with a recorded or perturbed example.
RULES: Tuple[Rule, ...] = (
    Rule(name="no_negative_energy", spans=_BOTH, holds=lambda v, f: f.signed or v >= 0,
         says="negative energy"),
    Rule(name="within_lifetime", spans=_BOTH,
         holds=lambda v, f: f.signed or f.lifetime is None or v <= f.lifetime + ROUNDING_WH,
         says="more than the lifetime counter"),
    Rule(name="not_the_lifetime", spans=_BOTH,
         holds=lambda v, f: f.signed or f.lifetime is None or f.lifetime <= LIFETIME_MISFILED_ABOVE_WH
         or v < LIFETIME_MISFILED_SHARE * f.lifetime,
         says="the lifetime counter misfiled"),
    Rule(name="not_nothing_while_flowing", spans=_BOTH, holds=lambda v, f: not _nothing_while_flowing(v, f),
         says="nothing, while the flow has power and the day is under way"),
    Rule(name="day_matches_counted", spans=_DAY, holds=lambda v, f: _near(v, f.counted, f.counted_within),
         says="not the lifetime counter's increase since local midnight"),
    Rule(name="day_holds_counted_so_far", spans=_DAY, holds=lambda v, f: f.signed or _not_below(v, f.at_least),
         says="less than the lifetime counter rose today"),
    Rule(name="day_never_goes_down", spans=_DAY, holds=lambda v, f: f.signed or _not_below(v, f.held),
         says="less than earlier today"),
    Rule(name="week_holds_the_day", spans=_WEEK,
         holds=lambda v, f: f.signed or f.day is None or v >= f.day - ROUNDING_WH,
         says="less than today"),
    Rule(name="week_holds_known_days", spans=_WEEK, holds=lambda v, f: f.signed or _not_below(v, f.at_least),
         says="less than the days counted in it"),
    Rule(name="week_within_counted", spans=_WEEK, holds=lambda v, f: f.signed or _not_above(v, f.at_most),
         says="more than the lifetime counter rose in eight days"),
    Rule(name="net_is_the_balance", spans=_BOTH, holds=lambda v, f: _near(v, f.balance, f.balance_within),
         says="not consumption - production"),
)


def broken_rule(value: float, facts: Facts) -> Optional[Rule]:
    """The first rule `value` breaks, or None when it is plausible."""
    return next((rule for rule in RULES if facts.span in rule.spans and not rule.holds(value, facts)), None)


class _Said(NamedTuple):
    """What was said of a command's rejections: the rules said since the last time it was said anew, when the last
    line was, and whether the figure was accepted since."""

    rules: FrozenSet[str]
    at: float
    accepted: bool = False


class Judge:
    """Chooses each figure's source; remembers which rejections it already logged (one line each)."""

    def __init__(self, name: str = ""):
        self.name = name  # the gateway, in log lines
        self._said: Dict[str, _Said] = {}  # command -> what was said of its rejections

    def choose(self, command: str, gateway: Optional[float], facts: Facts, now: float,
               balance: Optional[float] = None) -> Tuple[Optional[float], Optional[str]]:
        """(value to publish, its source) for one figure at time `now` (epoch s): `gateway` (its own, None: none)
        if plausible, else the counted one (`facts.counted`), else `balance` (net: consumption - production), else
        (None, None)."""
        if gateway is not None:
            rule = broken_rule(gateway, facts)
            said = self._said.get(command)
            if rule is None:
                if said is not None and not said.accepted:
                    self._said[command] = said._replace(accepted=True)
                return gateway, "gateway"
            if said is None or (said.accepted and now - said.at >= SAY_AGAIN_S):
                said = _Said(frozenset(), now)  # said anew: the first time, or accepted since, long enough ago
            if rule.name not in said.rules:
                self._said[command] = said._replace(rules=said.rules | {rule.name}, at=now)
                log.info("Gateway %s: its %s of %.0f Wh is not published (%s: %s); %s", self.name, command,
                         gateway, rule.name, rule.says, _fallback_text(facts.counted, balance))
        if facts.counted is not None:
            return facts.counted, "counted"
        if balance is not None:
            return balance, "balance"
        return None, None


def _fallback_text(counted: Optional[float], balance: Optional[float]) -> str:
    if counted is not None:
        return f"the counted {counted:.0f} Wh instead"
    if balance is not None:
        return f"consumption - production, {balance:.0f} Wh, instead"
    return "nothing instead: the counters have not seen the whole span yet"
