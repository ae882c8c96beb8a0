"""`make demo` runs end to end: synthetic gateway + cloud stand-in + the probe CLI, then the daemon
synchronizing the demo gateway, and ends by itself."""
import subprocess
import sys


from conftest import REPO



def test_demo_probes_the_synthetic_gateway_through_the_enlighten_login():
    from simulator.cloud import DEMO_PASSWORD

    done = subprocess.run([sys.executable, str(REPO / "tests" / "demo.py"), "--hour", "13"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for expected in ("8.2.4345", "jwt-owner", "Expiration du jeton / Token expiry  20", "Production",
                     "Batteries:", "Micro-onduleurs / Microinverters (12)"):
        assert expected in out
    # then the daemon, started as Jeedom does, synchronizes the demo gateway and sends values, then changes
    for expected in ("Synchronize: 1 gateway, 12 inverter, 2 encharge", "[Passerelle ", "État batteries",
                     "Cycle suivant / next cycle:"):
        assert expected in out, out
    assert "(aucun nouveau cycle" not in out
    assert DEMO_PASSWORD not in out + done.stderr and "eyJ" not in out + done.stderr  # no secret, no token
