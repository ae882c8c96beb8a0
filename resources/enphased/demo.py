"""The built-in demo gateway: `host` "demo" in a gateway's configuration plays our synthetic gateway
(simulator/synthetic.py) on a loopback port, read through the normal client like a real one.

Each demo gateway id gets a house of its own; a demo gateway lives from its first use until its id leaves
the configuration (kept across reconfigurations) or the daemon ends. It plays a clear day from DEMO_HOUR (or
the hour its configuration gives, or the real time): someone trying the plugin in the evening sees the sun.
"""
import hashlib
import logging
import threading
import time
from typing import Any, Dict, Optional, Tuple

DEMO_HOST = "demo"
DEMO_HOUR = 13.0  # the local time a demo house starts at, unless its configuration says otherwise

log = logging.getLogger("enphased")

_demos: Dict[str, Tuple[Any, str, Optional[float]]] = {}  # gateway id -> (running simulator, token, its hour)
_demos_lock = threading.Lock()


def demo_seed(gateway_id: str) -> int:
    """The synthetic house of a demo gateway: the first one ("default") is the documentation's house; each
    other id gets a house of its own (another serial, other devices), the same at every restart."""
    if gateway_id == "default":
        return 1
    return int(hashlib.sha256(gateway_id.encode("utf-8")).hexdigest()[:8], 16) or 2


def demo_gateway(gateway_id: str, hour: Optional[float] = DEMO_HOUR) -> Tuple[str, str]:
    """The demo gateway of this id, started on first use: its URL and a token it accepts, signed by the
    cloud stand-in of this same process. `hour`: the local time it plays when it starts (None: the real
    time); another hour starts the house again."""
    from simulator.cloud import issue_token
    from simulator.server import GatewayAuth, GatewaySimulator, identity
    from simulator.synthetic import SyntheticGateway, starting_at

    stale = None
    with _demos_lock:
        if gateway_id in _demos and _demos[gateway_id][2] != hour:
            stale = _demos.pop(gateway_id)[0]
        if gateway_id not in _demos:
            gateway = SyntheticGateway(seed=demo_seed(gateway_id), sunny=True,
                                       clock=time.time if hour is None else starting_at(hour))
            serial, major = identity(gateway.info_xml())
            simulator = GatewaySimulator(gateway, auth=GatewayAuth.for_firmware(serial, major)).start()
            log.info("Gateway %s: demo gateway %s on %s, playing %s", gateway_id, serial, simulator.url,
                     "the real time" if hour is None else "a clear day from %02d:%02d" % divmod(int(hour * 60), 60))
            _demos[gateway_id] = (simulator, issue_token(serial, lifetime_s=10 * 365 * 86400), hour)
        simulator, token, _ = _demos[gateway_id]
    if stale is not None:
        stale.stop()
    return simulator.url, token


def stop_demo_gateways(keep=()) -> None:
    """Stop the demo gateways whose id is not in `keep` (gone from the configuration, or the daemon ends)."""
    with _demos_lock:
        gone = [gid for gid in _demos if gid not in keep]
        stopped = [_demos.pop(gid)[0] for gid in gone]
    for simulator in stopped:
        simulator.stop()
