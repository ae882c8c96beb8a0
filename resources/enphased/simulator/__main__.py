"""Run a simulated gateway (and the Enphase cloud stand-in) until interrupted.

    python3 -m simulator --recorded DIR|REPORT.zip [--port P]   (from resources/enphased)
    python3 -m simulator --synthetic [--inverters 12 --encharges 2 ...] [--port P]
    python3 -m simulator --hostile [--kind strings|numbers|...] [--identities none|half|all] [synthetic options]
                                                                                        (see hostile.py)
    ... --faults "reset=0.05,http503=0.02,reboot@10+2,outage@30+5" [--cycle-s 60]   (see faults.py)

Prints the gateway URL, the cloud URL and a demo account whose tokens the gateway accepts.
"""
import argparse
import signal
import sys
import threading

from .cloud import DEMO_EMAIL, DEMO_PASSWORD, Account, issue_token, serve_cloud
from .hostile import KINDS as HOSTILE_KINDS
from .recorded import RecordedGateway
from .server import identity, serve


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python3 -m simulator", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--recorded", metavar="DIR", help="a folder of recorded responses (shared/envoy-fixtures/<name>) "
                                                         "or a diagnostics report (.zip)")
    source.add_argument("--synthetic", action="store_true", help="our own demo gateway")
    source.add_argument("--hostile", action="store_true", help="the synthetic gateway saying hostile strings "
                                                                "(markup, quotes, control characters...)")
    parser.add_argument("--identities", choices=("none", "half", "all"), default="half",
                        help="--hostile: which serials and ids are hostile too (default: half of them)")
    parser.add_argument("--kind", choices=HOSTILE_KINDS, default="strings",
                        help="--hostile: what the gateway says wrong (default: its strings)")
    parser.add_argument("--port", type=int, default=0, help="gateway port (0: a free one)")
    parser.add_argument("--cloud-port", type=int, default=0, help="Enlighten/entrez stand-in port (0: a free one)")
    parser.add_argument("--http", action="store_true", help="plain HTTP even for firmware >= 7")
    parser.add_argument("--lax", action="store_true", help="accept any unexpired JWT, whoever signed it")
    faults = parser.add_argument_group("faults (simulator/faults.py)")
    faults.add_argument("--faults", metavar="SPEC", help="kind=P per request, kind@C+N for N cycles from cycle C, "
                                                          "or chaos (a seeded mix of every kind)")
    faults.add_argument("--fault-seed", type=int, default=0)
    faults.add_argument("--cycle-s", type=float, default=60.0, help="length of a fault cycle (the reader's cadence)")
    faults.add_argument("--hang-s", type=float, default=120.0, help="how long a hung request is held at most")
    faults.add_argument("--slow-s", type=float, default=20.0, help="delay of a slow answer")
    synthetic = parser.add_argument_group("synthetic gateway")
    for name in ("inverters", "encharges", "acbs", "phases", "qrelays", "dry-contacts", "seed"):
        synthetic.add_argument("--" + name, type=int)
    for name in ("enpower", "generator"):
        synthetic.add_argument("--" + name, action="store_true", default=None)
    synthetic.add_argument("--no-consumption-cts", dest="consumption_cts", action="store_false", default=None)
    synthetic.add_argument("--hour", type=float, help="play today from this local hour on (default: the real time)")
    synthetic.add_argument("--sunny", action="store_true", default=None, help="a clear sky every day")
    synthetic.add_argument("--firmware")
    synthetic.add_argument("--serial")
    return parser.parse_args(argv)


def _gateway(args):
    if args.recorded:
        return RecordedGateway(args.recorded)
    from .synthetic import SyntheticGateway, starting_at

    options = {name: getattr(args, name) for name in (
        "inverters", "encharges", "acbs", "phases", "qrelays", "dry_contacts", "seed", "enpower", "generator",
        "consumption_cts", "firmware", "serial", "sunny") if getattr(args, name) is not None}
    if args.hour is not None:
        options["clock"] = starting_at(args.hour)
    gateway = SyntheticGateway(**options)
    if args.hostile:
        from .hostile import HostileGateway

        return HostileGateway(gateway, identities=args.identities, kind=args.kind)
    return gateway


def main(argv=None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    gateway = _gateway(args)
    serial, major = identity(gateway.info_xml())
    plan = None
    if args.faults:
        from .faults import parse_spec

        plan = parse_spec(args.faults, seed=args.fault_seed, cycle_s=args.cycle_s, hang_s=args.hang_s,
                          slow_s=args.slow_s)
    simulator = serve(gateway, tls=False if args.http else None, lax=args.lax, port=args.port, faults=plan)
    auth = simulator.auth
    cloud = serve_cloud([Account(DEMO_EMAIL, DEMO_PASSWORD)], port=args.cloud_port,
                        faults=plan.cloud if plan else None)
    # Before the banner: whoever reads it may stop us at once, and must get the summary below.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Gateway {serial} (firmware {major}.x, auth {auth.mode}): {simulator.url}")
    print(f"Enlighten and entrez stand-in: {cloud.url}")
    if auth.mode == "jwt":
        print(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD} (test credentials)")
        print(f"Token: {issue_token(serial, lifetime_s=7 * 86400)}")
    else:
        print(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}; gateway users: {', '.join(sorted(auth.users))}")
    if plan is not None:
        print(f"Faults: {args.faults} (seed {args.fault_seed}, a cycle every {args.cycle_s:g} s)")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly on every Python
            pass
    except KeyboardInterrupt:
        pass
    if plan is not None:
        plan.close()
        print("Faults injected: " + ", ".join(f"{k} {n}" for k, n in sorted(plan.injected.items())))
    simulator.stop()
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
