"""Which HTTP stack for the gateway: the plugin's transport beside the libraries it could use, measured.

Each stack runs in a process of its own (so its import time and memory are its own) against one simulated
firmware-7 gateway over HTTPS on 127.0.0.1: one kept-alive connection, Bearer header, N GETs of a 3.6 kB JSON
answer, each decoded. Printed per stack: import time, resident memory after the import, and the CPU of one
GET (median of N, the reader process's own time.process_time; the simulator is another process).

    .venv/bin/python tests/bench/http_stacks.py [--requests N] [--stacks transport,http.client,urllib3,requests]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAEMON_DIR = HERE.parents[1] / "resources" / "enphased"
STACKS = ("transport", "http.client", "urllib3", "requests")
PATH = "/api/v1/production/inverters"


def answer_json():
    """About 3.6 kB, the size of a small gateway's production.json."""
    return [{"serialNumber": f"1221{i:08d}", "lastReportDate": 1700000000 + i, "devType": 1,
             "lastReportWatts": 200 + i, "maxReportWatts": 295} for i in range(32)]


# --- in the stack's own process ------------------------------------------------------------------------

def _memory_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def _client(stack, url, token):
    """(import ms, a function doing one decoded GET)."""
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json", "User-Agent": "jeedom-enphase"}
    host, port = url.split("://")[1].split(":")
    start = time.perf_counter()
    if stack == "transport":
        sys.path.insert(0, str(DAEMON_DIR))
        from envoy.transport import Transport

        imported = time.perf_counter()
        transport = Transport(url)
        transport.headers.update(headers)
        return imported - start, lambda: transport.request("GET", PATH).json()
    if stack == "http.client":
        import http.client
        import ssl

        imported = time.perf_counter()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=45)

        def get():
            conn.request("GET", PATH, headers=headers)
            return json.loads(conn.getresponse().read())
        return imported - start, get
    if stack == "urllib3":
        import urllib3

        imported = time.perf_counter()
        pool = urllib3.HTTPSConnectionPool(host, int(port), maxsize=1, cert_reqs="CERT_NONE",
                                           assert_hostname=False, timeout=45, retries=False)
        return imported - start, lambda: json.loads(pool.request("GET", PATH, headers=headers).data)
    if stack == "requests":
        import requests
        import urllib3

        urllib3.disable_warnings()
        imported = time.perf_counter()
        session = requests.Session()
        session.headers.update(headers)
        return imported - start, lambda: session.get(url + PATH, timeout=45, verify=False).json()
    raise ValueError(stack)


def run_stack(stack, url, token, n):
    import_s, get = _client(stack, url, token)
    memory = _memory_mb()
    for _ in range(10):  # connection open, caches warm
        get()
    cpu = []
    for _ in range(n):
        before = time.process_time()
        assert len(get()) == 32
        cpu.append((time.process_time() - before) * 1e3)
    print(json.dumps({"import_ms": import_s * 1e3, "rss_mb": memory, "cpu_ms": statistics.median(cpu)}))


# --- the bench's process --------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--run", nargs=3, metavar=("STACK", "URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_stack(*args.run, args.requests)
        return
    sys.path.insert(0, str(DAEMON_DIR))
    sys.path.insert(0, str(HERE.parents[0] / "python"))
    from sim_helpers import MiniGateway
    from simulator.cloud import issue_token
    from simulator.server import serve

    serial = "122302045041"
    gateway = MiniGateway(serial, "7.6.175", {PATH: answer_json()})
    print(f"GET {PATH}: {len(json.dumps(answer_json()))} bytes of JSON over HTTPS, {args.requests} requests, "
          f"Python {sys.version.split()[0]}\n")
    print("| stack | import | RSS after import | CPU per GET (median) |\n|---|---|---|---|")
    with serve(gateway) as sim:
        for stack in args.stacks.split(","):
            out = subprocess.run([sys.executable, __file__, "--requests", str(args.requests), "--run", stack,
                                  sim.url, issue_token(serial)], capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"{stack} failed:\n{out.stderr}")
            found = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {stack} | {found['import_ms']:.1f} ms | {found['rss_mb']:.1f} MB | {found['cpu_ms']:.3f} ms |")


if __name__ == "__main__":
    main()
