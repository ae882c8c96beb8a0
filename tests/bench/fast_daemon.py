"""enphased.py exactly as Jeedom starts it, except that the cadence floor is lifted.

The daemon refuses cadences under MIN_CADENCE_S (10 s) to spare real gateways. Against the simulator the
bench needs 1 s (latency) and back-to-back cycles (memory over 1,000 cycles in seconds, not hours), so
this launcher lowers the floor and lets cadences be fractions of a second. Nothing else differs: same
modules, same threads, same socket and callback.
"""
import sys

import gateways

gateways.MIN_CADENCE_S = 0.001


def _seconds(value, default):
    try:
        return max(gateways.MIN_CADENCE_S, float(value))
    except (TypeError, ValueError):
        return default


gateways._seconds = _seconds

import enphased  # noqa: E402

if __name__ == "__main__":
    sys.exit(enphased.main())
