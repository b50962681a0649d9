"""subunit2pyunit: the unittest-style report, its verdict and its subtests."""

from __future__ import annotations

import datetime
import io
import re
import subprocess
import sys

from subunit2 import Event, encode, textreport
from subunit2.filters import subunit2pyunit
from subunit2.textreport import TextReport

MODULE = "subunit2.filters.subunit2pyunit"
UTC = datetime.timezone.utc
RULE = "=" * 70
THIN = "-" * 70


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def at(second: int) -> datetime.datetime:
    return datetime.datetime(2024, 1, 1, 0, 0, second, tzinfo=UTC)


def stream(*events: Event) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


TRACEBACK = b"Traceback (most recent call last):\n  boom\nAssertionError: 2 != 3\n"
FAILING = stream(
    Event(test_id="m.T.test_a", test_status="inprogress", timestamp=at(0)),
    Event(
        test_id="m.T.test_a (i=1)", test_status="success", parent_test_id="m.T.test_a"
    ),
    Event(
        test_id="m.T.test_a (i=2)",
        test_status="fail",
        parent_test_id="m.T.test_a",
        file_name="traceback",
        file_bytes=TRACEBACK,
        eof=True,
        mime_type="text/x-traceback;charset=utf8",
    ),
    Event(test_id="m.T.test_a", test_status="fail", timestamp=at(1)),
    Event(
        test_id="m.T.test_b",
        test_status="skip",
        file_name="reason",
        file_bytes=b"no db",
        eof=True,
        mime_type="text/plain",
    ),
    Event(test_id="m.T.test_c", test_status="success", timestamp=at(2)),
    Event(test_id="m.T.test_d", test_status="xfail"),
    Event(test_id="m.T.test_e", test_status="uxsuccess", route_code="1"),
    Event(test_id="m.T.test_f", test_status="inprogress"),
)
SUMMARY = (
    f"{THIN}\nRan 6 tests (2 subtests) in 2.000s\n\n"
    "FAILED (failures=2, unexpected successes=1, incomplete=1, skipped=1,"
    " expected failures=1)\n"
)


def test_dots_failures_with_tracebacks_and_the_summary():
    result = run(stdin=FAILING)
    assert result.returncode == 1
    assert result.stderr == b""
    text = result.stdout.decode()
    assert text.startswith("FFs.xuE\n")
    assert text.endswith(SUMMARY)
    assert (
        f"{RULE}\nFAIL: m.T.test_a (i=2)\n  subtest of: m.T.test_a\n"
        f"{THIN}\n{TRACEBACK.decode()}\n"
    ) in text
    assert f"{RULE}\nUNEXPECTED SUCCESS: m.T.test_e\n  route code: 1\n{THIN}\n" in text
    assert f"{RULE}\nINCOMPLETE: m.T.test_f\n{THIN}\n" in text
    assert text.count(RULE) == 4


def test_verbose_lines_put_subtests_under_their_parent():
    result = run("-v", stdin=FAILING)
    lines = result.stdout.decode().split("\n")
    assert lines[:8] == [
        "m.T.test_a ... FAIL",
        "  m.T.test_a (i=1) ... ok",
        "  m.T.test_a (i=2) ... FAIL",
        "m.T.test_b ... skipped 'no db'",
        "m.T.test_c ... ok",
        "m.T.test_d ... expected failure",
        "m.T.test_e ... unexpected success",
        "m.T.test_f ... INCOMPLETE (no final status)",
    ]


def test_no_verdict_reports_the_same_and_exits_zero():
    judged = run(stdin=FAILING)
    unjudged = run("--no-verdict", stdin=FAILING)
    assert unjudged.returncode == 0
    assert unjudged.stdout == judged.stdout


def test_a_passing_run_says_ok_with_its_counts():
    passing = stream(
        Event(test_id="a", test_status="success"),
        Event(test_id="b", test_status="skip"),
        Event(test_id="c", test_status="xfail"),
        Event(test_id="listed", test_status="exists"),
    )
    result = run(stdin=passing)
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.startswith(".sx\n" + THIN + "\nRan 3 tests in ")
    assert text.endswith("s\n\nOK (skipped=1, expected failures=1)\n")
    one = run(stdin=stream(Event(test_id="a", test_status="success", timestamp=at(1))))
    assert one.stdout.decode() == f".\n{THIN}\nRan 1 test in 0.000s\n\nOK\n"


def test_nested_subtests_and_orphans_are_shown():
    data = stream(
        Event(test_id="p", test_status="inprogress"),
        Event(test_id="p/c", test_status="inprogress", parent_test_id="p"),
        Event(test_id="p/c/g", test_status="success", parent_test_id="p/c"),
        Event(test_id="p/c", test_status="success", parent_test_id="p"),
        Event(test_id="p", test_status="success"),
        Event(test_id="lost", test_status="fail", parent_test_id="never-seen"),
    )
    lines = run("-v", "--no-verdict", stdin=data).stdout.decode().split("\n")
    assert lines[:4] == [
        "p ... ok",
        "  p/c ... ok",
        "    p/c/g ... ok",
        "lost ... FAIL",
    ]


def test_non_subunit_bytes_go_to_stderr_or_are_dropped():
    mixed = b"print from the runner\n" + FAILING
    result = run(stdin=mixed)
    assert result.stderr == b"print from the runner\n"
    assert result.stdout == run(stdin=FAILING).stdout
    assert run("--no-passthrough", stdin=mixed).stderr == b""


def test_empty_input_output_file_and_errors(tmp_path):
    empty = run()
    assert empty.returncode == 0
    pattern = rf"{THIN}\nRan 0 tests in \d+\.\d{{3}}s\n\nOK\n"
    assert re.fullmatch(pattern, empty.stdout.decode())
    source = tmp_path / "in.subunit"
    source.write_bytes(FAILING)
    report = tmp_path / "report.txt"
    result = run(str(source), "-o", str(report))
    assert (result.returncode, result.stdout) == (1, b"")
    assert report.read_text().endswith(SUMMARY)
    missing = run(str(tmp_path / "nope"))
    assert missing.returncode == 3 and missing.stderr.count(b"\n") == 1
    assert run("--bogus").returncode == 2
    help_text = run("--help").stdout.decode()
    assert "--no-verdict" in help_text and "1    the stream shows failing" in help_text


def test_wall_clock_time_when_the_stream_has_no_timestamps():
    ticks = iter([0.0, 10.0, 12.5])
    out = io.StringIO()
    report = TextReport(out, clock=lambda: next(ticks))
    report.startTestRun()
    report.status(test_id="t", test_status="success")
    report.stopTestRun()
    assert "Ran 1 test in 2.500s" in out.getvalue()
    assert report.wasSuccessful() and report.counts == {"success": 1}


def test_main_runs_in_process(tmp_path):
    source = tmp_path / "in.subunit"
    source.write_bytes(FAILING)
    out = tmp_path / "out.txt"
    assert subunit2pyunit.main([str(source), "-o", str(out)]) == 1
    assert subunit2pyunit.main([str(source), "-o", str(out), "--no-verdict"]) == 0


def test_problems_spilled_to_a_temporary_file_read_back_the_same(monkeypatch):
    def report() -> str:
        out = io.StringIO()
        reporter = TextReport(out)
        reporter.startTestRun()
        for n in range(5):
            reporter.status(
                test_id=f"t{n}",
                test_status="fail",
                file_name="traceback",
                file_bytes=f"boom {n} ✗\n".encode() * 50,
            )
        reporter.stopTestRun()
        return out.getvalue()

    in_memory = report()
    monkeypatch.setattr(textreport, "SPOOL_SIZE", 64)
    assert report() == in_memory
    assert in_memory.count("FAIL: t") == 5 and "boom 4 ✗" in in_memory
