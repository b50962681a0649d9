"""``python -m subunit2.run``: sample suites run in subprocesses, events decoded."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, List

import pytest

from subunit2 import Aggregator, Summary, TestRecord, decode_bytes, deliver_all
from subunit2.event import Event

SAMPLES = os.path.join(os.path.dirname(__file__), "samples", "unittest_suite")
BASIC = os.path.join(SAMPLES, "basic")
DISCOVER = ["discover", "-s", ".", "-p", "sample_*.py"]
OUT = "samplepkg.sample_outcomes."
FIX = "samplepkg.sample_fixtures."


def run(*args: str, cwd: str = BASIC) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "subunit2.run", *args],
        cwd=cwd,
        capture_output=True,
        timeout=60,
    )


def records(events: List[Event]) -> Dict[str, TestRecord]:
    found: Dict[str, TestRecord] = {}
    aggregator = Aggregator(lambda r: found.__setitem__(r.test_id, r))
    aggregator.startTestRun()
    deliver_all(events, aggregator)
    aggregator.stopTestRun()
    return found


@pytest.fixture(scope="module")
def full_run():
    proc = run(*DISCOVER)
    events = decode_bytes(proc.stdout)
    return proc, events, records(events)


def test_every_outcome_maps_to_its_status(full_run):
    _, _, recs = full_run
    assert {name: recs[OUT + "Outcomes." + name].status for name in (
        "test_pass", "test_fail", "test_error", "test_skip", "test_xfail",
        "test_uxsuccess",
    )} == {
        "test_pass": "success",
        "test_fail": "fail",
        "test_error": "fail",
        "test_skip": "skip",
        "test_xfail": "xfail",
        "test_uxsuccess": "uxsuccess",
    }  # fmt: skip
    assert b"AssertionError: 1 != 2" in (
        recs[OUT + "Outcomes.test_fail"].attachments["traceback"].content
    )
    assert b"RuntimeError: boom" in (
        recs[OUT + "Outcomes.test_error"].attachments["traceback"].content
    )
    assert recs[OUT + "Outcomes.test_skip"].attachments["reason"].content == (
        b"not today"
    )
    assert b"expected to fail" in (
        recs[OUT + "Outcomes.test_xfail"].attachments["traceback"].content
    )


def test_every_event_is_a_timestamped_packet(full_run):
    proc, events, _ = full_run
    assert events
    # Non-subunit bytes would decode as events without a timestamp.
    assert all(e.timestamp is not None for e in events)
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)


def test_each_test_starts_inprogress_and_ends_once(full_run):
    _, events, recs = full_run
    started = [e.test_id for e in events if e.test_status == "inprogress"]
    assert OUT + "Outcomes.test_pass" in started
    for test_id in started:
        finals = [
            e for e in events if e.test_id == test_id and e.test_status != "inprogress"
        ]
        assert [e.test_status is not None for e in finals][-1]
        assert sum(e.test_status is not None for e in finals) == 1


def test_output_is_captured_as_the_tests_attachments(full_run):
    _, _, recs = full_run
    passing = recs[OUT + "Outcomes.test_pass"]
    assert passing.attachments["stdout"].content == b"out from test_pass\n"
    assert passing.attachments["stderr"].content == b"err from test_pass\n"
    assert passing.attachments["stdout"].eof
    assert passing.attachments["stdout"].mime_type == "text/plain;charset=utf8"
    raw = recs[OUT + "Hostile.test_bytes_output"].attachments["stdout"].content
    assert raw == b"raw \xff bytes\n"
    assert "stdout" not in recs[OUT + "Outcomes.test_fail"].attachments


def test_output_outside_tests_is_a_non_test_event(full_run):
    _, events, _ = full_run
    stray = [
        e.file_bytes for e in events if e.test_id is None and e.file_name == "stdout"
    ]
    assert stray == [b"importing sample_fixtures\n"]  # a line at a time


def test_writes_to_fd1_and_replaced_stdout_cannot_corrupt_the_stream(full_run):
    proc, events, recs = full_run
    assert b"straight to fd 1" not in proc.stdout
    assert b"straight to fd 1" in proc.stderr
    assert recs[OUT + "Hostile.test_replaces_stdout"].status == "success"
    # Tests after the one that replaced sys.stdout are still captured.
    assert recs[OUT + "Hostile.test_writes_fd1"].status == "success"
    assert recs[OUT + "Outcomes.test_pass"].attachments["stdout"].content


def test_subtests_are_tests_naming_their_parent(full_run):
    _, _, recs = full_run
    mixed = OUT + "Subtests.test_mixed"
    subs = {k: v for k, v in recs.items() if k.startswith(mixed + " ")}
    assert {k: (v.status, v.parent_test_id) for k, v in subs.items()} == {
        f"{mixed} (i=0)": ("success", mixed),
        f"{mixed} (i=1)": ("fail", mixed),
        f"{mixed} (i=2)": ("success", mixed),
    }
    assert b"1 == 1" in subs[f"{mixed} (i=1)"].attachments["traceback"].content
    assert recs[mixed].status == "fail"
    assert recs[mixed].parent_test_id is None


def test_parent_outcome_follows_from_passing_and_skipped_subtests(full_run):
    _, _, recs = full_run
    all_pass = OUT + "Subtests.test_all_pass"
    assert recs[all_pass].status == "success"
    assert recs[f"{all_pass} (i=1)"].status == "success"
    skipped = OUT + "Subtests.test_skipped_subtest"
    assert recs[f"{skipped} (case='a')"].status == "skip"
    assert recs[f"{skipped} (case='a')"].parent_test_id == skipped
    assert recs[f"{skipped} (case='a')"].attachments["reason"].content == b"skip a"
    assert recs[f"{skipped} (case='b')"].status == "success"
    assert recs[skipped].status == "success"


def test_subtests_end_before_their_parent(full_run):
    _, events, _ = full_run
    mixed = OUT + "Subtests.test_mixed"
    order = [
        e.test_id
        for e in events
        if e.test_status not in (None, "inprogress")
        and (e.test_id or "").startswith(mixed)
    ]
    assert order[-1] == mixed
    assert len(order) == 4


def test_an_unimportable_module_is_a_failing_test_named_after_it(full_run):
    _, _, recs = full_run
    broken = recs["samplepkg.sample_broken_import"]
    assert broken.status == "fail"
    assert b"samplepkg_missing_dependency" in broken.attachments["traceback"].content


def test_a_broken_class_fixture_is_a_failing_unrunnable_test(full_run):
    _, _, recs = full_run
    fixture = recs[f"setUpClass ({FIX}BrokenClassFixture)"]
    assert fixture.status == "fail"
    assert fixture.runnable is False
    assert b"class fixture broke" in fixture.attachments["traceback"].content
    assert f"{FIX}BrokenClassFixture.test_never_runs" not in recs


def test_failing_run_exits_1_and_exit_zero_makes_it_0(full_run):
    proc, events, _ = full_run
    assert proc.returncode == 1
    summary = Summary()
    summary.startTestRun()
    deliver_all(events, summary)
    summary.stopTestRun()
    assert not summary.wasSuccessful()
    assert summary.incomplete == []
    assert run("--exit-zero", *DISCOVER).returncode == 0


def test_passing_run_by_name_exits_0():
    proc = run(OUT + "Outcomes.test_pass", OUT + "Subtests.test_all_pass")
    assert proc.returncode == 0, proc.stderr
    recs = records(decode_bytes(proc.stdout))
    assert {k: v.status for k, v in recs.items() if v.parent_test_id is None} == {
        OUT + "Outcomes.test_pass": "success",
        OUT + "Subtests.test_all_pass": "success",
    }


def test_list_enumerates_without_running():
    proc = run("--list", *DISCOVER)
    events = decode_bytes(proc.stdout)
    statuses = {e.test_status for e in events if e.test_status}
    assert statuses == {"exists"}
    ids = [e.test_id for e in events if e.test_status == "exists"]
    assert OUT + "Subtests.test_mixed" in ids
    assert len(ids) == len(set(ids)) == 17
    broken = records(events)["samplepkg.sample_broken_import"]
    assert b"samplepkg_missing_dependency" in broken.attachments["traceback"].content
    assert proc.returncode == 1  # the import error is not hidden
    assert run("--list", "--exit-zero", *DISCOVER).returncode == 0


def test_load_list_runs_only_the_listed_ids(tmp_path):
    wanted = tmp_path / "ids.txt"
    wanted.write_text(
        f"{OUT}Outcomes.test_pass\n\n"
        f"{OUT}Subtests.test_all_pass (i=1)\n"  # a subtest id runs its parent
        f"{FIX}WithClassFixture.test_two\n"
        f"{OUT}Outcomes.test_no_such_test\n"
    )
    proc = run("--load-list", str(wanted), *DISCOVER)
    recs = records(decode_bytes(proc.stdout))
    tops = {k: v.status for k, v in recs.items() if v.parent_test_id is None}
    assert tops == {
        f"{FIX}WithClassFixture.test_two": "success",
        f"{OUT}Outcomes.test_pass": "success",
        f"{OUT}Subtests.test_all_pass": "success",
        f"{OUT}Outcomes.test_no_such_test": "fail",
    }
    missing = recs[f"{OUT}Outcomes.test_no_such_test"]
    assert b"no test with this id" in missing.attachments["reason"].content
    assert proc.returncode == 1


def test_enumerate_announces_every_test_to_run_before_running(tmp_path):
    events = decode_bytes(run("--enumerate", *DISCOVER).stdout)
    first_run = next(i for i, e in enumerate(events) if e.test_status == "inprogress")
    announced = [e.test_id for e in events[:first_run] if e.test_status == "exists"]
    assert len(announced) == 17
    assert not any(e.test_status == "exists" for e in events[first_run:])
    wanted = tmp_path / "ids.txt"
    wanted.write_text(f"{OUT}Outcomes.test_pass\n")
    events = decode_bytes(
        run("--enumerate", "--load-list", str(wanted), *DISCOVER).stdout
    )
    assert [e.test_id for e in events if e.test_status == "exists"] == [
        f"{OUT}Outcomes.test_pass"
    ]


def test_failfast_stops_at_the_first_failure():
    proc = run("--failfast", OUT + "Outcomes")
    recs = records(decode_bytes(proc.stdout))
    # Alphabetical order: test_error fails first, nothing after it runs.
    assert list(recs) == [OUT + "Outcomes.test_error"]
    assert proc.returncode == 1


def test_locals_show_in_tracebacks_only_when_asked():
    test = OUT + "Outcomes.test_fail"
    with_locals = records(decode_bytes(run("--locals", test).stdout))
    plain = records(decode_bytes(run(test).stdout))
    assert b"visible-with-locals" in with_locals[test].attachments["traceback"].content
    assert b"visible-with-locals" not in plain[test].attachments["traceback"].content


def test_no_capture_leaves_output_outside_the_tests():
    test = OUT + "Outcomes.test_pass"
    proc = run("--no-capture", test)
    events = decode_bytes(proc.stdout)
    assert "stdout" not in records(events)[test].attachments
    stray = b"".join(
        e.file_bytes for e in events if e.test_id is None and e.file_name == "stdout"
    )
    assert stray == b"out from test_pass\n"
    assert b"err from test_pass" in proc.stderr


def test_route_code_and_v2_only_apply_to_every_test_event():
    proc = run("--route-code", "w1", "--v2-only", OUT + "Subtests.test_mixed")
    events = [e for e in decode_bytes(proc.stdout) if e.test_id]
    assert events and {e.route_code for e in events} == {"w1"}
    assert {e.parent_test_id for e in events} == {None}


@pytest.mark.parametrize(
    "args",
    [
        ["samplepkg.counters.IMPORTS"],  # not a test
        ["discover", "-s", "no_such_directory"],
        ["--load-list", "no_such_file.txt"],
    ],
)
def test_bad_arguments_give_one_line_and_no_traceback(args):
    proc = run(*args)
    assert proc.returncode in (2, 3)
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m subunit2.run: ")


def test_unknown_option_is_a_usage_error():
    assert run("--no-such-option").returncode == 2


def test_help_lists_the_exit_codes():
    proc = run("--help")
    assert proc.returncode == 0
    assert b"exit codes:" in proc.stdout and b"--load-list" in proc.stdout


def test_positional_discover_arguments_and_k_patterns_select_tests():
    proc = run("discover", ".", "sample_outcomes.py", "-k", "test_pass")
    recs = records(decode_bytes(proc.stdout))
    assert {k: v.status for k, v in recs.items()} == {
        OUT + "Outcomes.test_pass": "success"
    }
    assert proc.returncode == 0


def test_a_name_that_cannot_be_loaded_is_a_failing_test_named_as_given():
    names = [OUT + "Outcomes.test_nope", "samplepkg.no_such_module"]
    proc = run(*names)
    recs = records(decode_bytes(proc.stdout))
    assert {k: v.status for k, v in recs.items()} == dict.fromkeys(names, "fail")
    assert b"test_nope" in recs[names[0]].attachments["traceback"].content
    assert proc.returncode == 1
