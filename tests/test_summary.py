"""Summary counts final statuses and never mistakes an incomplete run for a pass."""

from __future__ import annotations

import datetime

import pytest
import testtools

from subunit2 import decode_bytes, deliver_all
from subunit2.fanout import FanOut
from subunit2.summary import Summary

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
SECOND = datetime.timedelta(seconds=1)


def run(*events):
    summary = Summary()
    summary.startTestRun()
    for kwargs in events:
        summary.status(**kwargs)
    summary.stopTestRun()
    return summary


def test_counts_each_final_status():
    summary = run(
        *[
            dict(test_id=f"t{i}", test_status=status)
            for i, status in enumerate(
                ["exists", "success", "success", "uxsuccess", "skip", "fail", "xfail"]
            )
        ]
    )
    assert summary.counts == {
        "exists": 1,
        "success": 2,
        "uxsuccess": 1,
        "skip": 1,
        "fail": 1,
        "xfail": 1,
    }
    assert summary.tests_run == 6


def test_only_successes_skips_xfails_and_enumerations_is_a_pass():
    summary = run(
        dict(test_id="a", test_status="exists"),
        dict(test_id="a", test_status="inprogress"),
        dict(test_id="a", test_status="success"),
        dict(test_id="b", test_status="skip"),
        dict(test_id="c", test_status="xfail"),
    )
    assert summary.wasSuccessful()
    assert summary.verdict
    assert summary.incomplete == []


def test_an_empty_run_is_a_pass():
    assert run().wasSuccessful()


@pytest.mark.parametrize("status", ["fail", "uxsuccess"])
def test_a_failing_status_fails_the_run(status):
    summary = run(
        dict(test_id="a", test_status="success"),
        dict(test_id="b", test_status=status),
    )
    assert not summary.wasSuccessful()
    assert not summary.verdict
    assert summary.failure_count == 1


def test_test_left_inprogress_is_incomplete_and_fails_the_run():
    summary = run(
        dict(test_id="ok", test_status="success"),
        dict(test_id="hung", test_status="inprogress", route_code="1"),
    )
    assert summary.incomplete == [("1", "hung")]
    assert summary.in_flight == {("1", "hung"): "inprogress"}
    assert not summary.wasSuccessful()
    assert summary.counts["success"] == 1


def test_test_with_only_attachments_and_no_status_is_incomplete():
    summary = run(dict(test_id="t", file_name="stdout", file_bytes=b"partial"))
    assert summary.incomplete == [(None, "t")]
    assert not summary.wasSuccessful()


def test_a_later_status_less_event_does_not_hide_an_earlier_inprogress():
    summary = run(
        dict(test_id="t", test_status="inprogress"),
        dict(test_id="t", file_name="stdout", file_bytes=b"x"),
    )
    assert summary.in_flight == {(None, "t"): "inprogress"}


def test_tests_are_keyed_by_route_code_and_test_id():
    summary = run(
        dict(test_id="t", test_status="inprogress", route_code="0"),
        dict(test_id="t", test_status="inprogress", route_code="1"),
        dict(test_id="t", test_status="success", route_code="0"),
    )
    assert summary.incomplete == [("1", "t")]


def test_finished_tests_are_forgotten():
    summary = Summary()
    for i in range(1000):
        summary.status(test_id=f"t{i}", test_status="inprogress")
        summary.status(test_id=f"t{i}", test_status="success")
    assert summary.in_flight == {}
    assert summary.counts["success"] == 1000


def test_verdict_is_false_while_a_test_is_in_flight_even_without_stop():
    summary = Summary()
    summary.status(test_id="t", test_status="inprogress")
    assert not summary.wasSuccessful()
    summary.status(test_id="t", test_status="success")
    assert summary.wasSuccessful()


def test_non_test_events_are_ignored():
    summary = run(
        dict(file_name="stdout", file_bytes=b"noise", timestamp=T0),
        dict(test_id="t", test_status="success"),
    )
    assert summary.wasSuccessful()
    assert summary.first_timestamp is None
    assert summary.tests_run == 1


def test_parser_errors_from_corrupt_input_count_as_failures():
    data = b"\xb3\x29\x01\x0c\x03foo\x00\x00\x00\x00"  # valid header, bad CRC
    summary = Summary()
    deliver_all(decode_bytes(data), summary)
    assert summary.counts["fail"] == 1
    assert summary.incomplete == []
    assert not summary.wasSuccessful()


def test_first_and_last_timestamps_are_earliest_and_latest_seen():
    summary = run(
        dict(test_id="a", test_status="inprogress", timestamp=T0 + SECOND),
        dict(test_id="b", test_status="inprogress", timestamp=T0),
        dict(test_id="a", test_status="success", timestamp=T0 + 3 * SECOND),
        dict(test_id="b", test_status="success"),
    )
    assert summary.first_timestamp == T0
    assert summary.last_timestamp == T0 + 3 * SECOND
    assert summary.wall_time == 3 * SECOND


def test_wall_time_is_none_without_timestamps():
    assert run(dict(test_id="a", test_status="success")).wall_time is None


def test_start_test_run_resets_for_a_new_run():
    summary = run(dict(test_id="a", test_status="fail", timestamp=T0))
    summary.startTestRun()
    assert summary.wasSuccessful()
    assert summary.counts["fail"] == 0
    assert summary.first_timestamp is None
    assert not summary.stopped


def test_agrees_with_testtools_stream_summary_on_the_same_stream():
    ours, theirs = Summary(), testtools.StreamSummary()
    fan = FanOut(ours, theirs)
    fan.startTestRun()
    fan.status(test_id="a", test_status="inprogress", parent_test_id="p")
    fan.status(test_id="a", test_status="success")
    fan.status(test_id="b", test_status="skip")
    fan.status(test_id="c", test_status="inprogress", parent_test_id="p")
    fan.stopTestRun()
    assert ours.wasSuccessful() is theirs.wasSuccessful() is False
    assert len(theirs.errors) == len(ours.incomplete) == 1
    assert ours.tests_run + len(ours.incomplete) == theirs.testsRun
