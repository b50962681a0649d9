"""The package's front: every public name resolves, and loading is lazy."""

from __future__ import annotations

import subprocess
import sys

import pytest

import subunit2


@pytest.mark.parametrize("name", subunit2.__all__)
def test_every_public_name_resolves_from_its_module(name):
    value = getattr(subunit2, name)
    assert value is not None
    assert name in dir(subunit2)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        subunit2.no_such_name  # noqa: B018


def test_importing_the_package_loads_no_submodule_until_asked():
    code = (
        "import sys, subunit2\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('subunit2.'))\n"
        "print(loaded)\n"
        "subunit2.Summary\n"
        "print('subunit2.summary' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"
