"""What a Jeedom user reads of the catalog: every state word of a gateway shown in words of the user's language
(French, with English), never a raw enum; never English in brackets inside French; no ASCII apostrophe, which
Jeedom strips from command names ("Taux d'autoproduction" became "Taux dautoproduction")."""
import re
import time

import pytest

import catalog
from conftest import recorded_gateways
from simulator.synthetic import SyntheticGateway
from test_parse_recorded import read_recorded
from test_synthetic_parse import HOUSES, read

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

# String commands whose value is the user's or the utility's own text, not a word of the gateway's vocabulary.
FREE_TEXT = {
    ("gateway", "grid_profile"),  # the grid profile's name, as the utility or the installer named it
    ("dry_contact", "load_name"),  # the name the installer gave the load
    ("meter", "status_flags"),  # the CT's flags as the gateway words them, comma-separated ("none" is labelled)
}
# A device's last report: a date and time as Jeedom shows one, "Y-m-d H:i:s", no word.
DATES = {(kind.kind, "last_report") for kind in catalog.KINDS.values() if kind.find("last_report")}
DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def every_command():
    for kind in catalog.KINDS.values():
        for command in kind.commands:
            yield kind, command


def test_every_state_word_has_a_label_unless_it_is_free_text():
    for kind, command in every_command():
        if command.subtype == "string" and (kind.kind, command.logical_id) not in FREE_TEXT | DATES:
            assert command.labels, f"{kind.kind}.{command.logical_id}: raw words would reach the dashboard"
        if command.subtype == "select":
            assert command.labels, f"{kind.kind}.{command.logical_id}: a select needs its choices' labels"
    assert all(catalog.find_command(k, c) for k, c in FREE_TEXT), "FREE_TEXT names a command that is gone"


def _published_words(readings):
    for eq in catalog.equipments(readings):
        for logical_id, value in catalog.equipment_values(eq).items():
            command = eq.kind.find(logical_id)
            if (eq.kind.kind, logical_id) in DATES:
                assert DATE.fullmatch(value), (eq.logical_id, logical_id, value)
            elif command.subtype == "string" and (eq.kind.kind, logical_id) not in FREE_TEXT:
                yield f"{eq.kind.kind}.{logical_id}", command, value


@pytest.mark.parametrize("name", recorded_gateways())
def test_every_state_word_of_the_recorded_gateways_is_labelled(name):
    _, readings = read_recorded(name)
    raw = {(where, value) for where, command, value in _published_words(readings)
           if value not in {word for word, _, _ in command.labels}}
    assert not raw, f"{name}: words shown raw: {sorted(raw)}"


@pytest.mark.parametrize("house", sorted(HOUSES))
def test_every_state_word_of_the_demo_is_labelled(house):
    gateway = SyntheticGateway(clock=lambda: time.mktime((2025, 6, 21, 13, 0, 0, 0, 0, -1)), seed=5, **HOUSES[house])
    raw = {(where, value) for where, command, value in _published_words(read(gateway))
           if value not in {word for word, _, _ in command.labels}}
    assert not raw, f"words shown raw: {sorted(raw)}"


def _texts():
    """(where, French, English) of every name and label of the catalog."""
    for kind in catalog.KINDS.values():
        yield kind.kind, kind.fr, kind.en
        for command in kind.commands:
            yield f"{kind.kind}.{command.logical_id}", command.fr, command.en
            for word, fr, en in command.labels:
                yield f"{kind.kind}.{command.logical_id}={word}", fr, en
    for measurement, (fr, en) in catalog.METER_NAMES.items():
        yield f"meter {measurement}", fr, en


def _bracketed(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth, current = depth + 1, ""
        elif char == ")" and depth:
            depth -= 1
            parts.append(current.strip())
        elif depth:
            current += char
    return parts


def test_french_names_carry_no_english_in_brackets():
    mixed = []
    for where, fr, en in _texts():
        raw_word = where.split("=", 1)[1] if "=" in where else ""
        for part in _bracketed(fr):
            english = {en.lower(), raw_word.lower()} | set(_bracketed(en.lower()))
            if part.lower() in english and part.lower() not in fr.lower().replace(f"({part.lower()})", ""):
                mixed.append(f"{where}: {fr!r}")
    assert not mixed, "English in brackets inside French: " + ", ".join(mixed)


def test_select_choices_reach_jeedom_in_each_language():
    for kind, command in every_command():
        if command.subtype == "select":
            described = catalog.describe_command(command, 0)["listValue"]
            assert set(described) == {"fr_FR", "en_US"}
            for language, index in (("fr_FR", 1), ("en_US", 2)):
                assert described[language] == ";".join(f"{c[0]}|{c[index]}" for c in command.labels)


# Jeedom removes these from equipment and command names (cleanComponanteName): "Taux d'autoproduction du jour"
# became "Taux dautoproduction du jour". The typographic apostrophe (’) stays.
STRIPPED_FROM_NAMES = set("&#][%\\/'\"*")


def test_no_name_loses_a_character_to_jeedom():
    names = [(kind.kind, kind.fr, kind.en) for kind in catalog.KINDS.values()]
    names += [(f"{kind.kind}.{c.logical_id}", c.fr, c.en) for kind, c in every_command()]
    names += [(f"meter {m}", fr, en) for m, (fr, en) in catalog.METER_NAMES.items()]
    lost = [f"{where}: {name!r}" for where, fr, en in names for name in (fr, en) if STRIPPED_FROM_NAMES & set(name)]
    assert not lost, "Jeedom would strip characters from: " + ", ".join(lost)
    assert len(names) > 100  # every kind, command and CT of the catalog was looked at
