"""The built-in demo gateway: `host` "demo" in a gateway's configuration plays our synthetic gateway
(simulator/synthetic.py) on a loopback port, read through the normal client like a real one.

Each demo gateway id gets a house of its own; a demo gateway lives from its first use until its id leaves
the configuration (kept across reconfigurations) or the daemon ends.
"""
import hashlib
import logging
import threading
from typing import Any, Dict, Tuple

DEMO_HOST = "demo"

log = logging.getLogger("enphased")

_demos: Dict[str, Tuple[Any, str]] = {}  # gateway id -> (running simulator, token it accepts)
_demos_lock = threading.Lock()


def demo_seed(gateway_id: str) -> int:
    """The synthetic house of a demo gateway: the first one ("default") is the documentation's house; each
    other id gets a house of its own (another serial, other devices), the same at every restart."""
    if gateway_id == "default":
        return 1
    return int(hashlib.sha256(gateway_id.encode("utf-8")).hexdigest()[:8], 16) or 2


def demo_gateway(gateway_id: str) -> Tuple[str, str]:
    """The demo gateway of this id, started on first use: its URL and a token it accepts, signed by the
    cloud stand-in of this same process."""
    from simulator.cloud import issue_token
    from simulator.server import GatewayAuth, GatewaySimulator, identity
    from simulator.synthetic import SyntheticGateway

    with _demos_lock:
        if gateway_id not in _demos:
            gateway = SyntheticGateway(seed=demo_seed(gateway_id))
            serial, major = identity(gateway.info_xml())
            simulator = GatewaySimulator(gateway, auth=GatewayAuth.for_firmware(serial, major)).start()
            log.info("Gateway %s: demo gateway %s on %s", gateway_id, serial, simulator.url)
            _demos[gateway_id] = (simulator, issue_token(serial, lifetime_s=10 * 365 * 86400))
        simulator, token = _demos[gateway_id]
        return simulator.url, token


def stop_demo_gateways(keep=()) -> None:
    """Stop the demo gateways whose id is not in `keep` (gone from the configuration, or the daemon ends)."""
    with _demos_lock:
        gone = [gid for gid in _demos if gid not in keep]
        stopped = [_demos.pop(gid)[0] for gid in gone]
    for simulator in stopped:
        simulator.stop()
