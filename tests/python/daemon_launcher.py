"""enphased.py exactly as Jeedom starts it, with three test settings (the chaos and secrets tests, the bench),
read from the environment:

- CHAOS_CLOUD_URL: the Enphase cloud stand-in (login and tokens) instead of Enphase's servers;
  CHAOS_CLOUD_CA its certificate when it speaks https;
- CHAOS_TIMEOUT_S: the gateway client's connect timeout and request deadline (seconds, not tens of seconds);
- the cadence floor (10 s, which spares real gateways) is lifted so cadences may be fractions of a second
  (the bench's latency and 1,000-cycle memory figures take seconds, not hours).
Nothing else differs: same modules, threads, socket, callback, login budget.
"""
import os
import sys

import cadence
import gateways

cadence.MIN_CADENCE_S = 0.001
_make_envoy = gateways.make_envoy


def make_envoy(config, datadir):
    from envoy.enlighten import CloudSettings

    envoy = _make_envoy(config, datadir)
    url = os.environ.get("CHAOS_CLOUD_URL")
    if url:
        envoy.cloud = CloudSettings(url, url, verify=os.environ.get("CHAOS_CLOUD_CA") or True, timeout_s=5)
    timeout = os.environ.get("CHAOS_TIMEOUT_S")
    if timeout:
        envoy.deadline_s = envoy.connect_timeout_s = float(timeout)
    return envoy


class Daemon(gateways.Daemon):
    def __init__(self, callback, datadir=None, envoy_factory=make_envoy):
        super().__init__(callback, datadir, envoy_factory)


gateways.Daemon = Daemon

import enphased  # noqa: E402

if __name__ == "__main__":
    sys.exit(enphased.main())
