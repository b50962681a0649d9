"""subunit-trace: the view model, the renderer, and the command (piped)."""

from __future__ import annotations

import datetime
import io
import re
import subprocess
import sys

from subunit2 import Event, encode
from subunit2.aggregate import Aggregator, Attachment, TestRecord
from subunit2.filters import subunit_trace
from subunit2.reader import decode_bytes, deliver_all
from subunit2.summary import Summary
from subunit2.trace import (
    Styler,
    Trace,
    TraceModel,
    clean,
    format_progress,
    format_record,
    format_summary,
)

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
MODULE = "subunit2.filters.subunit_trace"


def at(ms: float) -> datetime.datetime:
    return T0 + datetime.timedelta(milliseconds=ms)


def run_test(test_id, status, route, start_ms, stop_ms, files=(), parent=None):
    """The events of one test: inprogress, attachments, final status."""
    common = dict(test_id=test_id, route_code=route, parent_test_id=parent)
    out = [Event(test_status="inprogress", timestamp=at(start_ms), **common)]
    for name, data, mime in files:
        out.append(
            Event(
                file_name=name,
                file_bytes=data,
                mime_type=mime,
                eof=True,
                timestamp=at(stop_ms),
                **common,
            )
        )
    out.append(Event(test_status=status, timestamp=at(stop_ms), **common))
    return out


TRACEBACK = b"Traceback (most recent call last):\n  boom\nAssertionError: 1 != 2\n"


def sample_events():
    """Enumerates 5 tests; runs 4 (one with subtests), leaves one incomplete."""
    events = [Event(test_id=f"t.test_{n}", test_status="exists") for n in range(5)]
    events += run_test("t.test_0", "success", "0", 0, 10)
    events += run_test(
        "t.test_1", "fail", "1", 0, 250, files=[("traceback", TRACEBACK, "text/plain")]
    )
    events += run_test("t.test_2 (i=1)", "success", "0", 11, 12, parent="t.test_2")
    events += run_test("t.test_2 (i=2)", "fail", "0", 12, 14, parent="t.test_2")
    events += run_test("t.test_2", "fail", "0", 10, 15)
    events += run_test(
        "t.test_3", "skip", "1", 250, 251, files=[("reason", b"no db\n", None)]
    )
    events.append(Event(file_name="stdout", file_bytes=b"stray \xff output\n"))
    events.append(Event(test_id="t.test_4", test_status="inprogress", route_code="0"))
    return events


def stream(events) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def model_of(events) -> TraceModel:
    model = TraceModel()
    shown = []
    agg = Aggregator(lambda r: shown.extend(model.add(r)))
    agg.startTestRun()
    deliver_all(events, agg)
    agg.stopTestRun()
    shown.extend(model.finish())
    model.shown = shown
    return model


def trace_output(events, **options) -> bytes:
    out = io.BytesIO()
    view = Trace(out, **options)
    view.startTestRun()
    deliver_all(events, view)
    view.stopTestRun()
    return out.getvalue()


def run(*args, stdin=b"", env=None):
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=env,
    )


# -- the model ---------------------------------------------------------------------


def test_model_counts_match_summary_including_incomplete():
    events = sample_events()
    model = model_of(events)
    summary = Summary()
    summary.startTestRun()
    deliver_all(events, summary)
    summary.stopTestRun()
    for status in ("success", "fail", "skip", "xfail", "uxsuccess"):
        assert model.counts[status] == summary.counts[status]
    assert model.counts["inprogress"] == len(summary.incomplete) == 1
    assert model.incomplete == [("0", "t.test_4")]
    assert model.failures == summary.failure_count
    assert model.successful is summary.wasSuccessful() is False


def test_model_progress_counts_enumerated_tests_that_ran():
    model = model_of(sample_events())
    assert model.total == 5
    # test_0..test_3 ran; test_4 never finished; subtests were not enumerated.
    assert model.done_enumerated == 4
    assert model.not_run == ["t.test_4"]


def test_subtests_are_released_with_their_parent_depth_first():
    model = model_of(sample_events())
    shown = [(depth, r.test_id) for depth, r in model.shown]
    assert shown[:5] == [
        (0, "t.test_0"),
        (0, "t.test_1"),
        (0, "t.test_2"),
        (1, "t.test_2 (i=1)"),
        (1, "t.test_2 (i=2)"),
    ]
    assert (0, "t.test_4") in shown


def test_subtests_of_a_parent_that_never_came_are_shown_at_the_end():
    events = run_test("p (x)", "fail", "0", 0, 1, parent="p")
    events += run_test("q", "success", "0", 1, 2)
    model = model_of(events)
    assert [(d, r.test_id) for d, r in model.shown] == [(0, "q"), (0, "p (x)")]


def test_workers_balance_and_slowest_use_top_level_tests():
    model = model_of(sample_events())
    # test_0, test_2 and the unfinished test_4; subtests are not counted.
    assert model.workers["0"].tests == 3
    assert model.workers["1"].tests == 2
    assert abs(model.workers["1"].busy - 0.251) < 1e-9
    assert abs(model.workers["0"].busy - 0.015) < 1e-9
    assert model.workers["1"].span == 0.251
    assert [t for _, t, _ in model.slowest] == [
        "t.test_1",
        "t.test_0",
        "t.test_2",
        "t.test_3",
    ]
    assert model.slowest[0][0] == 0.25
    assert model.wall_time == 0.251


def test_passing_attachments_are_dropped_unless_asked():
    events = run_test(
        "ok", "success", None, 0, 1, files=[("stdout", b"x" * 1000, None)]
    )
    records = []
    model = TraceModel()
    agg = Aggregator(lambda r: records.extend(model.add(r)))
    deliver_all(events, agg)
    assert records[0][1].attachments == {}
    keep = TraceModel(keep_attachments=True)
    kept = []
    agg = Aggregator(lambda r: kept.extend(keep.add(r)))
    deliver_all(events, agg)
    assert kept[0][1].attachments["stdout"].content == b"x" * 1000


# -- rendering ---------------------------------------------------------------------


def test_record_line_has_outcome_worker_duration_and_name():
    record = TestRecord("pkg.test_x", "3", "fail", start_time=at(0), stop_time=at(1234))
    (line,) = format_record(record, 0, Styler(False), attachments=True)
    assert line.split() == ["FAIL", "[3]", "1.234s", "pkg.test_x"]


def test_subtest_line_is_indented_and_shortened():
    record = TestRecord(
        "pkg.test_x (i=2)", None, "success", parent_test_id="pkg.test_x"
    )
    (line,) = format_record(record, 1, Styler(False), attachments=False)
    assert line.endswith("-      (i=2)")
    assert "[-]" in line


def test_skip_shows_its_reason_and_failure_its_text_and_binary_summary():
    skip = TestRecord("s", None, "skip")
    skip.attachments["reason"] = Attachment("text/plain", b"needs network\nmore")
    (line,) = format_record(skip, 0, Styler(False), attachments=True)
    assert line.endswith("s  (needs network)")
    fail = TestRecord("f", None, "fail")
    fail.attachments["traceback"] = Attachment("text/plain", TRACEBACK)
    fail.attachments["core"] = Attachment("application/octet-stream", b"\0" * 77)
    lines = "\n".join(format_record(fail, 0, Styler(False), attachments=True))
    lines = lines.split("\n")
    assert lines[1].strip() == "traceback:"
    assert lines[2].strip() == "Traceback (most recent call last):"
    assert lines[4].strip() == "AssertionError: 1 != 2"
    assert lines[5].strip() == "core: <77 bytes, application/octet-stream>"


def test_control_characters_from_the_stream_are_escaped():
    assert clean("a\x1b[2Jb\rc\nd") == "a\\x1b[2Jb\\rc\\nd"
    assert clean("line1\nline2\x07", multiline=True) == "line1\nline2\\x07"
    record = TestRecord("evil\x1b]0;title\x07\n", None, "fail")
    record.attachments["traceback"] = Attachment("text/plain", b"\x1b[31mred\n")
    text = "\n".join(format_record(record, 0, Styler(False), attachments=True))
    assert "\x1b" not in text and "\x07" not in text
    assert "evil\\x1b]0;title\\x07\\n" in text


def test_colour_codes_only_when_colour_is_on():
    record = TestRecord("t", "0", "fail")
    (plain,) = format_record(record, 0, Styler(False), attachments=False)
    (coloured,) = format_record(record, 0, Styler(True), attachments=False)
    assert "\x1b" not in plain
    assert "\x1b[1;31mFAIL\x1b[0m" in coloured


def test_progress_line_with_known_total_has_bar_counts_and_estimate():
    model = model_of(sample_events())
    line = format_progress(model, 8.0, 100, Styler(False))
    assert "4/5" in line and " 80%" in line
    assert "[" + "#" * 1 in line  # a bar
    assert "pass 2 fail 3 skip 1 incomplete 1" in line
    assert "0:08" in line and "~0:02 left" in line
    assert len(line) < 100


def test_progress_line_without_total_counts_tests_done():
    model = model_of(run_test("a", "success", None, 0, 1))
    line = format_progress(model, 65, 80, Styler(False))
    assert line.startswith("1 done pass 1 1:05")


def test_progress_line_fits_a_narrow_terminal():
    model = model_of(sample_events())
    assert len(format_progress(model, 8.0, 20, Styler(False))) < 20


def test_summary_lists_counts_workers_slowest_and_unfinished():
    model = model_of(sample_events())
    text = "\n".join(format_summary(model, Styler(False), slowest=2))
    assert "Ran 7 tests in 0.251s (stream timestamps)" in text
    assert "failed                     3" in text
    assert "incomplete                 1" in text
    assert "[1]       2 tests, busy 0.251s (100.0% of busiest)" in text
    assert "Slowest 2 tests" in text and "0.250s  [1] t.test_1" in text
    assert "Never finished (1)\n  [0] t.test_4" in text
    assert "Enumerated but not run (1)" in text
    assert text.endswith("FAILED (4 failing)")


# -- the Trace result --------------------------------------------------------------


def test_trace_output_piped_is_plain_with_nonsubunit_bytes_passed_exactly():
    out = trace_output(sample_events())
    assert b"\x1b" not in out
    assert b"\nstray \xff output\n" in out  # invalid UTF-8 kept byte for byte
    lines = out.decode("utf-8", "replace").splitlines()
    assert lines[0].split() == ["PASS", "[0]", "0.010s", "t.test_0"]
    assert lines[1].split() == ["FAIL", "[1]", "0.250s", "t.test_1"]
    assert lines[3].strip() == "Traceback (most recent call last):"
    fail_sub = next(line for line in lines if "(i=2)" in line)
    assert fail_sub.split()[:3] == ["FAIL", "[0]", "0.002s"]
    assert lines[-1] == "FAILED (4 failing)"


def test_partial_nonsubunit_line_is_ended_before_the_next_test_line():
    events = [Event(file_name="stdout", file_bytes=b"no newline")]
    events += run_test("a", "success", None, 0, 1)
    out = trace_output(events)
    assert out.startswith(b"no newline\nPASS ")


def test_failures_only_keeps_failing_tests_and_their_parents():
    out = trace_output(sample_events(), failures_only=True).decode("utf-8", "replace")
    body = out.split("\nSummary")[0]
    assert "t.test_0" not in body and "(i=1)" not in body and "t.test_3" not in body
    assert "t.test_1" in body and "t.test_2" in body and "(i=2)" in body
    assert "INCOMPLETE" in body and "t.test_4" in body


def test_all_attachments_shows_passing_tests_output():
    events = run_test(
        "ok", "success", None, 0, 1, files=[("stdout", b"hi there", None)]
    )
    assert b"hi there" not in trace_output(events)
    assert b"hi there" in trace_output(events, all_attachments=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_terminal_redraws_at_most_ten_times_a_second():
    clock = FakeClock()
    out = io.BytesIO()
    view = Trace(out, terminal=True, clock=clock, width=lambda: 80)
    view.startTestRun()
    for n in range(1000):  # 1000 tests within 0.5 s
        clock.now = n * 0.0005
        deliver_all(run_test(f"t{n}", "success", "0", n, n + 1), view)
    draws = out.getvalue().count(b"\r\x1b[K")
    assert 1 <= draws <= 6
    clock.now = 10
    view.stopTestRun()
    text = out.getvalue()
    assert text.count(b"PASS  [0]") == 1000  # every line got out
    assert text.rstrip().endswith(b"PASSED")
    bars = [int(n) for n in re.findall(rb"(\d+) done pass \d+ 0:00", text)]
    assert bars == sorted(bars) and bars[-1] >= 800
    assert text.count(b"\r\x1b[K") == draws + 1  # the final clear


def test_terminal_tick_redraws_elapsed_time_while_input_is_quiet():
    clock = FakeClock()
    out = io.BytesIO()
    view = Trace(out, terminal=True, clock=clock, width=lambda: 80)
    view.startTestRun()
    clock.now = 61
    view.tick()
    assert out.getvalue() == b"0 done  1:01"


def test_terminal_nonsubunit_output_is_dimmed():
    clock = FakeClock()
    out = io.BytesIO()
    view = Trace(out, terminal=True, clock=clock, width=lambda: 80)
    view.startTestRun()
    deliver_all([Event(file_name="stdout", file_bytes=b"hello")], view)
    view.stopTestRun()
    assert b"\x1b[2mhello\x1b[0m\n" in out.getvalue()


# -- the command (piped) -------------------------------------------------------------


def test_command_exit_code_follows_the_verdict():
    failing = run(stdin=stream(sample_events()))
    assert failing.returncode == 1, failing.stderr
    assert failing.stderr == b""
    assert b"FAILED (4 failing)" in failing.stdout
    assert run("--exit-zero", stdin=stream(sample_events())).returncode == 0
    assert run("--no-verdict", stdin=stream(sample_events())).returncode == 0
    passing = run(stdin=stream(run_test("a", "success", "0", 0, 1)))
    assert passing.returncode == 0
    assert passing.stdout.rstrip().endswith(b"PASSED")


def test_command_piped_has_no_progress_and_no_colour():
    result = run(stdin=stream(sample_events()))
    assert b"\x1b" not in result.stdout
    assert b"\r" not in result.stdout
    assert b"stray \xff output" in result.stdout


def test_command_colour_always_colours_a_pipe():
    result = run("--colour", "always", stdin=stream(sample_events()))
    assert b"\x1b[1;31mFAIL\x1b[0m" in result.stdout
    assert b"\r" not in result.stdout  # still no progress line


def test_command_writes_to_output_file(tmp_path):
    source = tmp_path / "in.subunit"
    source.write_bytes(stream(sample_events()))
    target = tmp_path / "out.txt"
    result = run(str(source), "-o", str(target), "--slowest", "0")
    assert result.returncode == 1 and result.stdout == b""
    text = target.read_text("utf-8", "replace")
    assert "Slowest" not in text and "FAILED" in text


def test_command_errors_are_one_line_with_contract_codes(tmp_path):
    missing = run(str(tmp_path / "nope.subunit"))
    assert missing.returncode == 3
    assert missing.stderr.decode().startswith("subunit-trace: ")
    assert missing.stderr.count(b"\n") == 1
    assert run("--slowest", "-1").returncode == 2
    assert run("--bogus").returncode == 2
    helped = run("--help")
    assert helped.returncode == 0
    assert b"1    the stream shows failing tests" in helped.stdout
    assert b"NO_COLOR" in helped.stdout


def test_command_in_process_reads_stdin(monkeypatch, capsysbinary):
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(stream(sample_events())))
    )
    assert subunit_trace.main(["--exit-zero"]) == 0
    out = capsysbinary.readouterr().out
    assert b"FAILED (4 failing)" in out


def test_parser_error_reports_count_as_failures():
    good = stream(run_test("a", "success", "0", 0, 1))
    corrupt = bytearray(stream(run_test("b", "success", "0", 1, 2)))
    corrupt[-1] ^= 0xFF  # bad CRC on b's last packet
    events = decode_bytes(good + bytes(corrupt))
    out = trace_output(events).decode("utf-8", "replace")
    assert "subunit.parser" in out
    assert "FAILED" in out
