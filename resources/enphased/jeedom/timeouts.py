"""How long each socket action may take: read from timeouts.json, which PHP reads too (one place for both)."""
import json
import os
from typing import Any, Dict

_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeouts.json")


def _load() -> Dict[str, Any]:
    with open(_FILE, encoding="utf-8") as f:
        return json.load(f)


_TIMEOUTS = _load()
ACTIONS: Dict[str, Dict[str, float]] = _TIMEOUTS["actions"]
MESSAGE_S: float = _TIMEOUTS["message_s"]  # the daemon reads a whole message within this after a connection opens


def daemon_s(action: str) -> float:
    """The daemon's deadline for an action's work on the gateway (KeyError for an action answered at once)."""
    return ACTIONS[action]["daemon_s"]
