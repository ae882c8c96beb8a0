"""A real HTTP receiver standing in for Jeedom's callback page (jeeEnphase.php) in tests."""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JeedomReceiver:
    """Applies every POSTed body as jeeEnphase.php does (docs/protocol.md): the apikey from its header, the
    events in order, none after the body's deadline (then 503). `down = True` makes it answer 503 like a
    Jeedom that is restarting.

    To play a slow or stalled Jeedom: `value_s`, the time each value (or described command) takes to apply;
    `stall(s)`, the next request waits s seconds before it starts (a request queued in the web server);
    `stall(s, drop=True)`, the connection is also closed at once, without an answer, while the request goes on
    (a web server or proxy giving up on PHP, which carries on).
    It holds no lock of its own: `applying` / `max_applying` count the requests applying an event at once,
    `open` / `max_open` those under way at all, so a test sees what the daemon made Jeedom do.
    Like PHP, it keeps the kinds an inventory event describes for the POSTs after it (`kinds`, per gateway;
    `forget_kinds()` plays a Jeedom that lost them), answers 409 to an event whose kinds it does not know,
    and records each inventory event applied with the kinds it used, as PHP reads it (`expanded`)."""

    def __init__(self, apikey="test-apikey", value_s=0.0):
        self.apikey = apikey
        self.value_s = value_s
        self.bodies = []  # bodies applied whole (answered 200), in the order they were applied
        self.applied = []  # events applied, in order (those of bodies cut short by their deadline included)
        self.targets = []  # every request's path and query, as a web server's access log keeps them
        self.refused = 0
        self.kinds = {}  # gateway -> kind -> its description, as PHP keeps them
        self.kinds_asked = 0  # bodies answered 409
        self.expired = 0  # bodies whose deadline came before their end
        self.down = False
        self.open = self.max_open = self.applying = self.max_applying = 0
        self._stall_s = 0.0
        self._drop = False
        self.changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                with outer.changed:
                    outer.targets.append(self.path)
                    outer.open += 1
                    outer.max_open = max(outer.max_open, outer.open)
                    stall_s, outer._stall_s = outer._stall_s, 0.0
                    drop, outer._drop = outer._drop, False
                try:
                    status = outer._handle(self, stall_s, drop)
                    if not drop:
                        self.send_response(status)
                        self.end_headers()
                finally:
                    with outer.changed:
                        outer.open -= 1
                        outer.changed.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/plugins/enphase/core/php/jeeEnphase.php"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def stall(self, seconds, drop=False):
        """The next request waits that long before it starts; with `drop`, its connection is closed at once."""
        with self.changed:
            self._stall_s, self._drop = seconds, drop

    def forget_kinds(self):
        with self.changed:
            self.kinds = {}

    def _with_kinds(self, event):
        """An inventory event with the kinds it may use (those it describes, and those kept): None when one of
        its equipment needs a kind described in neither."""
        if event.get("type") != "inventory":
            return event
        with self.changed:
            kept = self.kinds.setdefault(event.get("gateway"), {})
            kinds = dict(kept, **(event.get("kinds") or {}))
            if any(_needs_kind(eq) and eq.get("kind") not in kinds for eq in event.get("equipments") or ()):
                return None
            kept.update(event.get("kinds") or {})
        return dict(event, kinds=kinds)

    def _handle(self, request, stall_s, drop) -> int:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if self.down or request.headers.get("X-Enphase-Apikey") != self.apikey:
            with self.changed:
                self.refused += 1
                self.changed.notify_all()
            return 503 if self.down else 403
        if drop:
            request.connection.shutdown(socket.SHUT_RDWR)
        time.sleep(stall_s)
        payload = json.loads(body)
        deadline = payload.get("deadline", float("inf"))
        for event in payload["events"]:
            if time.time() >= deadline:
                with self.changed:
                    self.expired += 1
                return 503
            event = self._with_kinds(event)
            if event is None:
                with self.changed:
                    self.kinds_asked += 1
                    self.changed.notify_all()
                return 409
            with self.changed:
                self.applying += 1
                self.max_applying = max(self.max_applying, self.applying)
            time.sleep(self.value_s * _work(event))
            with self.changed:
                self.applying -= 1
                self.applied.append(event)
                self.changed.notify_all()
        with self.changed:
            self.bodies.append(payload)
        return 200

    @property
    def events(self):
        with self.changed:
            return list(self.applied)

    def wait_for(self, predicate, timeout_s=30):
        """Wait until predicate(receiver) is true; returns it (falsy on timeout)."""
        with self.changed:
            self.changed.wait_for(lambda: predicate(self), timeout=timeout_s)
            return predicate(self)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


COMMAND_DEFAULTS = {"type": "info", "unit": "", "isHistorized": 0, "isVisible": 1}


def expanded(inventory):
    """An INVENTORY as PHP reads it (docs/protocol.md): each equipment with its commands' whole descriptions,
    from its kind's, all of them when it does not name some (a description in place of a name: earlier form)."""
    kinds = inventory.get("kinds") or {}
    out = []
    for equipment in inventory.get("equipments") or ():
        kind = kinds.get(equipment.get("kind")) or {}
        # What a description does not say is what PHP takes for granted.
        described = {c["logicalId"]: dict(COMMAND_DEFAULTS, **c) for c in kind.get("commands") or ()}
        ids = equipment["commands"] if "commands" in equipment else list(described)
        out.append(dict(equipment, configuration=equipment.get("configuration") or {},
                        commands=[c if isinstance(c, dict) else described[c] for c in ids
                                  if isinstance(c, dict) or c in described]))
    return dict(inventory, equipments=out)


def _needs_kind(equipment) -> bool:
    """Its commands come from its kind's description: it names none, or names them by logicalId."""
    commands = equipment.get("commands")
    return commands is None or any(not isinstance(c, dict) for c in commands)


def _work(event) -> int:
    """Values and described commands in an event: what takes Jeedom time."""
    if event.get("type") == "values":
        return sum(len(commands) for commands in event["values"].values())
    if event.get("type") == "inventory":
        return sum(len(eq.get("commands") or ()) for eq in expanded(event)["equipments"])
    return 0
