"""FailFast forwards everything and reports each failing test once."""

from __future__ import annotations

import testtools
from recorders import FULL, FULL_PRE_21, OldRecorder, Recorder

from subunit2 import decode_bytes, deliver_all
from subunit2.failfast import FailFast


def test_fail_and_uxsuccess_are_reported_other_statuses_are_not():
    calls = []
    ff = FailFast(Recorder(), lambda test_id, route: calls.append((test_id, route)))
    for status in ("exists", "inprogress", None, "success", "skip", "xfail"):
        ff.status(test_id=f"ok-{status}", test_status=status)
    assert calls == []
    assert not ff.failed
    ff.status(test_id="bad", test_status="fail", route_code="1")
    ff.status(test_id="lucky", test_status="uxsuccess")
    assert calls == [("bad", "1"), ("lucky", None)]
    assert ff.failed
    assert ff.failures == [("1", "bad"), (None, "lucky")]


def test_each_failing_test_is_reported_once_but_every_event_is_forwarded():
    calls = []
    target = Recorder()
    ff = FailFast(target, lambda *args: calls.append(args))
    ff.status(test_id="bad", test_status="fail")
    ff.status(test_id="bad", test_status="fail")
    ff.status(test_id="bad", test_status="fail", route_code="2")
    assert calls == [("bad", None), ("bad", "2")]
    assert len(target.events) == 3


def test_target_has_seen_the_failure_when_the_callback_runs():
    log = []
    target = Recorder(log=log)
    ff = FailFast(target, lambda *args: log.append("on_failure"))
    ff.status(test_id="bad", test_status="fail")
    assert log == [("r", "status", "bad", "fail"), "on_failure"]


def test_callback_can_stop_a_run_early():
    # A consumer that stops feeding events once told of a failure.
    class Stop(Exception):
        pass

    def stop(test_id, route_code):
        raise Stop(test_id)

    target = Recorder()
    ff = FailFast(target, stop)
    seen = 0
    try:
        for i, status in enumerate(["success", "fail", "success", "success"]):
            ff.status(test_id=f"t{i}", test_status=status)
            seen += 1
    except Stop as stopped:
        assert stopped.args == ("t1",)
    assert seen == 1
    assert len(target.events) == 2


def test_corrupt_input_parser_error_triggers_the_callback():
    calls = []
    ff = FailFast(Recorder(), lambda *args: calls.append(args))
    # A v2 header whose CRC is wrong: the decoder reports it on subunit.parser.
    events = decode_bytes(b"\xb3\x29\x01\x0c\x03foo\x00\x00\x00\x00")
    deliver_all(events, ff)
    assert calls == [("subunit.parser", None)]


def test_start_test_run_resets_the_record():
    calls = []
    ff = FailFast(Recorder(), lambda *args: calls.append(args))
    ff.startTestRun()
    ff.status(test_id="bad", test_status="fail")
    ff.stopTestRun()
    ff.startTestRun()
    assert not ff.failed
    ff.status(test_id="bad", test_status="fail")
    assert len(calls) == 2


def test_every_field_reaches_a_21_target():
    target = Recorder()
    FailFast(target, lambda *args: None).status(**FULL)
    assert target.events == [FULL]


def test_testtools_target_gets_everything_but_parent():
    old = OldRecorder()
    summary = testtools.StreamSummary()
    ff = FailFast(old, lambda *args: None)
    ff.status(**FULL)
    assert old.events == [FULL_PRE_21]
    ff = FailFast(summary, lambda *args: None)
    ff.startTestRun()
    ff.status(**FULL)
    ff.stopTestRun()
    assert not summary.wasSuccessful()


def test_start_and_stop_are_forwarded():
    target = Recorder()
    ff = FailFast(target, lambda *args: None)
    ff.startTestRun()
    ff.stopTestRun()
    assert target.log == [("r", "start"), ("r", "stop")]
