"""HTTP to one gateway: one keep-alive session, one request at a time, generous timeouts.

The gateway has a weak CPU and a self-signed certificate: requests are serialised by a lock, its TLS
certificate is not checked (there is nothing to check it against), and read timeouts are long because
some firmware takes tens of seconds to build /production.json.
"""
import threading
from typing import Optional

import requests
import urllib3

from .errors import EnvoyError

# Only the gateway is reached unverified (self-signed by design); the cloud session keeps verification on.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class ReadTimedOut(EnvoyError):
    """The gateway accepted the connection but did not answer in time (one slow endpoint, or busy)."""


class Transport:
    def __init__(self, base_url: str, *, read_timeout_s: float = 45.0, connect_timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.session = requests.Session()
        self.session.verify = False
        # The gateway is on the LAN: no proxy from the environment, and no CA bundle from it either
        # (REQUESTS_CA_BUNDLE would silently turn verification back on).
        self.session.trust_env = False
        self.session.headers["User-Agent"] = "jeedom-enphase"
        self._lock = threading.Lock()
        self.requests_sent = 0

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def request(self, method: str, path: str, *, timeout: Optional[float] = None, **kwargs) -> requests.Response:
        """Send one request. Raises EnvoyError("unreachable") when no answer comes; any answer is returned."""
        url = self.base_url + path
        read_timeout = self.timeout if timeout is None else (self.timeout[0], timeout)
        with self._lock:
            try:
                answer = self.session.request(method, url, timeout=read_timeout, allow_redirects=False, **kwargs)
            except requests.exceptions.ReadTimeout:
                self.requests_sent += 1
                raise ReadTimedOut(
                    "unreachable",
                    f"The gateway at {self.host} did not answer {path} within {read_timeout[1]:.0f} s; "
                    "it may be busy or restarting, the plugin will try again.",
                ) from None
            except requests.RequestException as exc:
                self.requests_sent += 1
                raise EnvoyError(
                    "unreachable",
                    f"Cannot reach the gateway at {self.host} ({type(exc).__name__}); check its address and "
                    "that it is on the network.",
                ) from None
            # A digest challenge makes requests send the request twice; the first is in the history.
            self.requests_sent += 1 + len(answer.history)
            return answer

    def close(self) -> None:
        self.session.close()
