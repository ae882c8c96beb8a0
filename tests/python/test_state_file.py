"""Every file the daemon keeps is written one way (state_file.py): 0600, whole or not at all, synced with
its folder. The helper itself, then the files a real run of the daemon leaves in its data folder."""
import json
import os
import stat

import pytest

import enphased
import state_file
from envoy.token_store import FileTokenStore
from jeedom.socket_server import send

APIKEY = "state-test-apikey-0123456789abcdef"


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.pure
def test_a_state_file_is_replaced_whole_readable_by_its_owner_only(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    with open(path, "w") as file:
        file.write("old")
    os.chmod(path, 0o644)
    old_umask = os.umask(0)  # the most permissive: the file must still be 0600
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)), real_fsync(fd)))
    try:
        state_file.write_json(path, {"offset": 1.5})
    finally:
        os.umask(old_umask)
    assert state_file.read_json(path) == {"offset": 1.5}
    assert mode(path) == 0o600
    assert synced == [False, True]  # the file, then its folder (the rename)
    assert os.listdir(tmp_path) == ["state.json"]


@pytest.mark.pure
def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    state_file.write_json(path, {"kept": True})

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        state_file.write_json(path, {"kept": False})
    assert state_file.read_json(path) == {"kept": True}
    assert os.listdir(tmp_path) == ["state.json"]
    assert state_file.read_json(str(tmp_path / "missing.json")) is None


@pytest.mark.pure
def test_a_write_cut_short_leaves_a_private_temporary_file_named_after_its_target(tmp_path, monkeypatch):
    """What a power cut leaves is found by its name when the gateway is removed (gateways.py: ".<name>.*.tmp")."""
    path = str(tmp_path / "counters-12.json")

    def power_cut(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    monkeypatch.setattr(os, "unlink", lambda name: None)  # nor any clean-up after it
    with pytest.raises(OSError):
        state_file.write_json(path, {"kept": False})
    left = list(tmp_path.glob(".counters-12.json.*.tmp"))
    assert len(left) == 1 and os.listdir(tmp_path) == [left[0].name]
    assert mode(left[0]) == 0o600 and json.loads(left[0].read_text()) == {"kept": False}


def test_every_file_a_daemon_run_keeps_is_0600(tmp_path, jeedom, socket_path):
    datadir = tmp_path / "data"
    daemon, server = enphased.start_core(socket_path, jeedom.url, APIKEY, str(datadir))
    old_umask = os.umask(0o022)  # the usual one: files would be 0644 if nobody said otherwise
    try:
        assert send(server.path, {"apikey": APIKEY, "action": "configure",
                                  "gateways": [{"id": "default", "host": "demo"}]})["ok"] is True
        assert send(server.path, {"apikey": APIKEY, "action": "sync"})["ok"] is True
        answer = send(server.path, {"apikey": APIKEY, "action": "diagnostics"})
        assert answer["ok"] is True, answer
        FileTokenStore(datadir / "token-default.json").save({"token": "t", "logins": []})
    finally:
        os.umask(old_umask)
        server.stop()
        daemon.stop()
    kept = {os.path.relpath(os.path.join(folder, name), datadir): mode(os.path.join(folder, name))
            for folder, _, names in os.walk(datadir) for name in names}
    assert {"inventory-default.json", "counters-default.json", "token-default.json", "diagnostics.key"} <= set(kept)
    assert any(name.startswith("diagnostics/") and name.endswith(".zip") for name in kept)
    assert {name: m for name, m in kept.items() if m != 0o600} == {}
    assert not [name for name in kept if name.endswith(".tmp")]
    assert json.loads((datadir / "inventory-default.json").read_text())  # whole, readable JSON
