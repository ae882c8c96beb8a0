"""A recorded gateway: a folder of raw responses, laid out like shared/envoy-fixtures/<name>/.

Each file is named after its endpoint path without the leading "/", with "/ ? = & space" replaced by "_";
`<name>_log.json`, when present, holds the recorded HTTP status. This module only answers "what would the
gateway send for this path"; the servers in this package put it on a socket.
"""
import json
from pathlib import Path
from typing import NamedTuple, Optional

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


class RecordedGateway:
    def __init__(self, folder):
        self.folder = Path(folder)
        if not (self.folder / "info").is_file():
            raise FileNotFoundError(f"{self.folder} has no 'info' file: not a recorded gateway folder")

    @property
    def name(self) -> str:
        return self.folder.name

    def info_xml(self) -> bytes:
        return (self.folder / "info").read_bytes()

    def _recorded_status(self, name: str) -> Optional[int]:
        log = self.folder / f"{name}_log.json"
        if not log.is_file():
            return None
        try:
            return int(json.loads(log.read_text()).get("code"))
        except (ValueError, TypeError):
            return None

    def response(self, path: str) -> Response:
        """What the gateway answered for `path`, or 404 when it was not recorded."""
        wanted = file_name(path)
        for name in (wanted,) + _ALIASES.get(wanted, ()):
            file = self.folder / name
            if file.is_file():
                body = file.read_bytes()
                status = self._recorded_status(name) or 200
                return Response(status, body, _content_type(name, body))
        if wanted in _EMPTY_WHEN_MISSING:
            return Response(200, _EMPTY_WHEN_MISSING[wanted], "application/json")
        return Response(404, b"", "text/html")
