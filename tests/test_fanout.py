"""FanOut copies every call to every target, in order, losing nothing."""

from __future__ import annotations

import datetime

import testtools

from subunit2 import StreamResult
from subunit2.fanout import FanOut

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

FULL = dict(
    test_id="pkg.test_a",
    test_status="fail",
    test_tags={"slow", "db"},
    runnable=False,
    file_name="traceback",
    file_bytes=b"boom",
    eof=True,
    mime_type="text/plain;charset=utf8",
    route_code="0/1",
    timestamp=T0,
    parent_test_id="pkg.parent",
)
PRE_21 = {k: v for k, v in FULL.items() if k != "parent_test_id"}


class Recorder(StreamResult):
    """A 2.1 result that records every call, optionally into a shared log."""

    def __init__(self, name="r", log=None):
        self.name = name
        self.log = [] if log is None else log
        self.events = []

    def startTestRun(self):
        self.log.append((self.name, "start"))

    def stopTestRun(self):
        self.log.append((self.name, "stop"))

    def status(self, **kwargs):
        self.events.append(kwargs)
        self.log.append((self.name, "status", kwargs.get("test_id")))


class OldRecorder(testtools.StreamResult):
    """A testtools (pre-2.1) result: passing parent_test_id would be a TypeError."""

    def __init__(self):
        super().__init__()
        self.events = []

    def status(
        self,
        test_id=None,
        test_status=None,
        test_tags=None,
        runnable=True,
        file_name=None,
        file_bytes=None,
        eof=False,
        mime_type=None,
        route_code=None,
        timestamp=None,
    ):
        kwargs = dict(locals())
        del kwargs["self"]
        self.events.append(kwargs)


def test_every_call_reaches_every_target_in_target_order():
    log = []
    fan = FanOut(Recorder("a", log), Recorder("b", log))
    fan.startTestRun()
    fan.status(test_id="t1", test_status="success")
    fan.stopTestRun()
    assert log == [
        ("a", "start"),
        ("b", "start"),
        ("a", "status", "t1"),
        ("b", "status", "t1"),
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
    assert old.events == [PRE_21]
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
