"""The plugin declares exactly the runtime dependencies of the design."""
import json

import pytest

from conftest import REPO

pytestmark = pytest.mark.pure  # no socket, thread or process: part of `make test-fast`

RUNTIME = {"requests", "pyjwt", "lxml", "schedule"}


def test_packages_json_declares_exactly_the_runtime_dependencies():
    declared = json.loads((REPO / "plugin_info" / "packages.json").read_text())["pip3"]
    assert set(declared) == RUNTIME


def test_dev_requirements_include_the_runtime_dependencies():
    lines = (REPO / "requirements-dev.txt").read_text().splitlines()
    names = {line.split("#")[0].strip() for line in lines} - {""}
    assert RUNTIME <= names
