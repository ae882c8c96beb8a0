"""The one exception of the `envoy` package: a code the daemon and PHP act on, and a sentence for the user."""

CODES = (
    "unreachable",  # no answer from the gateway (or the Enphase cloud)
    "auth_failed",  # a password or token was refused
    "token_expired",  # the pasted token is past its expiry date and nothing can renew it
    "two_factor",  # the Enlighten account has two-factor login: only a pasted token can work
    "login_throttled",  # our own login budget refuses to log in to Enlighten again now
    "bad_response",  # the gateway or the cloud answered something we cannot read
    "nothing_readable",  # the gateway answers, but none of its endpoints gives a reading we know
    "refused",  # the gateway refused a request (permission, or a control it does not accept)
)


class EnvoyError(Exception):
    """`code` is one of CODES; `message` is an English sentence the user can act on, never with a secret."""

    def __init__(self, code: str, message: str):
        if code not in CODES:
            raise ValueError(f"unknown EnvoyError code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"EnvoyError({self.code!r}, {self.message!r})"
