"""One Envoy gateway as the daemon sees it: connect (find out who it is and log in), probe, read, control.

`GET /info` answers without auth and tells the firmware, which decides the auth: before 7, HTTP digest
(user envoy or installer); from 7, a JWT checked once at /auth/check_jwt (which sets a session cookie) and
also sent as a Bearer header on every request, since gateways accept either. A 401 later means the
session was lost (reboot) or the token was revoked: the session is checked again once, then the token is
renewed once, never in a loop.
"""
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Set

from .auth import LoginBudget, TokenSource, default_envoy_password, installer_password, token_claims
from .enlighten import CloudSettings, Enlighten
from .token_store import TokenStore
from .endpoints import CHECK_JWT, INFO, INVERTERS_V1
from .errors import EnvoyError
from .limits import DEADLINE_MISSES_PER_READ, REQUEST_DEADLINE_S
from .legacy_html import decoded
from .parse import build_readings, parse_info
from .probe import Plan, plan_from, probe_paths
from .readings import GatewayInfo, Readings
from .transport import Answer, AnswerTooLarge, DigestAuth, ReadTimedOut, Transport
from .writes import GatewayWrites

log = logging.getLogger(__name__)

# An endpoint every firmware before 7 protects with digest: tells a wrong password at connect time.
DIGEST_CHECK_PATH = INVERTERS_V1
REPROBE_MOST_READS = 60  # general reads between two probes of a plan made from spoiled answers, at most


@dataclass
class Credentials:
    """What the user gave. Only what the gateway's firmware needs is used. Secrets stay out of repr()."""

    token: Optional[str] = field(default=None, repr=False)  # pasted JWT (firmware >= 7)
    username: Optional[str] = None  # Enlighten email (firmware >= 7)
    enlighten_password: Optional[str] = field(default=None, repr=False)
    serial: Optional[str] = None  # gateway serial for the token; default: the one /info gives
    password: Optional[str] = field(default=None, repr=False)  # digest password (firmware < 7)
    installer: bool = False  # firmware < 7: log in as `installer` instead of `envoy`


class Envoy(GatewayWrites):
    """One gateway: connect, probe, read; its writes (set_grid_relay, set_storage_mode...) are in writes.py."""

    def __init__(
        self,
        host: str,
        credentials: Optional[Credentials] = None,
        *,
        store: Optional[TokenStore] = None,
        cloud: Optional[CloudSettings] = None,
        budget: Optional[LoginBudget] = None,
        deadline_s: float = REQUEST_DEADLINE_S,
        connect_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ):
        self.host = host.strip().rstrip("/")
        self.credentials = credentials or Credentials()
        self.store = store
        self.cloud = cloud or CloudSettings()
        self.budget = budget
        self.deadline_s = deadline_s  # each request, whole (envoy/limits.py)
        self.connect_timeout_s = connect_timeout_s
        self.clock = clock
        self.info: Optional[GatewayInfo] = None
        self.plan: Optional[Plan] = None
        self.auth_mode = "none"  # "digest-envoy" | "digest-installer" | "jwt-owner" | "jwt-installer" | "none"
        self._transport: Optional[Transport] = None
        self._tokens: Optional[TokenSource] = None
        self._token: Optional[str] = None
        self._requests_before = 0  # sent by transports since discarded
        self._too_large: Set[str] = set()  # endpoints whose answer was refused for its size (logged once)
        self.spoiled_answers = 0  # answers said to be JSON (HTTP 200) that were not JSON within envoy/limits.py
        # A plan made from spoiled answers is probed again after this many general reads (None: the plan holds);
        # each such probe doubles the wait, up to REPROBE_MOST_READS.
        self._reprobe_in: Optional[int] = None
        self._doubtful_probes = 0
        self._lock = threading.RLock()  # one operation at a time, 401 recovery included

    # --- what the daemon shows ---

    @property
    def requests_sent(self) -> int:
        return self._requests_before + (self._transport.requests_sent if self._transport else 0)

    @property
    def token_expires(self) -> Optional[int]:
        return token_claims(self._token).expires if self._token else None

    @property
    def base_url(self) -> Optional[str]:
        return self._transport.base_url if self._transport else None

    # --- connection ---

    def _candidate_urls(self):
        if "://" in self.host:
            return [self.host]
        return ["https://" + self.host, "http://" + self.host]  # firmware >= 7 only speaks https

    def connect(self) -> GatewayInfo:
        """Read /info, then authenticate as the firmware requires. Raises EnvoyError."""
        with self._lock:
            self.close()
            last_error = None
            for url in self._candidate_urls():
                transport = Transport(url, deadline_s=self.deadline_s, connect_timeout_s=self.connect_timeout_s)
                try:
                    answer = transport.request("GET", INFO)
                except EnvoyError as exc:
                    last_error = exc
                    self._discard(transport)
                    continue
                if answer.status_code == 200:
                    self._transport = transport
                    break
                last_error = EnvoyError(
                    "bad_response", f"{url} answered HTTP {answer.status_code} to /info; is it an Enphase gateway?"
                )
                self._discard(transport)
            else:
                raise last_error or EnvoyError("unreachable", f"Cannot reach the gateway at {self.host}.")
            try:
                info = parse_info(answer.content)
            except ValueError:  # cut short or garbled (a flaky link, a gateway restarting), or not a gateway
                info = None
            if info is None or not info.serial:
                self.close()
                raise EnvoyError("bad_response", f"{self.host} answered /info without a valid serial number; is it an Enphase gateway?")
            self.info = info
            if info.firmware_major >= 7:
                self._start_jwt()
            else:
                self._start_digest()
            log.info("Connected to gateway %s (firmware %s, %s)", info.serial, info.firmware, self.auth_mode)
            return info

    def _discard(self, transport: Transport) -> None:
        self._requests_before += transport.requests_sent
        transport.close()

    def close(self) -> None:
        with self._lock:
            if self._transport is not None:
                self._discard(self._transport)
                self._transport = None

    def _start_digest(self) -> None:
        creds, serial = self.credentials, self.info.serial
        user = "installer" if creds.installer else "envoy"
        default = installer_password(serial) if creds.installer else default_envoy_password(serial)
        self._transport.auth = DigestAuth(user, creds.password or default)
        self._tokens, self._token = None, None
        self.auth_mode = "digest-" + user
        if self._transport.request("GET", DIGEST_CHECK_PATH).status_code != 401:
            return
        if creds.password:
            message = f"The gateway refused the password of user '{user}'; check the gateway's password."
        elif creds.installer:
            message = "The gateway refused the installer password computed from its serial; enter the installer password."
        else:
            message = ("The gateway refused the factory password of user 'envoy' (the last 6 characters of the "
                       "serial); enter the gateway's password.")
        raise EnvoyError("auth_failed", message)

    def _start_jwt(self) -> None:
        creds = self.credentials
        self._tokens = TokenSource(
            creds.serial or self.info.serial,
            token=creds.token,
            username=creds.username,
            password=creds.enlighten_password,
            store=self.store,
            enlighten=Enlighten(self.cloud),
            budget=self.budget,
            clock=self.clock,
        )
        self._open_session(self._tokens.token())

    def _open_session(self, token: str) -> None:
        """Use `token`, or a renewed one when the gateway refuses it (renewed once, never in a loop)."""
        self._use_token(token if self._check_jwt(token) else self._renewed(token))

    def _renewed(self, refused: str) -> str:
        token = self._tokens.renew(refused)
        if not self._check_jwt(token):
            raise EnvoyError("auth_failed", "The gateway refused a token just issued by Enphase; check the gateway "
                                            "serial number in the configuration.")
        return token

    def _use_token(self, token: str) -> None:
        self._token = token
        self._transport.headers["Authorization"] = "Bearer " + token
        self.auth_mode = "jwt-" + (token_claims(token).role or "owner")

    def _check_jwt(self, token: str) -> bool:
        """Open a session with the token (the gateway sets a sessionId cookie). False when refused."""
        answer = self._transport.request("GET", CHECK_JWT, headers={"Authorization": "Bearer " + token})
        if answer.status_code in (401, 403):
            return False
        if answer.status_code != 200:
            log.debug("check_jwt answered HTTP %s; going on with the Bearer header", answer.status_code)
        return True

    def _ensure_connected(self) -> None:
        if self._transport is None or self.info is None:
            self.connect()
        elif self._tokens is not None:
            token = self._tokens.token()  # renews ahead of expiry, within the login budget
            if token != self._token:
                self._open_session(token)

    def _send(self, method: str, path: str, **kwargs) -> Answer:
        answer = self._transport.request(method, path, **kwargs)
        if answer.status_code != 401 or self._tokens is None:
            return answer
        # Firmware >= 7: session lost (reboot) or token revoked. Check the session once...
        if self._check_jwt(self._token):
            return self._transport.request(method, path, **kwargs)  # a 401 now is a permission matter
        # ... then renew the token once.
        log.info("The gateway refused the token; renewing it")
        self._use_token(self._renewed(self._token))
        return self._transport.request(method, path, **kwargs)

    # --- reading ---

    def _json_or_none(self, path: str) -> Optional[Any]:
        """Decoded answer of a GET (JSON, or an HTML page's bytes), None when the endpoint fails (absent,
        refused, not JSON, beyond envoy/limits.py)."""
        try:
            answer = self._send("GET", path)
        except AnswerTooLarge as exc:
            if path not in self._too_large:  # said once: a gateway doing it does it every cycle
                self._too_large.add(path)
                log.warning("%s", exc.message)
            return None
        if answer.status_code != 200:
            log.debug("%s answered HTTP %s", path, answer.status_code)
            return None
        data = decoded(path, answer.content)
        if data is None:
            # An HTML page where JSON was asked is what some firmware serve there (3.x: /production.json); a
            # JSON answer that is not JSON was spoiled on its way (cut short, garbled) or by the gateway.
            self.spoiled_answers += "json" in (answer.headers.get("Content-Type") or "")
            log.debug("%s answered something that is not JSON within limits", path)
        return data

    def _read_paths(self, paths, *, partial_ok: bool) -> Dict[str, Any]:
        """path -> decoded JSON, for those that answered one. One endpoint past its deadline loses its reading;
        at DEADLINE_MISSES_PER_READ the read stops: a cadence keeps what it read (`partial_ok`), the probe
        raises (a plan made without the endpoints left would never read them)."""
        responses, answered, timeouts = {}, 0, 0
        for path in paths:
            try:
                data = self._json_or_none(path)
            except ReadTimedOut:
                timeouts += 1
                if timeouts < DEADLINE_MISSES_PER_READ:
                    continue
                if answered and partial_ok:
                    log.debug("The gateway at %s let %d requests run out of time; the endpoints left wait for "
                              "the next cycle", self.host, timeouts)
                    break
                raise EnvoyError(
                    "unreachable", f"The gateway at {self.host} answers too slowly ({timeouts} requests without an "
                                   f"answer within {self.deadline_s:.0f} s); it may be overloaded or restarting.")
            answered += 1
            if data is not None:
                responses[path] = data
        if timeouts and not answered:
            raise EnvoyError(
                "unreachable", f"The gateway at {self.host} accepts connections but answers nothing; it may be restarting."
            )
        return responses

    def probe(self) -> Plan:
        """Find out once which endpoints this gateway answers, and so what each cadence reads."""
        with self._lock:
            self._ensure_connected()
            paths = probe_paths(self.info, installer=self.auth_mode.endswith("installer"))
            spoiled = self.spoiled_answers
            answers = self._read_paths(paths, partial_ok=False)
            if self.spoiled_answers != spoiled:
                # One spoiled answer (a flaky link, a busy gateway, a moment of nonsense) would leave its endpoint,
                # and what the plan chooses from it (the batteries' endpoints...), out of the plan until the next
                # probe: the probe is made once more, and that one holds.
                log.debug("The gateway at %s spoiled %d answers of the probe: probing once more", self.host,
                          self.spoiled_answers - spoiled)
                spoiled = self.spoiled_answers
                answers = self._read_paths(paths, partial_ok=False)
            self._doubt(self.spoiled_answers != spoiled)
            plan = plan_from(self.info, answers)
            if not plan.readable():
                # No plan is kept: the next read probes again (a gateway that was still starting, say).
                self.plan = None
                raise EnvoyError("nothing_readable", (
                    f"The gateway at {self.host} answers, but none of its pages gives a reading this plugin "
                    "knows; send a diagnostics report."))
            self.plan = plan
            return self.plan

    def _doubt(self, spoiled_twice: bool) -> None:
        """Spoiled answers twice in a row leave their endpoints (and what the plan chooses from them) out of this
        plan: it is probed again after 1, 2, 4... general reads, at most an hour of them at the default cadence,
        so that a page spoiled for a while comes back without a Synchronize, and one spoiled for good costs the
        gateway a probe an hour."""
        if not spoiled_twice:
            self._reprobe_in, self._doubtful_probes = None, 0
            return
        self._reprobe_in = min(REPROBE_MOST_READS, 2 ** self._doubtful_probes)
        self._doubtful_probes += 1
        log.info("The gateway at %s spoiled answers of two probes in a row: what they leave out is probed again in "
                 "%d reads", self.host, self._reprobe_in)

    def probe_due(self) -> bool:
        """The plan was made from spoiled answers and its time to be probed again has come."""
        return self._reprobe_in is not None and self._reprobe_in <= 0

    def fetch(self, cadence: str) -> Dict[str, Any]:
        """GET exactly the plan's endpoints for `cadence` ("general" | "devices"): endpoint -> decoded JSON of
        those that answered (the daemon's view of the gateway keeps the latest of each)."""
        with self._lock:
            if self.plan is None:
                self.probe()
            self._ensure_connected()
            if cadence == "general" and self._reprobe_in is not None:
                self._reprobe_in -= 1
            paths = self.plan.paths[cadence]
            answers = self._read_paths(paths, partial_ok=True)
            if paths and not answers:
                # Every page of the cadence answered, none with a reading (errors, not JSON, beyond the limits):
                # values that stay as they were would look like a gateway that reads well.
                raise EnvoyError("bad_response", (
                    f"The gateway at {self.host} answered none of the {len(paths)} pages read at this cadence "
                    "with something readable; send a diagnostics report if it lasts."))
            return answers

    def read(self, cadence: str) -> Readings:
        """The readings of one cadence's endpoints alone, with the probe's CT list (the shell and tests)."""
        with self._lock:
            answers = self.fetch(cadence)
            return build_readings(self.info, {**self.plan.carried, **answers})

    # --- single requests (writes.py and the diagnostics report use these) ---

    def _decode(self, answer: Answer, method: str, path: str) -> Any:
        if answer.status_code in (401, 403):
            raise EnvoyError(
                "refused",
                f"The gateway refused {method} {path} (HTTP {answer.status_code}); it may need installer rights.",
                "forbidden",
            )
        if not 200 <= answer.status_code < 300:
            raise EnvoyError("bad_response", f"The gateway answered HTTP {answer.status_code} to {method} {path}.")
        if not answer.content.strip():
            return None
        try:
            return answer.json()
        except ValueError:
            raise EnvoyError("bad_response", f"The gateway answered {method} {path} with something that is not JSON.") from None

    def request_json(self, method: str, path: str, body: Any = None) -> Any:
        with self._lock:
            self._ensure_connected()
            kwargs = {} if body is None else {"json": body}
            return self._decode(self._send(method, path, **kwargs), method, path)

    def get_raw(self, path: str) -> Answer:
        """One GET as the gateway answered it, whatever its status (the diagnostics report records it)."""
        with self._lock:
            self._ensure_connected()
            return self._send("GET", path)

    def get_json(self, path: str) -> Any:
        return self.request_json("GET", path)

    def post_json(self, path: str, body: Any) -> Any:
        return self.request_json("POST", path, body)

    def put_json(self, path: str, body: Any) -> Any:
        return self.request_json("PUT", path, body)
