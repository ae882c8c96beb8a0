"""End to end against a real Jeedom core: what a user does, from installing the plugin to values on the dashboard.

Runs only when JEEDOM_CORE_DIR points to an installed Jeedom core (4.5, MariaDB configured, admin account):

    JEEDOM_CORE_DIR=/work/jeedom make e2e

The run works on a throwaway copy of that core, files and database (core_copy.py), and leaves the original
as it found it. The working tree is copied in as plugins/enphase, the copy is served by `php -S` on a free
loopback port (as the web server's user, www-data, when run as root), and every step goes through Jeedom's
own ajax endpoints as the administrator: enable the plugin, install its dependencies (packages.json -> the
plugin's venv), add a gateway equipment (the synthetic simulator, with a token it issued), start the daemon,
click Synchronize. Then the gateway, every microinverter and every battery the simulator has must exist with
their commands, and every info command must hold a value within one polling cycle. Last, headless Chromium
takes the screenshots of the documentation (docs/images/).
"""
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from headless_chromium import Browser, chromium_binary
from core_copy import CoreCopy, chown_tree, web_user
from jeedom_core import JeedomCore, install_plugin_files, read_first_lines, wait_until

CORE_DIR = os.environ.get("JEEDOM_CORE_DIR", "")
pytestmark = pytest.mark.skipif(not CORE_DIR, reason="JEEDOM_CORE_DIR is not set: no Jeedom core to test against")

REPO = Path(__file__).resolve().parents[2]
PLUGIN_ID = "enphase"
PLUGIN_AJAX = "plugins/enphase/core/ajax/enphase.ajax.php"
ADMIN_USER = os.environ.get("JEEDOM_ADMIN_USER", "admin")
ADMIN_PASSWORD = os.environ.get("JEEDOM_ADMIN_PASSWORD", "admin")  # the core's install default
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS_DIR", str(REPO / "docs" / "images")))
# The synthetic house: microinverters, AC Batteries and IQ Batteries (Encharge), all of which must appear.
HOUSE = {"inverters": 8, "acbs": 1, "encharges": 2}
GENERAL_S = 20  # the fast cadence; "one cycle" below is this long
DEPENDENCIES_TIMEOUT_S = 900  # apt update + a venv + four wheels, on a slow box
BATTERY_KINDS = ("ac_battery", "encharge")


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    source = Path(CORE_DIR).resolve()
    assert (source / "core" / "php" / "core.inc.php").is_file(), "JEEDOM_CORE_DIR is not a Jeedom core"
    logs = tmp_path_factory.mktemp("jeedom")
    # The run works on a copy of the core (files and database) and drops it at the end: the original is
    # only read. PHP, hence the daemon, runs as the web server's user, as on a real Jeedom.
    user = web_user()
    copy = CoreCopy(source, keep_plugin=PLUGIN_ID, user=user)
    jeedom = None
    try:
        install_plugin_files(REPO, copy.dir / "plugins" / PLUGIN_ID)
        chown_tree(copy.dir / "plugins" / PLUGIN_ID, user)
        jeedom = JeedomCore(copy.dir, logs, user=user)
        # Start from no equipment, as a first install does (the copy keeps the original's, if any).
        jeedom.php("foreach (eqLogic::byType('%s') as $eq) { $eq->remove(); }" % PLUGIN_ID)
        jeedom.login(ADMIN_USER, ADMIN_PASSWORD)
        # A container looks like Docker to Jeedom: the daemon's callback URL must use this server's address.
        jeedom.set_config({
            "internalProtocol": "http://", "internalAddr": "127.0.0.1", "internalPort": str(jeedom.port),
            "internalComplement": "",
            "jeedom::firstUse": 0,  # no welcome window over the screenshots
            "theme_changeAccordingTime": 0,  # the theme a screenshot asks for, not the night's
            "log::level::" + PLUGIN_ID: {"100": "1"},  # debug: the plugin's logs say why a step failed
            # Repeated runs may restart the daemon and reinstall within a minute.
            "dontProtectTooFastLaunchDeamony": 1, "dontProtectTooFastLaunchDependancy": 1,
        })
        yield jeedom
    finally:
        if jeedom is not None:
            try:
                jeedom.plugin("deamonStop", PLUGIN_ID)
            except Exception:  # the run failed before the daemon existed; nothing to stop
                pass
            jeedom.close()
        copy.remove(keep_logs_in=logs)  # Jeedom's logs stay with pytest's (jeedom*/jeedom-log)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    """The synthetic gateway on a free loopback port; yields its host, serial and a token it accepts."""
    log = tmp_path_factory.mktemp("simulator") / "simulator.err"
    with open(log, "wb") as errors:
        process = subprocess.Popen(
            # A clear day from 13:00 whatever the hour of the run: the screenshots show the sun.
            [sys.executable, "-m", "simulator", "--synthetic", "--port", "0", "--hour", "13", "--sunny"]
            + ["--%s=%d" % (name, count) for name, count in HOUSE.items()],
            cwd=str(REPO / "resources" / "enphased"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=errors, text=True)
        try:
            lines = read_first_lines(process.stdout, 4, timeout_s=30)
            url = next((line.rsplit(" ", 1)[1] for line in lines if line.startswith("Gateway ")), "")
            token = next((line.split(": ", 1)[1] for line in lines if line.startswith("Token: ")), "")
            assert url and token, "simulator did not start: %s" % log.read_text()[-2000:]
            yield {"url": url, "host": url.split("://", 1)[1].rstrip("/"), "token": token,
                   "serial": lines[0].split()[1], "process": process}
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def gateway_inventory(simulator):
    """What the simulated gateway itself says it has (raw endpoints, not the plugin's reading of them)."""
    def get(path):
        answer = requests.get(simulator["url"] + path, verify=False, timeout=30,
                              headers={"Authorization": "Bearer " + simulator["token"]})
        answer.raise_for_status()
        return answer.json()

    import urllib3
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the gateway's self-signed cert
    serials = {"inverter": set(), "ac_battery": set(), "encharge": set()}
    for group in get("/inventory.json"):
        kind = {"PCU": "inverter", "ACB": "ac_battery"}.get(group.get("type"))
        if kind:
            serials[kind].update(d["serial_num"] for d in group.get("devices", []))
    for group in get("/ivp/ensemble/inventory"):
        if group.get("type") == "ENCHARGE":
            serials["encharge"].update(d["serial_num"] for d in group.get("devices", []))
    assert len(serials["inverter"]) == HOUSE["inverters"]
    return serials


@pytest.fixture(scope="module")
def plugin_enabled(core):
    core.plugin("toggle", PLUGIN_ID, state=1)
    return core


@pytest.fixture(scope="module")
def dependencies(plugin_enabled):
    core = plugin_enabled
    # Enabling a plugin whose dependencies are missing starts their installation (the core's automatic
    # mode); otherwise this is the user's click on "Relancer".
    if core.plugin("getDependancyInfo", PLUGIN_ID)["state"] == "nok":
        core.plugin("dependancyInstall", PLUGIN_ID)
    wait_until(lambda: core.plugin("getDependancyInfo", PLUGIN_ID)["state"] == "ok",
               DEPENDENCIES_TIMEOUT_S, "Jeedom to install the dependencies (log: log/%s_packages)" % PLUGIN_ID,
               every_s=5)
    return core


@pytest.fixture(scope="module")
def daemon(dependencies, simulator):
    core = dependencies
    # The plugin configuration: the default cadences (PHP meets the daemon on a socket in the data folder).
    core.set_config({"general_s": GENERAL_S}, plugin=PLUGIN_ID)
    # The gateway, as a user adds it on the plugin page ("Ajouter une passerelle", then its access and room).
    house = room(core, "Maison")
    added = core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"name": "Maison"}]))
    core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{
        "id": added["id"], "isEnable": 1, "isVisible": 1, "object_id": house["id"],
        "configuration": {"host": simulator["host"], "auth_method": "token", "token": simulator["token"]}}]))
    core.plugin("deamonStart", PLUGIN_ID, forceRestart=1)
    wait_until(lambda: core.plugin("getDeamonInfo", PLUGIN_ID)["state"] == "ok", 60,
               "the daemon to run (log: log/%s)" % PLUGIN_ID)
    return core


def synchronize(core, eq_id=None, timeout_s=240, every_s=0.2):
    """Synchronize as the page does: the request starts the job and is answered at once, then the page asks how
    far it got until the report. The report, with `progress`: the sentences shown meanwhile."""
    where = {"id": eq_id} if eq_id else {}
    job = core.ajax(PLUGIN_AJAX, "synchronize", **where)
    assert not job["done"], "the request waited for the whole synchronization: %s" % job
    progress = [job["message"]]
    deadline = time.monotonic() + timeout_s
    while not job["done"]:
        assert time.monotonic() < deadline, "the synchronization did not end: %s" % progress[-1]
        time.sleep(every_s)
        job = core.ajax(PLUGIN_AJAX, "syncProgress", job=job["job"], **where)
        progress.append(job["message"])
    return dict(job, progress=progress)


@pytest.fixture(scope="module")
def synchronized(daemon):
    core = daemon
    started = time.monotonic()
    report = synchronize(core)
    return {"core": core, "report": report, "after_s": time.monotonic() - started}


def room(core, name):
    """The Jeedom object (room) of that name, made as the user does on Outils > Objets when missing."""
    found = next((o for o in core.ajax("core/ajax/object.ajax.php", "all") if o["name"] == name), None)
    return found or core.ajax("core/ajax/object.ajax.php", "save", object=json.dumps({"name": name, "isVisible": 1}))


def equipments_by_logical_id(core):
    return {eq["logicalId"]: eq for eq in core.equipments(PLUGIN_ID)}


# -- the steps a user goes through, in order ------------------------------------------------------------

def test_plugin_enables_through_jeedom(plugin_enabled):
    active = plugin_enabled.ajax("core/ajax/plugin.ajax.php", "all", activateOnly=1)
    assert PLUGIN_ID in [p["id"] for p in active]


def test_dependencies_install_into_the_plugin_venv(dependencies):
    python = dependencies.dir / "plugins" / PLUGIN_ID / "resources" / "python_venv" / "bin" / "python3"
    assert python.is_file()
    done = subprocess.run([str(python), "-c", "import requests, jwt, lxml, schedule"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_daemon_runs_under_jeedom(daemon):
    info = daemon.plugin("getDeamonInfo", PLUGIN_ID)
    assert info["state"] == "ok" and info["launchable"] == "ok"


def test_synchronize_creates_the_gateway_every_microinverter_and_battery(synchronized, simulator,
                                                                          gateway_inventory):
    kinds = synchronized["report"]["kinds"]  # what the page tells the user after the click
    assert kinds["gateway"]["found"] == 1 and kinds["inverter"]["found"] == HOUSE["inverters"]
    found = equipments_by_logical_id(synchronized["core"])
    assert simulator["serial"] in found, "no gateway equipment"
    assert found[simulator["serial"]]["configuration"].get("kind") == "gateway"
    for kind, serials in gateway_inventory.items():
        for serial in serials:
            assert serial in found, "%s %s was not created" % (kind, serial)
            assert found[serial]["configuration"].get("kind") == kind
    for eq in found.values():
        commands = synchronized["core"].equipment(PLUGIN_ID, eq["id"], with_state=False)["cmd"]
        infos = [c for c in commands if c["type"] == "info"]
        assert infos, "%s has no info command" % eq["name"]
        assert len({c["logicalId"] for c in commands}) == len(commands), "duplicate commands on " + eq["name"]


# What the Dashboard shows when Synchronize created them (enphaseKinds::DASHBOARD); microinverters
# are enabled but not shown.
SHOWN_KINDS = {"gateway", "ac_battery", "encharge", "meter"}


def test_synchronize_puts_everything_in_the_gateways_room_and_shows_the_overview(synchronized, simulator):
    core = synchronized["core"]
    found = equipments_by_logical_id(core)
    house = found[simulator["serial"]]["object_id"]
    assert house and str(house) == str(room(core, "Maison")["id"])
    for eq in found.values():
        assert str(eq["object_id"]) == str(house), "%s is not in the gateway's room" % eq["name"]
        assert int(eq["isEnable"]) == 1
        # Jeedom marks it stale (red) after this many minutes without news: three of the slowest cadence (the
        # devices', 300 s here), and never less than 15.
        assert int(eq["timeout"]) == 15, "%s: timeout %s" % (eq["name"], eq["timeout"])
        kind = eq["configuration"]["kind"]
        assert int(eq["isVisible"]) == (1 if kind in SHOWN_KINDS else 0), "%s (%s) visible=%s" % (
            eq["name"], kind, eq["isVisible"])


def test_every_value_arrives_within_one_cycle(synchronized):
    core = synchronized["core"]
    ids = [eq["id"] for eq in core.equipments(PLUGIN_ID)]

    def missing_values():
        missing = []
        for eq_id in ids:
            eq = core.equipment(PLUGIN_ID, eq_id)
            missing += ["%s / %s" % (eq["name"], c["name"]) for c in eq["cmd"]
                        if c["type"] == "info" and not c.get("collectDate")]
        return missing

    # The sync's full reading is posted right after it; one more cycle covers a callback that raced it.
    wait_until(lambda: not missing_values(), GENERAL_S + 15,
               "a value on every info command (still empty: %s)" % ", ".join(missing_values()[:10]))


DUPLICATES_SQL = (
    "SELECT logicalId AS what, COUNT(*) AS n FROM eqLogic WHERE eqType_name = 'enphase' GROUP BY logicalId HAVING n > 1"
    " UNION ALL SELECT CONCAT(eqLogic_id, ' ', logicalId), COUNT(*) AS n FROM cmd WHERE eqType = 'enphase'"
    " GROUP BY eqLogic_id, logicalId HAVING n > 1")


def duplicates(core):
    """Equipment sharing a logicalId, and commands sharing a logicalId on one equipment, from the database."""
    return json.loads(core.php("echo json_encode(DB::Prepare(%s, array(), DB::FETCH_TYPE_ALL));"
                               % json.dumps(DUPLICATES_SQL).replace("$", "\\$")))


def test_synchronize_answers_at_once_and_shows_its_progress(synchronized):
    report = synchronized["report"]
    assert report["ok"] and report["done"]
    assert report["progress"][0].startswith("Synchronisation en cours"), report["progress"]
    assert report["message"].startswith("Synchronisation terminée"), report["message"]


def test_concurrent_syncs_and_callbacks_create_no_duplicate(synchronized, simulator):
    """Three Synchronize clicks and three processes applying the daemon's inventory, all at once, on a gateway
    whose microinverters were removed: each equipment and command exists once."""
    import concurrent.futures

    core = synchronized["core"]
    gateway = equipments_by_logical_id(core)[simulator["serial"]]
    inventory = json.loads(core.php(
        "require_once 'plugins/enphase/core/class/enphase.class.php';"
        " echo json_encode(enphaseDaemon::request(array('action' => 'sync', 'gateway' => '%s'))['inventory'][0]);"
        % gateway["id"], timeout_s=240))
    core.php("foreach (eqLogic::byType('enphase') as $eq) { if ($eq->getConfiguration('kind') == 'inverter') { $eq->remove(); } }")
    (core.dir / "inventory.json").write_text(json.dumps(inventory))
    apply = ("require_once 'plugins/enphase/core/class/enphase.class.php';"
             " enphaseInventory::apply(json_decode(file_get_contents('inventory.json'), true));")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        syncs = [pool.submit(synchronize, core, gateway["id"]) for _ in range(3)]
        applies = [pool.submit(core.php, apply) for _ in range(3)]
        reports = [s.result() for s in syncs]
        for a in applies:
            a.result()
    assert all(r["ok"] for r in reports), [r["message"] for r in reports]
    assert duplicates(core) == []
    inverters = [eq for eq in core.equipments(PLUGIN_ID) if eq["configuration"].get("kind") == "inverter"]
    assert len(inverters) == HOUSE["inverters"]


THEMES = {"light": "core2019_Light", "dark": "core2019_Dark"}


def theme(core, name):
    core.set_config({"jeedom_theme_main": THEMES[name], "mobile_theme_color": THEMES[name]})


def dashboard_shot(core, house_id, name, **browser):
    """The dashboard of one room as a user sees it, written to docs/images/<name>; the browser's JS errors."""
    mobile = browser.get("mobile", False)
    shot = Browser(locale="fr-FR", timezone=core.get_config("timezone"), **browser)
    try:
        shot.set_cookie(**core.session_cookie)
        if mobile:  # Jeedom's mobile app: its own pages, the room's equipment under "equipment"
            shot.open("%s/index.php?v=m&p=equipment&object_id=%s" % (core.url, house_id),
                      ready_js="document.querySelectorAll('.eqLogic-widget').length > 0", settle_s=3)
            shot.fit_to_content("body")
        else:
            shot.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, house_id),
                      ready_js="document.querySelectorAll('.eqLogic-widget').length > 0")
            shot.fit_to_content("#div_mainContainer")
        shot.screenshot(SCREENSHOTS / name)
        return [e for e in shot.page_errors if "/plugins/%s/" % PLUGIN_ID in e]
    finally:
        shot.close()


def tiles_overlap(browser):
    """Pairs of commands whose boxes overlap inside a tile, and titles cut short (what looked broken before)."""
    return browser.evaluate("""(() => {
      const out = []
      document.querySelectorAll('.eqLogic-widget').forEach(w => {
        const name = w.querySelector('.widget-name')
        const title = name && name.querySelector('.reportModeVisible, a')
        if (title && title.scrollWidth > name.clientWidth + 1) out.push('title cut: ' + title.textContent.trim())
        const cmds = Array.from(w.querySelectorAll('.cmd-widget')).filter(c => c.offsetParent !== null)
        for (let i = 0; i < cmds.length; i++) for (let j = i + 1; j < cmds.length; j++) {
          const a = cmds[i].getBoundingClientRect(), b = cmds[j].getBoundingClientRect()
          if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
            out.push('overlap in ' + title.textContent.trim())
        }
      })
      return out
    })()""")


@pytest.mark.skipif(not chromium_binary(), reason="no Chromium for the screenshots")
def test_screenshots_of_the_plugin_the_gateway_and_the_dashboard(synchronized, simulator):
    """docs/images: the plugin page, a gateway's page, the dashboard as Synchronize leaves it (light, dark,
    mobile), and the microinverters once shown. Short names fit their tiles, nothing overlaps."""
    core = synchronized["core"]
    house = room(core, "Maison")  # where Synchronize put everything
    found = equipments_by_logical_id(core)
    gateway = found[simulator["serial"]]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    theme(core, "light")
    browser = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        browser.set_cookie(**core.session_cookie)
        browser.open("%s/index.php?v=d&m=%s&p=%s" % (core.url, PLUGIN_ID, PLUGIN_ID),
                     ready_js="document.querySelector('.eqLogicDisplayCard') !== null")
        browser.fit_to_content("#div_mainContainer")
        browser.screenshot(SCREENSHOTS / "plugin-page.png")
        browser.resize(900)
        browser.open("%s/index.php?v=d&m=%s&p=%s&id=%s" % (core.url, PLUGIN_ID, PLUGIN_ID, gateway["id"]),
                     ready_js="document.querySelector('.eqLogic') !== null")
        browser.fit_to_content("#div_mainContainer")
        browser.screenshot(SCREENSHOTS / "equipment-page.png")
        browser.resize(900)
        browser.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, house["id"]),
                     ready_js="document.querySelectorAll('.eqLogic-widget').length > 0")
        titles = browser.evaluate("Array.from(document.querySelectorAll('.eqLogic-widget .widget-name'))"
                                  ".map(n => n.innerText.trim())")
        assert "Compteur consommation nette" in titles and not any(simulator["serial"] in t for t in titles), titles
        assert not tiles_overlap(browser), tiles_overlap(browser)
        # A home battery at 26 % is no worn sensor battery: no core battery alert in a title.
        assert browser.evaluate("document.querySelectorAll('.eqLogic-widget .widget-name i[class*=\"battery\"]').length") == 0
        errors = [e for e in browser.page_errors if "/plugins/%s/" % PLUGIN_ID in e]
    finally:
        browser.close()
    errors += dashboard_shot(core, house["id"], "dashboard.png", width=1440, height=900)
    theme(core, "dark")
    errors += dashboard_shot(core, house["id"], "dashboard-dark.png", width=1440, height=900)
    errors += dashboard_shot(core, house["id"], "dashboard-mobile.png", width=412, height=915, mobile=True)
    theme(core, "light")
    # The microinverters, once the user shows them: short names, their figures then their states.
    inverters = [eq for eq in found.values() if eq["configuration"]["kind"] == "inverter"
                 and eq["configuration"]["gateway_id"] == gateway["configuration"]["gateway_id"]]
    for eq in inverters:
        core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"id": eq["id"], "isVisible": 1}]))
    try:
        shown = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
        try:
            shown.set_cookie(**core.session_cookie)
            shown.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, house["id"]),
                       ready_js="document.querySelectorAll('.eqLogic-widget').length > %d" % len(inverters))
            assert not tiles_overlap(shown), tiles_overlap(shown)
            shown.fit_to_content("#div_mainContainer")
            shown.screenshot(SCREENSHOTS / "microinverters.png")
            names = shown.evaluate("Array.from(document.querySelectorAll('.eqLogic-widget .widget-name'))"
                                   ".map(n => n.innerText.trim()).filter(t => t.startsWith('Micro-onduleur'))")
            assert len(names) == len(inverters) and all(re.fullmatch(r"Micro-onduleur …\d{4,}", n) for n in names), names
            errors += [e for e in shown.page_errors if "/plugins/%s/" % PLUGIN_ID in e]
        finally:
            shown.close()
    finally:
        for eq in inverters:
            core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"id": eq["id"], "isVisible": 0}]))
    assert not errors, "JavaScript errors in the plugin's pages: %s" % errors
    for name in ("plugin-page.png", "equipment-page.png", "dashboard.png", "dashboard-dark.png",
                 "dashboard-mobile.png", "microinverters.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10000, name


# -- several gateways: a second one added by hand, on the built-in demo gateway ---------------------------

DEMO_SECRET = "eyJ.e2e-never-shown-back"  # a token typed on the demo gateway's page (the demo needs none)


@pytest.fixture(scope="module")
def demo(synchronized):
    """What a user does on the plugin page: "Ajouter une passerelle", type "demo" as its address, save,
    then Synchronize on that equipment's page."""
    core = synchronized["core"]
    # No room for this one: the plugin configuration's default room takes it and what it finds.
    core.set_config({"default_object_id": str(room(core, "Démo")["id"])}, plugin=PLUGIN_ID)
    added = core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"name": "Démo"}]))
    saved = core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{
        "id": added["id"], "isEnable": 1, "isVisible": 1,
        "configuration": {"host": "demo", "auth_method": "token", "token": DEMO_SECRET}}]))
    report = synchronize(core, added["id"])
    return {"core": core, "id": str(added["id"]), "saved": saved, "report": report}


def test_a_gateway_added_by_hand_is_synchronized_on_its_own(demo, simulator):
    core = demo["core"]
    assert demo["report"]["kinds"]["gateway"] == {"found": 1, "created": 0}, "the added equipment is the gateway"
    assert demo["report"]["kinds"]["inverter"]["created"] > 0
    found = equipments_by_logical_id(core)
    gateways = {str(eq["id"]): eq for eq in found.values() if eq["configuration"].get("kind") == "gateway"}
    assert len(gateways) == 2
    mine = gateways[demo["id"]]
    assert mine["logicalId"] not in ("", simulator["serial"]), "the demo gateway learnt its own serial"
    devices = [eq for eq in found.values() if eq["configuration"].get("gateway_id") == demo["id"]]
    assert len(devices) == 1 + demo["report"]["kinds"]["inverter"]["found"] + sum(
        demo["report"]["kinds"].get(kind, {}).get("found", 0) for kind in ("encharge", "ac_battery", "meter"))
    # At any hour of the run: the demo plays a clear day from 13:00.
    production = lambda: next((c.get("state") for c in core.equipment(PLUGIN_ID, demo["id"])["cmd"]
                               if c["logicalId"] == "production_w"), None)
    wait_until(lambda: float(production() or 0) > 0, GENERAL_S + 15, "the demo's sun (production %s)" % production())
    demo_room = str(room(core, "Démo")["id"])
    assert all(str(eq["object_id"]) == demo_room for eq in devices), "the default room takes a gateway without one"
    # Both gateways are read side by side.
    wait_until(lambda: all((core.equipment(PLUGIN_ID, i, with_state=False)["configuration"].get("status") or {})
                           .get("reachable") for i in gateways), GENERAL_S + 15, "both gateways reachable")


def test_a_gateway_secret_is_stored_encrypted_and_never_shown_back(demo):
    core = demo["core"]
    assert DEMO_SECRET not in json.dumps(demo["saved"])
    assert DEMO_SECRET not in json.dumps(core.equipment(PLUGIN_ID, demo["id"]))
    assert DEMO_SECRET not in json.dumps(core.equipments(PLUGIN_ID))
    stored = core.php("echo DB::Prepare('SELECT configuration FROM eqLogic WHERE id=:id', array('id' => %d),"
                      " DB::FETCH_TYPE_ROW)['configuration'];" % int(demo["id"]))
    assert DEMO_SECRET not in stored and "crypt:" in stored
    # What the plugin hands the daemon is the clear value.
    assert DEMO_SECRET in core.php("echo eqLogic::byId(%d)->getConfiguration('token');" % int(demo["id"]))


def set_gateway_values(core, eq_id, values):
    """Values as the callback applies them (checkAndUpdateCmd: Jeedom's events reach the open dashboard)."""
    core.php("$eq = eqLogic::byId(%d); foreach (%s as $k => $v) { $eq->checkAndUpdateCmd($k, $v); }"
             % (int(eq_id), "json_decode('%s', true)" % json.dumps(values)))


@pytest.mark.skipif(not chromium_binary(), reason="no Chromium for the screenshots")
def test_the_energy_flow_widget_follows_the_gateway_live(demo):
    core = demo["core"]
    flow_room = room(core, "Énergie")
    core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID,
              eqLogic=json.dumps([{"id": demo["id"], "object_id": flow_room["id"], "isVisible": 1}]))
    # Its equipment follow the gateway to its new room.
    moved = [eq for eq in core.equipments(PLUGIN_ID) if eq["configuration"].get("gateway_id") == demo["id"]]
    assert moved and all(str(eq["object_id"]) == str(flow_room["id"]) for eq in moved)
    # The demo gateway pauses in the daemon, so that only this test moves its values.
    core.php("require_once 'plugins/enphase/core/class/enphase.class.php';"
             " enphaseDaemon::request(array('action' => 'pause', 'gateway' => '%s'));" % demo["id"])
    widget = '.enphaseFlowWidget[data-eqLogic_id="%s"]' % demo["id"]

    def node(name, part="watts"):
        return "document.querySelector('%s .enphaseFlow-node[data-node=\"%s\"] .enphaseFlow-%s').textContent" % (
            widget, name, part)

    browser = Browser(width=900, height=700, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        set_gateway_values(core, demo["id"], {"production_w": 0, "consumption_w": 850, "net_w": 350,
                                              "battery_power_w": 500, "battery_percent": 41})
        browser.set_cookie(**core.session_cookie)
        browser.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, flow_room["id"]),
                     ready_js="document.querySelector('%s .enphaseFlow') !== null" % widget)
        assert browser.evaluate(node("grid", "detail")) == "Achat"
        assert browser.evaluate(node("battery", "detail")) == "Décharge · 41 %"
        # The afternoon: the sun is up, the battery charges, the rest is sold. No page reload.
        set_gateway_values(core, demo["id"], {"production_w": 4320, "consumption_w": 1200, "net_w": -2499,
                                              "battery_power_w": -621, "battery_percent": 57})
        wait_until(lambda: browser.evaluate(node("solar")) == "4,32 kW" and browser.evaluate(node("battery", "detail"))
                   == "Charge · 57 %", 30, "the widget to follow Jeedom's events (solar: %s)" % browser.evaluate(node("solar")))
        assert browser.evaluate(node("grid")) == "2,5 kW" and browser.evaluate(node("grid", "detail")) == "Vente"
        assert browser.evaluate(node("home")) == "1,2 kW"
        flowing = browser.evaluate("Array.from(document.querySelectorAll('%s .enphaseFlow-line.flowing'))"
                                   ".map(l => l.dataset.node + (l.classList.contains('reverse') ? '<' : '>')).sort().join()" % widget)
        assert flowing == "battery<,grid<,home>,solar>", flowing  # battery and grid take power from the hub
        # Without a consumption meter the widget completes what it can and says what it cannot know.
        assert browser.evaluate("JSON.stringify(enphaseFlow.powers({solar: 900, home: null, grid: -300, battery: 0}))") \
            == '{"solar":900,"home":600,"grid":-300,"battery":0}'
        assert browser.evaluate("JSON.stringify(enphaseFlow.powers({solar: 900, home: null, grid: null, battery: null}))") \
            == '{"solar":900,"home":null,"grid":null,"battery":null}'
        time.sleep(1.5)  # the dashes move: let them settle on a frame
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "flow-widget.png", selector=widget)
        # Like a core widget's value, a node opens its command's history.
        browser.evaluate("document.querySelector('%s .enphaseFlow-node[data-node=\"solar\"]').click()" % widget)
        wait_until(lambda: browser.evaluate("document.querySelector('#md_cmdHistory')?.offsetParent != null"), 15,
                   "the history of the solar production to open")
        errors = [e for e in browser.page_errors if "enphase" in e.lower()]
        assert not errors, "JavaScript errors in the flow widget: %s" % errors
    finally:
        browser.close()
        core.php("require_once 'plugins/enphase/core/class/enphase.class.php';"
                 " enphaseDaemon::request(array('action' => 'resume', 'gateway' => '%s'));" % demo["id"])
    assert (SCREENSHOTS / "flow-widget.png").stat().st_size > 5000


@pytest.mark.skipif(not chromium_binary(), reason="no Chromium for the screenshots")
def test_the_page_of_a_gateway_added_by_hand_shows_its_access_without_its_secret(demo):
    core = demo["core"]
    browser = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        browser.set_cookie(**core.session_cookie)
        browser.open("%s/index.php?v=d&m=%s&p=%s&id=%s" % (core.url, PLUGIN_ID, PLUGIN_ID, demo["id"]),
                     ready_js="document.querySelector('.eqLogicAttr[data-l2key=\"host\"]')?.value == 'demo'")
        # The demo's hour, on its page (and only on a demo gateway's).
        assert browser.evaluate("document.querySelector('.enphaseDemo').offsetParent !== null")
        assert browser.evaluate("document.querySelector('.eqLogicAttr[data-l2key=\"demo_hour\"]').selectedOptions[0]"
                                ".textContent").startswith("13 h")
        token = "document.querySelector('.enphaseEqSecret[data-key=\"token\"]')"
        assert browser.evaluate(token + ".value") == ""
        assert browser.evaluate(token + ".placeholder").startswith("Enregistré")
        assert DEMO_SECRET not in browser.evaluate("document.documentElement.outerHTML")
        status = browser.evaluate("document.getElementById('div_enphaseStatus').innerText")
        assert "Authentification : Jeton propriétaire" in status and "jwt-" not in status, status
        # Firmware < 7: the installer login is offered with the gateway's password, and only there.
        choose = ("document.getElementById('sel_enphaseEqAuthMethod').value = '%s';"
                  " document.getElementById('sel_enphaseEqAuthMethod').dispatchEvent(new Event('change'))")
        installer_shown = "document.getElementById('cb_enphaseEqInstaller').offsetParent !== null"
        browser.evaluate(choose % "envoy")
        assert browser.evaluate(installer_shown)
        browser.evaluate(choose % "token")
        assert not browser.evaluate(installer_shown)
        browser.fit_to_content("#div_mainContainer")
        browser.screenshot(SCREENSHOTS / "gateway-page.png")
        errors = [e for e in browser.page_errors if "/plugins/%s/" % PLUGIN_ID in e]
        assert not errors, "JavaScript errors in the plugin's pages: %s" % errors
    finally:
        browser.close()


@pytest.mark.skipif(not chromium_binary(), reason="no browser to download with")
def test_the_diagnostics_report_downloads_from_the_gateway_page(synchronized, simulator, tmp_path):
    """The button on the gateway's page: a zip arrives in the browser's downloads, the page stays as it was."""
    core = synchronized["core"]
    gateway = equipments_by_logical_id(core)[simulator["serial"]]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        browser.allow_downloads(downloads)
        browser.set_cookie(**core.session_cookie)
        page = "%s/index.php?v=d&m=%s&p=%s&id=%s" % (core.url, PLUGIN_ID, PLUGIN_ID, gateway["id"])
        browser.open(page, ready_js="document.querySelector('#bt_enphaseDiagnostics')?.offsetParent != null")
        browser.evaluate("document.getElementById('bt_enphaseDiagnostics').click()")
        reports = wait_until(lambda: [f for f in downloads.iterdir() if f.suffix == ".zip"], 120,
                             "the report in the browser's downloads (%s)" % sorted(os.listdir(downloads)))
        with zipfile.ZipFile(reports[0]) as report:
            names = report.namelist()
        assert any(name.endswith("/status.json") for name in names), names
        assert simulator["serial"] not in reports[0].name, "the file name carries the redacted serial"
        # The page is still the gateway's, drawn, with the success toast and no error.
        time.sleep(1)
        assert browser.evaluate("location.href") == page
        assert browser.evaluate("document.querySelector('.eqLogicAttr[data-l1key=\"id\"]').value") == str(gateway["id"])
        assert browser.evaluate("document.getElementById('bt_enphaseDiagnostics').offsetParent != null")
        alert = browser.evaluate("document.getElementById('jeeToastContainer')?.innerText || ''") or ""
        assert "Rapport prêt" in alert and "Failed" not in alert, alert
        errors = [e for e in browser.page_errors if "enphase" in e.lower() or "blob:" in e]
        assert not errors, errors
    finally:
        browser.close()
    # Nothing of it waits in the data folder: the download took it away.
    assert not list((core.dir / "plugins" / PLUGIN_ID / "data" / "diagnostics").glob("*.zip"))


# -- outages a user sees: refused credentials, a daemon killed, a gateway gone ------------------------------

def messages(core, prefix):
    """The plugin's entries in Jeedom's message center whose logicalId starts with prefix."""
    return [m for m in core.ajax("core/ajax/message.ajax.php", "all", plugin=PLUGIN_ID)
            if str(m.get("logicalId", "")).startswith(prefix)]


def state_of(core, eq_id):
    """What the gateway's page says of it (enphaseEvents::state, handed to the page with the equipment)."""
    return core.equipment(PLUGIN_ID, eq_id, with_state=False).get("enphase_state") or {}


def test_refused_credentials_reach_the_message_center_and_the_gateway_state(demo, simulator):
    import jwt  # pyjwt, a runtime dependency: a well-formed token the gateway did not issue
    core = demo["core"]
    wrong = jwt.encode({"aud": simulator["serial"], "enphaseUser": "owner", "exp": int(time.time()) + 86400},
                       "not-the-gateway-key", algorithm="HS256")
    added = core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"name": "Mauvais jeton"}]))
    core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{
        "id": added["id"], "isEnable": 1,
        "configuration": {"host": simulator["host"], "auth_method": "token", "token": wrong}}]))
    try:
        refused = wait_until(lambda: messages(core, "status::%s::" % added["id"]), GENERAL_S + 30,
                             "a message for the refused token")
        assert "Mauvais jeton" in refused[0]["message"]
        # French only, and about the token: not the password of older firmware, not the daemon's English.
        assert "refuse le jeton" in refused[0]["message"], refused[0]["message"]
        assert "6 derniers" not in refused[0]["message"] and "The gateway" not in refused[0]["message"]
        assert state_of(core, added["id"]) == {"level": "danger", "text": "Identifiants refusés"}
    finally:
        core.ajax("core/ajax/eqLogic.ajax.php", "remove", type=PLUGIN_ID, id=added["id"])
    assert not messages(core, "status::%s::" % added["id"]), "a removed gateway takes its messages along"


def daemon_pid(core):
    return int(core.php("require_once 'plugins/enphase/core/class/enphase.class.php'; echo enphaseDaemon::pid();")
               .strip() or 0)


def test_a_killed_daemon_is_restarted_by_jeedom_and_the_user_is_told(demo):
    core = demo["core"]
    assert not messages(core, "daemon::")
    pid = daemon_pid(core)
    assert pid > 0
    os.kill(pid, 9)  # the OOM killer, a crash
    wait_until(lambda: core.plugin("getDeamonInfo", PLUGIN_ID)["state"] == "nok", 30, "Jeedom to see the daemon dead")
    gateway = demo["id"]
    assert state_of(core, gateway)["text"] == "Démon arrêté"

    def watchdog():  # what the core's cron runs every few minutes (it waits 45 s between two launches)
        core.php("plugin::checkDeamon();")
        return core.plugin("getDeamonInfo", PLUGIN_ID)["state"] == "ok"
    wait_until(watchdog, 90, "the core's watchdog to start the daemon again", every_s=5)
    told = messages(core, "daemon::restarted")
    assert len(told) == 1 and "arrêté sans qu" in told[0]["message"], told
    wait_until(lambda: state_of(core, gateway).get("text") == "Joignable", GENERAL_S + 30, "the demo gateway read again")


def test_a_removed_gateway_leaves_nothing_behind(demo):
    """Its equipment, its messages, the kinds its inventories described, and in the daemon's data folder its
    inventory and counters."""
    core = demo["core"]
    gateway = demo["id"]
    kinds = lambda: core.php("echo json_encode(config::byKey('kinds::%s', 'enphase', 'none'));" % gateway)  # noqa: E731
    assert "inverter" in json.loads(kinds()), "the kinds of its synchronized inventory are kept"
    data = core.dir / "plugins" / PLUGIN_ID / "data"
    files = ["inventory-%s.json" % gateway, "counters-%s.json" % gateway]
    wait_until(lambda: all((data / name).exists() for name in files), GENERAL_S + 30, "the daemon's files of the demo")
    assert [eq for eq in core.equipments(PLUGIN_ID) if eq["configuration"].get("gateway_id") == gateway]

    core.ajax("core/ajax/eqLogic.ajax.php", "remove", type=PLUGIN_ID, id=gateway)

    assert not [eq for eq in core.equipments(PLUGIN_ID) if eq["configuration"].get("gateway_id") == gateway]
    assert not [m for subject in ("status", "token", "outage") for m in messages(core, "%s::%s::" % (subject, gateway))]
    assert json.loads(kinds()) == "none"
    wait_until(lambda: not any((data / name).exists() for name in files), 60, "the daemon to remove its files")
    assert duplicates(core) == [] and not json.loads(core.php("echo json_encode(DB::Prepare("
        "\"SELECT id FROM cmd WHERE eqType = 'enphase' AND eqLogic_id NOT IN (SELECT id FROM eqLogic)\","
        " array(), DB::FETCH_TYPE_ALL));")), "no command left without its equipment"


def test_a_gateway_gone_turns_stale_and_reaches_the_message_center(synchronized, simulator):
    """Last: the simulated gateway stops for good. Its equipment timeout is set to one minute, as a user may in
    its advanced configuration, so that the test does not wait the default 15."""
    core = synchronized["core"]
    found = equipments_by_logical_id(core)
    gateway = found[simulator["serial"]]
    battery = next(eq for eq in found.values() if eq["configuration"]["kind"] == "encharge"
                   and eq["configuration"]["gateway_id"] == gateway["configuration"]["gateway_id"])
    for eq in (gateway, battery):
        core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"id": eq["id"], "timeout": 1}]))
    simulator["process"].kill()
    simulator["process"].wait(timeout=10)
    wait_until(lambda: state_of(core, gateway["id"]).get("text", "").startswith("Injoignable depuis"), GENERAL_S * 4 + 30,
               "the gateway's state to say it is unreachable (%s)" % state_of(core, gateway["id"]))

    def stale():  # what the core's cron runs every 5 minutes: eqLogic::checkAlive(), then the plugins' cron5
        core.php("eqLogic::checkAlive(); require_once 'plugins/enphase/core/class/enphase.class.php'; enphase::cron5();")
        return all(core.php("echo eqLogic::byId(%d)->getStatus('timeout', 0);" % int(eq["id"])).strip() == "1"
                   for eq in (gateway, battery))
    wait_until(stale, 150, "Jeedom to mark the gateway and its battery stale", every_s=5)
    outage = wait_until(lambda: messages(core, "outage::%s::" % gateway["configuration"]["gateway_id"]), 30,
                        "the outage message")
    assert "ne répond plus depuis le" in outage[0]["message"] and "Maison" in outage[0]["message"]

    if chromium_binary():
        browser = Browser(width=900, height=700, locale="fr-FR", timezone=core.get_config("timezone"))
        try:
            browser.set_cookie(**core.session_cookie)
            widget = '.eqLogic-widget[data-eqLogic_id="%s"]' % gateway["id"]
            browser.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, gateway["object_id"]),
                         ready_js="document.querySelector('%s') !== null" % widget)
            assert browser.evaluate("document.querySelector('%s .widget-name i.fa-clock') !== null" % widget)
            assert browser.evaluate("document.querySelector('%s .enphaseFlow-stale') !== null" % widget)
            battery_tile = '.eqLogic-widget[data-eqLogic_id="%s"]' % battery["id"]
            assert browser.evaluate("document.querySelector('%s .widget-name i.fa-clock') !== null" % battery_tile)
        finally:
            browser.close()


@pytest.mark.skipif(not chromium_binary(), reason="no browser for the health page")
def test_the_health_page_shows_each_gateway_and_its_figures(synchronized, simulator):
    """Analyse > Santé: per gateway its state, last read, token expiry, requests per hour, failed reads (the
    simulated gateway is gone by now: its state says so, its failures count)."""
    core = synchronized["core"]
    # Requests per hour need two minutes of reads since the daemon's restart (the test before the last).
    wait_until(lambda: "pas encore mesuré" not in core.php(
        "require_once 'plugins/enphase/core/class/enphase.class.php'; echo json_encode(enphase::health(), JSON_UNESCAPED_UNICODE);"),
        180, "a figure of requests per hour", every_s=10)
    browser = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        browser.set_cookie(**core.session_cookie)
        browser.open("%s/index.php?v=d&p=health" % core.url, ready_js="document.body.textContent.includes('Maison : état')",
                     timeout_s=90)
        rows = browser.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('tr'))
          .filter(r => r.cells.length >= 2 && r.cells[0].textContent.trim().startsWith('Maison : '))
          .map(r => [r.cells[0].textContent.trim(), [r.cells[1].textContent.trim(), r.cells[1].className]]))""")
    finally:
        browser.close()
    assert rows["Maison : état"][0].startswith("Injoignable depuis") and "danger" in rows["Maison : état"][1], rows
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", rows["Maison : dernière lecture réussie"][0]), rows
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows["Maison : expiration du jeton"][0]), rows
    assert re.fullmatch(r"\d+", rows["Maison : requêtes par heure"][0]), rows
    assert int(rows["Maison : lectures en échec sur 24 h"][0]) >= 1, rows
# -- a hostile gateway: every string it says is markup, quotes or control characters --------------------

# What a payload of simulator/hostile.py does when it runs: the page must show no sign of it.
INJECTED_JS = ("JSON.stringify({ran: typeof window.enphaseXss !== 'undefined', title: document.title == 'XSS',"
               " img: document.querySelectorAll('img[src=\"x\"]').length,"
               " attributes: Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
               ".some(a => a.value.includes('enphaseXss'))).map(e => e.outerHTML.slice(0, 200))})")


@pytest.fixture(scope="module")
def hostile(synchronized, tmp_path_factory):
    """A second gateway, added by hand and synchronized, that answers hostile strings in every field
    (python3 -m simulator --hostile): half its devices have serials that are not serials."""
    core = synchronized["core"]
    log = tmp_path_factory.mktemp("hostile") / "simulator.err"
    with open(log, "wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--hostile", "--port", "0", "--inverters", "4", "--encharges", "2",
             "--enpower", "--generator", "--dry-contacts", "4", "--seed", "2"],  # its own serials; its Enpower kept, half its inverters not
            cwd=str(REPO / "resources" / "enphased"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=errors, text=True)
        try:
            lines = read_first_lines(process.stdout, 4, timeout_s=30)
            url = next((line.rsplit(" ", 1)[1] for line in lines if line.startswith("Gateway ")), "")
            token = next((line.split(": ", 1)[1] for line in lines if line.startswith("Token: ")), "")
            assert url and token, "hostile simulator did not start: %s" % log.read_text()[-2000:]
            place = room(core, "Passerelle hostile")
            added = core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{"name": "Hostile"}]))
            core.ajax("core/ajax/eqLogic.ajax.php", "save", type=PLUGIN_ID, eqLogic=json.dumps([{
                "id": added["id"], "isEnable": 1, "isVisible": 1, "object_id": place["id"],
                "configuration": {"host": url.split("://", 1)[1].rstrip("/"), "auth_method": "token", "token": token}}]))
            report = synchronize(core, added["id"])
            yield {"core": core, "id": str(added["id"]), "room": place, "report": report}
        finally:
            process.terminate()
            process.wait(timeout=10)


def assert_nothing_injected(browser, where):
    seen = json.loads(browser.evaluate(INJECTED_JS))
    assert seen == {"ran": False, "title": False, "img": 0, "attributes": []}, "%s: %s" % (where, seen)


@pytest.mark.skipif(not chromium_binary(), reason="no Chromium")
def test_a_hostile_gateway_runs_nothing_in_the_browser(hostile):
    core = hostile["core"]
    devices = [eq for eq in core.equipments(PLUGIN_ID) if eq["configuration"].get("gateway_id") == hostile["id"]]
    kinds = {eq["configuration"].get("kind") for eq in devices}
    assert {"gateway", "enpower", "dry_contact", "generator"} <= kinds, kinds
    # Its text arrived, cleaned: a load's name says what its payload did, without the markup.
    names = [cmd["state"] for eq in devices for cmd in core.equipment(PLUGIN_ID, eq["id"])["cmd"]
             if cmd["logicalId"] == "load_name"]
    assert any("enphaseXss" in str(name) for name in names) and not any("<" in str(n) for n in names), names
    contact = next(eq for eq in devices if eq["configuration"].get("kind") == "dry_contact")
    set_mode = next(cmd for cmd in core.equipment(PLUGIN_ID, contact["id"])["cmd"] if cmd["logicalId"] == "set_mode")
    browser = Browser(width=1440, height=900, locale="fr-FR", timezone=core.get_config("timezone"))
    try:
        browser.set_cookie(**core.session_cookie)
        browser.open("%s/index.php?v=d&p=dashboard&object_id=%s" % (core.url, hostile["room"]["id"]),
                     ready_js="document.querySelectorAll('.eqLogic-widget[data-eqLogic_id=\"%s\"]').length > 0"
                     % hostile["id"])
        shown = browser.evaluate("document.querySelectorAll('.eqLogic-widget').length")
        assert shown == sum(int(eq["isVisible"]) for eq in devices), "the dashboard shows the gateway's equipment"

        assert_nothing_injected(browser, "dashboard")
        browser.open("%s/index.php?v=d&m=%s&p=%s" % (core.url, PLUGIN_ID, PLUGIN_ID),
                     ready_js="document.querySelector('.eqLogicDisplayCard') !== null")
        assert_nothing_injected(browser, "equipment list")
        for eq in devices:
            browser.open("%s/index.php?v=d&m=%s&p=%s&id=%s" % (core.url, PLUGIN_ID, PLUGIN_ID, eq["id"]),
                         ready_js="document.querySelectorAll('#table_cmd tr.cmd').length > 0")
            assert browser.evaluate("document.querySelector('.enphaseFact[data-fact=\"logicalId\"]').textContent") \
                == eq["logicalId"]
            assert_nothing_injected(browser, "page of %s" % eq["logicalId"])
        # A control the gateway does not apply (it reads back hostile words): a toast says so, in our words.
        browser.evaluate("jeedom.cmd.execute({id: '%s', value: {select: 'soc'}})" % set_mode["id"])
        wait_until(lambda: browser.evaluate("document.querySelectorAll('.jeeToast.toast-danger').length") > 0, 60,
                   "the refused control's toast")
        toast = browser.evaluate("document.querySelector('.jeeToast.toast-danger').textContent")
        assert "[Choisir le mode] : " in toast and "enphaseXss" not in toast, toast
        # Synchronize from the gateway's page: its progress and its report.
        browser.open("%s/index.php?v=d&m=%s&p=%s&id=%s" % (core.url, PLUGIN_ID, PLUGIN_ID, hostile["id"]),
                     ready_js="document.querySelector('.eqLogic .bt_enphaseSynchronize') !== null")
        browser.evaluate("document.querySelector('.eqLogic .bt_enphaseSynchronize').click()")
        wait_until(lambda: browser.evaluate("document.querySelector('#jeeDialogAlert') !== null"), 240,
                   "the synchronization report")
        assert_nothing_injected(browser, "after the refused control and the synchronization")
        errors = [e for e in browser.page_errors if "/plugins/%s/" % PLUGIN_ID in e]
        assert not errors, "JavaScript errors in the plugin's pages: %s" % errors
    finally:
        browser.close()
