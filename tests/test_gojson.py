"""gojson2subunit: go test -json converted to subunit, checked after decoding."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
from typing import Dict, List, Optional

from cli_helpers import convert_events, python_subunit_tests, read_events_until

from subunit2 import Event, StreamWriter, decode_bytes
from subunit2.aggregate import Aggregator, TestRecord
from subunit2.filters import gojson2subunit
from subunit2.gojson import GoJsonConverter, parse_time

SAMPLES = os.path.join(os.path.dirname(__file__), "samples", "gojson")
UTC = datetime.timezone.utc
PKG = "example.com/calc"
TEXT = "text/plain;charset=utf8"


def sample(name: str) -> bytes:
    with open(os.path.join(SAMPLES, name), "rb") as handle:
        return handle.read()


def convert(data: bytes, chunk: Optional[int] = None) -> List[Event]:
    """Convert ``data`` (fed ``chunk`` bytes at a time), encode, decode again."""
    return convert_events(GoJsonConverter, data, chunk)


def records(events: List[Event]) -> List[TestRecord]:
    found: List[TestRecord] = []
    aggregator = Aggregator(found.append)
    aggregator.startTestRun()
    for event in events:
        aggregator.status(**event.kwargs())
    aggregator.stopTestRun()
    return found


def outcome(events: List[Event]) -> Dict[str, tuple]:
    """test id -> (status, parent, {file: content}); one record per id expected."""
    result = {}
    for record in records(events):
        assert record.test_id not in result, record.test_id
        result[record.test_id] = (
            record.status,
            record.parent_test_id,
            {name: a.content for name, a in record.attachments.items()},
        )
    return result


def passthrough(events: List[Event]) -> bytes:
    return b"".join(
        e.file_bytes or b"" for e in events if e.test_id is None and e.file_name
    )


def line(**fields) -> bytes:
    return json.dumps(fields).encode() + b"\n"


# -- timestamps ------------------------------------------------------------------


def test_time_with_offset_and_nanoseconds_becomes_utc_microseconds():
    assert parse_time("2024-03-01T10:00:00.123456789+01:00") == datetime.datetime(
        2024, 3, 1, 9, 0, 0, 123457, tzinfo=UTC
    )
    assert parse_time("2024-03-01T10:00:00Z") == datetime.datetime(
        2024, 3, 1, 10, tzinfo=UTC
    )


def test_time_rounds_half_microseconds_to_even():
    assert parse_time("2024-01-01T00:00:00.000000500Z").microsecond == 0
    assert parse_time("2024-01-01T00:00:00.000001500Z").microsecond == 2
    assert parse_time("2024-01-01T00:00:00.999999500Z") == datetime.datetime(
        2024, 1, 1, 0, 0, 1, tzinfo=UTC
    )


def test_bad_or_unencodable_times_are_dropped_not_fatal():
    for value in (
        "yesterday",
        "2024-13-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "2024-01-01T00:00:00",
        12,
        None,
        "2024-01-01T00:00:00." + "9" * 100 + "Z",
    ):
        assert parse_time(value) is None, value


def test_every_event_carries_its_time():
    events = convert(sample("calc.jsonl"))
    first = events[0]
    assert first.test_id == PKG
    assert first.timestamp == datetime.datetime(2024, 3, 1, 9, 0, 0, 100000, tzinfo=UTC)
    assert all(e.timestamp is not None for e in events)


# -- tests, subtests, packages ---------------------------------------------------


def test_calc_sample_tests_subtests_parallel_and_package_failure():
    result = outcome(convert(sample("calc.jsonl")))
    add = f"{PKG}.TestAdd"
    assert result[f"{add}/positive"] == (
        "success",
        add,
        {
            "stdout": b"=== RUN   TestAdd/positive\n"
            b"    --- PASS: TestAdd/positive (0.00s)\n"
        },
    )
    assert result[f"{add}/negative"] == (
        "fail",
        add,
        {
            "stdout": b"=== RUN   TestAdd/negative\n"
            b"    calc_test.go:21: Add(-1, -2) = -4, want -3\n"
            b"    --- FAIL: TestAdd/negative (0.00s)\n"
        },
    )
    assert result[add] == (
        "fail",
        PKG,
        {"stdout": b"=== RUN   TestAdd\n--- FAIL: TestAdd (0.00s)\n"},
    )
    assert result[f"{PKG}.TestSkipped"][0] == "skip"
    assert result[PKG] == (
        "fail",
        None,
        {"stdout": b"FAIL\nFAIL\texample.com/calc\t0.013s\n"},
    )


def test_interleaved_parallel_output_goes_to_the_test_that_wrote_it():
    result = outcome(convert(sample("calc.jsonl")))
    assert result[f"{PKG}.TestParallelA"][2]["stdout"] == (
        b"=== RUN   TestParallelA\n=== PAUSE TestParallelA\n=== CONT  TestParallelA\n"
        b"    calc_test.go:40: A working\n--- PASS: TestParallelA (0.00s)\n"
    )
    assert result[f"{PKG}.TestParallelB"][2]["stdout"] == (
        b"=== RUN   TestParallelB\n=== PAUSE TestParallelB\n=== CONT  TestParallelB\n"
        b"    calc_test.go:47: B working\n--- PASS: TestParallelB (0.00s)\n"
    )


def test_calc_sample_event_by_event_statuses_and_parents():
    events = convert(sample("calc.jsonl"))
    got = [
        (e.test_id, e.test_status, e.parent_test_id, e.runnable)
        for e in events
        if e.test_status
    ]
    add = f"{PKG}.TestAdd"
    assert got == [
        (PKG, "inprogress", None, False),
        (add, "inprogress", PKG, True),
        (f"{add}/positive", "inprogress", add, True),
        (f"{add}/negative", "inprogress", add, True),
        (f"{add}/positive", "success", add, True),
        (f"{add}/negative", "fail", add, True),
        (add, "fail", PKG, True),
        (f"{PKG}.TestParallelA", "inprogress", PKG, True),
        (f"{PKG}.TestParallelB", "inprogress", PKG, True),
        (f"{PKG}.TestParallelB", "success", PKG, True),
        (f"{PKG}.TestParallelA", "success", PKG, True),
        (f"{PKG}.TestSkipped", "inprogress", PKG, True),
        (f"{PKG}.TestSkipped", "skip", PKG, True),
        (PKG, "fail", None, False),
    ]
    files = {e.file_name for e in events if e.file_name}
    assert files == {"stdout"}
    assert all(e.mime_type == TEXT for e in events if e.file_name)


def test_nested_subtests_name_their_running_parent():
    result = outcome(convert(sample("multi.jsonl")))
    fib = "example.com/app/fib"
    assert result[f"{fib}.TestFib/n=10/cached"][:2] == (
        "success",
        f"{fib}.TestFib/n=10",
    )
    assert result[f"{fib}.TestFib/n=10"][:2] == ("success", f"{fib}.TestFib")
    assert result[f"{fib}.TestFib"][:2] == ("success", fib)


def test_subtest_whose_name_has_a_slash_gets_the_running_ancestor():
    data = (
        line(Action="run", Package="p", Test="TestX")
        + line(Action="run", Package="p", Test="TestX/a/b")
        + line(Action="pass", Package="p", Test="TestX/a/b")
        + line(Action="pass", Package="p", Test="TestX")
        + line(Action="pass", Package="p")
    )
    assert outcome(convert(data))["p.TestX/a/b"][:2] == ("success", "p.TestX")


def test_package_with_no_test_files_is_skipped_and_benchmarks_succeed():
    events = convert(sample("multi.jsonl"))
    result = outcome(events)
    assert result["example.com/app/cmd"] == (
        "skip",
        None,
        {"stdout": b"?   \texample.com/app/cmd\t[no test files]\n"},
    )
    bench = result["example.com/app/fib.BenchmarkFib10"]
    assert bench[0] == "success"
    assert b"289.6 ns/op" in bench[2]["stdout"]
    assert b"its package passed" in bench[2]["reason"]
    assert passthrough(events) == b"go: downloading example.com/dep v1.2.3\n"


def test_panic_output_stays_with_the_failing_test():
    result = outcome(convert(sample("panic.jsonl")))
    status, parent, files = result["example.com/boom.TestIndex"]
    assert (status, parent) == ("fail", "example.com/boom")
    assert b"panic: runtime error: index out of range" in files["stdout"]
    assert files["stdout"].endswith(b"\t/src/boom/boom_test.go:9 +0x1d\n")
    assert result["example.com/boom"][0] == "fail"


def test_timeout_leaves_the_hung_test_incomplete_and_fails_the_package():
    result = outcome(convert(sample("timeout.jsonl")))
    hung = result["example.com/slow.TestHangs"]
    assert hung[0] == "inprogress"  # never a pass
    assert b"its package finished (fail)" in hung[2]["reason"]
    slow = result["example.com/slow"]
    assert slow[0] == "fail"
    assert b"panic: test timed out after 1s" in slow[2]["stdout"]
    assert result["example.com/slow.TestQuick"][0] == "success"


def test_tests_still_running_at_end_of_input_are_incomplete_with_a_note():
    result = outcome(convert(sample("timeout.jsonl")))
    cut = result["example.com/cut.TestCutOff"]
    assert cut[0] == "inprogress"
    assert cut[2]["reason"] == (
        b"incomplete: the input ended before this test reported a result\n"
    )
    assert result["example.com/cut"][0] == "inprogress"


def test_old_style_build_failure_passes_compiler_errors_and_fails_package():
    events = convert(sample("build-old.jsonl"))
    assert passthrough(events) == (
        b"# example.com/broken\n./broken.go:5:2: undefined: frobnicate\n"
        b"./broken.go:9:1: missing return\n"
    )
    assert outcome(events)["example.com/broken"] == (
        "fail",
        None,
        {"stdout": b"FAIL\texample.com/broken [build failed]\n"},
    )


def test_new_style_build_failure_is_a_failing_build_test_and_package():
    result = outcome(convert(sample("build-new.jsonl")))
    build = "example.com/broken [example.com/broken.test]"
    assert result[build] == (
        "fail",
        None,
        {
            "stdout": b"# example.com/broken [example.com/broken.test]\n"
            b"./broken_test.go:12:9: undefined: frobnicate\n"
        },
    )
    assert result["example.com/broken"][0] == "fail"
    assert (
        result["example.com/broken"][2]["reason"] == f"build failed: {build}".encode()
    )


def test_build_output_without_build_fail_is_a_successful_build():
    data = line(ImportPath="p [p.test]", Action="build-output", Output="# note\n")
    assert outcome(convert(data)) == {
        "p [p.test]": ("success", None, {"stdout": b"# note\n"})
    }


def test_packages_and_builds_are_not_runnable_tests_are():
    events = convert(sample("build-new.jsonl") + sample("calc.jsonl"))
    for event in events:
        container = event.test_id in (PKG, "example.com/broken") or "[" in (
            event.test_id or ""
        )
        if event.test_id is not None:
            assert event.runnable is not container, event


def test_output_for_a_test_that_is_not_running_goes_to_its_package():
    data = (
        line(Action="run", Package="p", Test="TestA")
        + line(Action="pass", Package="p", Test="TestA")
        + line(Action="output", Package="p", Test="TestA", Output="late\n")
        + line(Action="output", Package="p", Test="TestNever", Output="early\n")
        + line(Action="pass", Package="p")
    )
    result = outcome(convert(data))
    assert result["p.TestA"] == ("success", "p", {})
    assert result["p"] == ("success", None, {"stdout": b"late\nearly\n"})


def test_package_less_output_passes_through_and_a_package_seen_again_reopens():
    data = (
        line(Action="output", Output="no package\n")
        + line(Action="pass", Package="p")
        + line(Action="output", Package="p", Output="after the end\n")
        + line(Action="pass", Package="p")
    )
    events = convert(data)
    assert passthrough(events).startswith(b"no package\n")
    statuses = [(e.test_id, e.test_status) for e in events if e.test_status]
    assert statuses == [
        ("p", "inprogress"),
        ("p", "success"),
        ("p", "inprogress"),
        ("p", "success"),
    ]


def test_test_without_package_is_named_by_the_test_alone():
    data = line(Action="run", Test="TestLone") + line(Action="pass", Test="TestLone")
    assert outcome(convert(data)) == {"TestLone": ("success", None, {})}


# -- what is not test2json -------------------------------------------------------


def test_non_json_and_foreign_json_lines_pass_through_verbatim_in_order():
    junk = [
        b"panic: something outside test2json\n",
        b"\xff\xfe not utf-8\n",
        b"[1, 2, 3]\n",
        b'{"no": "action"}\n',
        b'{"Action": 5}\n',
        b'{"Action":"weird","Package":"p"}\n',
        b'{"Action":"fail","Package":"p","Test":7}\n',
        b'{"Action":"fail","Package":["p"]}\n',
        b"{truncated json\n",
        b"[" * 100_000 + b"\n",
    ]
    data = b""
    for item in junk:
        data += item + line(Action="output", Package="p", Output="x\n")
    events = convert(data)
    assert passthrough(events) == b"".join(junk)
    assert outcome(events)["p"][0] == "inprogress"  # no line above failed it


def test_over_long_line_passes_through_in_pieces(monkeypatch):
    big = json.dumps({"Action": "output", "Package": "p", "Output": "y" * 3_000_000})
    data = big.encode() + b"\n" + line(Action="pass", Package="p")
    events = convert(data, chunk=1 << 16)
    assert passthrough(events) == big.encode() + b"\n"
    assert outcome(events) == {"p": ("success", None, {})}


def test_hostile_names_give_valid_ids():
    data = (
        line(Action="run", Package="p\x00q", Test="Test\ud800X")
        + line(Action="pass", Package="p\x00q", Test="Test\ud800X")
        + line(Action="run", Package="p", Test="T" * 100_000)
        + line(Action="pass", Package="p", Test="T" * 100_000)
    )
    ids = set(outcome(convert(data)))
    assert "p\ufffdq.Test\ufffd\ufffd\ufffdX" in ids
    assert any(i.startswith("p." + "T" * 16384 + "...") for i in ids)
    assert max(len(i) for i in ids) < 16500


def test_lone_surrogate_in_output_is_kept_as_bytes():
    data = line(Action="run", Package="p", Test="T") + line(
        Action="output", Package="p", Test="T", Output="a\udcff\n"
    )
    result = outcome(convert(data))
    assert result["p.T"][2]["stdout"] == "a\udcff\n".encode("utf-8", "surrogatepass")


def test_live_each_line_is_delivered_when_it_arrives():
    seen: List[Event] = []

    class Collect:
        def status(self, **kwargs):
            seen.append(Event(**kwargs))

    converter = GoJsonConverter(Collect())
    converter.feed(line(Action="run", Package="p", Test="T")[:-5])
    assert len(seen) == 0
    converter.feed(line(Action="run", Package="p", Test="T")[-5:])
    assert [(e.test_id, e.test_status) for e in seen] == [
        ("p", "inprogress"),
        ("p.T", "inprogress"),
    ]
    converter.feed(line(Action="output", Package="p", Test="T", Output="hi\n"))
    assert seen[-1].file_bytes == b"hi\n"


def test_chunking_changes_nothing_but_attachment_cuts():
    data = b"".join(sample(n) for n in sorted(os.listdir(SAMPLES)))
    whole = convert(data)
    for chunk in (1, 13):
        part = convert(data, chunk=chunk)
        assert [(r.test_id, r.status) for r in records(part)] == [
            (r.test_id, r.status) for r in records(whole)
        ]
        assert passthrough(part) == passthrough(whole)


# -- the command -----------------------------------------------------------------


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "subunit2.filters.gojson2subunit", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_command_converts_stdin_to_a_decodable_stream():
    done = run(stdin=sample("calc.jsonl"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert decode_bytes(done.stdout) == convert(sample("calc.jsonl"))


def test_command_file_and_output_and_verdict(tmp_path):
    out = tmp_path / "o"
    passing = os.path.join(SAMPLES, "multi.jsonl")
    failing = os.path.join(SAMPLES, "calc.jsonl")
    assert gojson2subunit.main([failing, "-o", str(out)]) == 0
    assert decode_bytes(out.read_bytes()) == convert(sample("calc.jsonl"))
    assert gojson2subunit.main([failing, "-o", str(out), "--verdict"]) == 1
    assert gojson2subunit.main([passing, "-o", str(out), "--verdict"]) == 0
    truncated = os.path.join(SAMPLES, "timeout.jsonl")
    assert gojson2subunit.main([truncated, "-o", str(out), "--verdict"]) == 1


def test_command_v2_only_help_and_errors(tmp_path):
    out = tmp_path / "o"
    src = os.path.join(SAMPLES, "calc.jsonl")
    assert gojson2subunit.main([src, "-o", str(out), "--v2-only"]) == 0
    assert all(e.parent_test_id is None for e in decode_bytes(out.read_bytes()))
    done = run("--help")
    assert done.returncode == 0 and b"exit codes:" in done.stdout
    done = run(str(tmp_path / "missing.jsonl"))
    assert done.returncode == 3
    assert (
        done.stderr.startswith(b"gojson2subunit: ") and b"Traceback" not in done.stderr
    )


def test_command_streams_live_through_a_pipe():
    proc = subprocess.Popen(
        [sys.executable, "-m", "subunit2.filters.gojson2subunit"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(line(Action="run", Package="p", Test="TestLive"))
        proc.stdin.flush()
        events = read_events_until(proc, "p.TestLive")
        assert [e.test_status for e in events] == ["inprogress", "inprogress"]
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        assert proc.stderr.read() == b""
    finally:
        proc.kill()


def test_python_subunit_reads_the_converted_stream_alike():
    out = io.BytesIO()
    converter = GoJsonConverter(StreamWriter(out, flush=False))
    converter.feed(sample("calc.jsonl") + sample("build-new.jsonl"))
    converter.close()
    found = python_subunit_tests(out.getvalue())
    got = [(t["id"], t["status"]) for t in found if t["id"] is not None]
    mine = [(r.test_id, r.status) for r in records(decode_bytes(out.getvalue()))]
    assert sorted(got) == sorted(mine)
    stdout = {t["id"]: t["details"]["stdout"].as_text() for t in found if t["id"]}
    assert stdout[f"{PKG}.TestParallelB"].endswith("--- PASS: TestParallelB (0.00s)\n")
