"""A real HTTP receiver standing in for Jeedom's callback page (jeeEnphase.php) in tests."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class JeedomReceiver:
    """Records every POSTed body; `down = True` makes it answer 503 like a Jeedom that is restarting."""

    def __init__(self, apikey="test-apikey"):
        self.apikey = apikey
        self.bodies = []
        self.refused = 0
        self.down = False
        self.changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                key = parse_qs(urlparse(self.path).query).get("apikey", [""])[0]
                if outer.down or key != outer.apikey:
                    with outer.changed:
                        outer.refused += 1
                        outer.changed.notify_all()
                    self.send_response(503 if outer.down else 401)
                    self.end_headers()
                    return
                with outer.changed:
                    outer.bodies.append(json.loads(body))
                    outer.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/plugins/enphase/core/php/jeeEnphase.php"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    @property
    def events(self):
        with self.changed:
            return [event for body in self.bodies for event in body["events"]]

    def wait_for(self, predicate, timeout_s=30):
        """Wait until predicate(receiver) is true; returns it (falsy on timeout)."""
        with self.changed:
            self.changed.wait_for(lambda: predicate(self), timeout=timeout_s)
            return predicate(self)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
