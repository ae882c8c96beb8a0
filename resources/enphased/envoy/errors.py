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


# Why a request was refused or credentials were not enough, when PHP says it differently (its French sentence
# for each is in core/class/enphaseDaemonError.class.php; tests/php/MessagesTest.php checks both lists agree).
REASONS = (
    "token_needed",  # firmware 7 and later, and neither a token nor an Enlighten account
    "token_invalid",  # what was pasted is not a token
    "installer_required",  # the write needs installer rights
    "firmware_ignores",  # this firmware accepts the write and ignores it
    "not_applied",  # the gateway took the write but does not show it applied
    "no_device",  # the site has no such device (System Controller, dry contact, battery profile)
    "no_control",  # this gateway does not offer that control
    "bad_value",  # the value is not one the command takes
    "unknown_command",  # no such action for that equipment
    "forbidden",  # the gateway answered 401/403 to a write
)


class EnvoyError(Exception):
    """`code` is one of CODES; `message` is an English sentence the user can act on, never with a secret (the
    log's); `reason`, one of REASONS or "", tells PHP which of its own sentences to show."""

    def __init__(self, code: str, message: str, reason: str = ""):
        if code not in CODES:
            raise ValueError(f"unknown EnvoyError code {code!r}")
        if reason and reason not in REASONS:
            raise ValueError(f"unknown EnvoyError reason {reason!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason

    def as_dict(self):
        """The protocol's error object."""
        out = {"code": self.code, "message": self.message}
        if self.reason:
            out["reason"] = self.reason
        return out

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"EnvoyError({self.code!r}, {self.message!r}, {self.reason!r})"
