"""subunit-stats and RunStats: counts, tags, wall time, verdict, passthrough."""

from __future__ import annotations

import json

import pytest
from cli_helpers import (
    FILTER,
    STATS,
    a_test,
    assert_one_line_error,
    installed_script_is_ours,
    pipeline,
    run,
    stamp,
    written,
)

from subunit2 import Event, Summary
from subunit2.filters import subunit_stats
from subunit2.stats import RunStats, format_report

EVENTS = (
    a_test("a", "success", route="0", tags={"unit"}, start=1, end=2)
    + a_test("b", "success", route="1", tags={"unit", "db"}, start=3, end=4)
    + a_test("c", "fail", route="0", attachment=b"boom", start=5, end=6)
    + a_test("d", "skip", start=7, end=8)
    + a_test("e", "xfail", start=9, end=10)
    + a_test("f", "uxsuccess", start=11, end=12)
    + [
        Event(test_id="g", test_status="exists"),
        Event(test_id="h", test_status="exists"),
    ]
    + a_test("hung", None, start=13)
)
STREAM = written(EVENTS)
PASSING = written(
    a_test("a", "success", start=1, end=2) + a_test("d", "skip", start=7, end=9)
)


def stats_json(*args: str, stdin: bytes) -> tuple:
    result = run(STATS, "--json", *args, stdin=stdin)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_counts_each_outcome_tags_and_wall_time():
    code, report, stderr = stats_json(stdin=STREAM)
    assert (code, stderr) == (1, b"")
    assert report == {
        "total": 7,
        "passed": 2,
        "failed": 1,
        "skipped": 1,
        "xfail": 1,
        "uxsuccess": 1,
        "incomplete": 1,
        "enumerated": 2,
        "tags": ["db", "unit"],
        "wall_time": 12.0,  # second 1 to second 13
        "successful": False,
    }


def test_text_report():
    result = run(STATS, stdin=STREAM)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["Total", "tests:", "7"]
    assert lines[1].split() == ["Passed:", "2"]
    assert "Incomplete:" in lines[6] and lines[6].endswith(" 1")
    assert "Enumerated (exists):" in lines[7] and lines[7].endswith(" 2")
    assert lines[8].split() == ["Tags:", "db,", "unit"]
    assert lines[9].split() == ["Wall", "time:", "12.000", "s"]
    assert lines[10].split() == ["Verdict:", "FAILED"]


@pytest.mark.parametrize("flag", ["--no-verdict", "--exit-zero"])
def test_report_without_judging(flag):
    result = run(STATS, flag, stdin=STREAM)
    assert result.returncode == 0
    assert b"FAILED" in result.stdout


@pytest.mark.parametrize(
    "events, code",
    [
        ([], 0),  # no tests: passes
        (a_test("a", "success"), 0),
        (a_test("a", "xfail") + a_test("b", "skip"), 0),
        (a_test("a", "fail"), 1),
        (a_test("a", "uxsuccess"), 1),
        (a_test("a", None), 1),  # incomplete is never a pass
        ([Event(test_id="e", test_status="exists")], 0),
    ],
)
def test_verdict(events, code):
    result = run(STATS, stdin=written(events))
    assert result.returncode == code
    assert (b"PASSED" if code == 0 else b"FAILED") in result.stdout


def test_no_timestamps_and_no_tags_are_said_so():
    result = run(STATS, stdin=written([Event(test_id="a", test_status="success")]))
    text = result.stdout.decode()
    assert "(no timestamps)" in text and "(none)" in text


def test_non_subunit_input_goes_to_stderr_or_is_dropped():
    noisy = b"print from a test\n" + PASSING + b"more noise \xff"
    result = run(STATS, stdin=noisy)
    assert result.returncode == 0
    assert result.stderr == b"print from a test\nmore noise \xff"
    assert b"noise" not in result.stdout
    quiet = run(STATS, "--no-passthrough", stdin=noisy)
    assert (quiet.returncode, quiet.stderr) == (0, b"")
    assert quiet.stdout == result.stdout


def test_garbage_and_truncated_input_fail_the_run_and_lose_nothing():
    garbage = b"\xb3" + bytes(range(256))
    code, report, stderr = stats_json(stdin=garbage)
    assert stderr == garbage  # every byte still there, on stderr
    last_packet = written(a_test("d", "skip", start=7, end=9)[-1:])
    assert PASSING.endswith(last_packet)
    code, report, stderr = stats_json(stdin=PASSING[:-4])
    assert code == 1  # a cut packet is a parser-error failure, never a pass
    assert (report["failed"], report["passed"], report["incomplete"]) == (1, 1, 1)
    assert stderr == last_packet[:-4]


def test_output_file(tmp_path):
    out = tmp_path / "report.txt"
    result = run(STATS, "-o", str(out), stdin=STREAM)
    assert (result.returncode, result.stdout) == (1, b"")
    assert out.read_text().startswith("Total tests:")
    source = tmp_path / "in.subunit"
    source.write_bytes(PASSING)
    assert subunit_stats.main([str(source), "-o", str(out), "--json"]) == 0
    assert json.loads(out.read_text())["passed"] == 1


def test_errors_and_help():
    result = run(STATS, "/no/such/file")
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "subunit-stats: ", "No such file")
    assert run(STATS, "--frobnicate").returncode == 2
    result = run(STATS, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.decode().split())
    assert text.startswith("usage: subunit-stats")
    for needle in (
        "--no-verdict",
        "--no-passthrough",
        "standard error",
        "1 the stream",
    ):
        assert needle in text


def test_pipeline_of_filters_into_stats():
    result = pipeline(
        STREAM, (FILTER, "-s", "--with-tag", "unit"), (FILTER, "-s"), (STATS, "--json")
    )
    assert result.codes == [0, 0, 0]
    report = json.loads(result.stdout)
    assert (report["total"], report["passed"], report["tags"]) == (2, 2, ["db", "unit"])


def test_runstats_agrees_with_summary_call_by_call():
    stats, summary = RunStats(), Summary()
    for e in EVENTS:
        stats.status(**e.kwargs())
        summary.status(**e.kwargs())
    bulk = RunStats()
    bulk.consume(EVENTS)
    for result in (stats, bulk):
        assert result.counts == summary.counts
        assert result.incomplete == summary.incomplete
        assert result.wall_time == summary.wall_time
        assert result.tags == {"unit", "db"}
    assert format_report(stats) == format_report(bulk)
    stats.startTestRun()
    assert stats.tags == set() and stats.counts["success"] == 0


def test_timestamps_out_of_order_still_give_the_span():
    stats = RunStats()
    stats.consume(
        [
            Event(test_id="a", timestamp=stamp(5)),
            Event(test_id="b", timestamp=stamp(9)),
            Event(test_id="c", timestamp=stamp(2)),
            Event(test_id="d", test_status="success"),
        ]
    )
    assert stats.wall_time.total_seconds() == 7


def test_the_command_run_is_this_projects():
    installed_script_is_ours("subunit-stats", "subunit_stats")
    assert run(STATS, "--version").stdout.startswith(b"subunit-stats (subunit2) ")
