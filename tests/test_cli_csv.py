"""subunit2csv: one CSV row per completed test, streamed, with hostile ids quoted."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess
import sys

from subunit2 import Event, encode
from subunit2.csvreport import HEADER, CsvWriter, format_time, time_formatter
from subunit2.filters import subunit2csv

MODULE = "subunit2.filters.subunit2csv"
UTC = datetime.timezone.utc


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def at(second: int, micro: int = 0) -> datetime.datetime:
    return datetime.datetime(2024, 5, 6, 7, 8, second, micro, tzinfo=UTC)


def stream(*events: Event) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def rows(text: bytes) -> list:
    return list(csv.reader(io.StringIO(text.decode("utf-8"), newline="")))


RUN = stream(
    Event(test_id="pkg.test_listed", test_status="exists"),
    Event(test_id="pkg.test_a", test_status="exists"),
    Event(test_id="pkg.test_a", test_status="inprogress", timestamp=at(1, 250)),
    Event(test_id="pkg.test_b", test_status="inprogress", route_code="0/1"),
    Event(test_id="pkg.test_a", file_name="stdout", file_bytes=b"x", timestamp=at(2)),
    Event(test_id="pkg.test_a", test_status="success", timestamp=at(3, 500)),
    Event(
        test_id="pkg.test_b (i=1)",
        test_status="fail",
        parent_test_id="pkg.test_b",
        route_code="0/1",
        timestamp=at(4),
    ),
    Event(test_id="pkg.test_b", test_status="skip", route_code="0/1"),
    Event(test_id="pkg.test_open", test_status="inprogress", timestamp=at(5)),
)


def test_rows_have_iso_times_duration_route_and_parent():
    result = run(stdin=RUN)
    assert (result.returncode, result.stderr) == (0, b"")
    assert rows(result.stdout) == [
        list(HEADER),
        [
            "pkg.test_a",
            "success",
            "2024-05-06T07:08:01.000250Z",
            "2024-05-06T07:08:03.000500Z",
            "2.000250",
            "",
            "",
        ],
        [
            "pkg.test_b (i=1)",
            "fail",
            "2024-05-06T07:08:04.000000Z",
            "2024-05-06T07:08:04.000000Z",
            "0.000000",
            "0/1",
            "pkg.test_b",
        ],
        ["pkg.test_b", "skip", "", "", "", "0/1", ""],
        [
            "pkg.test_open",
            "inprogress",
            "2024-05-06T07:08:05.000000Z",
            "2024-05-06T07:08:05.000000Z",
            "0.000000",
            "",
            "",
        ],
    ]


def test_include_exists_adds_rows_for_enumerated_tests():
    result = run("--include-exists", stdin=RUN)
    table = rows(result.stdout)
    assert [row[:2] for row in table[1:4]] == [
        ["pkg.test_listed", "exists"],
        ["pkg.test_a", "exists"],
        ["pkg.test_a", "success"],
    ]


HOSTILE = [
    'comma, "quoted" id',
    "line\nbreak",
    "carriage\rreturn\r\n",
    '"',
    '=HYPERLINK("x")',
    "ünïcode ✓ 🎉",
    " leading and trailing ",
]


def test_hostile_ids_survive_csv_quoting():
    events = [Event(test_id=i, test_status="success", route_code=i) for i in HOSTILE]
    events.append(Event(test_id="child", test_status="fail", parent_test_id=HOSTILE[0]))
    result = run(stdin=stream(*events))
    assert result.returncode == 0
    table = rows(result.stdout)
    assert [row[0] for row in table[1:-1]] == HOSTILE
    assert [row[5] for row in table[1:-1]] == HOSTILE
    assert table[-1][6] == HOSTILE[0]
    assert all(len(row) == len(HEADER) for row in table)


def test_non_subunit_bytes_go_to_stderr_never_into_the_csv():
    mixed = b"collecting...\n" + RUN + b"trailing noise"
    result = run(stdin=mixed)
    assert result.returncode == 0
    assert result.stderr == b"collecting...\ntrailing noise"
    assert result.stdout == run(stdin=RUN).stdout
    quiet = run("--no-passthrough", stdin=mixed)
    assert (quiet.stdout, quiet.stderr) == (result.stdout, b"")


def test_file_argument_output_option_and_empty_input(tmp_path):
    source = tmp_path / "in.subunit"
    source.write_bytes(RUN)
    target = tmp_path / "out.csv"
    result = run(str(source), "-o", str(target))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert target.read_bytes() == run(stdin=RUN).stdout
    empty = run()
    assert (empty.returncode, empty.stdout) == (0, ",".join(HEADER).encode() + b"\n")


def test_errors_are_one_line_with_the_contract_codes(tmp_path):
    missing = run(str(tmp_path / "nope.subunit"))
    assert missing.returncode == 3
    assert missing.stderr.decode().startswith("subunit2csv: ")
    assert missing.stderr.count(b"\n") == 1 and b"Traceback" not in missing.stderr
    bad = run("--no-such-option")
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


def test_help_lists_columns_passthrough_and_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    for needle in (",".join(HEADER), "--no-passthrough", "standard error", "141"):
        assert needle in text


def test_status_calls_and_feed_write_the_same_csv():
    events = [
        Event(test_id="a", test_status="inprogress", timestamp=at(1)),
        Event(test_id="b", test_status="xfail", route_code="2"),
        Event(test_id="a", test_status="uxsuccess", timestamp=at(2)),
    ]
    by_status, by_feed = io.StringIO(), io.StringIO()
    writer = CsvWriter(by_status)
    writer.startTestRun()
    for event in events:
        writer.status(**event.kwargs())
    writer.stopTestRun()
    writer = CsvWriter(by_feed)
    writer.startTestRun()
    writer.consume(events)
    writer.stopTestRun()
    assert by_status.getvalue() == by_feed.getvalue()
    assert writer.rows == 2


def test_times_in_other_zones_are_written_in_utc():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    local = datetime.datetime(2024, 1, 1, 12, 0, 0, 5, tzinfo=plus_two)
    assert format_time(local) == "2024-01-01T10:00:00.000005Z"
    assert format_time(datetime.datetime(2024, 1, 1)) == "2024-01-01T00:00:00.000000Z"
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.startTestRun()
    writer.status(test_id="t", test_status="inprogress", timestamp=local)
    writer.status(test_id="t", test_status="success", timestamp=at(0))
    writer.stopTestRun()
    assert rows(out.getvalue().encode())[1][2] == "2024-01-01T10:00:00.000005Z"


def test_main_runs_in_process(tmp_path, capsys):
    source = tmp_path / "in.subunit"
    source.write_bytes(RUN)
    target = tmp_path / "out.csv"
    assert subunit2csv.main([str(source), "-o", str(target)]) == 0
    assert rows(target.read_bytes())[1][0] == "pkg.test_a"


def test_the_remembering_formatter_agrees_with_format_time_across_boundaries():
    plus_one = datetime.timezone(datetime.timedelta(hours=1))
    base = datetime.datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    times = [
        base,
        base + datetime.timedelta(microseconds=1),  # next second, day and year
        base - datetime.timedelta(hours=1),  # same minute and second, an hour back
        base,
        base.replace(microsecond=0),
        base - datetime.timedelta(days=366),
        base.astimezone(plus_one),
        datetime.datetime(2024, 1, 1, 0, 0, 0, 7),  # naive: taken as UTC
    ]
    stamp = time_formatter()
    assert [stamp(t) for t in times] == [format_time(t) for t in times]
    assert stamp(times[1]) == "2025-01-01T00:00:00.000000Z"
    assert stamp(times[2]) == "2024-12-31T22:59:59.999999Z"
