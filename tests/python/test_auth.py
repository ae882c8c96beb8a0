"""Passwords, token claims, the token store and the Enlighten login budget."""
import base64
import json
import os
import stat
import sys

import pytest

from envoy.auth import LoginBudget, TokenSource, default_envoy_password, installer_password, token_claims
from envoy.enlighten import CloudSettings, Enlighten
from envoy.token_store import FileTokenStore, MemoryTokenStore
from envoy.errors import EnvoyError
from fake_clock import Clock
from simulator.cloud import Account, issue_token, serve_cloud
from simulator.faults import Episode, FaultPlan

START = 1_800_000_000.0  # a fixed instant: token lifetimes are counted from it

SERIAL = "122302045041"
EMAIL, PASSWORD = "owner@example.invalid", "s3cret-Pa55"


@pytest.mark.parametrize("serial, password", [
    ("122112123456", "d525d2jh"),
    ("121704019383", "4bbdBA27"),
    ("202312345678", "ee9c7957"),
])
def test_installer_password_is_computed_from_the_serial(serial, password):
    assert installer_password(serial) == password


def test_envoy_password_defaults_to_the_last_six_characters_of_the_serial():
    assert default_envoy_password("122112123456") == "123456"


def test_token_claims_are_read_without_the_signing_key():
    claims = token_claims(issue_token(SERIAL, role="installer", lifetime_s=3600, now=1_800_000_000))
    assert (claims.role, claims.issued, claims.expires) == ("installer", 1_800_000_000, 1_800_003_600)


def test_a_token_that_is_not_a_jwt_is_refused_plainly():
    with pytest.raises(EnvoyError) as err:
        token_claims("not-a-token")
    assert err.value.code == "auth_failed"


@pytest.mark.pure
def test_token_claims_are_read_without_pyjwt(monkeypatch):
    """Importing pyjwt would cost the daemon 1.4 MB of memory: the claims are read without it."""
    token = issue_token(SERIAL, role="owner", lifetime_s=60, now=1_800_000_123)
    monkeypatch.setitem(sys.modules, "jwt", None)  # `import jwt` fails from here on
    claims = token_claims(token)
    assert (claims.role, claims.issued, claims.expires) == ("owner", 1_800_000_123, 1_800_000_183)


def _part(value) -> str:
    """One part of a token: JSON (or bytes as they are) in base64url without its padding."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HEADER, PAYLOAD = _part({"alg": "ES256", "typ": "JWT"}), _part({"enphaseUser": "installer", "exp": 1_900_000_000})


# What pyjwt 2.15 refuses too, unverified (each was checked against it).
@pytest.mark.pure
@pytest.mark.parametrize("token", [
    "",
    "..",
    HEADER + "." + PAYLOAD,  # two parts
    HEADER + "." + PAYLOAD + ".YQ.YQ",  # four
    HEADER + "." + _part([1]) + ".YQ",  # a payload that is not a JSON object
    _part("ES256") + "." + PAYLOAD + ".YQ",  # nor the header
    HEADER + "." + _part(b"owner") + ".YQ",  # not JSON at all
    HEADER + "." + PAYLOAD + "!.YQ",  # outside the base64url alphabet
    HEADER + "." + PAYLOAD.replace("_", "/").replace("-", "+") + "+/.YQ",  # base64, not base64url
    HEADER + "." + PAYLOAD + ".YQ\n",  # pasted with its line end
    " " + HEADER + "." + PAYLOAD + ".YQ",
    HEADER + "." + PAYLOAD + ".YR",  # bits left over: not the canonical form of any bytes
    HEADER + "." + PAYLOAD + ".YQ=",  # padding that does not make whole groups of four
    HEADER + "." + PAYLOAD + ".YQ===",
    HEADER + "." + PAYLOAD + ".Y",  # a length no bytes have
    _part({"alg": "ES256", "b64": False}) + "." + PAYLOAD + ".YQ",  # a detached payload
    HEADER + "." + _part(b"[" * 100_000) + ".YQ",  # nested beyond the decoder
])
def test_a_token_is_refused_as_pyjwt_refuses_it(token):
    with pytest.raises(EnvoyError) as err:
        token_claims(token)
    assert (err.value.code, err.value.reason) == ("auth_failed", "token_invalid")


@pytest.mark.pure
@pytest.mark.parametrize("token", [
    HEADER + "." + PAYLOAD + ".",  # no signature (alg none)
    HEADER + "." + PAYLOAD + ".YQ==",  # padding kept
    _part({}) + "." + PAYLOAD + ".YQ",  # no alg: only the gateway checks the signature
])
def test_a_token_pyjwt_reads_unverified_is_read(token):
    claims = token_claims(token)
    assert (claims.role, claims.expires, claims.issued) == ("installer", 1_900_000_000, None)


def test_file_token_store_is_private_and_survives_a_restart(tmp_path):
    path = tmp_path / "gw" / "token.json"
    FileTokenStore(path).save({"token": "abc", "logins": [1.0]})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert FileTokenStore(path).load() == {"token": "abc", "logins": [1.0]}
    assert FileTokenStore(tmp_path / "missing.json").load() == {}


def source(cloud, clock, store=None, password=PASSWORD, **options):
    settings = CloudSettings(cloud.url, cloud.url)
    return TokenSource(SERIAL, username=EMAIL, password=password, store=store or MemoryTokenStore(),
                       enlighten=Enlighten(settings), clock=clock, **options)


def test_fetched_token_is_reused_until_shortly_before_expiry():
    clock = Clock(START)
    with serve_cloud([Account(EMAIL, PASSWORD, role="installer")], clock=clock) as cloud:
        tokens = source(cloud, clock)
        first = tokens.token()
        clock.now += 10 * 3600  # installer tokens live 12 h: still 2 h left, more than the margin
        assert tokens.token() == first and cloud.logins == 1
        clock.now += 1.5 * 3600  # within the margin (a tenth of the life): renewed
        assert tokens.token() != first and cloud.logins == 2


def test_a_refused_password_is_not_tried_again_until_it_changes():
    clock = Clock(START)
    with serve_cloud([Account(EMAIL, PASSWORD)], clock=clock) as cloud:
        tokens = source(cloud, clock, password="wrong-password")
        for _ in range(3):
            with pytest.raises(EnvoyError) as err:
                tokens.token()
            assert err.value.code == "auth_failed" and "wrong-password" not in err.value.message
            clock.now += 86400
        assert cloud.logins == 1  # each further try would count towards Enphase's lock-out
        tokens.password = PASSWORD  # the user enters the right one: tried at once, whatever the back-off
        assert tokens.token() and cloud.logins == 2


def test_a_failed_login_waits_minutes_before_the_next_attempt():
    clock = Clock(START)
    plan = FaultPlan([Episode("cloud_down", 0, 10 ** 6)])
    with serve_cloud([Account(EMAIL, PASSWORD)], clock=clock, faults=plan.cloud) as cloud:
        tokens = source(cloud, clock)
        attempts = lambda: cloud.count("/login/login.json")  # noqa: E731
        with pytest.raises(EnvoyError) as err:
            tokens.token()
        assert err.value.code == "bad_response"
        with pytest.raises(EnvoyError) as err:
            tokens.token()
        assert err.value.code == "login_throttled" and attempts() == 1
        clock.now += 301
        with pytest.raises(EnvoyError) as err:
            tokens.token()
        assert err.value.code == "bad_response" and attempts() == 2
        clock.now += 301  # the back-off doubled: still waiting
        with pytest.raises(EnvoyError) as err:
            tokens.token()
        assert err.value.code == "login_throttled" and attempts() == 2


def test_logins_per_rolling_day_are_capped_across_restarts(tmp_path):
    clock = Clock(START)
    store_path = tmp_path / "token.json"

    def restarted():  # a fresh TokenSource over the same file, as after a daemon restart
        return source(cloud, clock, store=FileTokenStore(store_path), budget=LoginBudget(max_per_day=3))

    with serve_cloud([Account(EMAIL, PASSWORD)], clock=clock) as cloud:
        first = restarted().token()
        assert restarted().token() == first and cloud.logins == 1  # the stored token is reused
        for _ in range(2):
            clock.now += 60
            tokens = restarted()
            tokens.renew(tokens.token())  # as if the gateway refused it
        assert cloud.logins == 3
        with pytest.raises(EnvoyError) as err:
            restarted().renew(first)
        assert err.value.code == "login_throttled" and cloud.logins == 3
        clock.now += 86400 - 100  # the first login leaves the rolling day
        restarted().renew(first)
        assert cloud.logins == 4


def test_two_factor_account_asks_for_a_pasted_token():
    clock = Clock(START)
    with serve_cloud([Account(EMAIL, PASSWORD, two_factor=True)], clock=clock) as cloud:
        with pytest.raises(EnvoyError) as err:
            source(cloud, clock).token()
    assert err.value.code == "two_factor" and "paste a token" in err.value.message


def test_a_failed_renewal_keeps_the_still_valid_token():
    clock = Clock(START)
    account = Account(EMAIL, PASSWORD, role="installer")
    with serve_cloud([account], clock=clock) as cloud:
        tokens = source(cloud, clock)
        first = tokens.token()
        account.password = "changed-on-the-website"
        clock.now += 11.5 * 3600  # within the renewal margin, not yet expired
        assert tokens.token() == first and cloud.logins == 2
        assert tokens.token() == first and cloud.logins == 2  # the back-off holds; no error while it is valid
        clock.now += 3600  # expired now: the refused password is not tried again, its refusal is the answer
        with pytest.raises(EnvoyError) as err:
            tokens.token()
        assert err.value.code == "auth_failed" and cloud.logins == 2


# --- the budget is the account's (issue 12, point 13) ---

def gateway_source(cloud, clock, folder, serial, email=EMAIL, password=PASSWORD, **options):
    """The token source of one gateway whose token file is in `folder`, as the daemon makes them."""
    return TokenSource(serial, username=email, password=password, store=FileTokenStore(folder / f"token-{serial}.json"),
                       enlighten=Enlighten(CloudSettings(cloud.url, cloud.url)), clock=clock, **options)


def test_a_refused_password_is_not_tried_again_after_a_restart_nor_by_the_account_s_other_gateways(tmp_path):
    clock = Clock(START)
    with serve_cloud([Account(EMAIL, PASSWORD)], clock=clock) as cloud:
        for n in range(12):  # four restarts of a daemon with three gateways of the account, a day apart
            with pytest.raises(EnvoyError) as err:
                gateway_source(cloud, clock, tmp_path, f"12230204504{n % 3}", password="wrong-password").token()
            assert err.value.code == "auth_failed"
            clock.now += 86400 // 3
        assert cloud.logins == 1 and "will not try them again" in err.value.message
        book = "".join(path.read_text() for path in tmp_path.iterdir())
        assert "wrong-password" not in book and EMAIL not in book  # a salted fingerprint, a keyed account
        assert gateway_source(cloud, clock, tmp_path, "122302045041").token() and cloud.logins == 2  # right one


def test_the_gateways_of_one_account_share_its_login_budget_and_another_account_has_its_own(tmp_path):
    clock = Clock(START)
    other = "neighbour@example.invalid"
    with serve_cloud([Account(EMAIL, PASSWORD), Account(other, PASSWORD)], clock=clock) as cloud:
        budget = LoginBudget(max_per_day=3)
        for serial in ("122302045040", "122302045041", "122302045042"):
            gateway_source(cloud, clock, tmp_path, serial, budget=budget).token()
            clock.now += 60
        with pytest.raises(EnvoyError) as err:
            gateway_source(cloud, clock, tmp_path, "122302045043", budget=budget).token()
        assert err.value.code == "login_throttled" and "this account (all its gateways)" in err.value.message
        assert cloud.logins == 3
        assert gateway_source(cloud, clock, tmp_path, "122302045044", email=other, budget=budget).token()
        assert cloud.logins == 4


def test_a_login_that_cannot_be_counted_is_not_tried(tmp_path):
    clock = Clock(START)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "enlighten-logins.json").mkdir()  # the account's file cannot be written
    with serve_cloud([Account(EMAIL, PASSWORD)], clock=clock) as cloud:
        with pytest.raises(EnvoyError) as err:
            gateway_source(cloud, clock, folder, "122302045041").token()
    assert err.value.code == "login_throttled" and cloud.logins == 0
