"""What the plugin costs a Jeedom box and an Envoy gateway, measured beside pyenphase 4.2.0 in the same run.

`make bench` runs this under the plugin's venv; pyenphase runs in .venv-bench. Each reader runs in a
process of its own against the same simulated gateways on 127.0.0.1. Figures are medians; the targets are
printed, not asserted (this is not a test). See docs/performance.md for how to read the table.

  bench.py [--quick] [--only cycle,startup,memory,scale,latency,jeedom] [--reps N]

With JEEDOM_CORE_DIR (an installed Jeedom core, as for `make e2e`), section 6 drives a throwaway copy of it
with a 600-microinverter site (jeedom_bench.py); without it, section 6 says so and is skipped.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import Daemon, CallbackReceiver, ReaderProcess, Table, median  # noqa: E402

READERS = ("ours", "pyenphase")
# Home Assistant updates every 60 s; the plugin's defaults are 60 s (general) and 300 s (devices).
HOUR_S = 3600
DAY_S = 86400
GENERAL_S, DEVICES_S, HA_S = 60, 300, 60
# Gateway of the memory and latency runs: batteries, three CTs, one of the heaviest recordings.
MEMORY_GATEWAY = "8.2.4286_with_3cts_and_battery_split"
QUICK_GATEWAYS = ("4.2.27", "5.0.62", "7.6.175_with_cts_3phase", "8.2.4286_with_3cts_and_battery_split",
                  "8.3.5169_with_generator")


def log(message):
    print(message, file=sys.stderr, flush=True)


def _ratio(a, b):
    return a / b if a is not None and b else None


def _verdict(ok):
    return "met" if ok else ("MISSED" if ok is not None else "n/a")


ERRORS = []


def _attempt(function, *args):
    """function(*args), or None with the error kept for the report (the rest of the bench goes on)."""
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - any failure of one measurement is reported, not fatal
        ERRORS.append(f"{function.__name__.strip('_')}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        log("  " + ERRORS[-1])
        return None


# --- 1 and 2: one cycle, per recorded gateway ---------------------------------------------------------

def measure_cycles(names, reps, n, token):
    """Per gateway and reader: CPU ms of each cycle, requests per cycle, and (ours) what the plan reads.

    Each repetition starts fresh reader processes. Gateway by gateway, the two readers run back to back
    (taking turns going first), so that each pair of figures shares the machine's load of that moment: the
    ratio of a gateway is the median of these paired ratios."""
    found = {which: {name: {"cpu": [], "requests": [], "devices_cpu": [], "devices_requests": []} for name in names}
             for which in READERS}
    found["pairs"] = {name: [] for name in names}
    for rep in range(reps):
        readers = {which: ReaderProcess(which) for which in READERS}
        try:
            for i, name in enumerate(names):
                medians = {}
                for which in (READERS if (rep + i) % 2 == 0 else READERS[::-1]):
                    medians[which] = _cycle_one(readers[which], which, name, n, token, found[which][name])
                if medians["ours"] is not None and medians["pyenphase"]:
                    found["pairs"][name].append(medians["ours"] / medians["pyenphase"])
        finally:
            for reader in readers.values():
                reader.close()
        log(f"  cycles: repetition {rep + 1}/{reps} done")
    return found


def _cycle_one(reader, which, name, n, token, into):
    served = harness.serve_recorded(name)
    try:
        answer = reader.ask("connect", hosts=[served.host], token=token if served.tls else None)
        if not answer["ok"]:
            into["error"] = answer["error"]
            return None
        reader.ask("cycles", n=2, cadence="general")  # warm-up: first cycle after probe may differ
        before = served.requests
        answer = reader.ask("cycles", n=n, cadence="general")
        if not answer["ok"]:
            into["error"] = answer["error"]
            return None
        into["requests"].append((served.requests - before) / n)
        into["cpu"].extend(answer["cpu_ms"])
        this_rep = median(answer["cpu_ms"])
        into["wall"] = into.get("wall", []) + answer["wall_ms"]
        if which == "ours":
            before = served.requests
            answer = reader.ask("cycles", n=max(2, n // 4), cadence="devices")
            if answer["ok"]:
                into["devices_requests"].append((served.requests - before) / max(2, n // 4))
                into["devices_cpu"].extend(answer["cpu_ms"])
                into["payload_bytes"] = answer.get("payload_bytes")
            plan = reader.ask("plan")
            if plan["ok"]:
                into["plan"] = plan["paths"]
        return this_rep
    finally:
        reader.ask("close")
        served.close()


def cycle_tables(found, names):
    cpu = Table("1. CPU time of one general cycle (ms, median), per recorded gateway")
    req = Table("2. Requests sent to the gateway per hour at default cadences, per recorded gateway")
    cpu_ratios, req_ratios, floor_ratios, below_floor = [], [], [], []
    for name in names:
        ours, theirs = found["ours"][name], found["pyenphase"][name]
        our_cpu, their_cpu = median(ours["cpu"]), median(theirs["cpu"])
        ratio = median(found["pairs"][name])
        if ratio is not None:
            cpu_ratios.append((ratio, name))
        for which, entry in (("ours", ours), ("pyenphase", theirs)):
            if "error" in entry:
                cpu.note(f"{name}: {which} failed: {entry['error'][:160]}")
        cpu.add(name, our_cpu, their_cpu, "ms", digits=2, ratio=ratio,
                target="<= 0.50" + (f": {_verdict(ratio <= 0.5)}" if ratio is not None else ""))

        our_hour = their_hour = floor = None
        if ours["requests"]:
            our_hour = HOUR_S / GENERAL_S * median(ours["requests"]) + HOUR_S / DEVICES_S * median(ours["devices_requests"] or [0])
        if theirs["requests"]:
            their_hour = HOUR_S / HA_S * median(theirs["requests"])
        if ours.get("plan"):
            general = set(ours["plan"].get("general", []))
            devices = set(ours["plan"].get("devices", [])) - general
            floor = HOUR_S / GENERAL_S * len(general) + HOUR_S / DEVICES_S * len(devices)
        ratio = _ratio(our_hour, their_hour)
        if ratio is not None:
            req_ratios.append((ratio, name))
        if our_hour is not None and floor:
            floor_ratios.append((our_hour / floor, name))
        target = "<= 0.50" + (f": {_verdict(ratio <= 0.5)}" if ratio is not None else "")
        if floor and our_hour:
            target += f"; floor {floor:.0f}/h, ours x{our_hour / floor:.2f}: {_verdict(our_hour <= 1.25 * floor)}"
        req.add(name, our_hour, their_hour, "", digits=0, target=target)
        if floor and their_hour is not None and their_hour < 2 * floor:
            below_floor.append(name)
    cpu.note("CPU time of the reader's process (time.process_time) around each cycle, the simulator being "
             "another process; ratio = median over the repetitions of ours / pyenphase measured back to back")
    cpu.note("ours: requests + parsing + change detection + the callback body, encoded (poller.cycle); "
             "pyenphase: Envoy.update()")
    if below_floor:
        req.note("half of pyenphase's count is below the floor (every endpoint the data needs, once per cadence) "
                 "on " + ", ".join(below_floor) + ": only a slower cadence could get there")
    req.note("floor = 60 x (endpoints of the 60 s cadence) + 12 x (other endpoints of the 300 s cadence), "
             "from the plan our probe made; measured counts are those the simulator received")
    return cpu, req, cpu_ratios, req_ratios, floor_ratios


# --- 3: memory and start-up --------------------------------------------------------------------------

def measure_memory(n, token):
    """Daemon over n general cycles vs a minimal pyenphase poller over n updates, same gateway."""
    result = {}
    served = harness.serve_recorded(MEMORY_GATEWAY)
    try:
        log(f"  memory: pyenphase poller, {n} updates")
        result["pyenphase"] = _attempt(harness.run_json, 
            [str(harness.BENCH_PYTHON), str(harness.BENCH_DIR / "pyenphase_reader.py"), "poll", served.host, str(n),
             token if served.tls else ""]) or {}
        log(f"  memory: daemon, {n} cycles")
        result["ours"] = _attempt(_daemon_memory, served, n, token)
    finally:
        served.close()
    return result


def _daemon_memory(served, n, token):
    receiver = CallbackReceiver()
    daemon = Daemon(receiver.url, fast=True)
    try:
        daemon.wait_listening()
        after_start = daemon.memory_kb()
        daemon.send("configure", gateways=[harness.gateway_config(served, "1", token, general_s=0.01, devices_s=300)],
                    general_s=0.01, devices_s=300)
        counted, warm = 0, None
        deadline = time.monotonic() + 240
        while counted < n and time.monotonic() < deadline:
            time.sleep(0.02)
            counted = receiver.count(harness.has_values)
            if warm is None and counted >= 10:
                warm = daemon.memory_kb()
        end = daemon.memory_kb()
        return {"after_import": after_start, "warm": warm, "end": end, "cycles": counted}
    finally:
        daemon.stop()
        receiver.close()


def measure_startup(runs, token):
    """Time from starting the process to the gateway receiving its first request."""
    served = harness.serve_recorded(MEMORY_GATEWAY)
    result = {"ours": [], "pyenphase": [], "pyenphase_import": []}
    try:
        for _ in range(runs):
            result["pyenphase_import"].append(harness.run_json([str(harness.BENCH_PYTHON), "-c",
                                                                "import time,json;t=time.perf_counter();import pyenphase;"
                                                                "print(json.dumps((time.perf_counter()-t)*1e3))"]))
            start = time.monotonic()
            harness.run_json([str(harness.BENCH_PYTHON), str(harness.BENCH_DIR / "pyenphase_reader.py"), "startup",
                              served.host])
            result["pyenphase"].append(_first_arrival(served, start))
            result["ours"].append(_attempt(_daemon_startup, served, token))
    finally:
        served.close()
    return result


def _first_arrival(served, since):
    times = [t for t, _ in list(served.gateway.arrivals) if t >= since]
    return (min(times) - since) * 1e3 if times else None


def _daemon_startup(served, token):
    receiver = CallbackReceiver()
    daemon = Daemon(receiver.url)
    try:
        daemon.wait_listening()
        daemon.send("configure", gateways=[harness.gateway_config(served, "1", token)], general_s=60, devices_s=300)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _first_arrival(served, daemon.started) is None:
            time.sleep(0.005)
        return _first_arrival(served, daemon.started)
    finally:
        daemon.stop()
        receiver.close()


# --- 4: scale ----------------------------------------------------------------------------------------

def synthetic_site(seed):
    """600 microinverters, 20 IQ Batteries, three-phase CTs, at noon in June, its clock running a minute per
    second so that every value moves between two cycles (as a real site does between two minutes)."""
    from simulator.synthetic import SyntheticGateway

    noon = time.mktime((2026, 6, 21, 12, 0, 0, 0, 0, -1))
    started = time.time()
    return SyntheticGateway(inverters=600, encharges=20, phases=3, seed=seed,
                            clock=lambda: noon + (time.time() - started) * 60)


def measure_scale(n, token):
    found = {}
    gateways = [harness.Served(synthetic_site(seed)) for seed in range(1, 5)]
    try:
        for count in (1, 4):
            hosts = [g.host for g in gateways[:count]]
            for which in READERS:
                reader = ReaderProcess(which)
                try:
                    answer = reader.ask("connect", hosts=hosts, token=token)
                    if not answer["ok"]:
                        found[(which, count)] = {"error": answer["error"]}
                        ERRORS.append(f"scale, {which}, {count} gateway(s): {answer['error'][:200]}")
                        continue
                    entry = found[(which, count)] = {}
                    for cadence in ("general", "devices"):
                        reader.ask("cycles", n=1, cadence=cadence)
                        before = sum(g.requests for g in gateways)
                        answer = reader.ask("cycles", n=n, cadence=cadence)
                        if answer["ok"]:
                            entry[cadence] = median(answer["cpu_ms"])
                            entry[cadence + "_bytes"] = median(answer.get("payload_bytes") or [])
                            entry[cadence + "_requests"] = (sum(g.requests for g in gateways) - before) / n / count
                        if which == "pyenphase":
                            break  # one cadence: its update reads everything
                    if count == 4:
                        # Linearity: one gateway and all four in turns, in this same process, so that both
                        # figures share the machine's load and the process's memory.
                        cadence = "devices" if which == "ours" else "general"
                        pairs = []
                        for _ in range(n):
                            one = reader.ask("cycles", n=1, cadence=cadence, first=1)
                            four = reader.ask("cycles", n=1, cadence=cadence)
                            if one["ok"] and four["ok"]:
                                pairs.append(four["cpu_ms"][0] / 4 / one["cpu_ms"][0])
                        entry["per_gateway_ratio"] = median(pairs)
                    entry["memory"] = reader.ask("memory")
                finally:
                    reader.close()
                log(f"  scale: {which} with {count} gateway(s) done")
        found["daemon"] = _attempt(_daemon_scale, gateways, token) or {}
    finally:
        for g in gateways:
            g.close()
    return found


def _daemon_scale(gateways, token):
    """The real daemon with the four sites: sync (answer time, inventory and values bytes), then refreshes."""
    receiver = CallbackReceiver()
    daemon = Daemon(receiver.url)
    result = {}
    try:
        daemon.wait_listening()
        configs = [harness.gateway_config(g, str(i + 1), token) for i, g in enumerate(gateways)]
        daemon.send("configure", gateways=configs, general_s=60, devices_s=300)
        time.sleep(3)  # the first cycles after configure, out of the way
        seen = len(receiver.received)
        start = time.monotonic()
        daemon.send("sync", timeout=150)
        result["sync_s"] = time.monotonic() - start
        time.sleep(0.5)
        posts = receiver.received[seen:]
        result["sync_posts"] = len(posts)
        result["sync_bytes"] = sum(size for _, size, _ in posts)
        result["inventory_bytes"] = sum(len(json.dumps(e, separators=(",", ":"))) for _, _, evs in posts
                                        for e in evs if e.get("type") == "inventory")
        result["after_sync"] = daemon.memory_kb()
        samples = []
        for _ in range(3):
            seen = len(receiver.received)
            cpu = daemon.cpu_s()
            daemon.send("refresh")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = {e.get("gateway") for _, _, evs in receiver.received[seen:] for e in evs
                        if e.get("type") == "values"}
                if len(done) >= len(gateways):
                    break
                time.sleep(0.01)
            time.sleep(0.2)
            samples.append(((daemon.cpu_s() - cpu) * 1e3, sum(size for _, size, _ in receiver.received[seen:])))
        result["refresh_cpu_ms"] = median([s[0] for s in samples])
        result["refresh_bytes"] = median([s[1] for s in samples])
        result["memory"] = daemon.memory_kb()
    finally:
        daemon.stop()
        receiver.close()
    return result


# --- 5: latency --------------------------------------------------------------------------------------

def measure_latency(cycles, token):
    """Value changed at the gateway -> arrival at the callback receiver, cadence 1 s, cadence wait excluded:
    from the first request of the cycle that reads the new value to the POST that carries it."""
    served = harness.serve_recorded(MEMORY_GATEWAY)
    receiver = CallbackReceiver()
    daemon = Daemon(receiver.url, fast=True)
    latencies = []
    try:
        daemon.wait_listening()
        daemon.send("configure", gateways=[harness.gateway_config(served, "1", token, general_s=1)],
                    general_s=1, devices_s=300)
        receiver.wait_for(harness.has_values, timeout=30)  # the first (full) values event
        for _ in range(cycles):
            after = time.monotonic()
            post = receiver.wait_for(harness.has_values, timeout=10)
            if post is None:
                break
            started = [t for t, _ in list(served.gateway.arrivals) if after <= t <= post[0]]
            if started:
                latencies.append((post[0] - min(started)) * 1e3)
    finally:
        daemon.stop()
        receiver.close()
        served.close()
    return latencies


# --- main --------------------------------------------------------------------------------------------

def jeedom_table(summary):
    """Section 6: a real Jeedom core (JEEDOM_CORE_DIR) with one, then two 600-microinverter sites."""
    t = Table("6. A real Jeedom core, a site of 600 microinverters, 20 IQ Batteries, three-phase CTs",
              beside="core's floor")
    source = os.environ.get("JEEDOM_CORE_DIR", "")
    if not source:
        t.note("skipped: JEEDOM_CORE_DIR is not set (an installed Jeedom core, as for `make e2e`)")
        return t
    log("jeedom ...")
    import jeedom_bench

    found = _attempt(jeedom_bench.run, source) or {}
    home = found.get("house")
    if home:
        for cadence in ("general", "devices"):
            c = home[cadence]
            t.add(f"house of 12 microinverters, {cadence} cycle: {c['values']} values, wall", c["wall_s"], None, "s", digits=2)
            t.add(f"house of 12 microinverters, {cadence} cycle: PHP CPU + database CPU", c["php_s"] + c["db_s"], None,
                  "s", digits=2)
        t.note("house: %d commands of the plugin in Jeedom" % home["commands"])
    for label, figures in (("house of 12 microinverters", home), ("site of 600 microinverters", found)):
        if figures and figures.get("general") and figures.get("devices"):
            day = lambda key: DAY_S / GENERAL_S * figures["general"][key] + DAY_S / DEVICES_S * figures["devices"][key]  # noqa: E731
            t.add(f"{label}: Jeedom CPU a day of such cycles (PHP + database)", (day("php_s") + day("db_s")) / 60, None,
                  "min", digits=1)
    sync = found.get("sync") or {}
    if sync:
        t.add("Synchronize: answered (the job goes on in the background)", sync["answered_s"], None, "s", digits=2)
        t.add("Synchronize: done (wall)", sync["wall_s"], None, "s", digits=0)
        t.add("Synchronize: commands created", sync["created"], None, digits=0)
        t.add("Synchronize: SQL statements per created command", sync["sql"] / max(1, sync["created"]), None, digits=1)
        t.add("Synchronize: PHP CPU", sync["php_s"], None, "s", digits=1)
        t.add("Synchronize: database CPU", sync["db_s"], None, "s", digits=1)
        t.note("Synchronize: %d progress sentences shown; report: %s" % (sync["progress"], sync["message"]))
    for cadence in ("general", "devices"):
        c = found.get(cadence)
        if not c:
            continue
        f = c["floor"]
        t.add(f"{cadence} cycle: values applied", c["values"], None, digits=0)
        t.add(f"{cadence} cycle: wall, read to last POST answered (core's floor: applying alone)", c["wall_s"],
              f["wall_s"], "s", digits=1, target="< 60 s" + (f": {_verdict(c['wall_s'] < 60)}" if cadence == "devices" else ""))
        t.add(f"{cadence} cycle: PHP CPU (core's floor)", c["php_s"], f["php_s"], "s", digits=2)
        t.add(f"{cadence} cycle: database CPU (core's floor)", c["db_s"], f["db_s"], "s", digits=2)
        t.add(f"{cadence} cycle: SQL statements (core's floor)", c["sql"], f["sql"], digits=0)
        t.add(f"{cadence} cycle: SQL statements per value (core's floor)", c["sql"] / max(1, c["values"]),
              f["sql"] / max(1, c["values"]), digits=2)
    if found.get("devices"):
        summary.add("Jeedom: a devices cycle of 600 inverters applied (wall)", found["devices"]["wall_s"], None, "s",
                    digits=1, target="< 60 s: " + _verdict(found["devices"]["wall_s"] < 60))
    if "concurrent_syncs" in found:
        dup = found["concurrent_syncs"]["duplicates"]
        t.add("three Synchronize at once: duplicates", dup, None, digits=0, target="0: " + _verdict(dup == 0))
        summary.add("Jeedom: duplicates after 3 concurrent syncs", dup, None, digits=0, target="0: " + _verdict(dup == 0))
    if "monotonic" in found:
        m = found["monotonic"]
        t.add("stalled receiver mid-run: never-decreasing commands going down in history", m["decreases"], None,
              digits=0, target="0: " + _verdict(m["decreases"] == 0 and m["points"] > 0))
        t.note("history checked: %d points of %d commands (lifetime and day counters)" % (m["points"], m["commands"]))
        summary.add("Jeedom: monotonic commands going down in history (stalled receiver)", m["decreases"], None,
                    digits=0, target="0: " + _verdict(m["decreases"] == 0 and m["points"] > 0))
    two = found.get("two_sites")
    if two:
        t.add("two sites: devices cycle of both (wall)", two["wall_s"], None, "s", digits=1)
        t.add("two sites: slowest Jeedom ajax answer meanwhile", two["ui_max_s"], None, "s", digits=2)
        t.add("two sites: values missing in Jeedom after it", two["missing"], None, digits=0,
              target="0: " + _verdict(two["missing"] == 0))
        summary.add("Jeedom, two sites: values missing / slowest UI answer (s)", two["missing"], two["ui_max_s"],
                    digits=2, target="0 missing: " + _verdict(two["missing"] == 0))
    t.add("Dashboard of the sites' room, loaded (Chromium)", found.get("dashboard_s"), None, "s", digits=1)
    t.add("plugin page with every equipment, loaded (Chromium)", found.get("plugin_page_s"), None, "s", digits=1)
    if found.get("commands"):
        t.note("in Jeedom at the end: %d equipment, %d commands of the plugin" % (found["equipment"], found["commands"]))
    for error in found.get("errors", []):
        t.note(error)
    t.note("wall: the daemon's poller reads the site and its callback POSTs through jeeEnphase.php (`php -S`, 8 "
           "workers, as the web server's user); PHP CPU: the web server's processes; database CPU and statements: "
           "MariaDB's statistics of the copy's own database user. The core's floor: the same values applied by "
           "checkAndUpdateCmd on commands loaded beforehand, in a PHP process of its own, in the same run")
    return t


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node() or 'host'}: {cpu or platform.processor()}, {os.cpu_count()} cores, " \
           f"Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 gateways, fewer repetitions (about 1 minute)")
    parser.add_argument("--only", default="cycle,startup,memory,scale,latency,jeedom")
    parser.add_argument("--reps", type=int, default=None)
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not harness.BENCH_PYTHON.exists():
        sys.exit(f"{harness.BENCH_PYTHON} missing: run `make bench` (it builds the bench venv with pyenphase 4.2.0)")
    names = [n for n in harness.recorded_names() if not args.quick or n in QUICK_GATEWAYS]
    if not names:
        sys.exit("recorded gateways not found: set ENVOY_FIXTURES")
    token = harness.owner_token()
    reps = args.reps or (1 if args.quick else 5)
    started = time.monotonic()
    print(f"Machine: {machine()}\n")
    print(f"Repetitions: {reps}; recorded gateways: {len(names)}\n")
    summary = Table("Summary (targets of issues 6 and 15)")
    tables = []

    if "cycle" in only:
        log("cycles ...")
        found = measure_cycles(names, reps, n=10 if args.quick else 15, token=token)
        cpu, req, cpu_ratios, req_ratios, floor_ratios = cycle_tables(found, names)
        tables += [cpu, req]
        per_day = []  # CPU seconds a day at default cadences: ours 1440 general + 288 devices cycles
        for name in names:
            ours, theirs = found["ours"][name], found["pyenphase"][name]
            if ours["cpu"] and theirs["cpu"]:
                ours_day = (DAY_S / GENERAL_S * median(ours["cpu"]) +
                            DAY_S / DEVICES_S * (median(ours["devices_cpu"]) or 0)) / 1e3
                per_day.append((ours_day, DAY_S / HA_S * median(theirs["cpu"]) / 1e3, name))
        if per_day:
            per_day.sort()
            mid, top = per_day[len(per_day) // 2], max(per_day, key=lambda d: d[0])
            summary.add(f"CPU a day at default cadences, median gateway ({mid[2]})", mid[0], mid[1], "s")
            summary.add(f"CPU a day at default cadences, most costly gateway ({top[2]})", top[0], top[1], "s")
        for label, ratios, limit in (("cycle CPU vs pyenphase", cpu_ratios, 0.5),
                                     ("requests/hour vs pyenphase", req_ratios, 0.5),
                                     ("requests/hour vs the floor", floor_ratios, 1.25)):
            if not ratios:
                continue
            worst = max(ratios)
            met = sum(1 for ratio, _ in ratios if ratio <= limit)
            summary.add(f"{label}: {met} of {len(ratios)} gateways within target; worst {worst[1]}", None, None,
                        ratio=worst[0], target=f"<= {limit:.2f}: {_verdict(worst[0] <= limit)}")

    if "startup" in only:
        log("start-up ...")
        runs = 3 if args.quick else 7
        found = measure_startup(runs, token)
        ours, theirs, imp = median(found["ours"]), median(found["pyenphase"]), median(found["pyenphase_import"])
        t = Table("3a. Start-up: process start to the gateway's first request (ms, median of %d)" % runs)
        t.add("start-up to first request", ours, theirs, "ms", digits=0)
        t.add("vs `import pyenphase`", ours, imp, "ms", digits=0, target="<= 0.50")
        t.note("each run: `import pyenphase` timed inside a fresh process, then pyenphase's process start to its "
               "first request, then the daemon's (start, socket open, configure sent at once, first request); "
               "wall-clock times, so a busy machine stretches them")
        for which in ("ours", "pyenphase", "pyenphase_import"):
            t.note(f"{which} runs (ms): " + ", ".join("n/a" if v is None else f"{v:.0f}" for v in found[which]))
        tables.append(t)
        summary.add("start-up to first request vs import pyenphase", ours, imp, "ms", digits=0,
                    target="<= 0.50: " + _verdict(ours <= 0.5 * imp if ours and imp else None))

    if "memory" in only:
        log("memory ...")
        n = 300 if args.quick else 1000
        found = measure_memory(n, token)
        t = Table(f"3b. Memory of the process (MB) over {n} cycles, gateway {MEMORY_GATEWAY}")
        ours, theirs = found.get("ours") or {}, found.get("pyenphase") or {}
        mb = lambda d, k, f: d[k][f] / 1024 if d.get(k) else None  # noqa: E731
        t.add("RSS after start (before the first request)", mb(ours, "after_import", "rss_kb"),
              mb(theirs, "after_import", "rss_kb"), "MB")
        t.add("peak RSS", mb(ours, "end", "hwm_kb"), mb(theirs, "end", "hwm_kb"), "MB", target="<= 0.70")
        growth_ours = (ours["end"]["rss_kb"] - ours["warm"]["rss_kb"]) / 1024 if ours.get("warm") else None
        growth_theirs = (theirs["end"]["rss_kb"] - theirs["warm"]["rss_kb"]) / 1024 if theirs.get("warm") else None
        t.add(f"RSS growth, cycle 10 to {n}", growth_ours, growth_theirs, "MB", digits=2, target="< 0.5 MB")
        if ours.get("cycles") is not None and ours["cycles"] < n:
            t.note(f"the daemon delivered {ours['cycles']} cycles, not {n}")
        tables.append(t)
        peak_o, peak_t = mb(ours, "end", "hwm_kb"), mb(theirs, "end", "hwm_kb")
        summary.add("peak RSS", peak_o, peak_t, "MB", target="<= 0.70: " + _verdict(
            peak_o <= 0.7 * peak_t if peak_o and peak_t else None))
        summary.add(f"RSS growth over {n} cycles", growth_ours, growth_theirs, "MB", digits=2,
                    target="< 0.5 MB: " + _verdict(growth_ours < 0.5 if growth_ours is not None else None))

    if "scale" in only:
        log("scale ...")
        found = _attempt(measure_scale, 3 if args.quick else 9, token) or {}
        t = Table("4. Scale: synthetic site, 600 microinverters, 20 IQ Batteries, three-phase CTs")
        for count in (1, 4):
            o, p = found.get(("ours", count), {}), found.get(("pyenphase", count), {})
            per = f" ({count} gateways)" if count > 1 else ""
            t.add(f"CPU of a general cycle{per}", o.get("general"), p.get("general"), "ms",
                  target="< 50 ms" if count == 1 else "4 x one gateway")
            t.add(f"CPU of a devices cycle{per}", o.get("devices"), p.get("general"), "ms",
                  target="< 50 ms" if count == 1 else "4 x one gateway")
            if count == 1:
                t.add("requests per general cycle", o.get("general_requests"), p.get("general_requests"), digits=0)
                t.add("requests per devices cycle", o.get("devices_requests"), p.get("general_requests"), digits=0)
            t.add(f"callback body of a general cycle{per}", o.get("general_bytes"), None, "bytes", digits=0)
            t.add(f"callback body of a devices cycle{per}", o.get("devices_bytes"), None, "bytes", digits=0)
            rss = lambda d: d["memory"]["hwm_kb"] / 1024 if d.get("memory") else None  # noqa: E731
            t.add(f"reader process peak RSS{per}", rss(o), rss(p), "MB")
        d = found.get("daemon", {})
        t.add("daemon, 4 gateways: sync answered", d.get("sync_s"), None, "s", digits=2, target="< 2 s")
        t.add("daemon, 4 gateways: callback bytes of the sync", d.get("sync_bytes"), None, "bytes", digits=0)
        t.add("daemon, 4 gateways: of which inventory", d.get("inventory_bytes"), None, "bytes", digits=0)
        t.add("daemon, 4 gateways: RSS after the sync", d["after_sync"]["rss_kb"] / 1024 if d.get("after_sync")
              else None, None, "MB")
        t.add("daemon, 4 gateways: CPU of a refresh (both cadences, all values)", d.get("refresh_cpu_ms"), None, "ms")
        t.add("daemon, 4 gateways: callback bytes of a refresh", d.get("refresh_bytes"), None, "bytes", digits=0)
        t.add("daemon, 4 gateways: peak RSS", d["memory"]["hwm_kb"] / 1024 if d.get("memory") else None, None, "MB")
        t.note("pyenphase has one cadence: its figure on both cycle rows is its update, which reads everything")
        tables.append(t)
        one, four = found.get(("ours", 1), {}), found.get(("ours", 4), {})
        worst = max(one.get("general") or 0, one.get("devices") or 0) or None
        theirs = found.get(("pyenphase", 1), {}).get("general")
        summary.add("600 inverters: CPU per device cycle (issue 15: at most pyenphase's)", worst, theirs, "ms",
                    target="<= 1.00: " + _verdict(worst <= theirs if worst and theirs else None))
        general = one.get("general")
        summary.add("600 inverters: CPU per general cycle", general, theirs, "ms",
                    target="<= 1.00: " + _verdict(general <= theirs if general and theirs else None))
        summary.add("600 inverters x 4: sync", d.get("sync_s"), None, "s", digits=2,
                    target="< 2 s: " + _verdict(d["sync_s"] < 2 if d.get("sync_s") else None))
        for what, key in (("600 inverters x 4: callback bytes of the sync", "sync_bytes"),
                          ("600 inverters x 4: of which inventory", "inventory_bytes")):
            size = d.get(key)
            summary.add(what, size / 1e6 if size else None, None, "MB", digits=2,
                        target="< 1 MB: " + _verdict(size < 1e6 if size else None))
        peak = d["memory"]["hwm_kb"] / 1024 if d.get("memory") else None
        summary.add("600 inverters x 4: daemon peak RSS", peak, None, "MB",
                    target="< 40 MB: " + _verdict(peak < 40 if peak else None))
        for which in READERS:
            ratio = found.get((which, 4), {}).get("per_gateway_ratio")
            if ratio is not None:
                what = "devices cycle" if which == "ours" else "update"
                summary.add(f"4 gateways vs 1: {what} CPU per gateway ({which})", None, None, ratio=ratio,
                            target="four times one (within 1.25): " + _verdict(ratio <= 1.25) if which == "ours" else "")
        t.note("linearity: CPU per gateway of a cycle of all four / CPU of a cycle of the first one alone, "
               "taken in turns in the same process (median of the pairs)")

    if "latency" in only:
        log("latency ...")
        found = _attempt(measure_latency, 5 if args.quick else 10, token) or []
        t = Table("5. Latency: value changed at the gateway to its arrival at the callback, cadence 1 s (ms)")
        t.add("median", median(found), None, "ms", target="< 200 ms")
        t.add("max", max(found) if found else None, None, "ms")
        tables.append(t)
        summary.add("latency (median)", median(found), None, "ms",
                    target="< 200 ms: " + _verdict(median(found) < 200 if found else None))

    if "jeedom" in only:
        tables.append(jeedom_table(summary))

    print(summary.render())
    for table in tables:
        print(table.render())
    for error in dict.fromkeys(ERRORS):
        print(f"- not measured: {error}")
    print(f"Bench time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
