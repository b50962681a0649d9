"""Router sends each event to one target by test id or route-code prefix."""

from __future__ import annotations

import pytest
import testtools
from recorders import FULL, FULL_PRE_21, OldRecorder, Recorder

from subunit2.routing import Router


def routes(target):
    return [(e["test_id"], e["route_code"]) for e in target.events]


def test_prefix_matches_whole_components_only():
    fallback, zero = Recorder(), Recorder()
    router = Router(fallback)
    router.add_prefix("0", zero)
    for code in ("0", "0/3", "01", "10/0", None):
        router.status(test_id="t", route_code=code)
    assert routes(zero) == [("t", "0"), ("t", "0/3")]
    assert routes(fallback) == [("t", "01"), ("t", "10/0"), ("t", None)]


def test_consume_strips_the_prefix_and_leaves_none_when_nothing_is_left():
    zero = Recorder()
    router = Router(Recorder())
    router.add_prefix("0", zero, consume=True)
    router.status(test_id="a", route_code="0/3")
    router.status(test_id="b", route_code="0")
    router.status(test_id="c", route_code="0/3/1")
    assert routes(zero) == [("a", "3"), ("b", None), ("c", "3/1")]


def test_longest_prefix_wins():
    fallback, zero, zero_three = Recorder(), Recorder(), Recorder()
    router = Router(fallback)
    router.add_prefix("0", zero, consume=True)
    router.add_prefix("0/3", zero_three, consume=True)
    router.status(test_id="a", route_code="0/3/1")
    router.status(test_id="b", route_code="0/4")
    router.status(test_id="c", route_code="0/3")
    assert routes(zero_three) == [("a", "1"), ("c", None)]
    assert routes(zero) == [("b", "4")]
    assert fallback.events == []


def test_test_id_rule_beats_prefix_and_keeps_route_code():
    parser, zero = Recorder(), Recorder()
    router = Router(Recorder())
    router.add_prefix("0", zero, consume=True)
    router.add_test_id("subunit.parser", parser)
    router.status(test_id="subunit.parser", test_status="fail", route_code="0/2")
    router.status(test_id="other", route_code="0/2")
    assert routes(parser) == [("subunit.parser", "0/2")]
    assert routes(zero) == [("other", "2")]


def test_unmatched_events_go_to_fallback_with_every_field_intact():
    fallback = Recorder()
    router = Router(fallback)
    router.add_prefix("9", Recorder())
    router.add_test_id("other", Recorder())
    router.status(**FULL)
    assert fallback.events == [FULL]


def test_routed_event_keeps_every_field_but_the_consumed_route_code():
    zero = Recorder()
    router = Router(Recorder())
    router.add_prefix("0", zero, consume=True)
    router.status(**FULL)
    assert zero.events == [dict(FULL, route_code="1")]


def test_start_and_stop_reach_each_distinct_target_once():
    log = []
    fallback = Recorder("fallback", log)
    a = Recorder("a", log)
    router = Router(fallback)
    router.add_prefix("0", a)
    router.add_prefix("1", a)
    router.add_test_id("x", fallback)
    router.startTestRun()
    router.stopTestRun()
    assert log == [
        ("fallback", "start"),
        ("a", "start"),
        ("fallback", "stop"),
        ("a", "stop"),
    ]
    assert router.targets == (fallback, a)


def test_target_added_mid_run_is_started_before_its_first_event():
    log = []
    router = Router(Recorder("fallback", log))
    router.startTestRun()
    late = Recorder("late", log)
    router.add_prefix("0", late)
    router.status(test_id="t", route_code="0")
    router.stopTestRun()
    assert log.index(("late", "start")) < log.index(("late", "stop"))
    assert late.events


def test_testtools_targets_get_everything_but_parent():
    old_fallback, old_zero = OldRecorder(), OldRecorder()
    router = Router(old_fallback)
    router.add_prefix("0", old_zero, consume=True)
    router.status(**FULL)
    router.status(**dict(FULL, route_code="5"))
    assert old_zero.events == [dict(FULL_PRE_21, route_code="1")]
    assert old_fallback.events == [dict(FULL_PRE_21, route_code="5")]


def test_splitting_a_merged_stream_into_testtools_summaries():
    zero, one = testtools.StreamSummary(), testtools.StreamSummary()
    router = Router(Recorder())
    router.add_prefix("0", zero, consume=True)
    router.add_prefix("1", one, consume=True)
    router.startTestRun()
    router.status(test_id="t", test_status="success", route_code="0")
    router.status(test_id="t", test_status="fail", route_code="1/2")
    router.stopTestRun()
    assert zero.wasSuccessful() and zero.testsRun == 1
    assert not one.wasSuccessful() and one.testsRun == 1


@pytest.mark.parametrize("prefix", ["", "/0", "0/", None])
def test_malformed_prefixes_are_rejected(prefix):
    with pytest.raises(ValueError):
        Router(Recorder()).add_prefix(prefix, Recorder())


def test_duplicate_rules_are_rejected():
    router = Router(Recorder())
    router.add_prefix("0", Recorder())
    router.add_test_id("t", Recorder())
    with pytest.raises(ValueError):
        router.add_prefix("0", Recorder())
    with pytest.raises(ValueError):
        router.add_test_id("t", Recorder())
