"""The decoder reads the SPEC section 2 layout back into the events written."""

from __future__ import annotations

import datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    EPOCH,
    PARSER,
    SPEC_FLAGS,
    SPEC_STATUS_CODES,
    SPEC_VERSION,
    UTC,
    decode_chunks,
    ev_bytes,
    events,
    is_text,
    merge_text,
    packet_events,
    spec_frame,
    spec_number,
    spec_packet,
    spec_string,
    utc_timestamps,
    wire_text,
)

from subunit2 import Decoder, Event, decode_bytes, encode

FOO_EXISTS = bytes.fromhex("b3 2901 0c 03666f6f 08555f1b")
EMPTY_EOF = bytes.fromhex("b3 2110 08 531588dc")
NUMBER_BOUNDARIES = [0, 63, 64, 16383, 16384, 4194303, 4194304, 1073741823]
RUNNABLE = SPEC_FLAGS["runnable"]


def widths_for(value):
    """Every width the value can be written in: the shortest and each wider one."""
    shortest = len(spec_number(value))
    return range(shortest, 5)


def only_packets(found):
    return [e for e in found if not is_text(e) and e.test_id != PARSER]


# --- known vectors ----------------------------------------------------------------


def test_known_vector_foo_exists_runnable_decodes_exactly():
    assert decode_bytes(FOO_EXISTS) == [Event(test_id="foo", test_status="exists")]


def test_known_vector_empty_runnable_eof_decodes_exactly():
    assert decode_bytes(EMPTY_EOF) == [Event(eof=True)]


@pytest.mark.parametrize("vector", [FOO_EXISTS, EMPTY_EOF])
def test_known_vectors_decode_fed_one_byte_at_a_time(vector):
    assert decode_chunks(vector, range(len(vector))) == decode_bytes(vector)
    assert len(decode_bytes(vector)) == 1


# --- round trips ------------------------------------------------------------------


@given(events())
def test_any_event_round_trips(event):
    decoded = decode_bytes(ev_bytes(event))
    assert decoded == [event]
    (got,) = decoded
    # Values, not just equality: aware UTC timestamps, bytes content.
    if got.timestamp is not None:
        assert got.timestamp.utcoffset() == datetime.timedelta(0)
    if got.file_bytes is not None:
        assert isinstance(got.file_bytes, bytes)
    for tag in got.test_tags or ():
        assert isinstance(tag, str)


@given(st.lists(events(), max_size=8))
def test_any_sequence_of_events_round_trips_in_order(batch):
    data = b"".join(ev_bytes(e) for e in batch)
    assert decode_bytes(data) == batch


@given(events(), st.integers(1, 4), st.integers(1, 4))
def test_wider_than_shortest_numbers_are_accepted_everywhere(event, width, lwidth):
    packet = spec_packet(event, width=width, length_width=lwidth)
    assert decode_bytes(packet) == [event]


@pytest.mark.parametrize("code_status", sorted(SPEC_STATUS_CODES.items(), key=str))
def test_each_status_code_decodes_to_its_name(code_status):
    status, code = code_status
    packet = spec_frame(SPEC_VERSION | code, b"")
    assert decode_bytes(packet) == [Event(test_status=status, runnable=False)]


def test_parent_field_is_decoded_from_the_last_field():
    flags = SPEC_VERSION | SPEC_FLAGS["test_id"] | SPEC_FLAGS["parent_test_id"]
    packet = spec_frame(flags, spec_string("child") + spec_string("parent"))
    assert decode_bytes(packet) == [
        Event(test_id="child", runnable=False, parent_test_id="parent")
    ]


# --- variable-length numbers at their boundaries ---------------------------------


@pytest.mark.parametrize("size", [0, 63, 64, 16383, 16384])
def test_string_length_boundaries_decode_in_every_width(size):
    for width in widths_for(size):
        body = spec_number(size, width) + b"s" * size
        packet = spec_frame(SPEC_VERSION | SPEC_FLAGS["test_id"], body)
        assert decode_bytes(packet) == [Event(test_id="s" * size, runnable=False)]


@pytest.mark.parametrize("size", [0, 63, 64, 16383, 16384, 4194000])
def test_file_length_boundaries_decode_in_every_width(size):
    content = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    for width in widths_for(size):
        body = spec_string("f") + spec_number(size, width) + content
        packet = spec_frame(SPEC_VERSION | SPEC_FLAGS["file"], body)
        assert decode_bytes(packet) == [
            Event(file_name="f", file_bytes=content, runnable=False)
        ]


@pytest.mark.parametrize("count", [0, 1, 63, 64])
def test_tag_count_boundaries_decode_in_every_width(count):
    tags = {f"t{i}" for i in range(count)}
    for width in widths_for(count):
        body = spec_number(count, width)
        body += b"".join(spec_string(t) for t in sorted(tags))
        packet = spec_frame(SPEC_VERSION | SPEC_FLAGS["test_tags"], body)
        assert decode_bytes(packet) == [Event(test_tags=tags, runnable=False)]


@pytest.mark.parametrize("padding", [0, 50, 60, 16370, 16380])
def test_packet_length_decodes_in_every_width(padding):
    event = Event(test_id="p" * padding)
    shortest = spec_packet(event)
    for width in widths_for(len(shortest)):
        packet = spec_packet(event, length_width=width)
        assert decode_bytes(packet) == [event]


def timestamp_packet(seconds: int, nanos: int, width=None) -> bytes:
    body = seconds.to_bytes(4, "big") + spec_number(nanos, width)
    return spec_frame(SPEC_VERSION | SPEC_FLAGS["timestamp"], body)


def rounded(seconds: int, nanos: int) -> datetime.datetime:
    """The SPEC's rule: nearest microsecond, ties to even (Fraction rounds so)."""
    micros = round(Fraction(nanos, 1000))
    return EPOCH + datetime.timedelta(seconds=seconds, microseconds=micros)


@pytest.mark.parametrize("nanos", NUMBER_BOUNDARIES)
def test_nanosecond_boundaries_decode_in_every_width(nanos):
    for width in widths_for(nanos):
        packet = timestamp_packet(7, nanos, width)
        found = decode_bytes(packet)
        if nanos < 10**9:
            assert found == [Event(timestamp=rounded(7, nanos), runnable=False)]
        else:
            assert only_packets(found) == []
            assert b"".join(e.file_bytes for e in found if is_text(e)) == packet


# --- timestamps -------------------------------------------------------------------


@pytest.mark.parametrize(
    "nanos, micros",
    [
        (0, 0),
        (1000, 1),
        (499, 0),
        (500, 0),
        (501, 1),
        (1499, 1),
        (1500, 2),
        (2500, 2),
        (3500, 4),
        (999999499, 999999),
    ],
)
def test_nanoseconds_round_to_the_nearest_microsecond_ties_to_even(nanos, micros):
    (event,) = decode_bytes(timestamp_packet(100, nanos))
    assert event.timestamp == EPOCH + datetime.timedelta(
        seconds=100, microseconds=micros
    )


@pytest.mark.parametrize("nanos", [999999500, 999999501, 999999999])
def test_nanoseconds_rounding_up_carry_into_the_next_second(nanos):
    (event,) = decode_bytes(timestamp_packet(100, nanos))
    assert event.timestamp == EPOCH + datetime.timedelta(seconds=101)


@given(st.integers(0, 2**32 - 1), st.integers(0, 10**9 - 1))
def test_any_valid_timestamp_decodes_to_the_rounded_instant(seconds, nanos):
    (event,) = decode_bytes(timestamp_packet(seconds, nanos))
    assert event.timestamp == rounded(seconds, nanos)
    assert event.timestamp.utcoffset() == datetime.timedelta(0)


@given(utc_timestamps())
def test_microsecond_timestamps_round_trip_exactly(stamp):
    (event,) = decode_bytes(encode(timestamp=stamp))
    assert event.timestamp == stamp
    assert event.timestamp.microsecond == stamp.microsecond


@pytest.mark.parametrize("nanos", [10**9, 10**9 + 1, 2**30 - 1])
def test_a_billion_nanoseconds_or_more_is_a_malformed_packet(nanos):
    bad = timestamp_packet(5, nanos)
    good = encode(test_id="next")
    found = decode_bytes(b"pre" + bad + good)
    reports = [e for e in found if e.test_id == PARSER]
    assert [e.file_name for e in reports] == ["Packet data", "Parser Error"]
    assert reports[0].file_bytes == bad
    # The bytes stay in the stream as non-subunit data, and the next packet follows.
    text = b"".join(e.file_bytes for e in found if is_text(e))
    assert text == b"pre" + bad
    assert found[-1] == Event(test_id="next")


# --- chunking ---------------------------------------------------------------------

# Non-subunit data with no 0xB3 byte can never start a candidate packet.
plain_text = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\xb3", b"."))
pieces = st.lists(st.one_of(events().map(ev_bytes), plain_text), max_size=8)


def expected_events(parts):
    """What a stream made of ``parts`` (packets or plain text) must decode to."""
    out = []
    for part in parts:
        if part[:1] == b"\xb3":
            out.extend(decode_bytes(part))
        else:
            out.append(Event(file_name="stdout", file_bytes=part))
    return merge_text(out)


@given(pieces, st.data())
def test_any_chunking_gives_the_same_packets_and_text(parts, data):
    stream = b"".join(parts)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert merge_text(decode_chunks(stream, cuts)) == expected_events(parts)


@given(pieces)
def test_feeding_one_byte_at_a_time_gives_the_same_packets_and_text(parts):
    stream = b"".join(parts)
    assert merge_text(decode_chunks(stream, range(len(stream)))) == expected_events(
        parts
    )


@given(st.lists(events(), min_size=1, max_size=5), st.data())
def test_each_packet_is_delivered_by_the_feed_that_completes_it(batch, data):
    packets = [ev_bytes(e) for e in batch]
    stream = b"".join(packets)
    # Cuts anywhere, and often inside a packet's header, where a decoder must
    # wait for the rest of the header and then of the packet.
    cuts = set()
    for start, packet in zip([0, *_ends(packets)], packets):
        offsets = st.one_of(st.integers(1, 5), st.integers(1, len(packet)))
        cuts.update(start + k for k in data.draw(st.lists(offsets, max_size=2)))
    cuts = sorted(c for c in cuts if 0 < c < len(stream))
    decoder = Decoder()
    delivered = []
    last = 0
    for cut in cuts + [len(stream)]:
        delivered.extend(decoder.feed(stream[last:cut]))
        complete = sum(1 for end in _ends(packets) if end <= cut)  # wholly fed
        assert delivered == batch[:complete]
        last = cut
    assert decoder.close() == []


def test_a_packet_whose_signature_ends_a_feed_is_delivered_when_it_completes():
    # The first packet arrives in two feeds (its length is known after the first),
    # the second packet's 0xB3 rides at the end of the feed that completes the
    # first; the feed that completes the second must deliver it.
    first = encode(test_id="a-longer-test-id")
    second = encode(test_id="b")
    stream = first + second
    decoder = Decoder()
    assert decoder.feed(stream[:4]) == []
    assert decoder.feed(stream[4 : len(first) + 1]) == [
        Event(test_id="a-longer-test-id")
    ]
    assert decoder.feed(stream[len(first) + 1 :]) == [Event(test_id="b")]
    assert decoder.close() == []


def _ends(packets):
    total = 0
    for packet in packets:
        total += len(packet)
        yield total


# --- non-subunit data naming ------------------------------------------------------


# Packets with a test id: none can be mistaken for non-subunit data of any name.
named_pieces = st.lists(
    st.one_of(packet_events().map(ev_bytes), plain_text), max_size=6
)


@given(named_pieces, wire_text())
def test_non_subunit_data_carries_the_configured_name(parts, name):
    stream = b"".join(parts)
    decoder = Decoder(non_subunit_name=name)
    found = decoder.feed(stream) + decoder.close()
    expected = [
        e._replace(file_name=name) if is_text(e) else e for e in expected_events(parts)
    ]
    assert merge_text(found, name) == expected


@given(named_pieces)
def test_non_subunit_name_none_drops_the_data_and_keeps_packets(parts):
    stream = b"".join(parts)
    found = decode_bytes(stream, non_subunit_name=None)
    assert found == [e for e in expected_events(parts) if not is_text(e)]


# --- what is not a packet ---------------------------------------------------------


@pytest.mark.parametrize("version", [0x0, 0x1, 0x3, 0xA, 0xF])
def test_a_packet_of_another_version_is_plain_data_without_a_report(version):
    fake = spec_frame(version << 12 | 0x0100, b"")
    assert fake[0] == 0xB3
    found = decode_bytes(b"a" + fake + EMPTY_EOF)
    assert [e for e in found if e.test_id == PARSER] == []
    assert merge_text(found) == [
        Event(file_name="stdout", file_bytes=b"a" + fake),
        Event(eof=True),
    ]


def test_empty_input_decodes_to_nothing():
    assert decode_bytes(b"") == []
    decoder = Decoder()
    assert decoder.feed(b"") == []
    assert decoder.close() == []


@given(st.binary(max_size=100).map(lambda b: b.replace(b"\xb3", b"")))
def test_data_without_a_signature_is_one_run_of_text(data):
    found = decode_bytes(data)
    assert found == ([Event(file_name="stdout", file_bytes=data)] if data else [])


def test_a_packet_inside_an_attachment_stays_inside_it():
    inner = encode(test_id="inner", test_status="fail")
    outer = Event(test_id="outer", file_name="log", file_bytes=b"x" + inner + b"y")
    assert decode_bytes(ev_bytes(outer)) == [outer]


@given(st.lists(utc_timestamps(), min_size=2, max_size=6))
def test_consecutive_timestamps_each_decode_to_their_own_instant(stamps):
    # The decoder may cache per-second work; every packet still gets its own time.
    data = b"".join(encode(timestamp=s) for s in stamps)
    assert [e.timestamp for e in decode_bytes(data)] == stamps


@given(st.lists(events(), min_size=2, max_size=6))
def test_repeated_field_runs_decode_independently(batch):
    # The same tags/mime/route/parent bytes in many packets, with other fields
    # varying: each packet still decodes to its own event.
    shared = batch[0]
    same = [
        e._replace(
            test_tags=shared.test_tags,
            mime_type=shared.mime_type,
            route_code=shared.route_code,
            parent_test_id=shared.parent_test_id,
        )
        for e in batch
    ]
    data = b"".join(ev_bytes(e) for e in same)
    assert decode_bytes(data) == same


def test_decoded_tags_are_not_shared_mutable_state():
    data = encode(test_id="a", test_tags={"x"}) + encode(test_id="b", test_tags={"x"})
    first, second = decode_bytes(data)
    try:
        first.test_tags.add("mutated")
    except AttributeError:
        return  # immutable tags: nothing can leak
    assert second.test_tags == {"x"}


@pytest.mark.parametrize("field", ["test_id", "mime_type", "route_code"])
def test_every_unicode_plane_survives_in_strings(field):
    value = "a\u00e9\u4f33\U0001f333\u00b3\u0001\U0010fffd"
    event = Event(**{field: value})
    assert decode_bytes(ev_bytes(event)) == [event]


def test_a_timestamp_written_in_another_zone_decodes_as_the_utc_instant():
    zone = datetime.timezone(datetime.timedelta(hours=-7))
    instant = datetime.datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
    (event,) = decode_bytes(encode(timestamp=instant.astimezone(zone)))
    assert event.timestamp == instant
    assert event.timestamp.utcoffset() == datetime.timedelta(0)
