"""Tagger adds and removes tags without mutating sets or breaking latest-wins."""

from __future__ import annotations

import pytest
import testtools
from recorders import FULL, FULL_PRE_21, OldRecorder, Recorder

from subunit2.tagging import Tagger


def tags_seen(target):
    return [e["test_tags"] for e in target.events]


def test_adds_and_removes_on_an_event_with_tags_and_keeps_every_other_field():
    target = Recorder()
    Tagger(target, add={"worker-0"}, remove={"db"}).status(**FULL)
    expected = dict(FULL, test_tags={"slow", "worker-0"})
    assert target.events == [expected]


def test_input_sets_are_not_mutated_nor_passed_on():
    target = Recorder()
    add, remove = {"x"}, {"a"}
    tags = {"a", "b"}
    tagger = Tagger(target, add=add, remove=remove)
    tagger.status(test_id="t", test_tags=tags)
    tagger.status(test_id="u", test_tags=tags)
    assert tags == {"a", "b"}
    assert add == {"x"} and remove == {"a"}
    sent = target.events[0]["test_tags"]
    assert sent == {"b", "x"}
    assert sent is not tags
    sent.add("mutated-downstream")
    assert target.events[1]["test_tags"] == {"b", "x"}


def test_remove_only_sends_new_set_but_never_the_callers():
    target = Recorder()
    tags = {"a", "b"}
    Tagger(target, remove={"c"}).status(test_id="t", test_tags=tags)
    assert target.events[0]["test_tags"] == {"a", "b"}
    assert target.events[0]["test_tags"] is not tags


def test_none_tags_stay_none_when_only_removing():
    target = Recorder()
    Tagger(target, remove={"a"}).status(test_id="t", test_status="success")
    assert tags_seen(target) == [None]


def test_none_tags_become_the_added_set_when_test_has_no_tags_yet():
    target = Recorder()
    Tagger(target, add={"x"}).status(test_id="t", test_status="inprogress")
    assert tags_seen(target) == [{"x"}]


def test_none_tags_after_a_set_carry_the_earlier_tags_so_latest_wins_holds():
    target = Recorder()
    tagger = Tagger(target, add={"x"}, remove={"gone"})
    tagger.status(test_id="t", test_status="inprogress", test_tags={"a", "gone"})
    tagger.status(test_id="t", file_name="stdout", file_bytes=b"hi")
    tagger.status(test_id="t", test_status="success")
    assert tags_seen(target) == [{"a", "x"}] * 3


def test_latest_wins_holds_through_testtools_stream_to_dict():
    tests = []
    result = testtools.StreamToDict(tests.append)
    tagger = Tagger(result, add={"x"})
    tagger.startTestRun()
    tagger.status(test_id="t", test_status="inprogress", test_tags={"a"})
    tagger.status(test_id="t", test_status="success")
    tagger.stopTestRun()
    assert tests[0]["tags"] == {"a", "x"}


def test_remembered_tags_are_per_route_code_and_forgotten_at_final_status():
    target = Recorder()
    tagger = Tagger(target, add={"x"})
    tagger.status(test_id="t", route_code="0", test_tags={"a"})
    tagger.status(test_id="t", route_code="1")
    tagger.status(test_id="t", route_code="0", test_status="success")
    # The same test running again starts from nothing.
    tagger.status(test_id="t", route_code="0", test_status="success")
    assert tags_seen(target) == [{"a", "x"}, {"x"}, {"a", "x"}, {"x"}]


def test_events_without_a_test_id_pass_unchanged():
    target = Recorder()
    Tagger(target, add={"x"}).status(file_name="stdout", file_bytes=b"text")
    assert target.events[0]["test_tags"] is None
    assert target.events[0]["file_bytes"] == b"text"


def test_a_tag_both_added_and_removed_is_rejected():
    with pytest.raises(ValueError, match="both added and removed"):
        Tagger(Recorder(), add={"a", "b"}, remove={"b"})


def test_a_bare_string_for_add_is_rejected_rather_than_split_into_letters():
    with pytest.raises(TypeError):
        Tagger(Recorder(), add="worker")


def test_testtools_target_gets_everything_but_parent():
    old = OldRecorder()
    tagger = Tagger(old, add={"x"})
    tagger.startTestRun()
    tagger.status(**FULL)
    tagger.stopTestRun()
    assert old.events == [dict(FULL_PRE_21, test_tags={"slow", "db", "x"})]


def test_start_and_stop_are_forwarded():
    target = Recorder()
    tagger = Tagger(target, add={"x"})
    tagger.startTestRun()
    tagger.stopTestRun()
    assert target.log == [("r", "start"), ("r", "stop")]
