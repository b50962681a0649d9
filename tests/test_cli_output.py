"""subunit-output: events from the command line; and pipelines of the v1 tools."""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest

from subunit2 import Event, decode_bytes
from subunit2.filters.subunit_output import main

MODULE = "subunit2.filters.subunit_output"
UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
FIXED = ["--timestamp", "2024-01-02T03:04:05.5Z"]


def events_of(tmp_path, *args: str):
    target = tmp_path / "out.subunit"
    code = main(["-o", str(target), *args])
    assert code == 0
    return decode_bytes(target.read_bytes())


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "status", ["exists", "inprogress", "success", "uxsuccess", "skip", "fail", "xfail"]
)
def test_python_subunit_status_spellings_and_status_option_agree(tmp_path, status):
    short = events_of(tmp_path, f"--{status}", "t", *FIXED)
    long = events_of(tmp_path, "--status", status, "--test-id", "t", *FIXED)
    assert short == long == [Event("t", status, timestamp=T0)]


def test_every_field_option(tmp_path):
    events = events_of(
        tmp_path,
        "--success",
        "pkg.t (i=1)",
        "--tag",
        "a",
        "--tag",
        "b",
        "--route-code",
        "0/1",
        "--parent-test-id",
        "pkg.t",
        "--not-runnable",
        "--timestamp",
        "2024-01-02 05:04:05.5+02:00",
    )
    assert events == [
        Event(
            "pkg.t (i=1)",
            "success",
            {"a", "b"},
            runnable=False,
            route_code="0/1",
            timestamp=T0,
            parent_test_id="pkg.t",
        )
    ]


def test_timestamp_defaults_to_now_and_can_be_left_out(tmp_path):
    before = datetime.datetime.now(UTC)
    (stamped,) = events_of(tmp_path, "--inprogress", "t")
    assert before <= stamped.timestamp <= datetime.datetime.now(UTC)
    (now,) = events_of(tmp_path, "--inprogress", "t", "--timestamp", "now")
    assert before <= now.timestamp
    (bare,) = events_of(tmp_path, "--inprogress", "t", "--no-timestamp")
    assert bare.timestamp is None


def test_attached_file_is_sent_in_chunks_with_final_status_on_the_last(tmp_path):
    path = tmp_path / "tb.txt"
    path.write_bytes(b"0123456789")
    events = events_of(
        tmp_path,
        "--fail",
        "t",
        "--attach-file",
        str(path),
        "--mimetype",
        "text/plain",
        "--chunk-size",
        "4",
        "--tag",
        "x",
        *FIXED,
    )
    assert [(e.test_status, e.file_bytes, e.eof) for e in events] == [
        (None, b"0123", False),
        (None, b"4567", False),
        ("fail", b"89", True),
    ]
    assert {(e.test_id, e.file_name, e.mime_type, e.timestamp) for e in events} == {
        ("t", "tb.txt", "text/plain", T0)
    }
    assert all(e.test_tags == {"x"} for e in events)


def test_inprogress_goes_on_the_first_chunk(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"abcdef")
    events = events_of(
        tmp_path, "--inprogress", "t", "--attach-file", str(path), "--chunk-size", "3"
    )
    assert [(e.test_status, e.eof) for e in events] == [
        ("inprogress", False),
        (None, True),
    ]


def test_empty_file_is_one_eof_packet_and_file_name_option_renames(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    events = events_of(
        tmp_path, "--skip", "t", "--attach-file", str(path), "--file-name", "reason"
    )
    assert [(e.test_status, e.file_name, e.file_bytes, e.eof) for e in events] == [
        ("skip", "reason", b"", True)
    ]


def test_stdin_attachment_without_a_test_is_a_file_of_the_run():
    data = bytes(range(256)) * 100
    done = run(
        "--attach-file", "-", "--chunk-size", "10000", "--no-timestamp", stdin=data
    )
    assert done.returncode == 0
    events = decode_bytes(done.stdout)
    assert len(events) == 3
    assert {(e.test_id, e.file_name, e.test_status) for e in events} == {
        (None, "stdin", None)
    }
    assert b"".join(e.file_bytes for e in events) == data


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to write"),
        (["--status", "fail"], "--status needs --test-id"),
        (["--status", "bogus", "--test-id", "t"], "unknown status 'bogus'"),
        (["--success", "a", "--fail", "a"], "only one status may be given"),
        (["--test-id", "a", "--success", "b"], "test id given twice"),
        (["--success", "a", "--mimetype", "text/plain"], "need --attach-file"),
        (["--success", "a", "--file-name", "x"], "need --attach-file"),
        (["--success", "a", "--timestamp", "soon"], "not an ISO 8601 timestamp"),
        (["--success", "a", "--timestamp", "1900-01-01"], "outside 1970..2106"),
        (["--success", "a", "--chunk-size", "0"], "must be between"),
        (["--success", "a\x00b"], "NUL"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_missing_attachment_exits_3(capsys, tmp_path):
    assert main(["--fail", "t", "--attach-file", str(tmp_path / "nope")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("subunit-output: ") and "No such file" in err


def test_help_lists_python_subunit_spellings_and_exit_codes():
    done = run("--help")
    assert done.returncode == 0
    for option in (
        b"--attach-file",
        b"--mimetype",
        b"--file-name",
        b"--tag",
        b"--xfail",
    ):
        assert option in done.stdout
    assert b"exit codes:" in done.stdout


def _pipe(*stages, stdin: bytes = b"") -> bytes:
    """Run module stages as one shell-free pipeline; every stage must exit 0."""
    data = stdin
    for module, *args in stages:
        done = subprocess.run(
            [sys.executable, "-m", f"subunit2.filters.{module}", *args],
            input=data,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, (module, done.stderr)
        assert done.stderr == b""
        data = done.stdout
    return data


def test_output_tags_2to1_1to2_pipeline_round_trip(tmp_path):
    log = tmp_path / "log.txt"
    log.write_bytes(b"line one\n]\nline two\n")
    first = tmp_path / "first.subunit"
    assert main(["-o", str(first), "--inprogress", "t", *FIXED]) == 0
    second = tmp_path / "second.subunit"
    args = ["--fail", "t", "--attach-file", str(log), "--mimetype", "text/plain"]
    assert main(["-o", str(second), *args, "--tag", "gone", *FIXED]) == 0
    stream = first.read_bytes() + second.read_bytes()
    out = _pipe(
        ("subunit_tags", "ci", "-gone"),
        ("subunit_2to1",),
        ("subunit_1to2",),
        stdin=stream,
    )
    assert decode_bytes(out) == [
        Event("t", "inprogress", {"ci"}, timestamp=T0),
        Event(
            "t",
            file_name="log.txt",
            file_bytes=b"line one\n]\nline two\n",
            eof=True,
            mime_type="text/plain",
            timestamp=T0,
        ),
        Event("t", "fail", {"ci"}, timestamp=T0),
    ]
