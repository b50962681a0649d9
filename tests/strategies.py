"""Hypothesis strategies for subunit2 events, and small oracles for the codec tests.

Besides strategies, this module holds an independent, deliberately plain
implementation of the SPEC section 2 packet layout (``spec_number``, ``spec_packet``
and friends).  The tests use it as an oracle for the shipped encoder and to build
packets the shipped encoder never writes: wider-than-shortest numbers, malformed
fields with a correct CRC, raw nanosecond values.
"""

from __future__ import annotations

import datetime
import zlib
from typing import List, Optional, Sequence

from hypothesis import strategies as st

from subunit2 import Decoder, Event, StreamResult, encode

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
#: The latest instant a v2 timestamp holds: 2**32 - 1 seconds and 999999 us.
LATEST = EPOCH + datetime.timedelta(seconds=2**32 - 1, microseconds=999999)

#: SPEC section 2: status code -> name (code 0 is "no status").
SPEC_STATUS_CODES = {
    None: 0,
    "exists": 1,
    "inprogress": 2,
    "success": 3,
    "uxsuccess": 4,
    "skip": 5,
    "fail": 6,
    "xfail": 7,
}
#: SPEC section 2: flag masks.
SPEC_FLAGS = {
    "test_id": 0x0800,
    "route_code": 0x0400,
    "timestamp": 0x0200,
    "runnable": 0x0100,
    "test_tags": 0x0080,
    "file": 0x0040,
    "mime_type": 0x0020,
    "eof": 0x0010,
    "parent_test_id": 0x0008,
}
SPEC_VERSION = 0x2000
SPEC_MAX_PACKET = 4194303
PARSER = "subunit.parser"


# --- strategies -------------------------------------------------------------------


def wire_text(max_size: int = 12, min_size: int = 0):
    """Any unicode string that UTF-8 can carry, without NUL."""
    return st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )


def utc_timestamps():
    """Aware UTC datetimes at microsecond precision, anywhere in 1970..2106."""
    return st.datetimes(
        min_value=EPOCH.replace(tzinfo=None),
        max_value=LATEST.replace(tzinfo=None),
        timezones=st.just(UTC),
    )


def timestamps():
    """Aware datetimes in range, some expressed in a non-UTC fixed offset."""
    offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(
        lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
    )
    shifted = st.builds(lambda dt, tz: dt.astimezone(tz), utc_timestamps(), offsets)
    return st.one_of(utc_timestamps(), shifted)


def _event(file, **fields) -> Event:
    name, content = file if file is not None else (None, None)
    return Event(file_name=name, file_bytes=content, **fields)


def events(
    *,
    parent: bool = True,
    max_file_size: int = 64,
    test_ids=None,
    tags=None,
    mime_types=None,
):
    """Events with every combination of fields present and absent.

    ``parent=False`` leaves out 2.1 parent ids; ``test_ids``, ``tags`` and
    ``mime_types`` replace the strategies for those fields.
    """
    text = wire_text()
    if test_ids is None:
        test_ids = st.none() | text
    if tags is None:
        tags = st.none() | st.frozensets(text, max_size=4) | st.sets(text, max_size=4)
    if mime_types is None:
        mime_types = st.none() | text
    files = st.none() | st.tuples(text, st.binary(max_size=max_file_size))
    return st.builds(
        _event,
        file=files,
        test_id=test_ids,
        test_status=st.sampled_from(list(SPEC_STATUS_CODES)),
        test_tags=tags,
        runnable=st.booleans(),
        eof=st.booleans(),
        mime_type=mime_types,
        route_code=st.none() | text,
        timestamp=st.none() | timestamps(),
        parent_test_id=(st.none() | text) if parent else st.none(),
    )


def packet_events(**kwargs):
    """Events that cannot be mistaken for non-subunit data or a parser report:
    they always carry a test id, never ``subunit.parser``."""
    return events(
        test_ids=wire_text(min_size=1).filter(lambda t: t != PARSER), **kwargs
    )


# --- a reference implementation of the SPEC section 2 layout ----------------------


def spec_number(value: int, width: Optional[int] = None) -> bytes:
    """``value`` as a variable-length number: the shortest form, or at least
    ``width`` bytes wide (a wider-than-shortest form) when ``width`` is given."""
    shortest = next(w for w in (1, 2, 3, 4) if value < 2 ** (8 * w - 2))
    width = shortest if width is None else max(width, shortest)
    return (value | ((width - 1) << (8 * width - 2))).to_bytes(width, "big")


def spec_string(value, width: Optional[int] = None) -> bytes:
    """A string field; ``value`` may be raw bytes to build malformed packets."""
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return spec_number(len(data), width) + data


def spec_timestamp(value: datetime.datetime, width: Optional[int] = None) -> bytes:
    delta = value - EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return seconds.to_bytes(4, "big") + spec_number(delta.microseconds * 1000, width)


def spec_frame(
    flags: int,
    body: bytes,
    *,
    length_width: Optional[int] = None,
    length: Optional[int] = None,
    crc: Optional[int] = None,
) -> bytes:
    """Signature, flags and LENGTH before ``body``, CRC32 after it.

    LENGTH is at least ``length_width`` bytes wide when that is given.  ``length``
    and ``crc`` override the true values to build broken packets.
    """
    for width in range(length_width or 1, 5):
        total = 1 + 2 + width + len(body) + 4
        if total < 2 ** (8 * width - 2):
            break
    if length is None:
        length = total
    head = b"\xb3" + flags.to_bytes(2, "big") + spec_number(length, width)
    packet = head + body
    if crc is None:
        crc = zlib.crc32(packet)
    return packet + crc.to_bytes(4, "big")


def spec_fields(event: Event, width: Optional[int] = None):
    """(flags, body) of one event, fields in wire order; tags sorted."""
    flags = SPEC_VERSION | SPEC_STATUS_CODES[event.test_status]
    body = b""
    if event.runnable:
        flags |= SPEC_FLAGS["runnable"]
    if event.eof:
        flags |= SPEC_FLAGS["eof"]
    if event.timestamp is not None:
        flags |= SPEC_FLAGS["timestamp"]
        body += spec_timestamp(event.timestamp, width)
    if event.test_id is not None:
        flags |= SPEC_FLAGS["test_id"]
        body += spec_string(event.test_id, width)
    if event.test_tags is not None:
        flags |= SPEC_FLAGS["test_tags"]
        tags = sorted(event.test_tags)
        body += spec_number(len(tags), width)
        body += b"".join(spec_string(tag, width) for tag in tags)
    if event.mime_type is not None:
        flags |= SPEC_FLAGS["mime_type"]
        body += spec_string(event.mime_type, width)
    if event.file_bytes is not None:
        flags |= SPEC_FLAGS["file"]
        body += spec_string(event.file_name, width)
        body += spec_number(len(event.file_bytes), width) + bytes(event.file_bytes)
    if event.route_code is not None:
        flags |= SPEC_FLAGS["route_code"]
        body += spec_string(event.route_code, width)
    if event.parent_test_id is not None:
        flags |= SPEC_FLAGS["parent_test_id"]
        body += spec_string(event.parent_test_id, width)
    return flags, body


def spec_packet(
    event: Event, width: Optional[int] = None, length_width: Optional[int] = None
) -> bytes:
    """One packet for ``event``; ``width`` is the least width of every number in
    the fields, ``length_width`` that of LENGTH (wider-than-shortest forms)."""
    flags, body = spec_fields(event, width)
    return spec_frame(flags, body, length_width=length_width)


def walk_packets(data: bytes) -> List[bytes]:
    """Split a stream made only of packets at the boundaries LENGTH gives."""
    packets = []
    pos = 0
    while pos < len(data):
        assert data[pos] == 0xB3, f"no signature at {pos}"
        first = data[pos + 3]
        width = (first >> 6) + 1
        length = int.from_bytes(data[pos + 3 : pos + 3 + width], "big")
        length &= (1 << (8 * width - 2)) - 1
        packets.append(data[pos : pos + length])
        pos += length
    return packets


# --- helpers ----------------------------------------------------------------------


def ev_bytes(event: Event, **kwargs) -> bytes:
    """The shipped encoder's bytes for ``event``."""
    return encode(**event.kwargs(), **kwargs)


def normal(event: Event) -> Event:
    """``event`` with file bytes as plain bytes and tags as a frozenset, so events
    from different producers compare field by field."""
    tags = event.test_tags
    content = event.file_bytes
    return event._replace(
        test_tags=None if tags is None else frozenset(tags),
        file_bytes=None if content is None else bytes(content),
    )


def is_text(event: Event, name: str = "stdout") -> bool:
    """Does ``event`` have the shape of non-subunit data named ``name``?"""
    return event == Event(file_name=name, file_bytes=event.file_bytes)


def merge_text(events: Sequence[Event], name: str = "stdout") -> List[Event]:
    """Events with each run of adjacent non-subunit data joined into one event."""
    merged: List[Event] = []
    for event in events:
        event = normal(event)
        if is_text(event, name) and merged and is_text(merged[-1], name):
            merged[-1] = merged[-1]._replace(
                file_bytes=merged[-1].file_bytes + event.file_bytes
            )
        else:
            merged.append(event)
    return merged


def decode_chunks(
    data: bytes, cuts: Sequence[int] = (), name: Optional[str] = "stdout"
) -> List[Event]:
    """Decode ``data`` fed in pieces split at the offsets in ``cuts``."""
    decoder = Decoder(name)
    found: List[Event] = []
    last = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        found.extend(decoder.feed(data[last:cut]))
        last = cut
    return found + decoder.close()


class Recorder(StreamResult):
    """A 2.1 result that keeps every event it is given, and the run brackets."""

    def __init__(self) -> None:
        self.events: List[Event] = []
        self.calls: List[str] = []

    def startTestRun(self) -> None:
        self.calls.append("startTestRun")

    def stopTestRun(self) -> None:
        self.calls.append("stopTestRun")

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
        parent_test_id=None,
    ) -> None:
        self.calls.append("status")
        self.events.append(
            Event(
                test_id,
                test_status,
                test_tags,
                runnable,
                file_name,
                file_bytes,
                eof,
                mime_type,
                route_code,
                timestamp,
                parent_test_id,
            )
        )
