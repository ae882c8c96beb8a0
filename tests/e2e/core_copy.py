"""A throwaway copy of an installed Jeedom core, files and database, so that `make e2e` leaves the original
as it found it: the run installs, configures and starts the plugin in the copy, then drops the copy.

What is read from the original: its files (not its plugins, logs or backups), core/config/common.config.php
for the database access, and its database (not the history tables' rows). What is written: a folder under
the system's temporary directory and a database named <core's database>_e2e_<random>, both removed at the
end (E2E_KEEP_CORE=1 keeps them to look into a failure).
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

# Rows not copied (tables still are): years of a house's history are not needed to test a plugin.
TABLES_WITHOUT_ROWS = ("history", "historyArch")


def web_user() -> Optional[pwd.struct_passwd]:
    """Who runs the core's PHP, and so the plugin's daemon: the web server's user (JEEDOM_WEB_USER, www-data)
    when the test runs as root, as on a real Jeedom; otherwise the user running the test."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(os.environ.get("JEEDOM_WEB_USER", "www-data"))


def as_user(user: Optional[pwd.struct_passwd]) -> Dict[str, object]:
    """subprocess keyword arguments that run a child as `user` (none: as ourselves)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
            "env": dict(os.environ, HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name)}


def chown_tree(path: Path, user: Optional[pwd.struct_passwd]):
    if user is None:
        return
    for folder, dirs, files in os.walk(str(path)):
        for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
            os.lchown(name, user.pw_uid, user.pw_gid)


class MysqlError(Exception):
    pass


class CoreCopy:
    """The copy: `dir` is its core folder (served, given the plugin), `tmp` its Jeedom tmp folder."""

    def __init__(self, source: Path, keep_plugin: str, user: Optional[pwd.struct_passwd]):
        self.source = source
        self.user = user
        self.keep = os.environ.get("E2E_KEEP_CORE") == "1"
        self.db = self._database_access()
        self.root = Path(tempfile.mkdtemp(prefix="enphase-e2e-core-"))
        self.root.chmod(0o755)  # ours; the web user walks through it to its own files
        self.dir = self.root / "jeedom"
        self.tmp = self.root / "tmp"
        self.dbname = "%s_e2e_%s" % (self.db["dbname"], secrets.token_hex(4))
        self._client_conf = self.root / "client.cnf"  # the password stays off every command line
        self._client_conf.touch(mode=0o600)
        quoted = '"%s"' % str(self.db["password"]).replace("\\", "\\\\").replace('"', '\\"')
        self._client_conf.write_text("[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\n" % (
            self.db["username"], quoted, self.db["host"], self.db.get("port") or 3306))
        self._client = ["mysql", "--defaults-extra-file=" + str(self._client_conf)]
        self._admin = self._client
        self._granted_to = ""
        try:
            self._copy_database(keep_plugin)
            self._copy_files()
        except BaseException:
            try:
                self.remove()
            except Exception:  # the first error is the one to show
                pass
            raise

    # -- database ------------------------------------------------------------------------------------

    def _database_access(self) -> Dict[str, str]:
        done = subprocess.run(
            ["php", "-r", "require 'core/config/common.config.php'; echo json_encode($CONFIG['db']);"],
            cwd=str(self.source), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError("cannot read %s/core/config/common.config.php: %s" % (self.source, done.stderr))
        return json.loads(done.stdout)

    def sql(self, statements: str, client: Optional[List[str]] = None) -> List[List[str]]:
        done = subprocess.run((client or self._admin) + ["-N", "-B"], input=statements, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            raise MysqlError(done.stderr.strip())
        return [line.split("\t") for line in done.stdout.splitlines()]

    def _create_database(self):
        """As the core's own user where it may (a grant on `<db>\\_e2e\\_%`), else as MariaDB's root through its
        socket (a root test run on the core's machine), then lending the new database to the core's user."""
        create = "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" % self.dbname
        try:
            self.sql(create, self._client)
            return
        except MysqlError as refused:
            if os.geteuid() != 0:
                raise AssertionError(
                    "the core's database user cannot create %s (%s): as MariaDB's root, GRANT ALL ON "
                    "`%s\\_e2e\\_%%`.* TO it, or run the test as root" % (self.dbname, refused, self.db["dbname"]))
        self._admin = ["mysql", "-u", "root"]
        self.sql(create)
        self._granted_to = self.sql("SELECT CURRENT_USER()", self._client)[0][0]  # user@host
        user, host = self._granted_to.rsplit("@", 1)
        self.sql("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s'" % (self.dbname, user, host))

    def _copy_database(self, keep_plugin: str):
        self._create_database()
        source = self.db["dbname"]
        tables = [row[0] for row in self.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '%s'"
            " AND table_type = 'BASE TABLE'" % source)]
        copy = ["SET FOREIGN_KEY_CHECKS = 0;"]
        for table in tables:
            copy.append("CREATE TABLE `%s`.`%s` LIKE `%s`.`%s`;" % (self.dbname, table, source, table))
            if table not in TABLES_WITHOUT_ROWS:
                copy.append("INSERT INTO `%s`.`%s` SELECT * FROM `%s`.`%s`;" % (self.dbname, table, source, table))
        # The copy's own tmp folder (cache, pid files, the "started" mark); only this plugin's equipment, since
        # the copy has no other plugin's files.
        copy += ["USE `%s`;" % self.dbname,
                 "REPLACE INTO config (plugin, `key`, value) VALUES ('core', 'folder::tmp', '%s');" % self.tmp,
                 "DELETE FROM cmd WHERE eqType IS NULL OR eqType <> '%s';" % keep_plugin,
                 "DELETE FROM eqLogic WHERE eqType_name <> '%s';" % keep_plugin]
        self.sql("\n".join(copy))

    # -- files ---------------------------------------------------------------------------------------

    def _copy_files(self):
        empty_here = {self.source / name for name in ("plugins", "log", "backup")}

        def skipped(folder, names):
            if Path(folder) == self.source:
                return [n for n in names if n == ".git"]
            if Path(folder) in empty_here:  # the folders stay, with their .htaccess; not what they hold
                return [n for n in names if n != ".htaccess"]
            return []

        shutil.copytree(str(self.source), str(self.dir), symlinks=True, ignore=skipped)
        config = self.dir / "core" / "config" / "common.config.php"
        text = config.read_text().rstrip()
        if text.endswith("?>"):
            text = text[:-2]
        config.write_text(text + "\n$CONFIG['db']['dbname'] = '%s';  // make e2e's copy\n" % self.dbname)
        # Jeedom is started (its cron's first run leaves this mark); nothing runs the copy's cron.
        self.tmp.mkdir()
        (self.tmp / "started").write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
        chown_tree(self.dir, self.user)
        chown_tree(self.tmp, self.user)

    # -- the end -------------------------------------------------------------------------------------

    def stop_processes(self):
        """Whatever still runs from the copy (a daemon whose stop failed, an install): by pid, TERM then KILL."""
        marker = str(self.root)
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.append(int(entry.name))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while any(Path("/proc/%d" % p).exists() for p in pids) and time.monotonic() < deadline:
                time.sleep(0.2)

    def remove(self, keep_logs_in: Optional[Path] = None):
        if keep_logs_in is not None and (self.dir / "log").is_dir():
            shutil.copytree(str(self.dir / "log"), str(keep_logs_in / "jeedom-log"), dirs_exist_ok=True)
        if self.keep:
            print("E2E_KEEP_CORE: the copy stays in %s, its database is %s" % (self.dir, self.dbname))
            return
        self.stop_processes()
        try:
            if self._granted_to:
                user, host = self._granted_to.rsplit("@", 1)
                self.sql("REVOKE ALL PRIVILEGES ON `%s`.* FROM '%s'@'%s'" % (self.dbname, user, host))
            self.sql("DROP DATABASE IF EXISTS `%s`" % self.dbname)
        finally:
            shutil.rmtree(str(self.root), ignore_errors=True)
