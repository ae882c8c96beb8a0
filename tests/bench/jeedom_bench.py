"""Section 6 of `make bench`: what a 600-microinverter site costs a real Jeedom core (JEEDOM_CORE_DIR).

Works on a throwaway copy of the core (tests/e2e/core_copy.py, as `make e2e`), served by `php -S` as the web
server's user, with the plugin installed as a user does. Its database is reached as a MariaDB user of its own,
so that the server's per-user statistics (`userstat`, information_schema.USER_STATISTICS: statements, CPU) are
this run's alone, whatever else the machine runs. Measured:

- Synchronize (the plugin page's job) of the site: wall time, SQL statements per created command;
- a general and a devices cycle, read from the site by the daemon's own poller and delivered by its callback
  through jeeEnphase.php: wall (read to last POST answered), PHP CPU (the web server's workers), database CPU and
  statements; beside the core's floor for the same values (checkAndUpdateCmd on commands loaded beforehand, in
  a PHP process of its own), measured in the same run;
- three Synchronize clicks at once: duplicates; cycles with the receiver stalled past a POST's deadline in the
  middle: a never-decreasing command going down in history;
- two such sites: a devices cycle of both while a page of Jeedom is asked for, and every value in Jeedom after;
- the Dashboard and the plugin page in headless Chromium.
"""
import concurrent.futures
import http.client
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import harness

E2E_DIR = harness.REPO / "tests" / "e2e"
if str(E2E_DIR) not in sys.path:
    sys.path.insert(0, str(E2E_DIR))

from core_copy import CoreCopy, chown_tree, web_user  # noqa: E402
from headless_chromium import Browser, chromium_binary  # noqa: E402
from jeedom_core import JeedomCore, install_plugin_files, wait_until  # noqa: E402

PLUGIN = "enphase"
AJAX = "plugins/enphase/core/ajax/enphase.ajax.php"
CALLBACK_TIMEOUT_S = 20  # the bench's POST deadline (the daemon's is 60 s): a stall past it is a short wait
STALL_S = CALLBACK_TIMEOUT_S + 5


def log(message):
    print(message, file=sys.stderr, flush=True)


def site(seed, **house):
    """600 microinverters, 20 IQ Batteries, three-phase CTs (or the demo's house of 12 with `house` {}); its clock
    runs a minute per second from 07:00, so that every value moves between two cycles as it does between two real
    cycles (and no day ends in the run)."""
    from simulator.synthetic import SyntheticGateway

    morning = time.mktime((2026, 6, 21, 7, 0, 0, 0, 0, -1))
    started = time.time()
    size = house if house or seed == 0 else {"inverters": 600, "encharges": 20, "phases": 3}
    return SyntheticGateway(seed=max(seed, 1), clock=lambda: morning + (time.time() - started) * 60, **size)


class DatabaseUser:
    """A MariaDB user for the copy only, and the server's statistics of it (statements, CPU)."""

    def __init__(self, copy):
        self.root = ["mysql", "-u", "root", "-N", "-B"]
        self.name = "enphase_bench_" + secrets.token_hex(3)
        self.password = secrets.token_hex(12)
        self.userstat = self._sql("SELECT @@GLOBAL.userstat")[0][0]
        self._sql("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; GRANT ALL ON `%s`.* TO '%s'@'localhost';"
                  " SET GLOBAL userstat = 1;" % (self.name, self.password, copy.dbname, self.name))
        config = copy.dir / "core" / "config" / "common.config.php"
        config.write_text(config.read_text() + "$CONFIG['db']['username'] = '%s';  // the bench's own user\n"
                          "$CONFIG['db']['password'] = '%s';\n" % (self.name, self.password))

    def _sql(self, statements):
        done = subprocess.run(self.root, input=statements, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return [line.split("\t") for line in done.stdout.splitlines()]

    def stats(self):
        """(statements, CPU seconds) of this user since its creation."""
        row = self._sql("SELECT SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS, CPU_TIME FROM"
                        " information_schema.USER_STATISTICS WHERE USER = '%s'" % self.name)
        return (int(row[0][0]), float(row[0][1])) if row else (0, 0.0)

    def close(self):
        self._sql("DROP USER IF EXISTS '%s'@'localhost'; SET GLOBAL userstat = %s;" % (self.name, self.userstat))


def group_cpu_s(pid):
    """CPU seconds of a process group (the web server, its workers and what they started, but the daemon),
    children that ended included."""
    ticks = os.sysconf("SC_CLK_TCK")
    pgid = os.getpgid(pid)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) != pgid:  # pgrp
            continue
        try:
            if b"enphased.py" in (entry / "cmdline").read_bytes():
                continue  # the daemon Jeedom started is not PHP
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / ticks


class Cost:
    """Wall, PHP CPU, database CPU and statements of what runs between start() and stop()."""

    def __init__(self, bench):
        self.bench = bench

    def __enter__(self):
        self.wall, self.php, (self.sql, self.db) = time.monotonic(), self.bench.php_cpu(), self.bench.db.stats()
        return self

    def __exit__(self, *exc):
        sql, db = self.bench.db.stats()
        self.result = {"wall_s": time.monotonic() - self.wall, "php_s": self.bench.php_cpu() - self.php,
                       "db_s": db - self.db, "sql": sql - self.sql}


class StallingProxy:
    """Jeedom's web server as the daemon meets it: forwards each POST to php -S, or holds it `stall_s` first
    (a box too busy to answer), then forwards it all the same (a late body reaching PHP)."""

    def __init__(self, port):
        self.stall_next = 0.0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stall, proxy.stall_next = proxy.stall_next, 0.0
                time.sleep(stall)
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                try:
                    connection.request("POST", self.path, body=body, headers=dict(self.headers))
                    answer = connection.getresponse()
                    data, status = answer.read(), answer.status
                except OSError:
                    data, status = b"", 502
                finally:
                    connection.close()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the daemon stopped waiting

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/plugins/enphase/core/php/jeeEnphase.php" % self._server.server_address[1]

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class JeedomBench:
    def __init__(self, source):
        self.user = web_user()
        self.copy = CoreCopy(Path(source).resolve(), keep_plugin=PLUGIN, user=self.user)
        self.db = DatabaseUser(self.copy)
        install_plugin_files(harness.REPO, self.copy.dir / "plugins" / PLUGIN)
        chown_tree(self.copy.dir / "plugins" / PLUGIN, self.user)
        self.logs = Path(self.copy.root) / "bench-logs"
        self.logs.mkdir()
        self.core = JeedomCore(self.copy.dir, self.logs, user=self.user)
        self.core.php("foreach (eqLogic::byType('%s') as $eq) { $eq->remove(); }" % PLUGIN)
        self.core.login(os.environ.get("JEEDOM_ADMIN_USER", "admin"), os.environ.get("JEEDOM_ADMIN_PASSWORD", "admin"))
        self.core.set_config({"internalProtocol": "http://", "internalAddr": "127.0.0.1",
                              "internalPort": str(self.core.port), "internalComplement": "", "jeedom::firstUse": 0,
                              "dontProtectTooFastLaunchDeamony": 1, "dontProtectTooFastLaunchDependancy": 1})
        self.core.plugin("toggle", PLUGIN, state=1)
        if self.core.plugin("getDependancyInfo", PLUGIN)["state"] == "nok":
            self.core.plugin("dependancyInstall", PLUGIN)
        wait_until(lambda: self.core.plugin("getDependancyInfo", PLUGIN)["state"] == "ok", 900,
                   "Jeedom to install the plugin's dependencies", every_s=5)
        self.room = self.core.ajax("core/ajax/object.ajax.php", "save", object=json.dumps({"name": "Site", "isVisible": 1}))
        self.apikey = self.core.php("echo jeedom::getApiKey('%s');" % PLUGIN).strip()

    def php_cpu(self):
        return group_cpu_s(self.core._server.pid)

    def close(self):
        try:
            self.core.plugin("deamonStop", PLUGIN)
        except Exception:  # noqa: BLE001 - stopping what may not run
            pass
        self.core.close()
        try:
            self.copy.remove()
        finally:
            self.db.close()

    # -- what a user does -------------------------------------------------------------------------------

    def add_gateway(self, name, served, token):
        added = self.core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN, eqLogic=json.dumps([{"name": name}]))
        self.core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN, eqLogic=json.dumps([{
            "id": added["id"], "isEnable": 1, "isVisible": 1, "object_id": self.room["id"],
            "configuration": {"host": served.host, "auth_method": "token", "token": token}}]))
        return str(added["id"])

    def synchronize(self, gateway_id, timeout_s=1800):
        """The page's Synchronize, followed to its report: (report, answered in s, progress sentences seen)."""
        started = time.monotonic()
        job = self.core.ajax(AJAX, "synchronize", id=gateway_id)
        answered = time.monotonic() - started
        seen = [job["message"]]
        while not job["done"]:
            if time.monotonic() - started > timeout_s:
                raise RuntimeError("Synchronize did not end: %s" % seen[-1])
            time.sleep(1)
            job = self.core.ajax(AJAX, "syncProgress", id=gateway_id, job=job["job"])
            if job["message"] != seen[-1]:
                seen.append(job["message"])
        return job, answered, seen

    def count(self, sql):
        return int(self.core.php("echo DB::Prepare(%s, array(), DB::FETCH_TYPE_ROW)['n'];" % json.dumps(sql)).strip())

    def duplicates(self):
        return self.count(
            "SELECT COUNT(*) AS n FROM (SELECT logicalId FROM eqLogic WHERE eqType_name = 'enphase' GROUP BY logicalId"
            " HAVING COUNT(*) > 1 UNION ALL SELECT eqLogic_id FROM cmd WHERE eqType = 'enphase'"
            " GROUP BY eqLogic_id, logicalId HAVING COUNT(*) > 1) d")

    def commands(self):
        return self.count("SELECT COUNT(*) AS n FROM cmd WHERE eqType = 'enphase'")

    def page_s(self, url, ready_js):
        browser = Browser(width=1440, height=900, locale="fr-FR")
        try:
            browser.set_cookie(**self.core.session_cookie)
            started = time.monotonic()
            browser.open(self.core.url + url, ready_js=ready_js, timeout_s=300, settle_s=0)
            return time.monotonic() - started
        finally:
            browser.close()

    # -- the daemon's poller, delivering through jeeEnphase.php -------------------------------------------

    def poller(self, gateway_id, served, token, url):
        from envoy.client import Credentials, Envoy
        from jeedom.callback import Callback
        from poller import GatewayPoller

        callback = Callback(url, self.apikey, timeout_s=CALLBACK_TIMEOUT_S)
        sent = []
        post = callback._post

        def recording_post(chunk):  # what the cycle sent, for the floor
            sent.extend(e for e in chunk.events if e.get("type") == "values")
            return post(chunk)
        callback._post = recording_post
        envoy = Envoy(served.host, Credentials(token=token))
        envoy.connect()
        envoy.probe()
        poller = GatewayPoller(gateway_id, envoy, callback)
        poller.sent = sent
        return poller

    def floor(self, events):
        """The same values applied by the core's own checkAndUpdateCmd on commands loaded beforehand (each value
        moved, so that each is an event as ours were): Cost of the applying alone."""
        values = {}
        for event in events:
            for eq, commands in event["values"].items():
                values.setdefault(eq, {}).update(commands)
        data = self.copy.root / "floor.json"
        data.write_text(json.dumps(values))
        chown_tree(data, self.user)
        def script(load_only):
            return template.replace("#LOAD_ONLY#", "exit;" if load_only else "")
        template = ("$values = json_decode(file_get_contents('%s'), true); $cmds = array();"
                  " foreach ($values as $eqId => $commands) { $eq = eqLogic::byLogicalId($eqId, 'enphase');"
                  " if (!is_object($eq)) continue; foreach ($eq->getCmd('info') as $c) { $cmds[$eqId][$c->getLogicalId()] = array($eq, $c); } }"
                  " #LOAD_ONLY#"
                  " $ru = getrusage(); $t = microtime(true);"
                  " foreach ($values as $eqId => $commands) { foreach ($commands as $id => $v) {"
                  " if (!isset($cmds[$eqId][$id])) continue; list($eq, $c) = $cmds[$eqId][$id];"
                  " $eq->checkAndUpdateCmd($c, is_numeric($v) && !in_array($v, array(0, 1), true) ? $v + 0.5 : $v); } }"
                  " $r = getrusage(); echo json_encode(array('wall_s' => microtime(true) - $t, 'php_s' =>"
                  " ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec'] - $ru['ru_utime.tv_sec'] - $ru['ru_stime.tv_sec'])"
                  " + ($r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec'] - $ru['ru_utime.tv_usec'] - $ru['ru_stime.tv_usec']) / 1e6));"
                  % data)
        load_sql, load_db = self.db.stats()
        self.core.php(script(True), timeout_s=1800)
        after_sql, after_db = self.db.stats()
        load = (after_sql - load_sql, after_db - load_db)  # loading the commands: not the floor's
        result = json.loads(self.core.php(script(False), timeout_s=1800).strip().splitlines()[-1])
        end_sql, end_db = self.db.stats()
        result.update(sql=end_sql - after_sql - load[0], db_s=end_db - after_db - load[1])
        return result

    def current_values(self):
        """{eq logicalId: {cmd logicalId: value}} as Jeedom holds them now."""
        return json.loads(self.core.php(
            "$out = array(); foreach (eqLogic::byType('enphase') as $eq) { foreach ($eq->getCmd('info') as $c) {"
            " $out[$eq->getLogicalId()][$c->getLogicalId()] = $c->execCmd(); } } echo json_encode($out);", timeout_s=600))

    def history_decreases(self, logical_ids):
        """Commands of these logicalIds whose history goes down somewhere: {cmd id: number of decreases}."""
        rows = json.loads(self.core.php(
            "echo json_encode(DB::Prepare(\"SELECT h.cmd_id, h.value FROM history h JOIN cmd c ON c.id = h.cmd_id"
            " WHERE c.eqType = 'enphase' AND c.logicalId IN (%s) ORDER BY h.cmd_id, h.datetime\", array(),"
            " DB::FETCH_TYPE_ALL));" % ",".join("'%s'" % i for i in logical_ids), timeout_s=600))
        down, last, points = {}, {}, 0
        for row in rows:
            value = float(row["value"])
            points += 1
            if row["cmd_id"] in last and value < last[row["cmd_id"]]:
                down[row["cmd_id"]] = down.get(row["cmd_id"], 0) + 1
            last[row["cmd_id"]] = value
        return down, points, len(last)


def run(source):
    """Every measurement of section 6; returns the figures (a key missing: not measured, said in `errors`)."""
    import catalog

    out = {"errors": []}
    token = harness.owner_token()
    sites = [harness.Served(site(seed)) for seed in (1, 2)]
    house = harness.Served(site(0))
    bench = JeedomBench(source)
    proxy = StallingProxy(bench.core.port)
    try:
        log("  jeedom: the demo's house (12 microinverters), alone in Jeedom")
        home = bench.add_gateway("Maison", house, token)
        bench.core.plugin("deamonStart", PLUGIN, forceRestart=1)
        wait_until(lambda: bench.core.plugin("getDeamonInfo", PLUGIN)["state"] == "ok", 90, "the daemon to run")
        report, _, _ = bench.synchronize(home)
        bench.core.plugin("deamonStop", PLUGIN)
        poller = bench.poller(home, house, token, proxy.url)
        poller.cycle(["general", "devices"])
        out["house"] = {"commands": bench.commands()}
        for cadence in ("general", "devices"):
            del poller.sent[:]
            with Cost(bench) as cost:
                poller.cycle([cadence])
            out["house"][cadence] = dict(cost.result, values=sum(len(c) for e in poller.sent for c in e["values"].values()))
        bench.core.ajax("core/ajax/eqLogic.ajax.php", "remove", type=PLUGIN, id=home)

        log("  jeedom: Synchronize of a 600-microinverter site")
        first = bench.add_gateway("Site", sites[0], token)
        bench.core.plugin("deamonStart", PLUGIN, forceRestart=1)
        wait_until(lambda: bench.core.plugin("getDeamonInfo", PLUGIN)["state"] == "ok", 90, "the daemon to run")
        before = bench.commands()
        with Cost(bench) as cost:
            report, answered, progress = bench.synchronize(first)
        created = bench.commands() - before
        out["sync"] = dict(cost.result, answered_s=answered, progress=len(progress), created=created,
                           ok=report["ok"], message=report["message"][:300])

        log("  jeedom: three Synchronize at once")
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            reports = list(pool.map(lambda _: bench.synchronize(first)[0], range(3)))
        out["concurrent_syncs"] = {"ok": all(r["ok"] for r in reports), "duplicates": bench.duplicates()}
        bench.core.plugin("deamonStop", PLUGIN)  # the bench's own poller reads the site from now on

        log("  jeedom: general and devices cycles, and the core's floor for the same values")
        one = bench.poller(first, sites[0], token, proxy.url)
        one.cycle(["general", "devices"])  # the first cycle sends every value
        for cadence in ("general", "devices"):
            del one.sent[:]
            with Cost(bench) as cost:
                one.cycle([cadence])
            values = sum(len(c) for e in one.sent for c in e["values"].values())
            out[cadence] = dict(cost.result, values=values, floor=bench.floor(one.sent))

        log("  jeedom: cycles with the receiver stalled past a POST's deadline in the middle")
        for i in range(6):
            if i == 2:
                proxy.stall_next = STALL_S
            one.cycle(["general", "devices"])
        one.cycle(["general"])  # what the stalled POST carried is delivered by now
        monotonic = sorted({ids for kind in catalog.monotonic_commands().values() for ids in kind}
                           | {"energy_today_wh", "production_today_wh", "consumption_today_wh"})
        down, points, commands = bench.history_decreases(monotonic)
        out["monotonic"] = {"decreases": sum(down.values()), "points": points, "commands": commands}

        try:
            log("  jeedom: a second site of 600 microinverters")
            second = bench.add_gateway("Site 2", sites[1], token)
            bench.core.plugin("deamonStart", PLUGIN, forceRestart=1)
            wait_until(lambda: bench.core.plugin("getDeamonInfo", PLUGIN)["state"] == "ok", 90, "the daemon to run")
            report, _, _ = bench.synchronize(second)
            out["second_sync_ok"] = report["ok"]
            bench.core.plugin("deamonStop", PLUGIN)
            two = bench.poller(second, sites[1], token, proxy.url)
            two.cycle(["general", "devices"])
            del one.sent[:], two.sent[:]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                started = time.monotonic()
                cycles = [pool.submit(p.cycle, ["devices"]) for p in (one, two)]
                ui = []
                while not all(c.done() for c in cycles):
                    asked = time.monotonic()
                    bench.core.ajax("core/ajax/eqLogic.ajax.php", "listByType", type=PLUGIN, timeout_s=120)
                    ui.append(time.monotonic() - asked)
                    time.sleep(1)
                for c in cycles:
                    c.result()
                wall = time.monotonic() - started
            held = bench.current_values()
            sent = {}  # the latest of each value the two cycles sent
            for event in one.sent + two.sent:
                for eq, cmds in event["values"].items():
                    sent.setdefault(eq, {}).update(cmds)
            # Numbers (a state word is shown translated in Jeedom).
            missing = [(eq, cmd) for eq, cmds in sent.items() for cmd, value in cmds.items()
                       if isinstance(value, (int, float)) and not _same(held.get(eq, {}).get(cmd), value)]
            out["two_sites"] = {"wall_s": wall, "ui_max_s": max(ui) if ui else None, "ui_asked": len(ui),
                                "values": sum(len(c) for c in sent.values()),
                                "missing": len(missing), "missing_sample": missing[:3]}

        except Exception as e:  # noqa: BLE001 - the rest is measured all the same
            out["errors"].append("two sites: %s: %s" % (type(e).__name__, str(e)[:300]))
        if chromium_binary():
            log("  jeedom: the Dashboard and the plugin page in Chromium")
            out["dashboard_s"] = bench.page_s("/index.php?v=d&p=dashboard&object_id=%s" % bench.room["id"],
                                              "document.querySelectorAll('.eqLogic-widget').length >= 2")
            out["plugin_page_s"] = bench.page_s("/index.php?v=d&m=enphase&p=enphase",
                                                "document.querySelectorAll('.eqLogicDisplayCard').length >= 1200")
        else:
            out["errors"].append("no Chromium: page load times not measured")
        out["commands"] = bench.commands()
        out["equipment"] = bench.count("SELECT COUNT(*) AS n FROM eqLogic WHERE eqType_name = 'enphase'")
    finally:
        proxy.close()
        bench.close()
        for served in sites + [house]:
            served.close()
    return out


def _same(held, sent):
    """Jeedom's value (text from its cache) and the number the daemon sent."""
    try:
        return abs(float(held) - float(sent)) < 1e-6
    except (TypeError, ValueError):
        return False
