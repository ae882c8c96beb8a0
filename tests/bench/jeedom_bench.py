"""Section 6 of `make bench`: what a 600-microinverter site costs a real Jeedom core (JEEDOM_CORE_DIR).

Works on a throwaway copy of the core (tests/e2e/core_copy.py, as `make e2e`), served by `php -S` as the web
server's user, with the plugin installed as a user does. Its database is reached as a MariaDB user of its own,
so that the server's per-user statistics (`userstat`, information_schema.USER_STATISTICS: statements, CPU) are
this run's alone, whatever else the machine runs. Measured:

- Synchronize (the plugin page's job) of the site: wall time, SQL statements per created command;
- a general and a devices cycle, read from the site by the daemon's own poller (its energy counters too) when
  its cadence is due on the site's clock, and delivered by its callback through jeeEnphase.php: wall (read to
  last POST answered), PHP CPU (the web server's processes and what they start), database CPU and statements;
  beside the core's floor for the same values (checkAndUpdateCmd on commands loaded beforehand, in a PHP
  process of its own), measured in the same run;
- three Synchronize clicks at once, on the synchronized site and creating the second one: duplicates; cycles
  with the receiver stalled past a POST's deadline in the middle: a never-decreasing command going down in
  history;
- two such sites: a devices cycle of both while a page of Jeedom is asked for, and every value in Jeedom after;
- the Dashboard and the plugin page in headless Chromium, until all their widgets and cards are shown.

A measurement that fails is said in `errors` and the others are measured all the same.
"""
import concurrent.futures
import http.client
import http.server
import json
import os
import secrets
import shutil
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
HOUR_S = 3600


def log(message):
    print(message, file=sys.stderr, flush=True)


# The sites' clock: from 08:00 on a June day, SITE_PACE seconds of it per real second. A run of section 6 lasts
# about 18 minutes on a 2-core box: the sites' clock reaches about 14:00, so that every value moves between two
# cycles as it does between two real cycles, and no day ends in the run unless it is three times as slow (the
# table then says so: day counters start again at midnight).
SITE_START = (2026, 6, 21, 8, 0, 0, 0, 0, -1)
SITE_PACE = 20


def site(seed, **house):
    """600 microinverters, 20 IQ Batteries, three-phase CTs (or the demo's house of 12 with `house` {}), on the
    sites' clock (SITE_START, SITE_PACE): its `clock` is also what the bench's pollers count the energy by."""
    from simulator.synthetic import SyntheticGateway

    size = house if house or seed == 0 else {"inverters": 600, "encharges": 20, "phases": 3}
    return SyntheticGateway(seed=max(seed, 1), clock=site_clock, **size)


_STARTED = []


def site_clock():
    if not _STARTED:
        _STARTED.append(time.time())
    return time.mktime(SITE_START) + (time.time() - _STARTED[0]) * SITE_PACE


def wait_due(poller, cadences):
    """Until each of `cadences` is due on the sites' clock, its default period after its last read started (as
    the daemon's scheduler has it): a cycle then finds what moved between two real cycles, no more, no less."""
    from cadence import DEFAULT_S

    due = max(poller.read_at.get(c, 0.0) + DEFAULT_S[c] for c in cadences)
    while site_clock() < due:
        time.sleep(min(1.0, (due - site_clock()) / SITE_PACE + 0.01))


def site_time():
    """The sites' clock as a user reads it ("2026-06-21 11:42")."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(site_clock()))


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


class GroupCpu:
    """CPU seconds a process group (the web server, its workers and what they start, but the daemon) spends
    between start() and stop(), processes that end meanwhile included.

    A process ending inside the window is counted by its parent's children's times when a process of the group
    reaps it (a worker's shell), else (an orphan, as the Synchronize job that a worker starts in the background:
    init reaps it) up to its last sample: the group is sampled every SAMPLE_S."""

    SAMPLE_S = 0.2

    def __init__(self, pid, excluded=b"enphased.py"):
        self.pgid = os.getpgid(pid)
        self.excluded = excluded
        self.ticks = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()

    def _scan(self):
        """{(pid, start time): (ppid, own CPU s, reaped children's CPU s, excluded)} of the group now."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != self.pgid:  # pgrp
                    continue
                excluded = self.excluded in (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            found[(int(entry.name), fields[19])] = (  # pid, starttime
                int(fields[1]), (int(fields[11]) + int(fields[12])) / self.ticks,  # ppid, utime + stime
                (int(fields[13]) + int(fields[14])) / self.ticks, excluded)  # cutime + cstime
        return found

    def _note(self, scan):
        for key, seen in scan.items():
            if key in self.last and self.last[key][3]:  # the daemon stays excluded (a zombie has no cmdline)
                seen = seen[:3] + (True,)
            self.last[key] = seen

    def _sample(self):
        while not self._stop.wait(self.SAMPLE_S):
            self._note(self._scan())

    def start(self):
        self.first = self._scan()
        self.last = dict(self.first)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        end = self._scan()
        self._note(end)
        alive = {key[0] for key in end if not self.last[key][3]}
        total = 0.0
        for key, (ppid, own, children, excluded) in self.last.items():
            if excluded:
                continue
            before = sum(self.first[key][1:3]) if key in self.first else 0.0
            if key in end or ppid not in alive:
                total += own + children - before
            else:  # reaped by a process of the group, whose children's times now hold all of it
                total -= before
        return total


class Cost:
    """Wall, PHP CPU, database CPU and statements of what runs inside the `with`."""

    def __init__(self, bench):
        self.bench = bench

    def __enter__(self):
        self.php = GroupCpu(self.bench.core._server.pid).start()
        self.wall, (self.sql, self.db) = time.monotonic(), self.bench.db.stats()
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self.wall
        sql, db = self.bench.db.stats()
        self.result = {"wall_s": wall, "php_s": self.php.stop(), "db_s": db - self.db, "sql": sql - self.sql}


class StallingProxy:
    """Jeedom's web server as the daemon meets it: forwards each POST to php -S, or holds it `stall_s` first
    (a box too busy to answer), then forwards it all the same (a late body reaching PHP)."""

    def __init__(self, port):
        self.stall_next = 0.0
        self.stalled = 0  # POSTs held
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stall, proxy.stall_next = proxy.stall_next, 0.0
                if stall:
                    proxy.stalled += 1
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
        self.callback = None  # the bench's pollers' (bench.poller)
        self.sent = {}  # gateway id: the values events its cycles POSTed (whether Jeedom took them or not)
        self.described = {}  # gateway id: equipment its cycles' inventory events described (POSTed)
        self.room = self.core.ajax("core/ajax/object.ajax.php", "save", object=json.dumps({"name": "Site", "isVisible": 1}))
        self.apikey = self.core.php("echo jeedom::getApiKey('%s');" % PLUGIN).strip()

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

    def commands_by_gateway(self):
        """{gateway's equipment id: {"<equipment kind>/<command logicalId>": how many}} of the gateway and its
        devices."""
        found = json.loads(self.core.php(
            "$n = array(); foreach (eqLogic::byType('enphase') as $eq) { $g = enphaseGateway::idOf($eq);"
            " foreach ($eq->getCmd() as $c) { $k = $eq->getConfiguration('kind') . '/' . $c->getLogicalId();"
            " $n[$g][$k] = (isset($n[$g][$k]) ? $n[$g][$k] : 0) + 1; } } echo json_encode($n);", timeout_s=600) or "{}")
        return {str(gateway): counts for gateway, counts in (found.items() if isinstance(found, dict) else ())}

    def now(self):
        """The database's clock (history's datetimes are PHP's, on this same machine)."""
        return self.core.php("echo date('Y-m-d H:i:s');").strip()

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
        """The daemon's poller for one gateway, as the daemon makes it (its inventory memory, taken over from the
        daemon that synchronized it; its energy counters, kept in memory here, on the site's clock so that they see
        the energy rise as fast as the site makes it), all of them delivering through one callback as the daemon's
        do (one POST at a time, the gateways taking turns)."""
        from counters import Counters
        from envoy.client import Credentials, Envoy
        from jeedom.callback import Callback
        from poller import GatewayPoller

        if self.callback is None:
            self.callback = Callback(url, self.apikey, timeout_s=CALLBACK_TIMEOUT_S)
            post = self.callback._post

            def recording_post(chunk):  # what each gateway's cycles sent, for the floor and the checks
                for event in chunk.events:
                    if event.get("type") == "values":
                        self.sent.setdefault(event["gateway"], []).append(event)
                    elif event.get("type") == "inventory":
                        self.described[event["gateway"]] = self.described.get(event["gateway"], 0) + len(event["equipments"])
                return post(chunk)
            self.callback._post = recording_post
        callback = self.callback
        sent = self.sent.setdefault(gateway_id, [])
        envoy = Envoy(served.host, Credentials(token=token))
        envoy.connect()
        envoy.probe()
        # What the daemon remembers of the gateway's inventory since its Synchronize (a copy: it goes on with it), so
        # that a reading showing up later is described to Jeedom as the daemon does.
        remembered = self.copy.dir / "plugins" / PLUGIN / "data" / ("inventory-%s.json" % gateway_id)
        memory = self.copy.root / ("bench-inventory-%s.json" % gateway_id)
        shutil.copyfile(str(remembered), str(memory))
        poller = GatewayPoller(gateway_id, envoy, callback, counters=Counters(None), clock=served.gateway.clock,
                               memory_path=str(memory))
        poller.read_at = {}  # cadence: when its last read started, on the sites' clock (wait_due)
        cycle = poller.cycle

        def stamped_cycle(cadences, *args, **kwargs):
            for cadence in cadences:
                poller.read_at[cadence] = site_clock()
            return cycle(cadences, *args, **kwargs)
        poller.cycle = stamped_cycle
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

    def history_decreases(self, logical_ids, since):
        """Commands of these logicalIds whose history from `since` on goes down somewhere: ({cmd id: number of
        decreases}, points, commands)."""
        rows = json.loads(self.core.php(
            "echo json_encode(DB::Prepare(\"SELECT h.cmd_id, h.value FROM history h JOIN cmd c ON c.id = h.cmd_id"
            " WHERE c.eqType = 'enphase' AND c.logicalId IN (%s) AND h.datetime >= '%s' ORDER BY h.cmd_id, h.datetime\","
            " array(), DB::FETCH_TYPE_ALL));" % (",".join("'%s'" % i for i in logical_ids), since), timeout_s=600))
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

    out = {"errors": [], "clock": {"start": time.strftime("%Y-%m-%d %H:%M", time.localtime(time.mktime(SITE_START))),
                                   "pace": SITE_PACE}}
    token = harness.owner_token()
    sites = [harness.Served(site(seed)) for seed in (1, 2)]
    house = harness.Served(site(0))
    bench = JeedomBench(source)
    proxy = StallingProxy(bench.core.port)

    def attempt(what, function):
        """function(), or None with why it failed in `errors`: the rest is measured all the same."""
        try:
            return function()
        except Exception as e:  # noqa: BLE001 - one measurement failing is reported, not fatal
            out["errors"].append("%s: %s: %s" % (what, type(e).__name__, " ".join(str(e).split())[:300]))
            log("  " + out["errors"][-1])
            return None

    def start_daemon():
        bench.core.plugin("deamonStart", PLUGIN, forceRestart=1)
        wait_until(lambda: bench.core.plugin("getDeamonInfo", PLUGIN)["state"] == "ok", 90, "the daemon to run")

    def values_of(events):
        return sum(len(c) for e in events for c in e["values"].values())

    def the_house():
        home = bench.add_gateway("Maison", house, token)
        start_daemon()
        bench.synchronize(home)
        bench.core.plugin("deamonStop", PLUGIN)
        poller = bench.poller(home, house, token, proxy.url)
        wait_due(poller, ["general", "devices"])
        poller.cycle(["general", "devices"])
        wait_due(poller, ["general"])
        poller.cycle(["general"])  # the day's rates (see cycles())
        out["house"] = {}
        for cadence in ("general", "devices"):
            del poller.sent[:]
            wait_due(poller, [cadence])
            with Cost(bench) as cost:
                poller.cycle([cadence])
            out["house"][cadence] = dict(cost.result, values=values_of(poller.sent))
        out["house"]["commands"] = bench.commands()
        bench.core.ajax("core/ajax/eqLogic.ajax.php", "remove", type=PLUGIN, id=home)

    def first_sync(gateway):
        start_daemon()
        before = bench.commands()
        with Cost(bench) as cost:
            report, answered, progress = bench.synchronize(gateway)
        out["sync"] = dict(cost.result, answered_s=answered, progress=len(progress), created=bench.commands() - before,
                           ok=report["ok"], message=report["message"][:300])

    def three_syncs(gateway):
        """Three Synchronize clicks at once; the duplicates in Jeedom after them; the jobs they started."""
        def click(_):
            report, _, _ = bench.synchronize(gateway)
            return report
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            reports = list(pool.map(click, range(3)))
        return {"ok": all(r["ok"] for r in reports), "duplicates": bench.duplicates(),
                "jobs": len({r.get("job") for r in reports}), "message": reports[0]["message"][:200]}

    def cycles(one):
        wait_due(one, ["general", "devices"])
        one.cycle(["general", "devices"])  # the first cycle sends every value
        # The second general reading of the day gives its rates: a command Synchronize may not have created, for
        # which the daemon describes its inventory again. Measured apart: the cycles below are those of every day.
        described, before = bench.described.get(first, 0), bench.commands()
        wait_due(one, ["general"])
        with Cost(bench) as cost:
            one.cycle(["general"])
        if bench.described.get(first, 0) > described:
            out["described_again"] = dict(cost.result, equipment=bench.described[first] - described,
                                          created=bench.commands() - before)
        for cadence in ("general", "devices"):
            del one.sent[:]
            wait_due(one, [cadence])
            with Cost(bench) as cost:
                one.cycle([cadence])
            out[cadence] = dict(cost.result, values=values_of(one.sent), floor=bench.floor(one.sent))

    def stalled(one):
        """An hour on the sites' clock of cycles as the daemon's scheduler runs them (each cadence when it is due),
        the receiver stalling a POST past its deadline in the middle; then the history of every never-decreasing
        command, from after the floor (whose values were its own) to the end."""
        from cadence import DEFAULT_S

        time.sleep(1.1)
        since = bench.now()
        started, clock, begin = time.monotonic(), site_time(), site_clock()
        while site_clock() < begin + HOUR_S:
            due = [c for c in ("general", "devices") if site_clock() >= one.read_at.get(c, 0.0) + DEFAULT_S[c]]
            if not due:
                time.sleep(0.2)
                continue
            if not proxy.stalled and not proxy.stall_next and site_clock() >= begin + HOUR_S / 2:
                proxy.stall_next = STALL_S
            one.cycle(due)
        wait_due(one, ["general"])
        one.cycle(["general"])  # what the stalled POST carried is delivered by now
        monotonic = sorted({ids for kind in catalog.monotonic_commands().values() for ids in kind}
                           | {"energy_today_wh", "production_today_wh", "consumption_today_wh"})
        down, points, commands = bench.history_decreases(monotonic, since)
        out["monotonic"] = {"decreases": sum(down.values()), "points": points, "commands": commands,
                            "real_s": time.monotonic() - started, "from": clock, "to": site_time(),
                            "stalled": proxy.stalled}

    second = [None]

    def two_sites(one):
        second[0] = bench.add_gateway("Site 2", sites[1], token)
        start_daemon()
        out["second_sync"] = three_syncs(second[0])  # its equipment created by three clicks at once
        bench.core.plugin("deamonStop", PLUGIN)
        two = bench.poller(second[0], sites[1], token, proxy.url)
        wait_due(two, ["general", "devices"])
        two.cycle(["general", "devices"])
        del one.sent[:], two.sent[:]
        wait_due(one, ["devices"])
        wait_due(two, ["devices"])
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            started = time.monotonic()
            both = [pool.submit(p.cycle, ["devices"]) for p in (one, two)]
            ui = []
            while not all(c.done() for c in both):
                asked = time.monotonic()
                bench.core.ajax("core/ajax/eqLogic.ajax.php", "listByType", type=PLUGIN, timeout_s=120)
                ui.append(time.monotonic() - asked)
                time.sleep(1)
            for c in both:
                c.result()
            wall = time.monotonic() - started
        held = bench.current_values()
        sent = {}  # the latest of each value the two cycles sent
        for event in one.sent + two.sent:
            for eq, cmds in event["values"].items():
                sent.setdefault(eq, {}).update(cmds)
        # Numbers (a state word is shown translated in Jeedom).
        numbers = [(eq, cmd, value) for eq, cmds in sent.items() for cmd, value in cmds.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)]
        missing = [(eq, cmd) for eq, cmd, value in numbers if not _same(held.get(eq, {}).get(cmd), value)]
        out["two_sites"] = {"wall_s": wall, "ui_max_s": max(ui) if ui else None, "ui_asked": len(ui),
                            "values": sum(len(c) for c in sent.values()), "checked": len(numbers),
                            "missing": len(missing), "missing_sample": missing[:3]}

    def pages():
        if not chromium_binary():
            out["errors"].append("no Chromium: page load times not measured")
            return
        log("  jeedom: the Dashboard and the plugin page in Chromium")
        widgets = bench.count("SELECT COUNT(*) AS n FROM eqLogic WHERE object_id = %d AND isVisible = 1 AND isEnable = 1"
                              % int(bench.room["id"]))
        cards = bench.count("SELECT COUNT(*) AS n FROM eqLogic WHERE eqType_name = 'enphase'")
        out["dashboard"] = {"widgets": widgets, "s": attempt("Dashboard", lambda: bench.page_s(
            "/index.php?v=d&p=dashboard&object_id=%s" % bench.room["id"],
            "document.querySelectorAll('.eqLogic-widget').length >= %d" % widgets))}
        out["plugin_page"] = {"cards": cards, "s": attempt("plugin page", lambda: bench.page_s(
            "/index.php?v=d&m=enphase&p=enphase", "document.querySelectorAll('.eqLogicDisplayCard').length >= %d" % cards))}

    try:
        log("  jeedom: the demo's house (12 microinverters), alone in Jeedom")
        attempt("house", the_house)
        log("  jeedom: Synchronize of a 600-microinverter site")
        first = bench.add_gateway("Site", sites[0], token)
        attempt("Synchronize", lambda: first_sync(first))
        log("  jeedom: three Synchronize at once")
        out["concurrent_syncs"] = attempt("three Synchronize at once", lambda: three_syncs(first))
        bench.core.plugin("deamonStop", PLUGIN)  # the bench's own poller reads the site from now on
        log("  jeedom: general and devices cycles, and the core's floor for the same values")
        one = bench.poller(first, sites[0], token, proxy.url)
        attempt("cycles", lambda: cycles(one))
        log("  jeedom: cycles with the receiver stalled past a POST's deadline in the middle")
        attempt("stalled receiver", lambda: stalled(one))
        log("  jeedom: a second site of 600 microinverters")
        attempt("two sites", lambda: two_sites(one))
        attempt("pages", pages)
        per_gateway = bench.commands_by_gateway()
        named = [(name, per_gateway.get(gw, {})) for name, gw in (("Site", first), ("Site 2", second[0])) if gw is not None]
        out["commands"] = {name: sum(counts.values()) for name, counts in named}
        if len(named) == 2 and named[0][1] != named[1][1]:  # the same sites but their seeds: which commands differ
            (a, one_site), (b, other) = named
            out["commands_differ"] = {"%s/%s" % (site_name, key): n for site_name, mine, theirs in
                                      ((a, one_site, other), (b, other, one_site))
                                      for key, n in sorted(mine.items()) if theirs.get(key, 0) != n}
        out["equipment"] = bench.count("SELECT COUNT(*) AS n FROM eqLogic WHERE eqType_name = 'enphase'")
        out["all_commands"] = bench.commands()
        out["clock"]["end"] = site_time()
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
