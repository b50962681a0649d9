"""Timestamper fills in missing timestamps and leaves everything else alone."""

from __future__ import annotations

import datetime

import testtools
from recorders import FULL, FULL_PRE_21, T0, UTC, OldRecorder, Recorder

from subunit2.timestamping import Timestamper, utc_now

T1 = datetime.datetime(2030, 6, 7, 8, 9, 10, tzinfo=UTC)


class Clock:
    def __init__(self, *times):
        self.times = list(times)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.times.pop(0)


def test_missing_timestamp_is_filled_from_the_clock_and_nothing_else_changes():
    target = Recorder()
    Timestamper(target, clock=Clock(T1)).status(**dict(FULL, timestamp=None))
    assert target.events == [dict(FULL, timestamp=T1)]


def test_existing_timestamp_is_kept_and_clock_not_consulted():
    target = Recorder()
    clock = Clock(T1)
    Timestamper(target, clock=clock).status(**FULL)
    assert target.events == [FULL]
    assert clock.calls == 0


def test_each_unstamped_event_gets_its_own_reading_including_non_test_data():
    target = Recorder()
    stamper = Timestamper(target, clock=Clock(T0, T1))
    stamper.status(test_id="t", test_status="inprogress")
    stamper.status(file_name="stdout", file_bytes=b"stray")
    assert [e["timestamp"] for e in target.events] == [T0, T1]


def test_default_clock_gives_aware_utc_now():
    before = datetime.datetime.now(UTC)
    now = utc_now()
    after = datetime.datetime.now(UTC)
    assert now.utcoffset() == datetime.timedelta(0)
    assert before <= now <= after
    target = Recorder()
    Timestamper(target).status(test_id="t")
    assert target.events[0]["timestamp"].tzinfo is not None


def test_testtools_stream_to_dict_target_sees_stamps_and_no_parent():
    tests = []
    stamper = Timestamper(testtools.StreamToDict(tests.append), clock=Clock(T0, T1))
    stamper.startTestRun()
    stamper.status(test_id="t", test_status="inprogress", parent_test_id="p")
    stamper.status(test_id="t", test_status="success", parent_test_id="p")
    stamper.stopTestRun()
    assert tests[0]["timestamps"] == [T0, T1]
    assert tests[0]["status"] == "success"


def test_testtools_target_gets_everything_but_parent():
    old = OldRecorder()
    Timestamper(old, clock=Clock(T1)).status(**dict(FULL, timestamp=None))
    assert old.events == [dict(FULL_PRE_21, timestamp=T1)]


def test_start_and_stop_are_forwarded():
    target = Recorder()
    stamper = Timestamper(target)
    stamper.startTestRun()
    stamper.stopTestRun()
    assert target.log == [("r", "start"), ("r", "stop")]
