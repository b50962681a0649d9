"""subunit-filter, run as this project's module (subprocess) or in-process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_helpers import (
    FILTER,
    LS,
    STATS,
    a_test,
    assert_one_line_error,
    installed_script_is_ours,
    pipeline,
    run,
    stamp,
    written,
)

from subunit2 import Event, decode_bytes, encode
from subunit2.decoder import PARSER_TEST_ID
from subunit2.filters import subunit_filter

STREAM_EVENTS = (
    a_test("pkg.ok", "success", route="0", tags={"unit"})
    + a_test("pkg.bad", "fail", route="1", tags={"unit", "db"}, attachment=b"boom\n")
    + a_test("pkg.skipped", "skip", route="0")
    + a_test("pkg.known", "xfail", route="1")
    + a_test("pkg.lucky", "uxsuccess", route="0")
    + [Event(test_id="pkg.listed", test_status="exists", runnable=False)]
    + a_test("pkg.hung", None, route="1")
)
STREAM = written(STREAM_EVENTS)


def filtered(tmp_path, *args: str, stream: bytes = STREAM) -> list:
    """Run main() in-process on ``stream`` (a file) with ``-o``; the decoded output."""
    source = tmp_path / "in.subunit"
    source.write_bytes(stream)
    out = tmp_path / "out.subunit"
    code = subunit_filter.main([str(source), "-o", str(out), *args])
    assert code == 0
    return decode_bytes(out.read_bytes())


def ids_in(events) -> list:
    seen = []
    for e in events:
        if e.test_id is not None and e.test_id not in seen:
            seen.append(e.test_id)
    return seen


def test_default_drops_successes_keeps_the_rest_with_every_field():
    result = run(FILTER, stdin=STREAM)
    assert (result.returncode, result.stderr) == (0, b"")
    kept = decode_bytes(result.stdout)
    assert kept == [e for e in STREAM_EVENTS if e.test_id != "pkg.ok"]


DEFAULT_KEPT = {
    "pkg.bad",
    "pkg.skipped",
    "pkg.known",
    "pkg.lucky",
    "pkg.listed",
    "pkg.hung",
}


@pytest.mark.parametrize(
    "flag, added, removed",
    [
        ("-s", "pkg.ok", None),
        ("--success", "pkg.ok", None),
        ("--no-success", None, None),
        ("-f", None, "pkg.bad"),
        ("--no-failure", None, "pkg.bad"),
        ("--failure", None, None),
        ("--no-skip", None, "pkg.skipped"),
        ("--no-xfail", None, "pkg.known"),
        ("--no-uxsuccess", None, "pkg.lucky"),
        ("--no-exists", None, "pkg.listed"),
        ("--no-incomplete", None, "pkg.hung"),
        # Accepted for compatibility and ignored: v2 has no error status.
        ("-e", None, None),
        ("--no-error", None, None),
        ("--error", None, None),
    ],
)
def test_status_flags(tmp_path, flag, added, removed):
    expected = (DEFAULT_KEPT | {added}) - {removed, None}
    assert set(ids_in(filtered(tmp_path, flag))) == expected


def test_keep_flags_undo_drops(tmp_path):
    for status, drop, keep in [
        ("pkg.skipped", "--no-skip", "--skip"),
        ("pkg.known", "--no-xfail", "--xfail"),
        ("pkg.lucky", "--no-uxsuccess", "--uxsuccess"),
        ("pkg.listed", "--no-exists", "--exists"),
        ("pkg.hung", "--no-incomplete", "--incomplete"),
    ]:
        assert status in ids_in(filtered(tmp_path, "-F", keep))
        assert status in ids_in(filtered(tmp_path, drop, keep))  # last one wins


def test_drop_and_keep_flags_together(tmp_path):
    kept = filtered(tmp_path, "--no-skip", "--no-xfail", "-s", "--no-exists")
    assert ids_in(kept) == ["pkg.ok", "pkg.bad", "pkg.lucky", "pkg.hung"]


def test_only_genuine_failures_also_drops_non_subunit_input(tmp_path):
    noisy = b"collecting 7 items\n" + STREAM
    for flag in ("-F", "--only-genuine-failures"):
        kept = filtered(tmp_path, flag, stream=noisy)
        assert ids_in(kept) == ["pkg.bad", "pkg.lucky", "pkg.hung"]
        assert all(e.test_id is not None for e in kept)
    kept = filtered(tmp_path, "-F", "--passthrough", "--skip", stream=noisy)
    assert kept[0] == Event(file_name="stdout", file_bytes=b"collecting 7 items\n")
    assert "pkg.skipped" in ids_in(kept)


def test_with_and_without_regexps(tmp_path):
    assert ids_in(filtered(tmp_path, "--with", r"\.(bad|known)$")) == [
        "pkg.bad",
        "pkg.known",
    ]
    assert ids_in(filtered(tmp_path, "-m", "bad", "-m", "hung")) == [
        "pkg.bad",
        "pkg.hung",
    ]
    kept = filtered(tmp_path, "--without", "known", "--without", "^pkg.l")
    assert ids_in(kept) == ["pkg.bad", "pkg.skipped", "pkg.hung"]
    assert ids_in(filtered(tmp_path, "--with", "(?i)BAD")) == ["pkg.bad"]


def test_match_attachments(tmp_path):
    assert ids_in(filtered(tmp_path, "--with", "boom")) == []
    kept = filtered(tmp_path, "--with", "boom", "--match-attachments")
    assert ids_in(kept) == ["pkg.bad"]


def test_tags(tmp_path):
    assert ids_in(filtered(tmp_path, "-s", "--with-tag", "unit")) == [
        "pkg.ok",
        "pkg.bad",
    ]
    kept = filtered(tmp_path, "-s", "--with-tag", "unit", "--with-tag", "db")
    assert ids_in(kept) == ["pkg.bad"]
    kept = filtered(tmp_path, "--without-tag", "db", "--without-tag", "nope")
    assert "pkg.bad" not in ids_in(kept) and "pkg.known" in ids_in(kept)


def test_fixup_expected_failures(tmp_path):
    listing = tmp_path / "expected.txt"
    listing.write_text("# known problems\npkg.bad\n\n  pkg.ok  \n")
    kept = filtered(tmp_path, "--fixup-expected-failures", str(listing))
    statuses = {e.test_id: e.test_status for e in kept if e.test_status}
    assert statuses["pkg.bad"] == "xfail"
    assert statuses["pkg.ok"] == "uxsuccess"  # and so no longer dropped
    kept = filtered(tmp_path, "--fixup-expected-failures", str(listing), "-F")
    assert ids_in(kept) == ["pkg.ok", "pkg.lucky", "pkg.hung"]


def test_rename_applies_to_every_status(tmp_path):
    kept = filtered(tmp_path, "-s", "--rename", r"^pkg\.", "lib.", "--rename", "b", "B")
    assert ids_in(kept) == [
        "liB.ok",
        "liB.Bad",
        "liB.skipped",
        "liB.known",
        "liB.lucky",
        "liB.listed",
        "liB.hung",
    ]


def test_subtests_keep_their_parent(tmp_path):
    parent = a_test("t", "success", start=1, end=5)
    events = (
        parent[:1]
        + a_test("t (i=1)", "success", parent="t", start=2, end=3)
        + a_test("t (i=2)", "fail", parent="t", start=3, end=4)
        + parent[1:]
    )
    kept = filtered(tmp_path, stream=written(events))
    assert [(e.test_id, e.test_status) for e in kept] == [
        ("t", "inprogress"),
        ("t (i=2)", "inprogress"),
        ("t (i=2)", "fail"),
        ("t", "success"),
    ]
    assert kept[1].parent_test_id == "t"


def test_non_subunit_input_passes_through_as_subunit():
    first = written(STREAM_EVENTS[:2])
    noisy = b"hello\n" + first + b"between tests\n" + STREAM[len(first) :]
    result = run(FILTER, "-s", stdin=noisy)
    assert (result.returncode, result.stderr) == (0, b"")
    out = decode_bytes(result.stdout)
    assert out[0] == Event(file_name="stdout", file_bytes=b"hello\n")
    assert Event(file_name="stdout", file_bytes=b"between tests\n") in out
    assert sorted(map(repr, out)) == sorted(map(repr, decode_bytes(noisy)))
    quiet = run(FILTER, "-s", "--no-passthrough", stdin=noisy)
    assert quiet.returncode == 0
    assert decode_bytes(quiet.stdout) == STREAM_EVENTS


def test_truncated_packet_is_reported_not_lost():
    last = a_test("pkg.last", "fail")
    cut = encode(**last[-1].kwargs())[:-3]
    data = STREAM + written(last[:-1]) + cut
    result = run(FILTER, stdin=data)
    assert result.returncode == 0
    kept = decode_bytes(result.stdout)
    reports = [e for e in kept if e.test_id == PARSER_TEST_ID]
    assert reports and reports[-1].test_status == "fail"
    assert b"truncated" in reports[-1].file_bytes
    text = b"".join(e.file_bytes for e in kept if e.test_id is None)
    assert text == cut  # the cut packet's bytes are passed through
    assert last[0] in kept  # pkg.last never completed: kept as incomplete


def test_garbage_input_becomes_data_and_exit_0():
    garbage = bytes(range(256)) * 8
    result = run(FILTER, "-s", stdin=garbage)
    assert (result.returncode, result.stderr) == (0, b"")
    events = decode_bytes(result.stdout)
    data = b"".join(e.file_bytes for e in events if e.test_id is None)
    assert data == garbage


def test_help_explains_subtests_passthrough_and_exit_codes():
    result = run(FILTER, "--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.startswith("usage: subunit-filter")
    for needle in (
        "subtests",
        "kept subtest keeps its parent",
        "--no-passthrough",
        "--only-genuine-failures",
        "--fixup-expected-failures",
        "--rename FROM TO",
        "exit codes",
        "141",
    ):
        assert needle in " ".join(text.split()), needle


def test_usage_errors_are_exit_2():
    result = run(FILTER, "--with", "(unclosed")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "subunit-filter: ", "--with", "(unclosed")
    result = run(FILTER, "--rename", "(a)", r"\2")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--rename")
    assert run(FILTER, "--rename", "only-one").returncode == 2
    assert run(FILTER, "--bogus").returncode == 2


def test_io_errors_are_exit_3(tmp_path):
    result = run(FILTER, str(tmp_path / "missing"))
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "No such file")
    result = run(FILTER, "--fixup-expected-failures", str(tmp_path / "nope"))
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "nope")
    result = run(FILTER, "-o", str(tmp_path / "no" / "dir"), stdin=STREAM)
    assert result.returncode == 3


def test_output_file_option(tmp_path):
    out = tmp_path / "kept.subunit"
    result = run(FILTER, "-o", str(out), stdin=STREAM)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert decode_bytes(out.read_bytes()) == decode_bytes(
        run(FILTER, stdin=STREAM).stdout
    )


def test_closed_pipe_downstream_is_141_and_quiet(tmp_path):
    big = tmp_path / "big.subunit"
    big.write_bytes(
        written(
            Event(test_id=f"t{i}", test_status="fail", timestamp=stamp(1))
            for i in range(20000)
        )
    )
    with open(big, "rb") as source:
        proc = subprocess.Popen(
            [sys.executable, "-m", FILTER],
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout.read(10)
        proc.stdout.close()
        assert proc.wait(timeout=60) == 141
        assert proc.stderr.read() == b""


def test_pipeline_filter_then_stats_and_ls():
    result = pipeline(STREAM, (FILTER, "-s", "--no-exists"), (STATS, "--json"))
    assert result.codes == [0, 1]  # stats renders the verdict: failures present
    assert b'"passed": 1' in result.stdout and b'"enumerated": 0' in result.stdout
    result = pipeline(STREAM, (FILTER, "-F"), (FILTER, "--without", "hung"), (LS,))
    assert result.codes == [0, 0, 0]
    assert result.stdout == b"pkg.bad\npkg.lucky\n"


def test_the_command_run_is_this_projects():
    installed_script_is_ours("subunit-filter", "subunit_filter")
    assert subunit_filter.__name__ == FILTER
    result = run(FILTER, "--version")
    assert result.stdout.startswith(b"subunit-filter (subunit2) ")
