"""FanOut copies every call to every target, in order, losing nothing."""

from __future__ import annotations

import testtools
from recorders import FULL, FULL_PRE_21, T0, OldRecorder, Recorder

from subunit2.fanout import FanOut


def test_every_call_reaches_every_target_in_target_order():
    log = []
    fan = FanOut(Recorder("a", log), Recorder("b", log))
    fan.startTestRun()
    fan.status(test_id="t1", test_status="success")
    fan.stopTestRun()
    assert log == [
        ("a", "start"),
        ("b", "start"),
        ("a", "status", "t1", "success"),
        ("b", "status", "t1", "success"),
        ("a", "stop"),
        ("b", "stop"),
    ]


def test_every_field_including_parent_reaches_a_21_target():
    target = Recorder()
    FanOut(target).status(**FULL)
    assert target.events == [FULL]


def test_defaults_are_forwarded_for_omitted_arguments():
    target = Recorder()
    FanOut(target).status(test_id="t")
    assert target.events == [
        dict(
            test_id="t",
            test_status=None,
            test_tags=None,
            runnable=True,
            file_name=None,
            file_bytes=None,
            eof=False,
            mime_type=None,
            route_code=None,
            timestamp=None,
            parent_test_id=None,
        )
    ]


def test_testtools_target_gets_everything_but_parent_while_21_target_gets_parent():
    old, new = OldRecorder(), Recorder()
    fan = FanOut(old, new)
    fan.startTestRun()
    fan.status(**FULL)
    fan.stopTestRun()
    assert old.events == [FULL_PRE_21]
    assert new.events == [FULL]


def test_testtools_stream_to_dict_and_summary_see_the_whole_test():
    tests = []
    summary = testtools.StreamSummary()
    fan = FanOut(testtools.StreamToDict(tests.append), summary)
    fan.startTestRun()
    fan.status(test_id="t", test_status="inprogress", timestamp=T0, parent_test_id="p")
    fan.status(**FULL | {"test_id": "t", "route_code": None})
    fan.stopTestRun()
    assert len(tests) == 1
    test = tests[0]
    assert test["id"] == "t"
    assert test["status"] == "fail"
    assert test["tags"] == {"slow", "db"}
    assert test["details"]["traceback"].as_text() == "boom"
    assert test["timestamps"] == [T0, T0]
    assert not summary.wasSuccessful()
    assert summary.testsRun == 1


def test_no_targets_is_a_valid_sink():
    fan = FanOut()
    fan.startTestRun()
    fan.status(**FULL)
    fan.stopTestRun()
    assert fan.targets == ()
