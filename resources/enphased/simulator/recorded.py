"""A recorded gateway: a folder of raw responses, laid out like shared/envoy-fixtures/<name>/.

Each file is named after its endpoint path without the leading "/", with "/ ? = & space" replaced by "_";
`<name>_log.json`, when present, holds the recorded HTTP status. A zip holding such a folder (a diagnostics
report, see diagnostics.py) is read the same way. This module only answers "what would the
gateway send for this path"; the servers in this package put it on a socket.
"""
import json
import zipfile
from pathlib import Path
from typing import Dict, NamedTuple, Optional, Tuple

_SEPARATORS = str.maketrans({"/": "_", "?": "_", "=": "_", "&": "_", " ": "_"})

# Endpoints recorded under another file name (the collector saved one file for both variants).
_ALIASES = {
    "production.json_details_1": ("production.json",),
    "inventory.json_deleted_1": ("inventory",),
    "inventory.json": ("inventory",),
}
# Endpoints that answer an empty object when nothing was recorded (the gateway has the page, empty).
_EMPTY_WHEN_MISSING = {"ivp_ss_gen_config": b"{}"}


class Response(NamedTuple):
    status: int
    body: bytes
    content_type: str


def file_name(path: str) -> str:
    """Endpoint path (with its query) -> the recorded file name."""
    return path.lstrip("/").translate(_SEPARATORS)


def _content_type(name: str, body: bytes) -> str:
    if name == "info":
        return "application/xml"
    try:
        json.loads(body)
    except ValueError:
        return "text/html"
    return "application/json"


def safe_entry_name(name: str) -> bool:
    """A zip entry name that stays inside the folder it is unpacked to: relative, no '..', no backslash."""
    parts = name.rstrip("/").split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and "\0" not in name \
        and all(part not in ("", ".", "..") for part in parts)


def _zip_files(path: Path) -> Tuple[str, Dict[str, bytes]]:
    """(folder name, file name -> bytes) of the recorded gateway in a zip (a diagnostics report): the files
    beside its `info`, wherever that folder is in the archive."""
    with zipfile.ZipFile(path) as archive:
        unsafe = [n for n in archive.namelist() if not safe_entry_name(n)]
        if unsafe:
            raise ValueError(f"{path} holds an entry named {unsafe[0]!r} that points outside its folder: "
                             "not a diagnostics report of this plugin")
        names = [n for n in archive.namelist() if not n.endswith("/")]
        infos = sorted((n for n in names if n.rsplit("/", 1)[-1] == "info"), key=len)
        if not infos:
            raise FileNotFoundError(f"{path} has no 'info' file: not a recorded gateway archive")
        prefix = infos[0][:-len("info")]
        files = {n[len(prefix):]: archive.read(n) for n in names if n.startswith(prefix) and "/" not in n[len(prefix):]}
    return (prefix.rstrip("/").rsplit("/", 1)[-1] or path.stem), files


class RecordedGateway:
    """A folder of recorded responses, or a zip holding one (a diagnostics report)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self._files: Optional[Dict[str, bytes]] = None  # the zip's files, read once (small)
        if self.folder.is_file() and zipfile.is_zipfile(self.folder):
            self._name, self._files = _zip_files(self.folder)
        elif not (self.folder / "info").is_file():
            raise FileNotFoundError(f"{self.folder} has no 'info' file: not a recorded gateway folder")

    @property
    def name(self) -> str:
        return self._name if self._files is not None else self.folder.name

    def _read(self, name: str) -> Optional[bytes]:
        if self._files is not None:
            return self._files.get(name)
        file = self.folder / name
        return file.read_bytes() if file.is_file() else None

    def info_xml(self) -> bytes:
        return self._read("info")

    def _recorded_status(self, name: str) -> Optional[int]:
        log = self._read(f"{name}_log.json")
        if log is None:
            return None
        try:
            return int(json.loads(log).get("code"))
        except (ValueError, TypeError, AttributeError):
            return None

    def response(self, path: str) -> Response:
        """What the gateway answered for `path`, or 404 when it was not recorded."""
        wanted = file_name(path)
        for name in (wanted,) + _ALIASES.get(wanted, ()):
            body = self._read(name)
            if body is not None:
                status = self._recorded_status(name) or 200
                return Response(status, body, _content_type(name, body))
        if wanted in _EMPTY_WHEN_MISSING:
            return Response(200, _EMPTY_WHEN_MISSING[wanted], "application/json")
        return Response(404, b"", "text/html")
