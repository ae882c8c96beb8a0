"""How long each socket action may take is stated once, in resources/enphased/jeedom/timeouts.json, for the
daemon and for PHP (tests/php/DaemonTest.php checks that PHP waits what the file says)."""
import json
import re

import pytest

import gateways
from conftest import DAEMON_DIR, REPO
from jeedom import socket_server, timeouts

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

FILE = json.loads((DAEMON_DIR / "jeedom" / "timeouts.json").read_text(encoding="utf-8"))["actions"]


def test_php_waits_longer_than_the_daemon_works_so_the_daemons_own_answer_reaches_the_user():
    bounded = {action: waits for action, waits in FILE.items() if "daemon_s" in waits}
    assert set(bounded) == {"sync", "execute", "diagnostics"}
    for action, waits in bounded.items():
        assert waits["php_s"] > waits["daemon_s"], action


def test_the_daemon_reads_a_whole_message_within_the_files_deadline():
    message_s = json.loads((DAEMON_DIR / "jeedom" / "timeouts.json").read_text(encoding="utf-8"))["message_s"]
    assert socket_server.READ_TIMEOUT_S == timeouts.MESSAGE_S == message_s
    assert 0 < message_s <= 10  # PHP writes at once: a connection silent longer only holds a slot


def test_the_daemon_gives_up_when_the_file_says():
    assert (gateways.SYNC_WAIT_S, gateways.EXECUTE_WAIT_S, gateways.DIAGNOSTICS_WAIT_S) == (
        FILE["sync"]["daemon_s"], FILE["execute"]["daemon_s"], FILE["diagnostics"]["daemon_s"])
    assert timeouts.ACTIONS == FILE


def test_every_action_php_sends_has_its_wait():
    sent = set()
    for path in (REPO / "core").rglob("*.php"):
        sent |= set(re.findall(r"'action' => '(\w+)'", path.read_text(encoding="utf-8")))
    assert {"configure", "sync", "refresh", "execute", "diagnostics", "stop"} <= sent
    assert sent <= set(FILE)
    assert all(isinstance(FILE[action]["php_s"], int) and FILE[action]["php_s"] > 0 for action in FILE)


@pytest.mark.parametrize("action", sorted(set(FILE) - {"stop"}))  # stop ends the daemon: test_daemon.py
def test_every_action_in_the_file_is_one_the_daemon_knows(action):
    answer = gateways.Daemon(callback=None).handle({"action": action, "gateway": "nobody"})
    assert "Unknown action" not in json.dumps(answer)
