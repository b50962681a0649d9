"""tap2subunit: TAP 12/13/14 converted to subunit, checked after decoding the stream."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import sysconfig
from typing import Dict, List, Optional

import pytest
from cli_helpers import convert_events, python_subunit_tests, read_events_until

from subunit2 import Event, StreamWriter, decode_bytes
from subunit2.aggregate import Aggregator, TestRecord
from subunit2.filters import tap2subunit
from subunit2.tap import MAX_DEPTH, TapConverter, parse_test_line, unescape

SAMPLES = os.path.join(os.path.dirname(__file__), "samples", "tap")
TEXT = "text/plain;charset=utf8"
YAML = "text/yaml;charset=utf8"


def sample(name: str) -> bytes:
    with open(os.path.join(SAMPLES, name), "rb") as handle:
        return handle.read()


def convert(data: bytes, chunk: Optional[int] = None) -> List[Event]:
    """Convert ``data`` (fed ``chunk`` bytes at a time), encode, decode again."""
    return convert_events(TapConverter, data, chunk)


def records(events: List[Event]) -> Dict[str, TestRecord]:
    found: List[TestRecord] = []
    aggregator = Aggregator(found.append)
    aggregator.startTestRun()
    for event in events:
        aggregator.status(**event.kwargs())
    aggregator.stopTestRun()
    by_id: Dict[str, TestRecord] = {}
    for record in found:
        assert record.test_id not in by_id, f"two records for {record.test_id}"
        by_id[record.test_id] = record
    return by_id


def outcome(events: List[Event]) -> Dict[str, tuple]:
    """test id -> (status, parent, {file: content})."""
    return {
        test_id: (
            record.status,
            record.parent_test_id,
            {name: a.content for name, a in record.attachments.items()},
        )
        for test_id, record in records(events).items()
    }


def passthrough(events: List[Event]) -> bytes:
    return b"".join(
        e.file_bytes or b"" for e in events if e.test_id is None and e.file_name
    )


def reason(text: str) -> Dict[str, bytes]:
    return {"reason": text.encode()}


# -- the test line ---------------------------------------------------------------


def test_test_line_parts_number_description_directive_reason():
    assert parse_test_line("ok 1 - adds # SKIP no bc") == (
        True,
        1,
        "adds",
        "skip",
        "no bc",
        "",
    )
    assert parse_test_line("not ok 12 divides # todo later") == (
        False,
        12,
        "divides",
        "todo",
        "later",
        "",
    )
    assert parse_test_line("ok") == (True, None, "", None, "", "")
    assert parse_test_line("not ok - only a description")[1:3] == (
        None,
        "only a description",
    )


def test_directives_are_case_insensitive_and_take_the_skip_stem():
    for text in ("# skip x", "# Skip x", "# SKIPPED x", "# skip: x", "#SKIP x"):
        parsed = parse_test_line(f"ok 3 - d {text}")
        assert parsed[3:5] == ("skip", "x"), text
    for text in ("# todo x", "# ToDo x", "# TODO x"):
        assert parse_test_line(f"not ok 3 - d {text}")[3:5] == ("todo", "x"), text


def test_todo_needs_a_space_after_it():
    parsed = parse_test_line("ok 1 - d # TODOS are cool")
    assert parsed[3] is None
    assert parsed[2] == "d"
    assert parsed[5] == "TODOS are cool"


def test_escaped_hash_is_part_of_the_description_and_not_a_directive():
    parsed = parse_test_line(r"ok 1 - issue \# 12 \\ done \# SKIP not a directive")
    assert parsed[2] == r"issue # 12 \ done # SKIP not a directive"
    assert parsed[3] is None
    assert unescape(r"a\\\#b\n") == r"a\#b\n"


def test_text_after_an_unescaped_hash_is_a_note_not_part_of_the_id():
    assert parse_test_line("ok 7 - loads # time=12.5ms")[2:] == (
        "loads",
        None,
        "",
        "time=12.5ms",
    )


def test_words_that_start_like_ok_are_not_test_lines():
    assert parse_test_line("okay then") is None
    assert parse_test_line("not okay") is None
    assert parse_test_line("ok\tdone")[2] == "done"


def test_a_number_too_long_to_be_a_test_number_is_the_description():
    digits = "9" * 40
    assert parse_test_line(f"ok {digits}")[1:3] == (None, digits)


# -- statuses and ids ------------------------------------------------------------


def test_ok_and_not_ok_with_directives_give_the_subunit_statuses():
    tap = (
        b"1..6\n"
        b"ok 1 - passes\n"
        b"not ok 2 - fails\n"
        b"ok 3 - skipped # SKIP no network\n"
        b"not ok 4 - skipped but not ok # skip no network\n"
        b"ok 5 - todo that passes # TODO flaky\n"
        b"not ok 6 - todo that fails # TODO flaky\n"
    )
    assert outcome(convert(tap)) == {
        "passes": ("success", None, {}),
        "fails": ("fail", None, {}),
        "skipped": ("skip", None, reason("no network")),
        "skipped but not ok": (
            "fail",
            None,
            reason("not ok with a SKIP directive: no network"),
        ),
        "todo that passes": ("uxsuccess", None, reason("flaky")),
        "todo that fails": ("xfail", None, reason("flaky")),
    }


def test_id_is_the_number_only_when_there_is_no_description():
    tap = b"1..3\nok 1\nok\nok 3 -\n"
    assert list(outcome(convert(tap))) == ["1", "2", "3"]


def test_duplicate_descriptions_get_unique_ids_from_their_numbers():
    tap = b"1..4\nok 1 - same\nok 2 - same\nok 3 - same [2]\nok - same\n"
    assert list(outcome(convert(tap))) == [
        "same",
        "same [2]",
        "same [2] [3]",
        "same [4]",
    ]


def test_repeated_numbers_and_descriptions_still_give_unique_ids():
    tap = b"ok 1 - x\n" * 5 + b"1..5\n"
    ids = [e.test_id for e in convert(tap) if e.test_status == "success"]
    assert ids == ["x", "x [1]", "x [1.2]", "x [1.3]", "x [1.4]"]


# -- diagnostics and comments ----------------------------------------------------


def test_yaml_block_is_the_diagnostics_attachment_of_its_test():
    tap = (
        b"TAP version 13\n"
        b"1..2\n"
        b"not ok 1 - resolves\n"
        b"  ---\n"
        b"  message: 'hostname not found'\n"
        b"  data:\n"
        b"    got: ~\n"
        b"\n"
        b"  ...\n"
        b"ok 2 - next\n"
    )
    events = convert(tap)
    [yaml] = [e for e in events if e.file_name == "diagnostics"]
    assert yaml.test_id == "resolves"
    assert yaml.mime_type == YAML
    assert yaml.file_bytes == b"message: 'hostname not found'\ndata:\n  got: ~\n\n"
    assert outcome(events)["resolves"][0] == "fail"
    assert outcome(events)["next"][0] == "success"


def test_unterminated_yaml_block_ends_at_the_first_less_indented_line():
    tap = b"1..2\nnot ok 1 - a\n  ---\n  x: 1\nok 2 - b\n"
    result = outcome(convert(tap))
    assert result["a"] == ("fail", None, {"diagnostics": b"x: 1\n"})
    assert result["b"] == ("success", None, {})


def test_comments_after_a_test_are_attached_to_it_and_before_any_pass_through():
    tap = b"# starting\n1..2\nnot ok 1 - a\n# got 1\n# wanted 2\nok 2 - b\n"
    events = convert(tap)
    assert outcome(events)["a"] == (
        "fail",
        None,
        {"comments": b"# got 1\n# wanted 2\n"},
    )
    assert passthrough(events) == b"# starting\n"


def test_blank_lines_between_comments_stay_with_the_test_trailing_ones_pass():
    tap = b"1..2\nnot ok 1 - a\n# one\n\n# two\n\nok 2 - b\n"
    events = convert(tap)
    assert outcome(events)["a"][2] == {"comments": b"# one\n\n# two\n"}
    assert passthrough(events) == b"\n"


def test_non_tap_lines_pass_through_exactly_and_in_order():
    tap = (
        b"1..2\nstarting server on :8080\r\nok 1 - a\n\xff\xfe binary \x00 junk\nok 2\n"
    )
    events = convert(tap)
    assert (
        passthrough(events)
        == b"starting server on :8080\r\n\xff\xfe binary \x00 junk\n"
    )
    order = [(e.test_id, e.test_status) for e in events]
    assert order == [
        (None, None),
        ("a", "success"),
        (None, None),
        ("2", "success"),
    ]


def test_version_lines_and_pragmas_are_read_not_passed_through():
    tap = b"TAP version 14\npragma +strict\n1..1\nok 1 - a\npragma -strict\n"
    events = convert(tap)
    assert passthrough(events) == b""
    assert outcome(events) == {"a": ("success", None, {})}


# -- plans -----------------------------------------------------------------------


def test_plan_may_come_at_the_end():
    tap = b"ok 1 - a\nok 2 - b\n1..2\n"
    assert outcome(convert(tap)) == {
        "a": ("success", None, {}),
        "b": ("success", None, {}),
    }


def test_skip_all_plan_gives_one_skipped_test_with_the_reason():
    assert outcome(convert(sample("skip-all.tap"))) == {
        "[plan]": ("skip", None, reason("WWW::Mechanize not installed")),
    }


def test_planned_tests_never_reported_fail_saying_so():
    result = outcome(convert(sample("short-run.tap")))
    why = reason("planned (1..6) but never reported")
    assert result == {
        "starts": ("success", None, {}),
        "no number": ("success", None, {}),
        "numbered out of order": ("success", None, {}),
        "3": ("fail", None, why),
        "5": ("fail", None, why),
        "6": ("fail", None, why),
    }


def test_more_tests_than_planned_fail_the_plan():
    result = outcome(convert(b"1..1\nok 1 - a\nok 2 - b\n"))
    assert result["[plan]"] == (
        "fail",
        None,
        reason("the plan was 1..1 but 2 tests ran"),
    )


def test_missing_plan_fails_once_tap_was_seen_but_plain_text_does_not():
    result = outcome(convert(b"ok 1 - a\n"))
    assert result["[plan]"][0] == "fail"
    assert b"no plan" in result["[plan]"][2]["reason"]
    assert outcome(convert(b"just some text\n")) == {}
    assert outcome(convert(b"")) == {}


def test_a_huge_plan_fails_the_first_missing_tests_and_summarises_the_rest():
    events = convert(b"1..1000000000\nok 1 - a\n")
    result = outcome(events)
    assert len(result) == 1 + 100 + 1
    assert result["101"][0] == "fail"
    assert result["[plan]"] == (
        "fail",
        None,
        reason(
            "999999899 more test(s) after number 101 planned (1..1000000000) "
            "but never reported"
        ),
    )


def test_second_plan_is_not_tap_and_passes_through():
    events = convert(b"1..1\nok 1 - a\n1..5\n")
    assert passthrough(events) == b"1..5\n"
    assert set(outcome(events)) == {"a"}


# -- bail out --------------------------------------------------------------------


def test_bail_out_fails_and_stops_reading_tap():
    events = convert(sample("bail-out.tap"))
    result = outcome(events)
    bailed = "not run: the stream bailed out (Bail out! Couldn't connect to database.)"
    assert result == {
        "database handle": ("success", None, {}),
        "migrations applied": ("fail", None, {}),
        "[bail out]": ("fail", None, reason("Bail out! Couldn't connect to database.")),
        "3": ("fail", None, reason(bailed)),
        "4": ("fail", None, reason(bailed)),
        "5": ("fail", None, reason(bailed)),
    }
    assert passthrough(events) == b"ok 3 - this line comes after the bail out\n"


def test_bail_out_inside_a_subtest_fails_the_open_subtests():
    tap = b"1..1\n# Subtest: outer\n    1..2\n    ok 1 - a\n    Bail out! disk full\n"
    result = outcome(convert(tap))
    assert result["outer/[bail out]"][0] == "fail"
    assert result["outer/2"][0] == "fail"
    assert result["outer"][0] == "fail"
    assert result["outer"][2]["reason"].startswith(b"not run: the stream bailed out")
    assert result["1"][0] == "fail"  # the top level's planned test


# -- subtests --------------------------------------------------------------------


def test_node_tap_sample_event_by_event():
    events = convert(sample("node-tap.tap"))
    got = [
        (e.test_id, e.test_status, e.file_name, e.file_bytes, e.parent_test_id)
        for e in events
    ]
    math = "test/math.js"
    add = f"{math}/addition"
    div = f"{math}/division"
    yaml = (
        b"wanted: RangeError\nfound: undefined\nat:\n  line: 14\n  file: test/math.js\n"
    )
    assert got == [
        (f"{add}/should be equal", "success", None, None, add),
        (f"{add}/should be equal [2]", "success", None, None, add),
        (add, None, "comments", b"# time=2.1ms\n", math),
        (add, "success", None, None, math),
        (None, None, "stdout", b"\n", None),
        (f"{div}/should be equal", "success", None, None, div),
        (f"{div}/should throw", None, "diagnostics", yaml, div),
        (f"{div}/should throw", "fail", None, None, div),
        (None, None, "stdout", b"\n", None),
        (div, None, "comments", b"# time=3.4ms\n", math),
        (div, "fail", None, None, math),
        (None, None, "stdout", b"\n", None),
        (f"{math}/slow path", "skip", "reason", b"not on CI", math),
        (f"{math}/big numbers", "xfail", "reason", b"bigint support", math),
        (math, None, "comments", b"# time=120ms\n", None),
        (math, "fail", None, None, None),
        (None, None, "stdout", b"\n", None),
        ("test/strings.js/trims # of spaces", "success", None, None, "test/strings.js"),
        ("test/strings.js", None, "comments", b"# time=40ms\n", None),
        ("test/strings.js", "success", None, None, None),
        (None, None, "stdout", b"\n# failed 1 of 2 tests\n", None),
    ]
    assert all(e.mime_type == TEXT for e in events if e.file_name == "comments")


def test_test_more_subtest_announced_at_the_child_indentation():
    result = outcome(convert(sample("test-more.tap")))
    assert result["rounding/rounds up"] == ("success", "rounding", {})
    assert result["rounding/rounds half to even"] == (
        "fail",
        "rounding",
        {
            "comments": b"#   Failed test 'rounds half to even'\n"
            b"#   at t/calc.t line 18.\n"
            b"#          got: '3'\n"
            b"#     expected: '2'\n"
        },
    )
    assert result["rounding"] == (
        "fail",
        None,
        {
            "comments": b"# Looks like you failed 1 test of 2.\n"
            b"#   Failed test 'rounding'\n"
            b"#   at t/calc.t line 20.\n"
        },
    )
    assert [k for k in result if "/" not in k] == [
        "use Calc",
        "add works",
        "divide by zero dies",
        "rounding",
    ]


def test_bats_sample():
    result = outcome(convert(sample("bats.tap")))
    assert result == {
        "addition using bc": ("success", None, {}),
        "addition using dc": (
            "fail",
            None,
            {
                "comments": b"# (in test file test/add.bats, line 11)\n"
                b'#   `[ "$result" -eq 4 ]\' failed\n'
            },
        ),
        "subtraction": ("skip", None, reason("no dc on this host")),
        "multiplication": ("success", None, {}),
    }


def test_bare_subtest_without_a_comment_is_named_by_its_test_number():
    tap = b"1..2\nok 1 - first\n    1..1\n    ok 1 - inner\nok 2 - second\n"
    result = outcome(convert(tap))
    assert result == {
        "first": ("success", None, {}),
        "2/inner": ("success", "2", {}),
        "2": ("success", None, {}),
    }


def test_subtests_nest_three_deep_with_parents_at_each_level():
    tap = (
        b"# Subtest: a\n"
        b"    # Subtest: b\n"
        b"        # Subtest: c\n"
        b"            ok 1 - leaf\n"
        b"            1..1\n"
        b"        ok 1 - c\n"
        b"        1..1\n"
        b"    ok 1 - b\n"
        b"    1..1\n"
        b"ok 1 - a\n"
        b"1..1\n"
    )
    result = outcome(convert(tap))
    assert {k: v[:2] for k, v in result.items()} == {
        "a/b/c/leaf": ("success", "a/b/c"),
        "a/b/c": ("success", "a/b"),
        "a/b": ("success", "a"),
        "a": ("success", None),
    }


def test_child_plan_is_checked_within_the_subtest():
    tap = b"1..1\n# Subtest: s\n    1..3\n    ok 1 - x\nnot ok 1 - s\n"
    result = outcome(convert(tap))
    assert result["s/2"] == ("fail", "s", reason("planned (1..3) but never reported"))
    assert result["s/3"][0] == "fail"
    assert result["s"][:2] == ("fail", None)


def test_subtest_cut_off_by_end_of_input_fails_its_parent():
    tap = b"1..1\n# Subtest: s\n    1..1\n    ok 1 - x\n"
    result = outcome(convert(tap))
    assert result["s/x"][0] == "success"
    assert result["s"] == (
        "fail",
        None,
        reason("subtest incomplete: the input ended before its test point"),
    )
    assert result["1"][0] == "fail"


def test_comments_inside_a_subtest_before_any_test_go_to_the_subtest():
    tap = b"# Subtest: s\n    # setting up\n    ok 1 - x\n    1..1\nok 1 - s\n1..1\n"
    result = outcome(convert(tap))
    assert result["s"] == ("success", None, {"comments": b"# setting up\n"})


def test_children_are_emitted_before_their_parent_completes():
    events = convert(sample("test-more.tap"))
    order = [e.test_id for e in events if e.test_status]
    assert order.index("rounding/rounds up") < order.index("rounding")


# -- bounds and hostile input ----------------------------------------------------


def test_over_long_line_passes_through_whole_and_is_not_read_as_tap():
    huge = b"ok 1 - " + b"x" * 200_000 + b"\n"
    events = convert(b"1..1\n" + huge, chunk=4096)
    assert passthrough(events) == huge
    assert outcome(events)["1"][0] == "fail"  # the plan's test never came
    assert max(len(e.file_bytes or b"") for e in events) <= 65536


def test_over_long_yaml_line_stays_in_the_diagnostics():
    long = b"  blob: " + b"y" * 100_000 + b"\n"
    tap = b"1..1\nnot ok 1 - a\n  ---\n" + long + b"  ...\n"
    result = outcome(convert(tap, chunk=1000))
    assert result["a"][2]["diagnostics"] == long


def test_long_description_is_cut_in_the_id_and_attached_whole():
    description = "d" * 5000
    result = outcome(convert(f"1..1\nok 1 - {description}\n".encode()))
    [(test_id, (status, _, files))] = result.items()
    assert test_id == "d" * 1000 + "..."
    assert files == {"description": description.encode()}


def test_nesting_deeper_than_the_cap_passes_through():
    deep = b" " * (4 * MAX_DEPTH) + b"ok 1 - too deep\n"
    events = convert(b"1..1\nok 1 - a\n" + deep)
    assert passthrough(events) == deep


def test_invalid_utf8_and_nul_in_descriptions_give_valid_ids():
    result = outcome(convert(b"1..1\nok 1 - caf\xe9 \x00 bar\n"))
    assert list(result) == ["caf\ufffd \ufffd bar"]


def test_feeding_byte_by_byte_gives_the_same_tests_and_text():
    # Only how attachments are cut into chunks may differ: a feed flushes them.
    data = sample("node-tap.tap") + sample("test-more.tap")
    whole = convert(data)
    for chunk in (1, 7):
        part = convert(data, chunk=chunk)
        assert outcome(part) == outcome(whole)
        assert passthrough(part) == passthrough(whole)
        statuses = [(e.test_id, e.test_status) for e in part if e.test_status]
        assert statuses == [(e.test_id, e.test_status) for e in whole if e.test_status]


def test_crlf_line_endings_are_read_as_tap():
    result = outcome(convert(b"1..2\r\nok 1 - a\r\nnot ok 2 - b # TODO x\r\n"))
    assert result == {
        "a": ("success", None, {}),
        "b": ("xfail", None, reason("x")),
    }


def test_converter_is_live_each_test_is_delivered_once_the_next_line_arrives():
    seen: List[Event] = []

    class Collect:
        def status(self, **kwargs):
            seen.append(Event(**kwargs))

    converter = TapConverter(Collect())
    converter.feed(b"1..3\nok 1 - a\n")
    assert seen == []
    converter.feed(b"ok 2 - b\n")
    assert [e.test_id for e in seen] == ["a"]
    converter.feed(b"junk\n")
    assert [e.test_id for e in seen] == ["a", "b", None]


# -- the command -----------------------------------------------------------------


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "subunit2.filters.tap2subunit", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_command_reads_stdin_and_writes_a_decodable_stream():
    done = run(stdin=sample("bats.tap"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert outcome(decode_bytes(done.stdout)) == outcome(convert(sample("bats.tap")))


def test_command_reads_a_file_and_writes_to_o(tmp_path):
    target = tmp_path / "out.subunit"
    code = tap2subunit.main([os.path.join(SAMPLES, "bats.tap"), "-o", str(target)])
    assert code == 0
    assert decode_bytes(target.read_bytes()) == convert(sample("bats.tap"))


def test_verdict_flag_exits_1_on_failures_and_0_when_all_pass(tmp_path):
    failing = os.path.join(SAMPLES, "bats.tap")
    out = str(tmp_path / "o")
    assert tap2subunit.main([failing, "-o", out]) == 0
    assert tap2subunit.main([failing, "-o", out, "--verdict"]) == 1
    passing = tmp_path / "pass.tap"
    passing.write_bytes(b"1..2\nok 1 - a\nnot ok 2 - b # TODO later\n")
    assert tap2subunit.main([str(passing), "-o", out, "--verdict"]) == 0


def test_v2_only_drops_parent_ids(tmp_path):
    out = tmp_path / "o"
    src = os.path.join(SAMPLES, "test-more.tap")
    assert tap2subunit.main([src, "-o", str(out), "--v2-only"]) == 0
    events = decode_bytes(out.read_bytes())
    assert all(e.parent_test_id is None for e in events)
    assert "rounding/rounds up" in {e.test_id for e in events}


def test_help_lists_exit_codes_and_missing_file_is_exit_3():
    done = run("--help")
    assert done.returncode == 0
    assert b"exit codes:" in done.stdout and b"--verdict" in done.stdout
    done = run("/no/such/file.tap")
    assert done.returncode == 3
    assert done.stderr.startswith(b"tap2subunit: ")
    assert b"Traceback" not in done.stderr
    assert run("--bogus").returncode == 2


@pytest.mark.parametrize("name", sorted(os.listdir(SAMPLES)))
def test_every_sample_converts_without_leftovers(name):
    events = convert(sample(name))
    assert all(r.complete for r in records(events).values())


def test_command_streams_live_through_a_pipe():
    proc = subprocess.Popen(
        [sys.executable, "-m", "subunit2.filters.tap2subunit"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(b"1..3\nok 1 - first\nok 2 - second\n")
        proc.stdin.flush()
        events = read_events_until(proc, "first")
        assert "second" not in {
            e.test_id for e in events
        }  # pending: comments may follow
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        assert proc.stderr.read() == b""
    finally:
        proc.kill()


def test_python_subunit_reads_the_converted_stream_alike():
    out = io.BytesIO()
    converter = TapConverter(StreamWriter(out, flush=False))
    converter.feed(sample("node-tap.tap") + sample("bail-out.tap"))
    converter.close()
    found = python_subunit_tests(out.getvalue())
    mine = records(decode_bytes(out.getvalue()))
    got = {t["id"]: t["status"] for t in found if t["id"] is not None}
    assert got == {test_id: record.status for test_id, record in mine.items()}


@pytest.mark.parametrize("name", ["tap2subunit", "gojson2subunit"])
def test_installed_console_scripts_are_ours(name):
    path = os.path.join(sysconfig.get_path("scripts"), name)
    assert os.path.exists(path), f"{name} is not installed"
    with open(path, "rb") as script:
        assert f"subunit2.filters.{name}".encode() in script.read()
