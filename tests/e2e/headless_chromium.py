"""Headless Chromium driven over its DevTools pipe, for screenshots of Jeedom pages.

The pipe (not a debugging port, not a URL parameter) carries the session cookie, so no secret appears on a
command line or in a listening socket.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-pipe",
]


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with one page; `call` sends a DevTools command and waits for its answer."""

    def __init__(self, width=1400, height=900, locale="", timezone="", mobile=False):
        self._profile = tempfile.mkdtemp(prefix="enphase-e2e-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_pipe():  # DevTools reads commands on fd 3 and writes answers on fd 4
            read_end, write_end = os.dup(to_child_r), os.dup(from_child_w)  # never clobber one another
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._proc = subprocess.Popen(
            [chromium_binary(), *CHROMIUM_FLAGS, "--user-data-dir=" + self._profile,
             "--window-size=%d,%d" % (width, height), "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire_pipe,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self._session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")  # uncaught exceptions arrive as events, kept in self.events
        self.width, self.mobile = width, mobile
        self.resize(height)
        # Dates and numbers the pages format in the browser, as the user of that Jeedom would see them.
        if locale:
            self.page("Emulation.setLocaleOverride", locale=locale)
        if timezone:
            self.page("Emulation.setTimezoneOverride", timezoneId=timezone)

    def resize(self, height):
        self.page("Emulation.setDeviceMetricsOverride", width=self.width, height=int(height),
                  deviceScaleFactor=1, mobile=self.mobile)

    def _read_message(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, session=None, **params):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"].get("message")))
                return answer.get("result", {})
            self.events.append(answer)

    def page(self, method, **params):
        return self.call(method, session=self._session, **params)

    @property
    def page_errors(self):
        """Uncaught JavaScript exceptions so far, as 'message (script url:line)'."""
        errors = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text", "")
                errors.append("%s (%s:%s)" % (text.splitlines()[0] if text else "?", details.get("url", ""),
                                             details.get("lineNumber", "")))
        return errors

    def set_cookie(self, name, value, url):
        self.page("Network.setCookie", name=name, value=value, url=url)

    def allow_downloads(self, folder: Path):
        """Files the pages download land in `folder` (headless Chromium refuses downloads otherwise)."""
        self.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(folder))

    def evaluate(self, expression):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url, ready_js="true", timeout_s=30.0, settle_s=2.0):
        """Load url, wait until ready_js is true (the page's own content is there), then let it draw."""
        self.page("Page.navigate", url=url)
        # Not "no request pending": Jeedom pages keep a long-polling request open for live updates.
        ready = "document.readyState === 'complete' && (%s)" % ready_js
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(ready):
            if time.monotonic() > deadline:
                raise TimeoutError("page not ready: %s" % ready_js)
            time.sleep(0.2)
        time.sleep(settle_s)  # widgets, charts and fonts finish after their data arrived

    def fit_to_content(self, container="body", margin=16, settle_s=1.0):
        """Make the viewport as tall as what `container` shows (its lowest visible leaf), no more."""
        bottom = self.evaluate(
            "Math.max(0, ...Array.from(document.querySelectorAll('%s *'))"
            ".filter(e => e.children.length === 0 && e.offsetParent !== null)"
            ".map(e => e.getBoundingClientRect().bottom))" % container)
        self.resize(bottom + margin)
        time.sleep(settle_s)

    def screenshot(self, path: Path, selector: str = "", margin: int = 8):
        """The viewport, or only the element `selector` names (with `margin` pixels around it)."""
        params = {"format": "png"}
        if selector:
            box = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                                " return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height] })()"
                                % json.dumps(selector))
            params["clip"] = {"x": max(0, box[0] - margin), "y": max(0, box[1] - margin),
                              "width": box[2] + 2 * margin, "height": box[3] + 2 * margin, "scale": 1}
        data = self.page("Page.captureScreenshot", **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self._profile, ignore_errors=True)
