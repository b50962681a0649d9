"""subunit-1to2 and subunit-2to1 as commands, alone and in pipelines."""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest

from subunit2 import Event, decode_bytes, encode

TO_V2 = "subunit2.filters.subunit_1to2"
TO_V1 = "subunit2.filters.subunit_2to1"
UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def run(module: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


V1 = (
    b"time: 2024-01-02 03:04:05Z\n"
    b"test: pkg.test_a\n"
    b"tags: slow\n"
    b"failure: pkg.test_a [\n"
    b"Traceback\n"
    b"]\n"
    b"stray output\n"
    b"test: pkg.test_b\n"
    b"success: pkg.test_b\n"
)


def test_1to2_converts_outcomes_details_tags_time_and_keeps_stray_text():
    done = run(TO_V2, stdin=V1)
    assert (done.returncode, done.stderr) == (0, b"")
    events = decode_bytes(done.stdout)
    assert events == [
        Event("pkg.test_a", "inprogress", {"slow"}, timestamp=T0),
        Event(
            "pkg.test_a",
            file_name="traceback",
            file_bytes=b"Traceback\n",
            eof=True,
            mime_type="text/x-traceback;charset=utf8",
            timestamp=T0,
        ),
        Event("pkg.test_a", "fail", {"slow"}, timestamp=T0),
        Event(file_name="stdout", file_bytes=b"stray output\n"),
        Event("pkg.test_b", "inprogress", timestamp=T0),
        Event("pkg.test_b", "success", timestamp=T0),
    ]


def test_2to1_then_1to2_round_trips_a_stream():
    route = dict(test_id="a", route_code="0", parent_test_id="p")
    stream = b"".join(
        [
            encode(test_status="inprogress", timestamp=T0, **route),
            encode(file_name="log", file_bytes=b"\x00]\n", eof=True, **route),
            encode(test_status="fail", test_tags={"x"}, timestamp=T0, **route),
        ]
    )
    v1 = run(TO_V1, stdin=stream)
    assert v1.returncode == 0
    back = run(TO_V2, stdin=v1.stdout)
    assert back.returncode == 0
    # Route code and parent are dropped: v1 has no place for them.
    assert decode_bytes(back.stdout) == [
        Event("a", "inprogress", {"x"}, timestamp=T0),
        Event(
            "a",
            file_name="log",
            file_bytes=b"\x00]\n",
            eof=True,
            mime_type="application/octet-stream",
            timestamp=T0,
        ),
        Event("a", "fail", {"x"}, timestamp=T0),
    ]


def test_files_and_output_option(tmp_path):
    source = tmp_path / "in.v1"
    source.write_bytes(V1)
    v2 = tmp_path / "out.v2"
    assert run(TO_V2, str(source), "-o", str(v2)).returncode == 0
    v1 = tmp_path / "back.v1"
    done = run(TO_V1, str(v2), "-o", str(v1))
    assert (done.returncode, done.stdout) == (0, b"")
    text = v1.read_bytes()
    assert b"test: pkg.test_a\ntags: slow\nfailure: pkg.test_a [ multipart\n" in text
    assert b"stray output\n" in text


@pytest.mark.parametrize(
    "junk, message",
    [
        (b"time: tomorrow\n", b"line 3: bad time"),
        (b"progress: many\n", b"line 3: bad progress value"),
        (b"test: x\nfailure: x [ multipart\nContent-Type: a/b\nn\nQQ\r\n]\n", b"chunk"),
        (b"test: x\nfailure: x [ multipart\nContent-Type: a/b\nn\n99\r\nab", b"ended"),
    ],
)
def test_1to2_passes_malformed_lines_through_and_reports_them(junk, message):
    data = b"test: a\nsuccess: a\n" + junk
    done = run(TO_V2, stdin=data)
    assert done.returncode == 0
    assert done.stderr.startswith(b"subunit-1to2: ")
    assert message in done.stderr
    assert b"Traceback" not in done.stderr
    strict = run(TO_V2, "--strict", stdin=data)
    assert strict.returncode == 3
    assert strict.stdout == done.stdout
    quiet = run(TO_V2, "-q", stdin=data)
    assert (quiet.returncode, quiet.stderr) == (0, b"")


def test_1to2_report_is_capped():
    done = run(TO_V2, stdin=b"time: x\n" * 30)
    lines = done.stderr.splitlines()
    assert len(lines) == 21
    assert lines[-1] == b"subunit-1to2: 30 malformed lines in all (10 not shown)"
    stray = b"".join(e.file_bytes for e in decode_bytes(done.stdout))
    assert stray == b"time: x\n" * 30


def test_1to2_binary_junk_is_kept_as_stdout_bytes():
    junk = bytes(range(256)) * 4
    done = run(TO_V2, stdin=junk)
    assert done.returncode == 0
    events = decode_bytes(done.stdout)
    assert all(e.test_id is None and e.file_name == "stdout" for e in events)
    assert b"".join(e.file_bytes for e in events) == junk


def test_2to1_keeps_non_subunit_bytes_and_outputs_nothing_for_empty_input():
    assert run(TO_V1).stdout == b""
    done = run(TO_V1, stdin=b"plain text\n")
    assert (done.returncode, done.stdout) == (0, b"plain text\n")


@pytest.mark.parametrize("module", [TO_V1, TO_V2])
def test_help_and_usage_errors(module):
    done = run(module, "--help")
    assert done.returncode == 0
    assert b"exit codes:" in done.stdout and b"v1" in done.stdout
    bad = run(module, "--no-such-option")
    assert bad.returncode == 2
    missing = run(module, "/no/such/file")
    assert missing.returncode == 3
    assert missing.stderr.count(b"\n") == 1 and b"No such file" in missing.stderr


def test_in_process_main(tmp_path, capsysbinary):
    from subunit2.filters import subunit_1to2, subunit_2to1

    source = tmp_path / "in.v1"
    source.write_bytes(V1)
    v2 = tmp_path / "out.v2"
    assert subunit_1to2.main([str(source), "-o", str(v2)]) == 0
    v1 = tmp_path / "out.v1"
    assert subunit_2to1.main([str(v2), "-o", str(v1)]) == 0
    assert b"success: pkg.test_b\n" in v1.read_bytes()
