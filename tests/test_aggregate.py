"""Aggregator turns scattered events into one TestRecord per test run."""

from __future__ import annotations

import datetime
import io

import testtools

from subunit2 import Event, StreamWriter, decode_bytes, deliver_all
from subunit2.aggregate import Aggregator, Attachment, TestRecord
from subunit2.fanout import FanOut

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
SECOND = datetime.timedelta(seconds=1)


def gather(*events, stop=True, on_non_test=None):
    records = []
    agg = Aggregator(records.append, on_non_test=on_non_test)
    agg.startTestRun()
    for kwargs in events:
        agg.status(**kwargs)
    if stop:
        agg.stopTestRun()
    return records, agg


def test_chunks_of_a_file_are_concatenated_in_order_with_first_mime_type():
    (record,), _ = gather(
        dict(test_id="t", file_name="stdout", file_bytes=b"one ", mime_type="text/x"),
        dict(test_id="t", file_name="traceback", file_bytes=b"tb"),
        dict(test_id="t", file_name="stdout", file_bytes=b"two ", mime_type="text/y"),
        dict(test_id="t", file_name="stdout", file_bytes=b"three", eof=True),
        dict(test_id="t", test_status="fail"),
    )
    assert list(record.attachments) == ["stdout", "traceback"]
    assert record.attachments["stdout"] == Attachment(
        mime_type="text/x", content=b"one two three", eof=True
    )
    assert record.attachments["traceback"] == Attachment(None, b"tb", False)


def test_mime_type_given_only_on_a_later_chunk_is_used():
    (record,), _ = gather(
        dict(test_id="t", file_name="log", file_bytes=b"a"),
        dict(test_id="t", file_name="log", file_bytes=b"b", mime_type="text/plain"),
        dict(test_id="t", test_status="success"),
    )
    assert record.attachments["log"].mime_type == "text/plain"


def test_final_status_hands_over_the_record_at_once_and_forgets_it():
    records, agg = gather(
        dict(test_id="t", test_status="inprogress", timestamp=T0),
        dict(test_id="t", test_status="success", timestamp=T0 + SECOND),
        stop=False,
    )
    assert records == [
        TestRecord(test_id="t", status="success", start_time=T0, stop_time=T0 + SECOND)
    ]
    assert records[0].complete
    assert records[0].duration == SECOND
    assert agg.pending == []


def test_incomplete_tests_are_flushed_at_stop_as_inprogress_in_first_seen_order():
    records, agg = gather(
        dict(test_id="b", test_status="inprogress"),
        dict(test_id="a", file_name="stdout", file_bytes=b"half"),
        dict(test_id="c", test_status="inprogress"),
        dict(test_id="c", test_status="success"),
        stop=False,
    )
    assert [r.test_id for r in records] == ["c"]
    assert agg.pending == [(None, "b"), (None, "a")]
    agg.stopTestRun()
    assert [(r.test_id, r.status, r.complete) for r in records[1:]] == [
        ("b", "inprogress", False),
        ("a", "inprogress", False),
    ]
    assert records[2].attachments["stdout"].content == b"half"
    assert agg.pending == []


def test_interleaved_tests_on_different_route_codes_stay_apart():
    records, _ = gather(
        dict(test_id="t", route_code="0", test_status="inprogress"),
        dict(test_id="t", route_code="1", test_status="inprogress"),
        dict(test_id="t", route_code="0", file_name="stdout", file_bytes=b"zero-"),
        dict(test_id="t", route_code="1", file_name="stdout", file_bytes=b"one-"),
        dict(test_id="t", route_code="0", file_name="stdout", file_bytes=b"0"),
        dict(test_id="t", route_code="1", file_name="stdout", file_bytes=b"1"),
        dict(test_id="t", route_code="1", test_status="fail"),
        dict(test_id="t", route_code="0", test_status="success"),
    )
    assert [(r.route_code, r.status) for r in records] == [
        ("1", "fail"),
        ("0", "success"),
    ]
    assert records[0].attachments["stdout"].content == b"one-1"
    assert records[1].attachments["stdout"].content == b"zero-0"


def test_exists_is_final_and_a_later_run_is_a_new_record():
    records, _ = gather(
        dict(test_id="t", test_status="exists", test_tags={"enumerated"}),
        dict(test_id="t", test_status="inprogress"),
        dict(test_id="t", test_status="success"),
    )
    assert [(r.status, r.tags) for r in records] == [
        ("exists", {"enumerated"}),
        ("success", None),
    ]


def test_latest_tag_set_wins_and_none_changes_nothing():
    tags = {"a"}
    (record,), _ = gather(
        dict(test_id="t", test_status="inprogress", test_tags=tags),
        dict(test_id="t", test_tags={"b", "c"}),
        dict(test_id="t", test_status="success"),
    )
    assert record.tags == {"b", "c"}
    tags.add("mutated")
    (record,), _ = gather(
        dict(test_id="t", test_status="inprogress", test_tags=tags),
        dict(test_id="t", test_status="success"),
    )
    tags.add("later")
    assert record.tags == {"a", "mutated"}


def test_runnable_parent_and_timestamps():
    (record,), _ = gather(
        dict(test_id="t", runnable=False, timestamp=T0 + SECOND),
        dict(test_id="t", parent_test_id="p1", timestamp=T0),
        dict(test_id="t", parent_test_id="p2"),
        dict(test_id="t", test_status="success", timestamp=T0 + 5 * SECOND),
    )
    assert record.runnable is False
    assert record.parent_test_id == "p2"
    assert (record.start_time, record.stop_time) == (T0 + SECOND, T0 + 5 * SECOND)


def test_non_test_events_go_to_the_optional_callback_or_are_dropped():
    others = []
    records, _ = gather(
        dict(file_name="stdout", file_bytes=b"noise", route_code="2"),
        dict(test_id="t", test_status="success"),
        on_non_test=others.append,
    )
    assert others == [Event(file_name="stdout", file_bytes=b"noise", route_code="2")]
    assert len(records) == 1
    records, _ = gather(dict(file_name="stdout", file_bytes=b"noise"))
    assert records == []


def test_start_test_run_discards_a_previous_runs_leftovers():
    records, agg = gather(dict(test_id="t", test_status="inprogress"), stop=False)
    agg.startTestRun()
    agg.stopTestRun()
    assert records == []


def test_agrees_with_testtools_stream_to_dict_on_a_decoded_stream():
    buffer = io.BytesIO()
    writer = StreamWriter(buffer)
    writer.status(test_id="t", test_status="inprogress", timestamp=T0)
    writer.status(
        test_id="t",
        file_name="traceback",
        file_bytes=b"Trace",
        mime_type="text/plain;charset=utf8",
    )
    writer.status(
        test_id="t",
        file_name="traceback",
        file_bytes=b"back",
        eof=True,
        parent_test_id="parent",
    )
    writer.status(
        test_id="t", test_status="fail", test_tags={"x"}, timestamp=T0 + SECOND
    )
    ours, theirs = [], []
    fan = FanOut(Aggregator(ours.append), testtools.StreamToDict(theirs.append))
    fan.startTestRun()
    deliver_all(decode_bytes(buffer.getvalue()), fan)
    fan.stopTestRun()
    (record,), (test,) = ours, theirs
    assert record.status == test["status"] == "fail"
    assert record.tags == test["tags"] == {"x"}
    assert [record.start_time, record.stop_time] == test["timestamps"]
    assert record.attachments["traceback"].content == b"Traceback"
    assert test["details"]["traceback"].as_text() == "Traceback"
    assert record.attachments["traceback"].mime_type == "text/plain;charset=utf8"
    assert record.parent_test_id == "parent"
