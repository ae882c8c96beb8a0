"""Every file the daemon keeps (tokens, inventory memory, counters, the diagnostics key and reports) is
written here, one way: readable by its owner only (0600), written whole to a temporary file beside it,
synced, renamed over the old one, and the folder synced. A crash, a full disk or a power cut leaves the
old file or the new one, never half of one, and the rename survives the power cut too.
"""
import json
import os
from typing import Any, Optional, Tuple

# tempfile.mkstemp's flags: a new file (never one an attacker put there, nor a link), closed across exec.
_NEW_FILE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_bytes(path: str, data: bytes) -> None:
    """Replace `path` with `data` (see above). Raises OSError; the temporary file is then removed."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = _temporary_beside(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o600)  # whatever the umask did (it was created 0600 already)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_folder(folder)


def _temporary_beside(folder: str, name: str) -> Tuple[int, str]:
    """(fd, path) of a new file ".<name>.<random>.tmp" in `folder`, 0600. tempfile.mkstemp does the same, but
    importing tempfile loads shutil, bz2 and lzma: 0.6 MB of the daemon's memory for one call."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, _NEW_FILE, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {name} in {folder}")


def write_json(path: str, value: Any) -> None:
    """Replace `path` with `value` as compact JSON (see write_bytes)."""
    write_bytes(path, json.dumps(value, separators=(",", ":")).encode("utf-8"))


def read_json(path: str) -> Optional[Any]:
    """The JSON value in `path`; None when the file is missing. Raises OSError or ValueError for a file that
    cannot be read or is not JSON (the caller says what it does without it)."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return None


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a folder that cannot be opened (some file systems): the rename is done, only its syncing is not
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
