"""A real Jeedom core driven the way its web pages drive it: `php -S` in front, admin ajax calls behind.

Nothing here reaches into Jeedom's database: every step goes through the core's own ajax endpoints, as an
administrator logged in with a session cookie, so the plugin is exercised exactly as a user's clicks do.
PHP runs as the web server's user when one is given (see core_copy.web_user), as Apache runs it.
"""
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterable, List

import requests

from core_copy import as_user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout_s: float, what: str, every_s: float = 1.0):
    """Poll predicate until it returns something truthy; fail with `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("waited %.0f s for %s" % (timeout_s, what))
        time.sleep(every_s)


class AjaxError(Exception):
    pass


class JeedomCore:
    """One installed core served by `php -S` on a free loopback port for this run, as `user` (None: us)."""

    def __init__(self, core_dir: Path, log_dir: Path, user=None):
        self.dir = core_dir
        self._as_user = as_user(user)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.session = requests.Session()
        self._log = open(log_dir / "php-server.log", "wb")
        # Several workers: the daemon's callback must get in while an ajax call (Synchronize) waits on it,
        # and every open Jeedom page holds one for up to a minute (its long-polling event request).
        run_as = dict(self._as_user)
        run_as["env"] = dict(run_as.get("env", os.environ), PHP_CLI_SERVER_WORKERS="8")
        self._server = subprocess.Popen(
            ["php", "-S", "127.0.0.1:%d" % self.port, "-t", str(core_dir)], cwd=str(core_dir),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, **run_as)  # its own process group: the workers it forks stop with it
        wait_until(self._answers, 30, "php -S to answer on " + self.url, every_s=0.2)

    def _answers(self):
        try:
            return requests.get(self.url + "/index.php", timeout=5, allow_redirects=False).status_code < 500
        except requests.ConnectionError:
            return False

    # -- the browser's side of the core ------------------------------------------------------------

    def login(self, username: str, password: str):
        self.ajax("core/ajax/user.ajax.php", "login", username=username, password=password)

    @property
    def session_cookie(self) -> Dict[str, str]:
        return {"name": "PHPSESSID", "value": self.session.cookies.get("PHPSESSID", ""), "url": self.url + "/"}

    def ajax(self, endpoint: str, action: str, timeout_s: float = 60, **params):
        """POST an action to an ajax endpoint like the pages do; returns `result`, raises on `state: error`."""
        answer = self.session.post("%s/%s" % (self.url, endpoint), data=dict(params, action=action),
                                   timeout=timeout_s)
        answer.raise_for_status()
        try:
            body = answer.json()
        except ValueError:
            raise AjaxError("%s %s: not JSON: %s" % (endpoint, action, answer.text[:500]))
        if body.get("state") != "ok":
            raise AjaxError("%s %s: %s" % (endpoint, action, body.get("result")))
        return body.get("result")

    def set_config(self, values: Dict[str, object], plugin: str = "core"):
        import json
        self.ajax("core/ajax/config.ajax.php", "addKey", value=json.dumps(values), plugin=plugin)

    def get_config(self, key: str, plugin: str = "core"):
        return self.ajax("core/ajax/config.ajax.php", "getKey", key=key, plugin=plugin)

    def plugin(self, action: str, plugin_id: str, timeout_s: float = 60, **params):
        return self.ajax("core/ajax/plugin.ajax.php", action, timeout_s=timeout_s, id=plugin_id, **params)

    def equipments(self, eq_type: str):
        return self.ajax("core/ajax/eqLogic.ajax.php", "listByType", type=eq_type)

    def equipment(self, eq_type: str, eq_id, with_state: bool = True):
        """The equipment with its commands (`cmd`), and each info command's current value when with_state."""
        return self.ajax("core/ajax/eqLogic.ajax.php", "get", type=eq_type, id=eq_id,
                         getCmdState=1 if with_state else 0)

    # -- the machine's side --------------------------------------------------------------------------

    def php(self, code: str, timeout_s: float = 120) -> str:
        """Run PHP inside the core from the command line (what Jeedom's own cron and CLI tools do)."""
        script = "require '%s/core/php/core.inc.php'; %s" % (self.dir, code)
        done = subprocess.run(["php", "-r", script], cwd=str(self.dir), capture_output=True, text=True,
                              timeout=timeout_s, **self._as_user)
        if done.returncode != 0:
            raise AssertionError("php failed: %s" % (done.stdout + done.stderr)[-2000:])
        return done.stdout

    def close(self):
        self.session.close()
        if self._server.poll() is None:
            os.killpg(self._server.pid, signal.SIGTERM)  # the server and its workers
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._server.pid, signal.SIGKILL)
        self._log.close()


def working_tree_files(repo: Path) -> Iterable[Path]:
    """What a user would install: tracked and new files of the working tree, not what git ignores (venvs)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=str(repo), capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        listed = None
    if listed is None:  # not a git checkout (an unpacked archive): take everything but build leftovers
        skip = {".git", ".venv", ".venv39", "__pycache__", ".pytest_cache", "python_venv"}
        return [p.relative_to(repo) for p in repo.rglob("*")
                if p.is_file() and not skip.intersection(p.relative_to(repo).parts)]
    return [Path(name) for name in listed.decode().split("\0") if name and (repo / name).is_file()]


def install_plugin_files(repo: Path, destination: Path):
    """Copy the working tree as plugins/<id> (a copy, not a link: plugin files find the core by relative
    paths from their real location). A previous copy is replaced whole, its venv included."""
    if destination.is_symlink() or destination.is_file():
        destination.unlink()
    elif destination.exists():
        shutil.rmtree(destination)
    for relative in working_tree_files(repo):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / relative, target)


def read_first_lines(stream, count: int, timeout_s: float) -> List[str]:
    """The first `count` lines a child prints (the simulator prints its URLs and demo credentials)."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(stream.readline()) for _ in range(count)], daemon=True).start()
    found = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:  # the child ended
            break
        found.append(line.rstrip("\n"))
    return found
