"""subunit-ls and TestLister: completion order, times, enumerated tests, trees."""

from __future__ import annotations

import pytest
from cli_helpers import (
    FILTER,
    LS,
    a_test,
    assert_one_line_error,
    installed_script_is_ours,
    pipeline,
    run,
    stamp,
    written,
)

from subunit2 import Event
from subunit2.filters import subunit_ls
from subunit2.listing import TestLister as Lister

# b starts first but a completes first; c fails; e is only enumerated.
EVENTS = (
    a_test("b", None, route="1", start=1)
    + a_test("a", "success", route="0", start=2, end=3)
    + [Event(test_id="b", test_status="success", route_code="1", timestamp=stamp(5))]
    + a_test("c", "fail", start=5, end=6, attachment=b"boom")
    + [Event(test_id="e", test_status="exists")]
    + a_test("never", None, start=7)
)
STREAM = written(EVENTS)


def listing(*args: str, stdin: bytes = STREAM) -> str:
    result = run(LS, *args, stdin=stdin)
    assert (result.returncode, result.stderr) == (0, b"")
    return result.stdout.decode()


def test_ids_in_completion_order_whatever_the_outcome():
    assert listing() == "a\nb\nc\n"


def test_exists_lists_enumerated_tests_too():
    assert listing("--exists") == "a\nb\nc\ne\n"


def test_times_from_first_to_final_event():
    assert listing("--times") == "a 1.000000\nb 4.000000\nc 1.000000\n"
    untimed = written([Event(test_id="x", test_status="success")])
    assert listing("--times", stdin=untimed) == "x -\n"


SUBTESTS = (
    a_test("p", None, start=1)  # parent starts
    + a_test("p (i=1)", "success", parent="p", start=2, end=3)
    + a_test("p (i=1) [j]", None, parent="p (i=1)", start=3)  # nested, still open
    + a_test("p (i=2)", "fail", parent="p", start=3, end=4)
    + a_test("p (i=2) [j]", "success", parent="p (i=2)", start=3, end=4)
    + [Event(test_id="p", test_status="fail", timestamp=stamp(9))]
    + a_test("q", "success", start=9, end=10)
)


def test_tree_indents_subtests_under_their_parent():
    # p (i=2) [j] completes after p (i=2): its parent is no longer in flight, so
    # it is listed at once, before p completes.
    assert listing("--tree", stdin=written(SUBTESTS)) == (
        "p (i=2) [j] (subtest of p (i=2))\np\n  p (i=1)\n  p (i=2)\nq\n"
    )


def test_tree_nests_and_holds_only_while_the_parent_is_in_flight():
    events = (
        a_test("g", None, start=1)
        + a_test("g.p", None, parent="g", start=2)
        + a_test("g.p.c", "success", parent="g.p", start=3, end=4)
        + [Event(test_id="g.p", test_status="success", timestamp=stamp(5))]
        + [Event(test_id="g", test_status="success", timestamp=stamp(6))]
    )
    lines = []
    lister = Lister(lines.append, tree=True, times=True)
    lister.consume(events[:4])
    assert lines == []  # g.p.c is held: its parent is in flight
    lister.consume(events[4:5])
    assert lines == []  # g.p (and g.p.c) held under g
    lister.consume(events[5:])
    lister.stopTestRun()
    assert "".join(lines) == "g 5.000000\n  g.p 3.000000\n    g.p.c 1.000000\n"


def test_tree_shows_a_parent_left_in_flight_as_incomplete():
    events = a_test("p", None) + a_test("p.c", "fail", parent="p")
    assert listing("--tree", stdin=written(events)) == "p (incomplete)\n  p.c\n"


def test_tree_matches_parents_by_route_code():
    events = (
        a_test("p", None, route="0")
        + a_test("p.c", "success", parent="p", route="1")
        + [Event(test_id="p", test_status="success", route_code="0")]
    )
    assert listing("--tree", stdin=written(events)) == "p.c (subtest of p)\np\n"


def test_without_tree_subtests_are_plain_lines():
    assert listing(stdin=written(SUBTESTS)) == ("p (i=1)\np (i=2)\np (i=2) [j]\np\nq\n")


def test_status_calls_agree_with_consume():
    lines = []
    lister = Lister(lines.append, times=True, exists=True)
    for e in EVENTS:
        lister.status(**e.kwargs())
    lister.stopTestRun()
    assert "".join(lines) == listing("--times", "--exists")


def test_non_subunit_input_goes_to_stderr_or_is_dropped():
    noisy = b"stray output\n" + STREAM + b"tail \xff"
    result = run(LS, stdin=noisy)
    assert (result.returncode, result.stdout) == (0, b"a\nb\nc\n")
    assert result.stderr == b"stray output\ntail \xff"
    quiet = run(LS, "--no-passthrough", stdin=noisy)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"a\nb\nc\n", b"")


def test_garbage_and_truncated_input_lose_nothing():
    cut = STREAM[:-5]
    result = run(LS, stdin=cut)
    assert result.returncode == 0
    # The cut packet is reported (as a failed subunit.parser test) and its bytes
    # are copied to stderr.
    assert result.stdout.decode().splitlines()[-1] == "subunit.parser"
    assert result.stderr and STREAM[:-5].endswith(result.stderr)
    garbage = bytes(range(256))
    result = run(LS, stdin=garbage)
    assert result.returncode == 0
    assert result.stderr == garbage


def test_output_file_and_exit_zero_despite_failures(tmp_path):
    out = tmp_path / "ids.txt"
    result = run(LS, "-o", str(out), stdin=STREAM)
    assert (result.returncode, result.stdout) == (0, b"")
    assert out.read_text() == "a\nb\nc\n"
    source = tmp_path / "in.subunit"
    source.write_bytes(STREAM)
    assert subunit_ls.main([str(source), "-o", str(out), "--exists"]) == 0
    assert out.read_text() == "a\nb\nc\ne\n"


@pytest.mark.parametrize("args", [["--bogus"], ["a", "b"]])
def test_usage_errors(args):
    assert run(LS, *args).returncode == 2


def test_io_error_and_help():
    result = run(LS, "/no/such/file")
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "subunit-ls: ", "No such file")
    result = run(LS, "--help")
    text = " ".join(result.stdout.decode().split())
    assert result.returncode == 0 and text.startswith("usage: subunit-ls")
    for needle in ("--tree", "--times", "--exists", "in flight", "exit codes"):
        assert needle in text


def test_pipeline_filter_then_ls():
    result = pipeline(STREAM, (FILTER, "-s", "--without", "^b$"), (LS, "--exists"))
    assert result.codes == [0, 0]
    assert result.stdout == b"a\nc\ne\n"


def test_the_command_run_is_this_projects():
    installed_script_is_ours("subunit-ls", "subunit_ls")
    assert run(LS, "--version").stdout.startswith(b"subunit-ls (subunit2) ")
