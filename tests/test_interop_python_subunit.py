"""SPEC section 5: python-subunit and subunit2 read each other's streams event by
event (2.1 parent ids aside), through python-subunit's public Python API only."""

from __future__ import annotations

import io
from fractions import Fraction

import subunit
import testtools
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    PARSER,
    SPEC_FLAGS,
    SPEC_VERSION,
    Recorder,
    ev_bytes,
    events,
    merge_text,
    normal,
    spec_frame,
    spec_number,
    wire_text,
)

from subunit2 import Event, StreamWriter, decode_bytes, encode, read_stream


def their_bytes(batch) -> bytes:
    """python-subunit's StreamResultToBytes writing ``batch``."""
    sink = io.BytesIO()
    writer = subunit.StreamResultToBytes(sink)
    writer.startTestRun()
    for event in batch:
        kwargs = event.kwargs()
        del kwargs["parent_test_id"]  # python-subunit predates 2.1
        writer.status(**kwargs)
    writer.stopTestRun()
    return sink.getvalue()


def their_events(data: bytes):
    """python-subunit's ByteStreamToStreamResult reading ``data``."""
    recorder = Recorder()
    parser = subunit.ByteStreamToStreamResult(
        io.BytesIO(data), non_subunit_name="stdout"
    )
    parser.run(recorder)
    return [normal(e) for e in recorder.events]


def as_python_subunit_writes(event: Event) -> Event:
    """python-subunit's writer leaves out an empty tag set and an empty mime type
    (it tests them for truth); the rest it writes as given."""
    return normal(
        event._replace(
            test_tags=event.test_tags or None, mime_type=event.mime_type or None
        )
    )


# python-subunit's writer cannot frame 4 MB packets; keep attachments small.
pre_21_events = events(parent=False, max_file_size=200)


# --- python-subunit writes, subunit2 reads -----------------------------------------


@given(st.lists(pre_21_events, max_size=6))
def test_streams_python_subunit_writes_decode_here_to_the_same_events(batch):
    decoded = [normal(e) for e in decode_bytes(their_bytes(batch))]
    assert decoded == [as_python_subunit_writes(e) for e in batch]


@given(
    events(
        parent=False,
        tags=st.none() | st.frozensets(wire_text(), min_size=1, max_size=1),
        mime_types=st.none() | wire_text(min_size=1),
    )
)
def test_both_writers_produce_identical_bytes(event):
    # With at most one tag there is no tag order to differ on.
    assert their_bytes([event]) == ev_bytes(event)


# --- subunit2 writes, python-subunit reads -----------------------------------------


@given(st.lists(events(max_file_size=200), max_size=6))
def test_streams_written_here_decode_in_python_subunit_to_the_same_events(batch):
    sink = io.BytesIO()
    writer = StreamWriter(sink)
    for event in batch:
        writer.status(**event.kwargs())
    # 2.1 parents aside: python-subunit sees each subtest as a plain v2 packet.
    assert their_events(sink.getvalue()) == [
        normal(e._replace(parent_test_id=None)) for e in batch
    ]


@given(events(max_file_size=50), wire_text())
def test_a_2_1_packet_reads_in_python_subunit_as_the_v2_packet(event, parent):
    child = event._replace(parent_test_id=parent)
    assert their_events(ev_bytes(child)) == their_events(ev_bytes(child, v2_only=True))
    assert their_events(ev_bytes(child)) == [
        normal(event._replace(parent_test_id=None))
    ]


def test_an_attachment_split_here_reassembles_in_python_subunit():
    content = bytes(range(256)) * 20000  # 5 MB: more than one packet
    data = encode(test_id="t", file_name="log", file_bytes=content, eof=True)
    found = their_events(data)
    assert len(found) >= 2
    assert b"".join(e.file_bytes for e in found) == content
    assert [e.eof for e in found] == [False] * (len(found) - 1) + [True]


# --- both read the same bytes alike ----------------------------------------------

plain_text = st.binary(min_size=1, max_size=30).map(
    lambda b: bytes(c for c in b if c < 0x80)  # ASCII: no UTF-8 state to differ on
)


@given(st.lists(st.one_of(events(max_file_size=40).map(ev_bytes), plain_text)))
def test_mixed_streams_decode_alike_in_both(parts):
    stream = b"".join(parts)
    ours = [normal(e._replace(parent_test_id=None)) for e in decode_bytes(stream)]
    assert merge_text(ours) == merge_text(their_events(stream))


def _timestamp_packet(seconds, nanos):
    body = seconds.to_bytes(4, "big") + spec_number(nanos)
    return spec_frame(SPEC_VERSION | SPEC_FLAGS["timestamp"], body)


@given(
    st.integers(0, 2**32 - 1),
    st.one_of(
        st.integers(0, 10**9 - 1),
        st.integers(0, 10**6 - 1).map(lambda us: us * 1000 + 500),
    ),
)
def test_nanosecond_rounding_agrees_with_python_subunit(seconds, nanos):
    data = _timestamp_packet(seconds, nanos)
    (ours,) = decode_bytes(data)
    (theirs,) = their_events(data)
    # Equal across their UTC tzinfo and ours, and both the nearest microsecond.
    assert ours.timestamp == theirs.timestamp
    micros = round(Fraction(nanos, 1000))
    assert ours.timestamp.microsecond == micros % 10**6


def test_parser_error_report_has_python_subunits_shape():
    good = encode(test_id="after", test_status="success")
    bad = bytearray(encode(test_id="broken", test_status="fail"))
    bad[-1] ^= 0xFF
    stream = b"\n" + bytes(bad) + good
    ours = [e for e in decode_bytes(stream) if e.test_id == PARSER]
    theirs = [e for e in their_events(stream) if e.test_id == PARSER]
    assert len(ours) == len(theirs) == 2

    def shape(event):  # everything but the wording of the error message
        if event.file_name == "Parser Error":
            return event._replace(file_bytes=None)
        return event

    assert [shape(e) for e in ours] == [shape(e) for e in theirs]
    # Both then go on to read the next packet.
    assert Event(test_id="after", test_status="success") in their_events(stream)
    assert Event(test_id="after", test_status="success") in decode_bytes(stream)


# --- whole runs through testtools' StreamToDict ------------------------------------


def _run_dicts(feed):
    tests = []
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    feed(result)
    result.stopTestRun()
    return [
        (
            t["id"],
            t["status"],
            frozenset(t["tags"]),
            {name: b"".join(c.iter_bytes()) for name, c in t["details"].items()},
            tuple(t["timestamps"]),
        )
        for t in tests
    ]


# testtools parses mime types as email headers: give it real ones.
MIME_TYPES = [
    "text/plain; charset=utf8",
    "application/octet-stream",
    'text/x-traceback; charset="utf8"; language="python"',
]
run_events = events(
    max_file_size=40,
    test_ids=st.none() | st.sampled_from(["t1", "t2", "t3"]),
    mime_types=st.none() | st.sampled_from(MIME_TYPES),
)


@given(st.lists(run_events, max_size=10))
def test_a_run_reads_the_same_through_either_parser_into_testtools(batch):
    data = b"".join(ev_bytes(e) for e in batch)

    def ours(result):
        read_stream(io.BytesIO(data), result)

    def theirs(result):
        subunit.ByteStreamToStreamResult(
            io.BytesIO(data), non_subunit_name="stdout"
        ).run(result)

    assert _run_dicts(ours) == _run_dicts(theirs)
