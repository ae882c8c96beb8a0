"""Each fact about the gateway is written once in the daemon: in envoy/endpoints.py. The simulator keeps its
own copy on purpose (it plays the gateway) and is not searched; docstrings may name an endpoint."""
import ast
import re
from pathlib import Path

import pytest

from envoy import endpoints

DAEMON = Path(__file__).resolve().parents[2] / "resources" / "enphased"
HOME = DAEMON / "envoy" / "endpoints.py"


def _daemon_sources():
    found = []
    for path in sorted(DAEMON.rglob("*.py")):
        if path == HOME or "simulator" in path.relative_to(DAEMON).parts:
            continue
        found.append((path.relative_to(DAEMON).as_posix(), path.read_text(encoding="utf-8")))
    assert len(found) > 10, f"no daemon sources under {DAEMON}"
    return found


SOURCES = _daemon_sources()


def _docstrings(tree):
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def _string_literals(source):
    """Every string constant of a module but its docstrings."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def _sequences_of_words(source):
    """Every tuple, list or set literal whose items are all strings, and every Jeedom select list written
    out ("word|Label;word|Label"), each as the set of its words."""
    tree = ast.parse(source)
    sequences = [{item.value for item in node.elts} for node in ast.walk(tree)
                 if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts
                 and all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts)]
    lists = [set(re.findall(r"(?:^|;)([^|;]+)\|", text)) for text in _string_literals(source) if "|" in text]
    return sequences + lists


PATHS = sorted(value for name, value in vars(endpoints).items()
               if name.isupper() and isinstance(value, str) and value.startswith("/"))
CUT_OFFS = sorted((name, value) for name, value in vars(endpoints).items()
                  if name.endswith("_FROM") and isinstance(value, tuple) and len(value) >= 3)
VOCABULARIES = sorted((name, value) for name, value in vars(endpoints).items()
                      if name.isupper() and isinstance(value, tuple) and len(value) >= 2
                      and all(isinstance(word, str) for word in value))


def test_the_facts_are_found_where_they_live():
    # The searches below would pass on nothing: make sure there is something to search for.
    assert endpoints.PRODUCTION_POWER in PATHS and endpoints.TARIFF in PATHS
    assert ("TARIFF_WRITES_IGNORED_FROM", (8, 2, 4225)) in CUT_OFFS
    assert dict(VOCABULARIES)["STORAGE_MODES"] == ("self-consumption", "economy", "backup")
    home = HOME.read_text(encoding="utf-8")
    assert len(re.findall(r"\b603980032\b", home)) == 1 and len(re.findall(r"\(8, 2, 4225\)", home)) == 1


@pytest.mark.parametrize("path", PATHS)
def test_an_endpoint_path_is_written_once(path):
    again = [name for name, source in SOURCES if path in _string_literals(source)]
    assert again == [], f"{path} is written again in {again}: use envoy.endpoints"


def test_the_gateway_device_id_is_written_once():
    again = [name for name, source in SOURCES if re.search(r"\b%d\b" % endpoints.GATEWAY_DEVICE_ID, source)]
    assert again == [], f"the gateway's device id is written again in {again}: use envoy.endpoints"


@pytest.mark.parametrize("name,version", CUT_OFFS)
def test_a_firmware_cut_off_is_written_once(name, version):
    dotted = r"\b" + r"\.".join(str(part) for part in version) + r"\b"
    as_tuple = r"\(\s*" + r"\s*,\s*".join(str(part) for part in version) + r"\s*,?\s*\)"
    again = [file for file, source in SOURCES if re.search(dotted, source) or re.search(as_tuple, source)]
    assert again == [], f"{name} ({version}) is written again in {again}: use envoy.endpoints"


@pytest.mark.parametrize("name,words", VOCABULARIES)
def test_a_vocabulary_of_the_gateway_is_written_once(name, words):
    # A sequence holding two of its words or more is the vocabulary written again (a part of it, or all).
    again = [file for file, source in SOURCES
             if any(len(found & set(words)) >= 2 for found in _sequences_of_words(source))]
    assert again == [], f"{name} {words} is written again in {again}: use envoy.endpoints"


def test_the_search_finds_a_fact_written_twice():
    # The searches themselves, on a module that repeats each kind of fact.
    repeated = ('PATH = "/admin/lib/tariff"\nEID = 603980032\nCUT = (8, 2, 4225)\n'
                'MODES = ("backup", "economy")\nLIST = "off|Arrêt;auto|Automatique"\n')
    assert endpoints.TARIFF in _string_literals(repeated)
    assert re.search(r"\b%d\b" % endpoints.GATEWAY_DEVICE_ID, repeated)
    assert any(len(found & set(endpoints.STORAGE_MODES)) >= 2 for found in _sequences_of_words(repeated))
    assert any(len(found & set(endpoints.GENERATOR_MODES)) >= 2 for found in _sequences_of_words(repeated))
    assert endpoints.TARIFF not in _string_literals('"""/admin/lib/tariff: a docstring"""\n')
