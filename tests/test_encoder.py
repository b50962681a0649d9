"""The encoder and StreamWriter write exactly the SPEC section 2 layout."""

from __future__ import annotations

import datetime
import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    EPOCH,
    LATEST,
    SPEC_FLAGS,
    SPEC_MAX_PACKET,
    SPEC_STATUS_CODES,
    SPEC_VERSION,
    UTC,
    ev_bytes,
    events,
    spec_number,
    spec_packet,
    spec_string,
    walk_packets,
    wire_text,
)

from subunit2 import EncodeError, Event, StreamWriter, decode_bytes, encode
from subunit2.wire import encode_number

# SPEC section 2 known packets.
FOO_EXISTS = bytes.fromhex("b3 2901 0c 03666f6f 08555f1b")
EMPTY_EOF = bytes.fromhex("b3 2110 08 531588dc")

NUMBER_BOUNDARIES = [0, 63, 64, 16383, 16384, 4194303, 4194304, 1073741823]


def flags_of(packet: bytes) -> int:
    return int.from_bytes(packet[1:3], "big")


# --- known vectors ----------------------------------------------------------------


def test_known_vector_foo_exists_runnable_encodes_exactly():
    assert encode(test_id="foo", test_status="exists") == FOO_EXISTS


def test_known_vector_empty_runnable_eof_encodes_exactly():
    assert encode(eof=True) == EMPTY_EOF


# --- numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("value", NUMBER_BOUNDARIES)
def test_numbers_use_the_shortest_form_at_each_boundary(value):
    expected_width = 1 + sum(value >= limit for limit in (64, 16384, 4194304))
    encoded = encode_number(value)
    assert len(encoded) == expected_width
    assert encoded[0] >> 6 == expected_width - 1
    assert int.from_bytes(encoded, "big") & ((1 << (8 * expected_width - 2)) - 1) == (
        value
    )


@pytest.mark.parametrize("value", [-1, 1073741824])
def test_numbers_outside_the_four_byte_range_are_refused(value):
    with pytest.raises(ValueError):
        encode_number(value)


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 16383, 16384, 16385])
def test_string_lengths_are_written_in_the_shortest_form(size):
    packet = encode(test_id="a" * size, runnable=False)
    length_width = (packet[3] >> 6) + 1
    field = packet[3 + length_width : -4]
    assert field == spec_string("a" * size)


@pytest.mark.parametrize("size", [0, 63, 64, 16383, 16384, 100000])
def test_file_content_lengths_are_written_in_the_shortest_form(size):
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    packet = encode(file_name="f", file_bytes=content, runnable=False)
    length_width = (packet[3] >> 6) + 1
    field = packet[3 + length_width : -4]
    assert field == spec_string("f") + spec_number(size) + content


def test_packet_length_counts_itself_and_is_shortest_around_each_width_boundary():
    # Test ids chosen so whole packets straddle 63/64 and 16383/16384 bytes.
    sizes = list(range(40, 70)) + list(range(16360, 16392))
    for size in sizes:
        packet = encode(test_id="x" * size, runnable=False)
        width = (packet[3] >> 6) + 1
        length = int.from_bytes(packet[3 : 3 + width], "big") & (
            (1 << (8 * width - 2)) - 1
        )
        assert length == len(packet)
        assert packet[3 : 3 + width] == spec_number(len(packet))


# --- flags ------------------------------------------------------------------------


def test_an_event_with_no_fields_and_not_runnable_is_only_the_version():
    packet = encode(runnable=False)
    assert flags_of(packet) == SPEC_VERSION
    assert len(packet) == 8


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("test_id", dict(test_id="t")),
        ("route_code", dict(route_code="0/1")),
        ("timestamp", dict(timestamp=EPOCH)),
        ("runnable", dict(runnable=True)),
        ("test_tags", dict(test_tags=set())),
        ("file", dict(file_name="f", file_bytes=b"")),
        ("mime_type", dict(mime_type="text/plain")),
        ("eof", dict(eof=True)),
        ("parent_test_id", dict(parent_test_id="p")),
    ],
)
def test_each_flag_is_set_only_by_its_own_field(field, kwargs):
    kwargs.setdefault("runnable", False)
    assert flags_of(encode(**kwargs)) == SPEC_VERSION | SPEC_FLAGS[field]


@pytest.mark.parametrize("status, code", sorted(SPEC_STATUS_CODES.items(), key=str))
def test_status_is_written_as_its_spec_code(status, code):
    assert flags_of(encode(test_status=status, runnable=False)) == SPEC_VERSION | code


@given(events())
def test_flags_name_exactly_the_fields_present(event):
    flags = flags_of(ev_bytes(event))
    assert flags & 0xF000 == SPEC_VERSION
    assert flags & 7 == SPEC_STATUS_CODES[event.test_status]
    present = {
        "test_id": event.test_id is not None,
        "route_code": event.route_code is not None,
        "timestamp": event.timestamp is not None,
        "runnable": event.runnable,
        "test_tags": event.test_tags is not None,
        "file": event.file_bytes is not None,
        "mime_type": event.mime_type is not None,
        "eof": event.eof,
        "parent_test_id": event.parent_test_id is not None,
    }
    for field, mask in SPEC_FLAGS.items():
        assert bool(flags & mask) == present[field], field


@given(events())
def test_encoder_writes_the_spec_layout_byte_for_byte(event):
    # The oracle is an independent implementation of SPEC section 2 (tags sorted,
    # shortest numbers); it agrees with the encoder on every event.
    assert ev_bytes(event) == spec_packet(event)


# --- 2.1 parent -------------------------------------------------------------------


def test_parent_is_the_last_field_before_the_crc():
    packet = encode(test_id="t", route_code="r", parent_test_id="the parent")
    assert flags_of(packet) & SPEC_FLAGS["parent_test_id"]
    assert packet[:-4].endswith(spec_string("r") + spec_string("the parent"))


@given(events(parent=False))
def test_without_a_parent_the_stream_is_plain_v2(event):
    assert not flags_of(ev_bytes(event)) & SPEC_FLAGS["parent_test_id"]


@given(events(), wire_text())
def test_v2_only_drops_the_parent_byte_for_byte(event, parent):
    with_parent = event._replace(parent_test_id=parent)
    plain = ev_bytes(event._replace(parent_test_id=None))
    assert ev_bytes(with_parent, v2_only=True) == plain
    assert ev_bytes(with_parent) != plain


@given(events())
def test_stream_writer_v2_only_drops_the_parent(event):
    plain, stripped = io.BytesIO(), io.BytesIO()
    StreamWriter(plain).status(**event._replace(parent_test_id=None).kwargs())
    StreamWriter(stripped, v2_only=True).status(**event.kwargs())
    assert stripped.getvalue() == plain.getvalue()


# --- attachments split across packets --------------------------------------------


def _split_event(size: int) -> Event:
    pattern = bytes(range(251))  # a prime length, so chunks do not line up with it
    content = (pattern * (size // 251 + 1))[:size]
    return Event(
        test_id="big.test",
        test_status="fail",
        test_tags={"a", "b"},
        runnable=False,
        file_name="traceback",
        file_bytes=content,
        eof=True,
        mime_type="application/octet-stream",
        route_code="0/1",
        timestamp=datetime.datetime(2020, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        parent_test_id="big",
    )


def test_attachment_larger_than_a_packet_splits_with_status_and_eof_on_the_last():
    event = _split_event(2 * SPEC_MAX_PACKET + 12345)
    data = ev_bytes(event)
    packets = walk_packets(data)
    assert len(packets) >= 3
    # No silly tiny chunks: each packet carries nearly a packet's worth.
    assert len(packets) <= math.ceil(len(event.file_bytes) / (SPEC_MAX_PACKET - 512))
    assert all(len(p) <= SPEC_MAX_PACKET for p in packets)
    decoded = decode_bytes(data)
    assert len(decoded) == len(packets)
    for chunk in decoded[:-1]:
        assert chunk == event._replace(
            test_status=None, eof=False, file_bytes=chunk.file_bytes
        )
    assert decoded[-1] == event._replace(file_bytes=decoded[-1].file_bytes)
    assert b"".join(chunk.file_bytes for chunk in decoded) == event.file_bytes


def test_attachment_one_byte_too_big_for_a_packet_is_split_in_two():
    empty = spec_packet(_split_event(0))
    # Everything but LENGTH and the content length (1 byte for 0), then the size
    # whose packet, with 3-byte forms of both, is one byte over the limit: one
    # byte less makes a packet of exactly the maximum size.
    fixed = len(empty) - ((empty[3] >> 6) + 1) - 1
    size = SPEC_MAX_PACKET + 1 - fixed - 3 - 3
    assert len(spec_packet(_split_event(size - 1))) == SPEC_MAX_PACKET
    data = ev_bytes(_split_event(size))
    packets = walk_packets(data)
    assert len(packets) == 2
    assert all(len(p) <= SPEC_MAX_PACKET for p in packets)
    assert b"".join(e.file_bytes for e in decode_bytes(data)) == (
        _split_event(size).file_bytes
    )


def test_attachment_that_fits_stays_in_one_packet():
    event = _split_event(SPEC_MAX_PACKET // 2)
    data = ev_bytes(event)
    assert len(walk_packets(data)) == 1
    assert decode_bytes(data) == [event]


# --- EncodeError names the field -------------------------------------------------

NAIVE = datetime.datetime(2020, 1, 1)
BAD_ARGUMENTS = [
    ("test_status", dict(test_status="passed")),
    ("test_status", dict(test_status="SUCCESS")),
    ("timestamp", dict(timestamp=NAIVE)),
    ("timestamp", dict(timestamp=EPOCH - datetime.timedelta(microseconds=1))),
    ("timestamp", dict(timestamp=LATEST + datetime.timedelta(microseconds=1))),
    ("timestamp", dict(timestamp=datetime.datetime(1969, 12, 31, tzinfo=UTC))),
    ("timestamp", dict(timestamp=datetime.datetime(2200, 1, 1, tzinfo=UTC))),
    ("test_id", dict(test_id="a\x00b")),
    ("test_id", dict(test_id=b"bytes")),
    ("test_tags", dict(test_tags={"ok", "a\x00b"})),
    ("test_tags", dict(test_tags={1, 2})),
    ("test_tags", dict(test_tags={"a", 2})),
    ("test_tags", dict(test_tags="a-string")),
    ("file_name", dict(file_name="a\x00b", file_bytes=b"x")),
    ("mime_type", dict(mime_type="text/\x00plain")),
    ("route_code", dict(route_code="0\x00")),
    ("parent_test_id", dict(parent_test_id="\x00")),
    ("file_bytes", dict(file_name="stdout")),
    ("file_name", dict(file_bytes=b"orphan")),
]


@pytest.mark.parametrize("field, kwargs", BAD_ARGUMENTS)
def test_encode_error_names_the_offending_field(field, kwargs):
    with pytest.raises(EncodeError, match=field):
        encode(**kwargs)


@pytest.mark.parametrize("field, kwargs", BAD_ARGUMENTS)
def test_stream_writer_writes_nothing_when_encoding_fails(field, kwargs):
    stream = RecordingStream()
    writer = StreamWriter(stream)
    with pytest.raises(EncodeError):
        writer.status(**kwargs)
    assert stream.written() == b""
    # The stream is still usable: the next event is one whole packet.
    writer.status(test_id="after", test_status="success")
    assert decode_bytes(stream.written()) == [
        Event(test_id="after", test_status="success")
    ]


def test_an_error_in_a_field_after_a_huge_attachment_writes_nothing():
    stream = RecordingStream()
    writer = StreamWriter(stream)
    with pytest.raises(EncodeError, match="route_code"):
        writer.status(
            test_id="t",
            file_name="f",
            file_bytes=bytes(3 * SPEC_MAX_PACKET),
            route_code="bad\x00",
        )
    assert stream.written() == b""


@pytest.mark.parametrize("stamp", [EPOCH, LATEST])
def test_timestamps_at_both_ends_of_the_range_encode(stamp):
    assert decode_bytes(encode(timestamp=stamp)) == [Event(timestamp=stamp)]


@pytest.mark.parametrize("offset_hours", [-12, -1, 5, 14])
def test_a_timestamp_in_another_zone_is_written_as_the_same_instant(offset_hours):
    zone = datetime.timezone(datetime.timedelta(hours=offset_hours))
    instant = datetime.datetime(2021, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    assert encode(timestamp=instant.astimezone(zone)) == encode(timestamp=instant)


# --- StreamWriter and its stream ---------------------------------------------------


class RecordingStream:
    """A binary stream that logs writes and flushes."""

    def __init__(self) -> None:
        self.log = []

    def write(self, data) -> int:
        self.log.append(("write", bytes(data)))
        return len(data)

    def flush(self) -> None:
        self.log.append(("flush", None))

    def written(self) -> bytes:
        return b"".join(data for kind, data in self.log if kind == "write")


def test_stream_writer_flushes_after_every_event_by_default():
    stream = RecordingStream()
    writer = StreamWriter(stream)
    for name in ("a", "b", "c"):
        writer.status(test_id=name, test_status="inprogress")
        # Everything written so far is flushed before status() returns.
        assert stream.log[-1] == ("flush", None)
        assert stream.written().endswith(encode(test_id=name, test_status="inprogress"))
    assert [kind for kind, _ in stream.log] == ["write", "flush"] * 3


def test_stream_writer_in_buffered_mode_does_not_flush_per_event():
    stream = RecordingStream()
    writer = StreamWriter(stream, flush=False)
    writer.startTestRun()
    for name in ("a", "b", "c"):
        writer.status(test_id=name, test_status="success")
    assert ("flush", None) not in stream.log
    writer.stopTestRun()
    assert stream.log[-1] == ("flush", None)
    assert [e.test_id for e in decode_bytes(stream.written())] == ["a", "b", "c"]


def test_stream_writer_writes_to_a_text_streams_buffer():
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="ascii")
    writer = StreamWriter(text)
    event = Event(test_id="t\u00e9", file_name="f", file_bytes=b"\xb3\xff\x00")
    writer.status(**event.kwargs())
    assert decode_bytes(raw.getvalue()) == [event]


@given(st.lists(events(), max_size=6))
def test_stream_writer_writes_what_encode_returns(batch):
    stream = io.BytesIO()
    writer = StreamWriter(stream)
    for event in batch:
        writer.status(**event.kwargs())
    assert stream.getvalue() == b"".join(ev_bytes(e) for e in batch)
