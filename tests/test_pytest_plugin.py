"""The pytest plugin: real pytest runs of sample suites, their streams decoded."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from subunit2.event import Event
from subunit2.pytest_plugin import fold_outcome, subtest_id
from subunit2.reader import decode_bytes
from subunit2.status import FINAL_STATUSES as FINAL

SAMPLES = Path(__file__).parent / "samples" / "pytest_suite"
#: pytest 9 has a ``subtests`` fixture built in; before it, pytest-subtests had one.
HAS_SUBTESTS = int(pytest.__version__.split(".")[0]) >= 9 or bool(
    importlib.util.find_spec("pytest_subtests")
)
OUTCOMES = "test_outcomes.py"


def run_pytest(tmp_path: Path, *args: str, samples=("suite_outcomes.py",), env=None):
    """Run pytest in a subprocess on copies of sample modules; return the result."""
    for name in samples:
        shutil.copy(SAMPLES / name, tmp_path / name.replace("suite_", "test_", 1))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env=env,
    )


def finals(events: List[Event]) -> Dict[str, Event]:
    """Each test id's final-status event (failing the test if there are two)."""
    found: Dict[str, Event] = {}
    for event in events:
        if event.test_status in FINAL and event.test_status != "exists":
            assert event.test_id not in found, f"two final statuses: {event.test_id}"
            found[event.test_id] = event
    return found


def attachment(events: List[Event], test_id: str, name: str) -> str:
    return b"".join(
        e.file_bytes for e in events if e.test_id == test_id and e.file_name == name
    ).decode()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outcomes")
    done = run_pytest(tmp, "--subunit", "-q")
    return done, decode_bytes(done.stdout, non_subunit_name=None)


def test_inactive_unless_asked(tmp_path):
    done = run_pytest(tmp_path, "-q")
    assert b"failed" in done.stdout  # pytest's own report, not a stream
    assert not any(e.test_status for e in decode_bytes(done.stdout, None))


def junk_in(stdout: bytes) -> List[Event]:
    """Events made of bytes in stdout that are not subunit packets."""
    return [e for e in decode_bytes(stdout, "junk") if e.file_name == "junk"]


def test_stdout_holds_only_the_stream(outcomes):
    done, events = outcomes
    assert events
    assert junk_in(done.stdout) == []
    assert b"failed" in done.stderr  # the terminal report moved to stderr


def test_uncaptured_prints_do_not_corrupt_the_stream(tmp_path):
    done = run_pytest(tmp_path, "--subunit", "-s")
    assert junk_in(done.stdout) == []
    assert b"hello from stdout" in done.stderr
    assert finals(decode_bytes(done.stdout, None))


def test_each_outcome_folds_to_one_final_status(outcomes):
    done, events = outcomes
    statuses = {k: e.test_status for k, e in finals(events).items()}
    assert done.returncode == 1
    prefix = OUTCOMES + "::"
    assert statuses[prefix + "test_passes"] == "success"
    assert statuses[prefix + "test_fails"] == "fail"
    assert statuses[prefix + "test_skipped"] == "skip"
    assert statuses[prefix + "test_xfails"] == "xfail"
    assert statuses[prefix + "test_xpasses"] == "uxsuccess"
    assert statuses[prefix + "test_setup_error"] == "fail"
    assert statuses[prefix + "test_teardown_error"] == "fail"
    assert statuses[prefix + "test_param[1]"] == "success"
    assert statuses[prefix + "test_param[2]"] == "success"


def test_every_collected_test_is_enumerated_first(outcomes):
    _, events = outcomes
    exists = [e.test_id for e in events if e.test_status == "exists"]
    ran = [e.test_id for e in events if e.test_status == "inprogress"]
    top_level = [t for t in ran if " " not in t]
    assert sorted(exists) == sorted(top_level)
    assert events.index(next(e for e in events if e.test_status == "inprogress")) >= (
        len(exists)
    )


def test_captured_output_and_reports_are_attachments(outcomes):
    _, events = outcomes
    prefix = OUTCOMES + "::"
    assert "hello from stdout" in attachment(events, prefix + "test_passes", "stdout")
    assert "hello from stderr" in attachment(events, prefix + "test_passes", "stderr")
    assert "arithmetic is broken" in attachment(
        events, prefix + "test_fails", "traceback"
    )
    assert "setup exploded" in attachment(
        events, prefix + "test_setup_error", "traceback"
    )
    assert "teardown exploded" in attachment(
        events, prefix + "test_teardown_error", "traceback"
    )
    assert "not on this platform" in attachment(
        events, prefix + "test_skipped", "reason"
    )
    assert "still broken" in attachment(events, prefix + "test_xfails", "traceback")


@pytest.mark.skipif(not HAS_SUBTESTS, reason="this pytest has no subtests fixture")
def test_subtests_are_tests_with_their_parent(outcomes):
    _, events = outcomes
    parent = OUTCOMES + "::test_subtests"
    subs = {k: e for k, e in finals(events).items() if e.parent_test_id == parent}
    assert {k: e.test_status for k, e in subs.items()} == {
        parent + " [check] (i=0)": "success",
        parent + " [check] (i=1)": "fail",
        parent + " [check] (i=2)": "success",
    }
    assert "one is odd" in attachment(events, parent + " [check] (i=1)", "traceback")
    assert finals(events)[parent].test_status == "fail"
    passing = OUTCOMES + "::test_subtests_all_pass"
    assert finals(events)[passing].test_status == "success"
    assert finals(events)[passing + " (i=0)"].parent_test_id == passing


def test_events_are_timestamped(outcomes):
    _, events = outcomes
    assert all(e.timestamp is not None for e in events if e.test_id)
    test = OUTCOMES + "::test_passes"
    times = [e.timestamp for e in events if e.test_id == test and e.test_status]
    assert times == sorted(times)


def test_collect_only_emits_only_exists(tmp_path):
    done = run_pytest(tmp_path, "--subunit", "--collect-only", "-q")
    events = decode_bytes(done.stdout, None)
    assert {e.test_status for e in events} == {"exists"}
    assert len(events) == 11
    assert done.returncode == 0


def test_import_error_is_a_failing_test(tmp_path):
    done = run_pytest(tmp_path, "--subunit", samples=("suite_import_error.py",))
    events = decode_bytes(done.stdout, None)
    final = finals(events)
    assert final["test_import_error.py"].test_status == "fail"
    assert "a_module_that_does_not_exist" in attachment(
        events, "test_import_error.py", "traceback"
    )
    assert done.returncode != 0


def test_a_pytest_started_from_an_xdist_worker_still_streams(tmp_path):
    # Workers export PYTEST_XDIST_WORKER, and a test's own pytest inherits it.
    env = dict(os.environ, PYTEST_XDIST_WORKER="gw3")
    done = run_pytest(tmp_path, "--subunit", samples=("suite_parallel.py",), env=env)
    assert len(finals(decode_bytes(done.stdout, None))) == 8
    assert junk_in(done.stdout) == []


def test_subunit_file_keeps_the_terminal_report(tmp_path):
    out = tmp_path / "out.subunit"
    done = run_pytest(tmp_path, f"--subunit-file={out}", "-q")
    assert b"failed" in done.stdout
    assert finals(decode_bytes(out.read_bytes(), None))


def test_xdist_workers_get_one_route_code_each(tmp_path):
    pytest.importorskip("xdist")
    done = run_pytest(
        tmp_path, "--subunit", "-n", "2", "-p", "xdist", samples=("suite_parallel.py",)
    )
    events = decode_bytes(done.stdout, None)
    assert junk_in(done.stdout) == []
    final = finals(events)
    assert len(final) == 8
    assert {e.test_status for e in final.values()} == {"success"}
    assert {e.route_code for e in final.values()} <= {"gw0", "gw1"}
    assert all(e.route_code for e in final.values())
    exists = [e.test_id for e in events if e.test_status == "exists"]
    assert sorted(exists) == sorted(final)


class FakeReport:
    def __init__(self, when, outcome, wasxfail=None):
        self.when = when
        self.outcome = outcome
        self.failed = outcome == "failed"
        self.skipped = outcome == "skipped"
        if wasxfail is not None:
            self.wasxfail = wasxfail


def test_fold_outcome_rules():
    ok = FakeReport("setup", "passed"), FakeReport("teardown", "passed")
    assert fold_outcome([ok[0], FakeReport("call", "passed"), ok[1]]) == "success"
    assert fold_outcome([ok[0], FakeReport("call", "passed"), ok[1]], 1) == "fail"
    assert fold_outcome([FakeReport("setup", "skipped"), ok[1]]) == "skip"
    xpass = FakeReport("call", "passed", wasxfail="")
    assert fold_outcome([ok[0], xpass, ok[1]]) == "uxsuccess"
    xfail = FakeReport("call", "skipped", wasxfail="")
    assert fold_outcome([ok[0], xfail, ok[1]]) == "xfail"
    broken = FakeReport("teardown", "failed")
    assert fold_outcome([ok[0], FakeReport("call", "passed"), broken]) == "fail"


def test_subtest_id_matches_pytest_naming():
    assert subtest_id("m.py::t", "msg", {"i": "1"}) == "m.py::t [msg] (i=1)"
    assert subtest_id("m.py::t", None, {}) == "m.py::t (<subtest>)"
