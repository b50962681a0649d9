"""The JSON lines mapping of events: exact keys and formats, validation, replay."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testtools.testresult import doubles

from subunit2 import STATUSES, Event, StreamWriter, decode_bytes, encode
from subunit2.event import FIELDS
from subunit2.jsonlines import (
    TIMESTAMP_FORMAT,
    JsonFieldError,
    JsonLineError,
    JsonLinesWriter,
    event_to_json,
    format_timestamp,
    json_to_kwargs,
    parse_timestamp,
    read_json_lines,
)

UTC = datetime.timezone.utc
KEYS = [
    "test_id",
    "test_status",
    "test_tags",
    "runnable",
    "file_name",
    "file_bytes",
    "eof",
    "mime_type",
    "route_code",
    "timestamp",
    "parent_test_id",
]


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


class Recorder:
    """A result that keeps every event, parent ids included."""

    def __init__(self) -> None:
        self.events = []

    def startTestRun(self) -> None:
        pass

    def stopTestRun(self) -> None:
        pass

    def status(self, **kwargs) -> None:
        self.events.append(Event(**kwargs))


FULL = Event(
    test_id="pkg.test_x (i=1)",
    test_status="fail",
    test_tags={"worker-1", "b", "a"},
    runnable=False,
    file_name="traceback",
    file_bytes=b"\x00\xffboom\n",
    eof=True,
    mime_type="text/plain;charset=utf8",
    route_code="0/3",
    timestamp=utc(2024, 1, 2, 3, 4, 5, 123456),
    parent_test_id="pkg.test_x",
)


# --- event_to_json ---------------------------------------------------------------


def test_keys_are_exactly_the_status_arguments_in_order():
    assert list(event_to_json(Event())) == KEYS
    assert list(event_to_json(FULL)) == KEYS
    assert list(FIELDS) == KEYS


def test_default_event_values():
    assert event_to_json(Event()) == {
        "test_id": None,
        "test_status": None,
        "test_tags": None,
        "runnable": True,
        "file_name": None,
        "file_bytes": None,
        "eof": False,
        "mime_type": None,
        "route_code": None,
        "timestamp": None,
        "parent_test_id": None,
    }


def test_full_event_value_formats():
    assert event_to_json(FULL) == {
        "test_id": "pkg.test_x (i=1)",
        "test_status": "fail",
        "test_tags": ["a", "b", "worker-1"],
        "runnable": False,
        "file_name": "traceback",
        "file_bytes": "AP9ib29tCg==",
        "eof": True,
        "mime_type": "text/plain;charset=utf8",
        "route_code": "0/3",
        "timestamp": "2024-01-02T03:04:05.123456Z",
        "parent_test_id": "pkg.test_x",
    }


def test_empty_tag_set_is_an_empty_list_not_null():
    assert event_to_json(Event(test_tags=set()))["test_tags"] == []
    assert json_to_kwargs({"test_tags": []})["test_tags"] == set()


def test_accepts_status_keyword_arguments():
    assert event_to_json(**FULL.kwargs()) == event_to_json(FULL)
    assert event_to_json(test_id="t")["test_id"] == "t"
    with pytest.raises(TypeError):
        event_to_json(FULL, test_id="t")
    with pytest.raises(TypeError):
        event_to_json(no_such_field=1)


def test_timestamps_are_written_in_utc_with_six_fraction_digits():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    stamp = datetime.datetime(2024, 1, 2, 5, 4, 5, tzinfo=plus_two)
    assert format_timestamp(stamp) == "2024-01-02T03:04:05.000000Z"
    assert format_timestamp(utc(1970, 1, 1)) == "1970-01-01T00:00:00.000000Z"
    assert format_timestamp(utc(2024, 1, 2, 3, 4, 5, 7)) == (
        utc(2024, 1, 2, 3, 4, 5, 7).strftime(TIMESTAMP_FORMAT)
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime.datetime(2024, 1, 2))


# --- timestamps ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-01-02T03:04:05.123456Z", utc(2024, 1, 2, 3, 4, 5, 123456)),
        ("2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02t03:04:05z", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02 03:04:05Z", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05.5Z", utc(2024, 1, 2, 3, 4, 5, 500000)),
        ("2024-01-02T03:04:05,25Z", utc(2024, 1, 2, 3, 4, 5, 250000)),
        ("2024-01-02T03:04:05+00:00", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04:05-00:00", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T08:34:05.000001+05:30", utc(2024, 1, 2, 3, 4, 5, 1)),
        ("2024-01-02T08:34:05+0530", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T05:04:05+02", utc(2024, 1, 2, 3, 4, 5)),
        ("2024-01-01T19:04:05-08:00", utc(2024, 1, 2, 3, 4, 5)),
        # Nanoseconds round to the microsecond, ties to even, like the decoder.
        ("2024-01-02T03:04:05.000000499Z", utc(2024, 1, 2, 3, 4, 5, 0)),
        ("2024-01-02T03:04:05.000000500Z", utc(2024, 1, 2, 3, 4, 5, 0)),
        ("2024-01-02T03:04:05.000001500Z", utc(2024, 1, 2, 3, 4, 5, 2)),
        ("2024-01-02T03:04:05.000000501Z", utc(2024, 1, 2, 3, 4, 5, 1)),
        ("2024-01-02T03:04:05.9999995Z", utc(2024, 1, 2, 3, 4, 6, 0)),
        ("2024-12-31T23:59:59.9999999Z", utc(2025, 1, 1)),
    ],
)
def test_parse_timestamp_variants(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-02T03:04:05",  # no zone: ambiguous
        "2024-01-02",
        "2024-01-02T03:04Z",
        "2024-13-02T03:04:05Z",
        "2024-02-30T03:04:05Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T03:04:60Z",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+01:60",
        "2024-01-02T03:04:05.Z",
        " 2024-01-02T03:04:05Z",
        "yesterday",
        "",
    ],
)
def test_parse_timestamp_rejects(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_what_is_written_parses_back():
    stamp = utc(2106, 2, 7, 6, 28, 15, 999999)
    assert parse_timestamp(format_timestamp(stamp)) == stamp


# --- json_to_kwargs --------------------------------------------------------------


def test_missing_keys_take_status_defaults():
    assert json_to_kwargs({}) == Event().kwargs()
    assert json_to_kwargs({"test_id": "t"}) == Event(test_id="t").kwargs()


def test_full_object_converts_back():
    assert Event(**json_to_kwargs(event_to_json(FULL))) == FULL


def test_unknown_key_is_named():
    with pytest.raises(JsonFieldError) as caught:
        json_to_kwargs({"test_id": "t", "tset_status": "success"})
    assert caught.value.key == "tset_status"
    assert "'tset_status'" in str(caught.value)
    assert "unknown key" in str(caught.value)


def test_several_unknown_keys_are_all_named():
    with pytest.raises(JsonFieldError) as caught:
        json_to_kwargs({"zz": 1, "aa": 2})
    assert "'aa'" in str(caught.value) and "'zz'" in str(caught.value)


@pytest.mark.parametrize(
    "key, value",
    [
        ("test_id", 3),
        ("test_id", ["t"]),
        ("test_status", "passed"),
        ("test_status", True),
        ("test_tags", "a"),
        ("test_tags", ["a", 1]),
        ("test_tags", {"a": 1}),
        ("runnable", None),
        ("runnable", 1),
        ("runnable", "true"),
        ("eof", 0),
        ("file_name", False),
        ("file_bytes", [1, 2]),
        ("file_bytes", "not base64!"),
        ("file_bytes", "AAAAA"),
        ("mime_type", 1.5),
        ("route_code", {}),
        ("timestamp", 1700000000),
        ("timestamp", "2024-01-02T03:04:05"),
        ("parent_test_id", 7),
    ],
)
def test_wrong_types_are_named(key, value):
    with pytest.raises(JsonFieldError) as caught:
        json_to_kwargs({key: value})
    assert caught.value.key == key
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{key}: ")


def test_not_an_object():
    for value in ([], "x", 3, None):
        with pytest.raises(JsonFieldError) as caught:
            json_to_kwargs(value)
        assert caught.value.key is None
        assert "JSON object" in str(caught.value)


def test_base64_padding_is_optional_when_reading():
    assert json_to_kwargs({"file_bytes": "AP8"})["file_bytes"] == b"\x00\xff"
    assert json_to_kwargs({"file_bytes": "AP8="})["file_bytes"] == b"\x00\xff"
    assert json_to_kwargs({"file_bytes": ""})["file_bytes"] == b""


def test_null_values_are_defaults():
    obj = {key: None for key in KEYS if key not in ("runnable", "eof")}
    assert json_to_kwargs(obj) == Event().kwargs()


# --- JsonLinesWriter -------------------------------------------------------------


class CountingText(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_writer_writes_one_compact_line_per_event():
    out = CountingText()
    writer = JsonLinesWriter(out)
    writer.startTestRun()
    writer.status(test_id="a", test_status="inprogress")
    writer.status(**FULL.kwargs())
    writer.status(test_id="täst ✓")
    writer.stopTestRun()
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == 3
    assert json.loads(lines[1]) == event_to_json(FULL)
    assert lines[0] == json.dumps(
        event_to_json(test_id="a", test_status="inprogress"),
        separators=(",", ":"),
    )
    assert ": " not in lines[0] and ", " not in lines[0]
    assert '"täst ✓"' in lines[2]  # non-ASCII kept readable
    assert out.flushes >= 3


def test_writer_flush_can_be_deferred():
    out = CountingText()
    writer = JsonLinesWriter(out, flush=False)
    for i in range(5):
        writer.status(test_id=str(i))
    assert out.flushes == 0
    writer.stopTestRun()
    assert out.flushes == 1


def test_writer_rejects_naive_timestamps():
    with pytest.raises(ValueError):
        JsonLinesWriter(io.StringIO()).status(timestamp=datetime.datetime(2024, 1, 1))


# --- read_json_lines -------------------------------------------------------------


def lines_of(*events: Event) -> str:
    return "".join(json.dumps(event_to_json(e)) + "\n" for e in events)


def test_replay_from_text_and_binary_streams():
    events = [FULL, Event(test_id="b", test_status="success"), Event()]
    text = lines_of(*events)
    for source in (io.StringIO(text), io.BytesIO(text.encode())):
        recorder = Recorder()
        assert read_json_lines(source, recorder) == 3
        assert recorder.events == events
    wrapped = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="latin-1")
    recorder = Recorder()
    read_json_lines(wrapped, recorder)  # the binary buffer is used: UTF-8
    assert recorder.events == events


def test_blank_lines_bom_and_crlf():
    text = "\ufeff" + '{"test_id":"a"}\r\n\n   \n{"test_id":"b"}'
    recorder = Recorder()
    assert read_json_lines(io.BytesIO(text.encode()), recorder) == 2
    assert [e.test_id for e in recorder.events] == ["a", "b"]


def test_bad_json_names_the_line_after_delivering_earlier_lines():
    text = lines_of(Event(test_id="1"), Event(test_id="2")) + '{"test_id": \n'
    text += lines_of(Event(test_id="4"))
    recorder = Recorder()
    with pytest.raises(JsonLineError) as caught:
        read_json_lines(io.BytesIO(text.encode()), recorder)
    assert caught.value.line == 3
    assert str(caught.value).startswith("line 3: invalid JSON")
    assert [e.test_id for e in recorder.events] == ["1", "2"]


def test_bad_field_names_the_line_and_key():
    text = '{"test_id":"1"}\n\n{"test_id":"3","colour":"red"}\n'
    recorder = Recorder()
    with pytest.raises(JsonLineError) as caught:
        read_json_lines(io.StringIO(text), recorder)
    assert caught.value.line == 3
    assert "colour" in str(caught.value)
    assert len(recorder.events) == 1


def test_non_object_line_and_bad_utf8():
    with pytest.raises(JsonLineError, match="line 2: expected a JSON object"):
        read_json_lines(io.StringIO("{}\n[1, 2]\n"), Recorder())
    with pytest.raises(JsonLineError, match="line 1: not valid UTF-8"):
        read_json_lines(io.BytesIO(b'{"test_id": "\xff"}\n'), Recorder())


def test_events_the_writer_cannot_encode_name_the_line():
    out = io.BytesIO()
    text = '{"test_id":"ok"}\n{"test_id":"nul\\u0000"}\n'
    with pytest.raises(JsonLineError) as caught:
        read_json_lines(io.StringIO(text), StreamWriter(out))
    assert caught.value.line == 2 and "test_id" in str(caught.value)
    assert out.getvalue() == encode(test_id="ok")
    with pytest.raises(JsonLineError, match="line 1: .*file_name"):
        read_json_lines(io.StringIO('{"file_bytes":"AA=="}\n'), StreamWriter(out))


def test_replay_onto_testtools_result_withholds_parent():
    recorder = doubles.StreamResult()  # no parent_test_id parameter
    read_json_lines(io.StringIO(lines_of(FULL)), recorder)
    assert len(recorder._events) == 1
    assert recorder._events[0].test_id == FULL.test_id


# --- round trips -----------------------------------------------------------------

texts = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=12,
)
events = st.builds(
    Event,
    test_id=st.none() | texts,
    test_status=st.sampled_from((None,) + STATUSES),
    test_tags=st.none() | st.frozensets(texts, max_size=3),
    runnable=st.booleans(),
    file_name=st.none() | texts,
    file_bytes=st.none() | st.binary(max_size=40),
    eof=st.booleans(),
    mime_type=st.none() | texts,
    route_code=st.none() | texts,
    timestamp=st.none()
    | st.datetimes(
        min_value=datetime.datetime(1970, 1, 1),
        max_value=datetime.datetime(2106, 2, 7),
        timezones=st.just(UTC),
    ),
    parent_test_id=st.none() | texts,
)


@settings(max_examples=150, deadline=None)
@given(events)
def test_json_round_trip(event):
    line = json.dumps(event_to_json(event), ensure_ascii=False)
    assert Event(**json_to_kwargs(json.loads(line))) == event


@settings(max_examples=100, deadline=None)
@given(events)
def test_wire_json_wire_round_trip(event):
    if (event.file_name is None) != (event.file_bytes is None):
        event = event._replace(file_name=None, file_bytes=None)
    packet = encode(**event.kwargs())
    recorder = Recorder()
    text = io.StringIO()
    writer = JsonLinesWriter(text)
    for decoded in decode_bytes(packet):
        writer.status(**decoded.kwargs())
    text.seek(0)
    read_json_lines(text, recorder)
    out = io.BytesIO()
    for decoded in recorder.events:
        StreamWriter(out).status(**decoded.kwargs())
    assert out.getvalue() == packet
