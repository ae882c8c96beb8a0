"""The Enphase cloud: an Enlighten account's e-mail and password -> a gateway token (login.json -> session_id ->
entrez /tokens). Its certificate is always verified. How often it may be asked is auth.py's matter."""
from dataclasses import dataclass
from typing import Optional, Union

from .errors import EnvoyError

ENLIGHTEN_URL = "https://enlighten.enphaseenergy.com"
ENTREZ_URL = "https://entrez.enphaseenergy.com"


@dataclass
class CloudSettings:
    """Where the Enphase cloud is. Settings so that tests can point them at the local stand-in."""

    enlighten_url: str = ENLIGHTEN_URL
    entrez_url: str = ENTREZ_URL
    verify: Union[bool, str] = True  # the cloud's certificate is always checked; a CA bundle path for tests
    timeout_s: float = 30.0


class CredentialsRefused(EnvoyError):
    """Enlighten refused the email or password: the same ones will be refused again."""


class Enlighten:
    """Fetch a gateway token with an Enlighten account: login.json -> session_id -> entrez /tokens."""

    def __init__(self, settings: Optional[CloudSettings] = None):
        self.settings = settings or CloudSettings()
        self._session = None

    @property
    def session(self):
        # requests is loaded only when a token must be fetched (about once a year), not at every start.
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _post(self, url: str, **kwargs):
        import requests

        try:
            # verify per request: a session-level setting loses against REQUESTS_CA_BUNDLE.
            return self.session.post(url, timeout=self.settings.timeout_s, verify=self.settings.verify, **kwargs)
        except requests.RequestException as exc:
            raise EnvoyError(
                "unreachable",
                f"The Enphase cloud ({url.split('/')[2]}) did not answer ({type(exc).__name__}); "
                "check the Internet connection of this machine, the token will be fetched again later.",
            ) from None

    def fetch_token(self, username: str, password: str, serial: str) -> str:
        login = self._post(
            self.settings.enlighten_url.rstrip("/") + "/login/login.json",
            data={"user[email]": username, "user[password]": password},
        )
        if login.status_code in (401, 403):
            raise CredentialsRefused(
                "auth_failed",
                "Enlighten refused the email or password; check them on enlighten.enphaseenergy.com, "
                "then enter them again.",
            )
        if login.status_code != 200:
            raise EnvoyError("bad_response", f"Enlighten login answered HTTP {login.status_code}; try again later.")
        try:
            session_id = login.json().get("session_id")
        except (ValueError, AttributeError):
            raise EnvoyError("bad_response", "Enlighten login answered something that is not JSON; try again later.") from None
        if not session_id:
            raise EnvoyError(
                "two_factor",
                "This Enlighten account uses two-factor login, which the plugin cannot complete; "
                "paste a token from entrez.enphaseenergy.com instead.",
            )
        answer = self._post(
            self.settings.entrez_url.rstrip("/") + "/tokens",
            json={"session_id": session_id, "serial_num": serial, "username": username},
        )
        if answer.status_code != 200:
            raise EnvoyError(
                "auth_failed",
                f"Enphase refused a token for gateway {serial} (HTTP {answer.status_code}); check that this "
                "gateway belongs to the Enlighten account, or paste a token.",
            )
        return answer.text.strip()  # the caller reads its claims, which also proves it is a token
