"""TestFilter: whole tests kept or dropped, fields intact, subtests, bounded memory."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subunit2 import Event, StreamResult
from subunit2.filtering import (
    DEFAULT_KEEP,
    GENUINE_FAILURES,
    SELECTABLE,
    read_test_list,
)
from subunit2.filtering import (
    TestFilter as Filter,
)

UTC = datetime.timezone.utc


def stamp(second: int) -> datetime.datetime:
    return datetime.datetime(2025, 3, 4, 5, 6, second, 250, tzinfo=UTC)


class Collect(StreamResult):
    """Records every event (as an Event) and the run calls."""

    def __init__(self) -> None:
        self.events = []
        self.calls = []

    def startTestRun(self) -> None:
        self.calls.append("start")

    def stopTestRun(self) -> None:
        self.calls.append("stop")

    def status(self, **kwargs) -> None:
        self.events.append(Event(**kwargs))


def run_filter(events, **options) -> list:
    out = Collect()
    selector = Filter(out, **options)
    selector.startTestRun()
    selector.consume(events)
    selector.stopTestRun()
    assert out.calls == ["start", "stop"]
    return out.events


def events_of(test_id: str, final, *, route=None, parent=None, tags=None, extra=()):
    """A test's events: inprogress, any extra events, then ``final`` (if any)."""
    events = [
        Event(
            test_id=test_id,
            test_status="inprogress",
            route_code=route,
            parent_test_id=parent,
            test_tags=tags,
            timestamp=stamp(1),
        )
    ]
    events += [e._replace(test_id=test_id, route_code=route) for e in extra]
    if final is not None:
        events.append(
            Event(
                test_id=test_id,
                test_status=final,
                route_code=route,
                parent_test_id=parent,
                timestamp=stamp(2),
            )
        )
    return events


def ids(events) -> list:
    return [(e.test_id, e.test_status) for e in events]


ONE_OF_EACH = (
    events_of("t_success", "success")
    + events_of("t_fail", "fail")
    + events_of("t_skip", "skip")
    + events_of("t_xfail", "xfail")
    + events_of("t_uxsuccess", "uxsuccess")
    + [Event(test_id="t_exists", test_status="exists", runnable=False)]
    + events_of("t_incomplete", None)
)


def kept_tests(events) -> list:
    return sorted({e.test_id for e in events if e.test_id is not None})


def test_default_drops_successes_and_keeps_every_other_outcome():
    kept = run_filter(ONE_OF_EACH)
    assert kept_tests(kept) == sorted(
        ["t_fail", "t_skip", "t_xfail", "t_uxsuccess", "t_exists", "t_incomplete"]
    )
    assert DEFAULT_KEEP == frozenset(SELECTABLE) - {"success"}


@pytest.mark.parametrize("status", SELECTABLE)
def test_each_status_alone_keeps_only_its_tests(status):
    kept = run_filter(ONE_OF_EACH, keep={status})
    assert kept_tests(kept) == [f"t_{status}"]


def test_genuine_failures_are_fail_uxsuccess_and_incomplete():
    kept = run_filter(ONE_OF_EACH, keep=GENUINE_FAILURES)
    assert kept_tests(kept) == ["t_fail", "t_incomplete", "t_uxsuccess"]


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="passed"):
        Filter(Collect(), keep={"fail", "passed"})


def test_all_events_of_a_kept_test_come_out_together_with_every_field():
    attachment = Event(
        file_name="traceback",
        file_bytes=b"Traceback\xff\n",
        eof=True,
        mime_type="text/x-traceback; charset=utf8",
        test_tags=frozenset({"db"}),
        runnable=False,
        timestamp=stamp(3),
        parent_test_id="p",
    )
    failing = events_of("a", "fail", route="0/1", extra=[attachment])
    passing = events_of("b", "success", route="1")
    # Interleaved on two workers: b's events sit between a's.
    stream = [failing[0], passing[0], failing[1], passing[1], failing[2]]
    kept = run_filter(stream)
    assert kept == failing  # the Event tuples, every field equal
    # Grouped per test, in completion order: b completed first.
    assert run_filter(stream, keep=set(SELECTABLE)) == passing + failing


def test_same_id_on_two_routes_is_two_tests():
    stream = events_of("t", "success", route="0") + events_of("t", "fail", route="1")
    kept = run_filter(stream)
    assert {e.route_code for e in kept} == {"1"}
    assert len(kept) == 2


def test_events_without_a_test_id_pass_at_once_in_order():
    text = Event(file_name="stdout", file_bytes=b"noise")
    tick = Event(timestamp=stamp(9))
    out = Collect()
    selector = Filter(out)
    selector.consume([events_of("a", None)[0], text])
    assert out.events == [text]  # a is still in flight: held back
    assert selector.in_flight == 1
    selector.consume([tick, Event(test_id="a", test_status="fail")])
    assert out.events == [text, tick, events_of("a", None)[0]] + [
        Event(test_id="a", test_status="fail")
    ]
    assert selector.in_flight == 0


def test_memory_is_bounded_by_tests_in_flight():
    out = Collect()
    selector = Filter(out)
    most = 0
    for n in range(2000):
        for e in events_of(f"t{n}", "success" if n % 3 else "fail", route=str(n % 4)):
            selector.consume([e])
            most = max(most, selector.in_flight)
    assert most == 1
    assert selector.in_flight == 0
    assert len({e.test_id for e in out.events}) == len(range(0, 2000, 3))


def test_status_calls_and_consume_agree():
    out = Collect()
    selector = Filter(out, keep={"fail", "exists"})
    for e in ONE_OF_EACH:
        selector.status(**e.kwargs())
    selector.stopTestRun()
    assert out.events == run_filter(ONE_OF_EACH, keep={"fail", "exists"})


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"with_patterns": ["fail"]}, ["t_fail", "t_xfail"]),
        ({"with_patterns": ["^t_fail$"]}, ["t_fail"]),
        ({"with_patterns": ["_s", "_x"]}, ["t_skip", "t_xfail"]),
        (
            {"without_patterns": ["^t_(x|ux)"]},
            ["t_exists", "t_fail", "t_incomplete", "t_skip"],
        ),
        ({"with_patterns": ["(?i)T_SKIP"]}, ["t_skip"]),
        ({"with_patterns": [re.compile("exists$")]}, ["t_exists"]),
    ],
)
def test_id_patterns(options, expected):
    assert kept_tests(run_filter(ONE_OF_EACH, **options)) == expected


def test_patterns_search_attachments_only_when_asked():
    note = Event(file_name="log", file_bytes=b"database timeout \xff")
    stream = events_of("a", "fail", extra=[note]) + events_of("b", "fail")
    assert kept_tests(run_filter(stream, with_patterns=["timeout"])) == []
    kept = run_filter(stream, with_patterns=["timeout"], match_attachments=True)
    assert kept_tests(kept) == ["a"]
    kept = run_filter(stream, without_patterns=["timeout"], match_attachments=True)
    assert kept_tests(kept) == ["b"]


def test_tags_must_have_all_and_none_over_the_union_of_events():
    late_tag = Event(test_tags=frozenset({"slow"}))
    stream = (
        events_of("a", "fail", tags={"db"}, extra=[late_tag])
        + events_of("b", "fail", tags={"db"})
        + events_of("c", "fail", tags={"slow", "flaky"})
    )
    assert kept_tests(run_filter(stream, with_tags=["db", "slow"])) == ["a"]
    assert kept_tests(run_filter(stream, with_tags=["slow"])) == ["a", "c"]
    assert kept_tests(run_filter(stream, without_tags=["slow"])) == ["b"]
    assert kept_tests(run_filter(stream, without_tags=["flaky", "nope"])) == ["a", "b"]


def test_expected_failures_turn_fail_to_xfail_and_success_to_uxsuccess():
    stream = events_of("a", "fail") + events_of("b", "success") + events_of("c", "fail")
    kept = run_filter(stream, expected_failures={"a", "b"})
    assert ids(kept) == [
        ("a", "inprogress"),
        ("a", "xfail"),
        ("b", "inprogress"),
        ("b", "uxsuccess"),  # kept: no longer a success
        ("c", "inprogress"),
        ("c", "fail"),
    ]
    assert kept[1] == stream[1]._replace(test_status="xfail")  # nothing else changed
    kept = run_filter(stream, expected_failures={"a"}, keep={"fail"})
    assert kept_tests(kept) == ["c"]  # judged on the fixed-up status


def test_renames_apply_to_every_status_and_parent_ids_after_selection():
    stream = events_of("pkg.a", "fail", parent="pkg.p") + [
        Event(test_id="pkg.e", test_status="exists")
    ]
    kept = run_filter(
        stream,
        with_patterns=["^pkg"],
        renames=[("^pkg\\.", "lib."), ("lib", "LIB")],
    )
    assert [(e.test_id, e.parent_test_id) for e in kept] == [
        ("LIB.a", "LIB.p"),
        ("LIB.a", "LIB.p"),
        ("LIB.e", None),
    ]
    assert [e.test_status for e in kept] == ["inprogress", "fail", "exists"]


def test_a_kept_subtest_keeps_its_passing_parent_and_ancestors_in_order():
    grand = events_of("g", "success")
    parent = events_of("g.p", "success", parent="g")
    child = events_of("g.p.c", "fail", parent="g.p")
    other = events_of("g.p.d", "success", parent="g.p")
    # Nesting: g starts, p starts, c and d run, p ends, g ends.
    stream = grand[:1] + parent[:1] + child + other + parent[1:] + grand[1:]
    kept = run_filter(stream)
    assert ids(kept) == [
        ("g", "inprogress"),
        ("g.p", "inprogress"),
        ("g.p.c", "inprogress"),
        ("g.p.c", "fail"),
        ("g.p", "success"),  # passed straight through once committed
        ("g", "success"),
    ]


def test_a_dropped_parent_does_not_drop_its_subtests():
    parent = events_of("p", "fail")
    child = events_of("p.c", "skip", parent="p")
    stream = parent[:1] + child + parent[1:]
    kept = run_filter(stream, keep={"skip"})
    # The skip is kept, so the failing parent is kept as its context.
    assert ids(kept) == [
        ("p", "inprogress"),
        ("p.c", "inprogress"),
        ("p.c", "skip"),
        ("p", "fail"),
    ]
    kept = run_filter(stream, keep={"fail"})
    assert ids(kept) == [("p", "inprogress"), ("p", "fail")]


def test_a_parent_completed_before_its_subtest_is_not_revived():
    stream = events_of("p", "success") + events_of("p.c", "fail", parent="p")
    assert kept_tests(run_filter(stream)) == ["p.c"]


def test_fixups_and_renames_reach_a_committed_parent():
    parent = events_of("p", "fail")
    child = events_of("p.c", "fail", parent="p")
    stream = parent[:1] + child + parent[1:]
    kept = run_filter(stream, expected_failures={"p"}, renames=[("p", "q")])
    assert ids(kept) == [
        ("q", "inprogress"),
        ("q.c", "inprogress"),
        ("q.c", "fail"),
        ("q", "xfail"),
    ]
    assert kept[1].parent_test_id == "q"


def test_incomplete_subtest_keeps_its_incomplete_parent_at_the_end():
    parent = events_of("p", None)
    child = events_of("p.sub", None, parent="p")
    stream = parent + child + events_of("q", None)
    kept = run_filter(stream, with_patterns=["sub"])
    assert ids(kept) == [("p", "inprogress"), ("p.sub", "inprogress")]
    assert run_filter(stream, keep={"fail"}) == []


def test_events_after_a_final_status_start_a_new_test():
    late = Event(test_id="a", file_name="log", file_bytes=b"late")
    stream = events_of("a", "success") + [late]
    assert run_filter(stream) == [late]  # incomplete, so kept by default
    assert run_filter(stream, keep={"fail"}) == []


def test_read_test_list_skips_blanks_and_comments():
    lines = ["# known\n", "  pkg.a  \n", "\n", "pkg.b # not a comment\n", "pkg.a"]
    assert read_test_list(lines) == {"pkg.a", "pkg.b # not a comment"}


@st.composite
def streams(draw):
    """Interleaved tests on a few routes, some with subtests, attachments, tags."""
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=6))
    events = []
    for number, name in enumerate(names):
        route = draw(st.sampled_from([None, "0", "1"]))
        final = draw(st.sampled_from(list(SELECTABLE[:-1]) + [None]))
        extra = draw(
            st.lists(
                st.builds(
                    Event,
                    file_name=st.just("f"),
                    file_bytes=st.binary(max_size=8),
                    test_tags=st.none() | st.frozensets(st.sampled_from("xyz")),
                ),
                max_size=2,
            )
        )
        parent = draw(st.none() | st.sampled_from(names))
        events.append(
            events_of(f"{name}{number}", final, route=route, parent=parent, extra=extra)
        )
    shuffle = draw(st.randoms(use_true_random=False))
    merged = []
    while any(events):
        pick = shuffle.choice([e for e in events if e])
        merged.append(pick.pop(0))
    return merged


@settings(max_examples=50)
@given(streams(), st.frozensets(st.sampled_from(SELECTABLE)))
def test_every_test_is_kept_whole_or_dropped_whole(stream, keep):
    kept = run_filter(stream, keep=keep)
    by_test = {}
    for e in stream:
        by_test.setdefault((e.route_code, e.test_id), []).append(e)
    out = {}
    for e in kept:
        out.setdefault((e.route_code, e.test_id), []).append(e)
    for key, events in out.items():
        assert events == by_test[key]  # whole, in order, unchanged
    assert len(kept) == sum(len(v) for v in out.values())


@settings(max_examples=50)
@given(streams())
def test_keeping_everything_loses_nothing(stream):
    kept = run_filter(stream, keep=set(SELECTABLE))
    assert sorted(map(repr, kept)) == sorted(map(repr, stream))
