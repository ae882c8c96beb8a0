"""`enphased.py probe`: connect to a gateway from the shell and show what the plugin would read.

Prints the firmware, the auth mode, the token expiry and every reading (a table, or JSON with --json);
exits 1 with a plain sentence when it cannot. Secrets are best given on stdin or in the environment:
a command line can be read by every local user (ps).
"""
import argparse
import dataclasses
import json
import logging
import os
import sys
from typing import Any, Dict, Iterator, Optional, Tuple

from envoy.auth import utc_date
from envoy.enlighten import CloudSettings
from envoy.token_store import FileTokenStore
from envoy.client import Credentials, Envoy
from envoy.errors import EnvoyError
from envoy.limits import REQUEST_DEADLINE_S

ENV_TOKEN, ENV_PASSWORD, ENV_ENVOY_PASSWORD = "ENPHASE_TOKEN", "ENPHASE_PASSWORD", "ENPHASE_ENVOY_PASSWORD"
DEFAULT_TOKEN_CACHE = os.path.join("~", ".cache", "jeedom-enphase", "probe-token.json")

# French first: the sentence a user of the plugin reads; the English detail follows.
FRENCH = {
    "unreachable": "Passerelle (ou cloud Enphase) injoignable.",
    "auth_failed": "Identifiants ou jeton refusés.",
    "token_expired": "Le jeton a expiré : collez-en un nouveau ou indiquez vos identifiants Enlighten.",
    "two_factor": "Ce compte Enlighten a la double authentification : collez un jeton.",
    "login_throttled": "Connexion à Enlighten différée pour éviter le blocage du compte.",
    "bad_response": "Réponse illisible de la passerelle ou du cloud Enphase.",
    "nothing_readable": "La passerelle répond, mais aucune de ses pages ne donne de mesure lisible.",
    "refused": "La passerelle a refusé la requête.",
}

EPILOG = f"""\
Secrets / secrets : a command line is visible to every local user (ps). Prefer --password-stdin or
--token-stdin, or the environment variables {ENV_TOKEN}, {ENV_PASSWORD} (Enlighten) and
{ENV_ENVOY_PASSWORD} (gateway, firmware < 7). Une ligne de commande est visible de tous les utilisateurs
locaux : préférez --password-stdin, --token-stdin ou les variables d'environnement ci-dessus.

A token fetched with Enlighten credentials is kept in {DEFAULT_TOKEN_CACHE} (mode 0600)
and reused, and logins are limited per day, so that Enphase does not lock the account.
"""


def add_gateway_arguments(parser: argparse.ArgumentParser) -> None:
    """How to reach and log in to a gateway (shared with `enphased.py diagnostics`)."""
    parser.add_argument("--host", required=True, help="address of the gateway (IP or name; http:// or https:// to force)")
    parser.add_argument("--token", help="token pasted from entrez.enphaseenergy.com (firmware >= 7)")
    parser.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    parser.add_argument("--username", help="Enlighten email, to fetch a token (firmware >= 7)")
    parser.add_argument("--password", help=f"Enlighten password (visible to other users: prefer --password-stdin or ${ENV_PASSWORD})")
    parser.add_argument("--password-stdin", action="store_true", help="read the Enlighten password from stdin")
    parser.add_argument("--serial", help="gateway serial for the token (default: the one the gateway gives)")
    parser.add_argument("--envoy-password", help=f"gateway password, firmware < 7 (prefer ${ENV_ENVOY_PASSWORD})")
    parser.add_argument("--installer", action="store_true", help="firmware < 7: log in as installer")
    parser.add_argument("--timeout", type=float, default=REQUEST_DEADLINE_S,
                        help=f"deadline of each request, whole, in seconds (default {REQUEST_DEADLINE_S:.0f})")
    parser.add_argument("--token-cache", default=DEFAULT_TOKEN_CACHE, help="where fetched tokens are kept ('' for nowhere)")
    cloud = parser.add_argument_group("Enphase cloud (to test against a stand-in)")
    cloud.add_argument("--enlighten-url", default=CloudSettings.enlighten_url, help="default: %(default)s")
    cloud.add_argument("--entrez-url", default=CloudSettings.entrez_url, help="default: %(default)s")
    cloud.add_argument("--cloud-ca", help="CA bundle to check the cloud's certificate with (default: the system's)")
    parser.add_argument("--verbose", action="store_true", help="log each step on stderr")


def check_gateway_arguments(parser: argparse.ArgumentParser, args) -> None:
    if args.token_stdin and args.password_stdin:
        parser.error("only one of --token-stdin and --password-stdin")


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="enphased.py probe", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Interroge une passerelle Enphase et affiche ses mesures. / "
                    "Probe an Enphase gateway and print its readings.",
    )
    add_gateway_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    check_gateway_arguments(parser, args)
    return args


def _credentials(args, stdin) -> Credentials:
    secret = stdin.readline().strip() if (args.token_stdin or args.password_stdin) else None
    return Credentials(
        token=secret if args.token_stdin else (args.token or os.environ.get(ENV_TOKEN) or None),
        username=args.username,
        enlighten_password=secret if args.password_stdin else (args.password or os.environ.get(ENV_PASSWORD) or None),
        serial=args.serial,
        password=args.envoy_password or os.environ.get(ENV_ENVOY_PASSWORD) or None,
        installer=args.installer,
    )


def envoy_from(args, stdin, err) -> Envoy:
    """The Envoy client the command line describes (secrets from stdin or the environment)."""
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, stream=err, format="%(levelname)s %(name)s: %(message)s")
    cache: Optional[FileTokenStore] = FileTokenStore(os.path.expanduser(args.token_cache)) if args.token_cache else None
    cloud = CloudSettings(args.enlighten_url, args.entrez_url, verify=args.cloud_ca or True)
    return Envoy(args.host, _credentials(args, stdin), store=cache, cloud=cloud, deadline_s=args.timeout)


def error_lines(exc: EnvoyError) -> str:
    return f"Erreur : {FRENCH.get(exc.code, exc.code)}\nError ({exc.code}): {exc.message}\n"


def _rows(value: Any, prefix: str = "") -> Iterator[Tuple[str, Any]]:
    """(dotted name, value) of every reading that has a value."""
    if dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            if item.name == "settings":
                continue  # a device's raw settings object, kept only to write it back whole
            yield from _rows(getattr(value, item.name), f"{prefix}.{item.name}" if prefix else item.name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _rows(item, f"{prefix}[{key}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _rows(item, f"{prefix}[{index}]")
    elif value is not None:
        yield prefix, value


def _probe(envoy: Envoy) -> Dict[str, Any]:
    info = envoy.connect()
    plan = envoy.probe()
    readings = {cadence: envoy.read(cadence) for cadence in ("general", "devices")}
    return {"info": info, "plan": plan, "readings": readings}


def _print_table(envoy: Envoy, result, out) -> None:
    info = result["info"]
    header = [
        ("Passerelle / Gateway", f"{info.serial} ({info.part_number or '?'})"),
        ("Firmware", info.firmware),
        ("URL", envoy.base_url),
        ("Authentification / Auth", envoy.auth_mode),
        ("Expiration du jeton / Token expiry", utc_date(envoy.token_expires) if envoy.token_expires else "-"),
    ]
    for cadence, readings in result["readings"].items():
        header.append((f"Lu / Read ({cadence})", ", ".join(result["plan"].paths[cadence]) or "-"))
    header.append(("Requêtes / Requests", envoy.requests_sent))
    width = max(len(name) for name, _ in header)
    for name, value in header:
        out.write(f"{name:<{width}}  {value}\n")
    seen = set()
    rows = []
    for readings in result["readings"].values():
        for name, value in _rows(readings):
            if name not in seen and not name.startswith("gateway."):
                seen.add(name)
                rows.append((name, value))
    out.write("\nMesures / Readings\n")
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        out.write(f"  {name:<{width}}  {value}\n")


def _as_json(envoy: Envoy, result) -> Dict[str, Any]:
    return {
        "gateway": dataclasses.asdict(result["info"]),
        "url": envoy.base_url,
        "auth": envoy.auth_mode,
        "token_expires": envoy.token_expires,
        "plan": {cadence: list(paths) for cadence, paths in result["plan"].paths.items()},
        "readings": {cadence: dataclasses.asdict(r) for cadence, r in result["readings"].items()},
        "requests_sent": envoy.requests_sent,
    }


def main(argv=None, stdin=None, out=None, err=None) -> int:
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    args = _arguments(sys.argv[1:] if argv is None else argv)
    envoy = envoy_from(args, stdin, err)
    try:
        result = _probe(envoy)
        if args.json:
            json.dump(_as_json(envoy, result), out, indent=2, default=str)
            out.write("\n")
        else:
            _print_table(envoy, result, out)
    except EnvoyError as exc:
        err.write(error_lines(exc))
        return 1
    finally:
        envoy.close()
    return 0
