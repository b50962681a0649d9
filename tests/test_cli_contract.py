"""The contract every command shares, checked across all of them at once.

Each console script declared in setup.cfg must: document itself and its exit codes
under --help; answer a bad option with exit 2 and one line on stderr; answer a
missing input file with exit 3 and one line; never show a traceback on garbage; and,
when it renders a verdict, accept both --no-verdict and --exit-zero.
"""

from __future__ import annotations

import configparser
import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from subunit2 import encode

ROOT = Path(__file__).resolve().parent.parent


def console_scripts() -> Dict[str, str]:
    """Script name to module, as setup.cfg declares them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    entries = config["options.entry_points"]["console_scripts"].strip().splitlines()
    scripts = {}
    for entry in entries:
        name, target = (part.strip() for part in entry.split("=", 1))
        scripts[name] = target.split(":")[0]
    return scripts


SCRIPTS = console_scripts()
#: Commands whose positional argument is not an input file.
NO_INPUT_FILE = {"subunit-output", "subunit-tags", "subunit-combine"}
#: Commands that exit 1 on a failing stream unless told not to judge.
VERDICT = {
    "subunit-stats": [],
    "subunit-trace": [],
    "subunit2html": ["-o", os.devnull],
    "subunit2junitxml": ["-o", os.devnull],
    "subunit2pyunit": [],
}
FAILING = encode(test_id="t", test_status="inprogress") + encode(
    test_id="t", test_status="fail"
)


def run(module: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_every_declared_script_has_a_main_in_the_filters_package():
    assert len(SCRIPTS) >= 19
    for name, module in SCRIPTS.items():
        assert module.startswith("subunit2.filters."), name
        assert callable(importlib.import_module(module).main), name


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_documents_the_exit_codes(name):
    done = run(SCRIPTS[name], "--help")
    assert done.returncode == 0
    assert b"exit codes:" in done.stdout
    assert done.stderr == b""


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_bad_option_is_one_line_and_exit_2(name, tmp_path):
    args = ["-d", str(tmp_path / "out")] if name == "subunit2disk" else []
    done = run(SCRIPTS[name], *args, "--no-such-option")
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{name}: ")
    assert "--no-such-option" in lines[0]


@pytest.mark.parametrize("name", sorted(set(SCRIPTS) - NO_INPUT_FILE))
def test_a_missing_input_file_is_one_line_and_exit_3(name, tmp_path):
    missing = str(tmp_path / "missing.subunit")
    args = ["-d", str(tmp_path / "out")] if name == "subunit2disk" else []
    done = run(SCRIPTS[name], *args, missing)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{name}: ") and "missing.subunit" in lines[0]


GARBAGE = bytes(range(256)) * 4 + b"\xb3\x29\x01\x0c\x03foo\x08\x55\x00\x00" * 3


@pytest.mark.parametrize(
    "name", sorted(set(SCRIPTS) - {"subunit-output", "subunit-combine"})
)
def test_garbage_input_never_shows_a_traceback(name, tmp_path):
    args = ["-d", str(tmp_path / "out")] if name == "subunit2disk" else []
    done = run(SCRIPTS[name], *args, stdin=GARBAGE)
    assert b"Traceback" not in done.stderr
    assert done.returncode in (0, 1, 3), done.stderr


@pytest.mark.parametrize("name", sorted(VERDICT))
def test_verdict_commands_judge_unless_told_not_to(name):
    module, extra = SCRIPTS[name], VERDICT[name]
    assert run(module, *extra, stdin=FAILING).returncode == 1
    assert run(module, *extra, "--no-verdict", stdin=FAILING).returncode == 0
    assert run(module, *extra, "--exit-zero", stdin=FAILING).returncode == 0
