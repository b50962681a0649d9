"""Sans-IO decoder: bytes in, :class:`~subunit2.event.Event` objects out.

It follows SPEC section 3.  A packet is recognised wherever a complete, valid one
starts at a 0xB3 byte; every other byte is non-subunit data, delivered in order as
events with no test id and a configurable file name, a run at a time.  A candidate that
fails is reported in-band (events on ``subunit.parser``) when it looked like a packet,
and its bytes stay non-subunit data; scanning resumes at the byte after its 0xB3, so
corruption never hides a valid packet that follows or overlaps it.  :meth:`Decoder.feed`
and :meth:`Decoder.close` never raise on any input, and the decoder holds at most one
maximum-size packet plus the bytes of the current ``feed`` call.

The class is self-contained so a compiled twin can replace it behind the same API.
"""

from __future__ import annotations

import datetime
from typing import List, Optional
from zlib import crc32

from .event import Event
from .wire import (
    FLAG_EOF,
    FLAG_FILE_CONTENT,
    FLAG_MIME_TYPE,
    FLAG_PARENT,
    FLAG_ROUTE_CODE,
    FLAG_RUNNABLE,
    FLAG_TAGS,
    FLAG_TEST_ID,
    FLAG_TIMESTAMP,
    MAX_PACKET,
    MIN_PACKET,
    STATUS_NAMES,
)

__all__ = ["Decoder", "PARSER_TEST_ID"]

#: The test id of in-band parser-error reports (the name existing consumers know).
PARSER_TEST_ID = "subunit.parser"

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_new_event = tuple.__new__
_SIG = b"\xb3"


class _Malformed(Exception):
    """A candidate packet failed; the message says why."""


def _inside_utf8(before: bytes) -> bool:
    """True when a 0xB3 following ``before`` continues a UTF-8 character."""
    seen = 0
    for byte in reversed(before[-3:]):
        if 0x80 <= byte < 0xC0:
            seen += 1
            continue
        if 0xC2 <= byte < 0xE0:
            wanted = 1
        elif 0xE0 <= byte < 0xF0:
            wanted = 2
        elif 0xF0 <= byte < 0xF5:
            wanted = 3
        else:
            return False
        return seen < wanted
    return False


def _number(buf: bytes, pos: int, end: int):
    """A variable-length number at ``pos``; returns (value, next position)."""
    if pos >= end:
        raise _Malformed("number runs past the end of the packet")
    first = buf[pos]
    if first < 0x40:
        return first, pos + 1
    width = (first >> 6) + 1
    stop = pos + width
    if stop > end:
        raise _Malformed("number runs past the end of the packet")
    value = int.from_bytes(buf[pos:stop], "big") & ((1 << (8 * width - 2)) - 1)
    return value, stop


def _string(buf: bytes, pos: int, end: int):
    """A length-prefixed UTF-8 string at ``pos``; returns (str, next position)."""
    first = buf[pos] if pos < end else 0x100
    if first < 0x40:
        size = first
        pos += 1
    else:
        size, pos = _number(buf, pos, end)
    stop = pos + size
    if stop > end:
        raise _Malformed(f"string of {size} bytes runs past the end of the packet")
    raw = buf[pos:stop]
    if b"\x00" in raw:
        raise _Malformed(f"string at packet offset {pos} contains a NUL byte")
    try:
        return raw.decode("utf-8"), stop
    except UnicodeDecodeError:
        raise _Malformed(f"string at packet offset {pos} is not valid UTF-8") from None


class Decoder:
    """Incremental v2/2.1 decoder.

    ``feed(data)`` returns the events completed by ``data``; ``close()`` ends the
    stream and returns what remains (a truncated candidate becomes non-subunit data and
    a parser-error report).  ``non_subunit_name`` is the file name given to
    non-subunit data; ``None`` drops that data instead of delivering it.
    """

    def __init__(self, non_subunit_name: Optional[str] = "stdout") -> None:
        self.non_subunit_name = non_subunit_name
        self._buf = b""  # unconsumed bytes; self._buf[0] is at stream offset _base
        self._base = 0
        self._held: List[bytes] = []  # chunks gathered while awaiting a long packet
        self._held_size = 0
        self._need = 0  # bytes a waiting candidate needs before a decision
        self._tail = b""  # last bytes delivered as text, for UTF-8 context
        self._closed = False
        self._second = -1  # cache of the last timestamp's whole second
        self._second_dt = _EPOCH

    @property
    def offset(self) -> int:
        """Stream offset of the first byte not yet decided on."""
        return self._base

    def feed(self, data: bytes) -> List[Event]:
        """Add bytes from the stream; return the events they complete."""
        if self._closed:
            raise ValueError("feed() after close()")
        if not data:
            return []
        if self._need:
            # A candidate claims a long length: gather without rescanning.
            self._held.append(bytes(data))
            self._held_size += len(data)
            if self._held_size < self._need:
                return []
            data = b"".join(self._held)
            self._held.clear()
            self._held_size = 0
            self._buf = b""
        elif self._buf:
            data = self._buf + data
        else:
            data = bytes(data)
        self._buf = data
        return self._scan(False)

    def close(self) -> List[Event]:
        """End of stream: decide on everything still held and return its events."""
        if self._closed:
            return []
        self._closed = True
        if self._held:
            self._buf = b"".join(self._held)
            self._held.clear()
        return self._scan(True)

    # The scanning loop.  Positions are indexes into self._buf.
    def _scan(self, at_end: bool) -> List[Event]:
        buf = self._buf
        size = len(buf)
        events: List[Event] = []
        append = events.append
        text_start = 0  # start of the non-subunit run not yet delivered
        pos = 0
        find = buf.find
        parse = self._parse
        while True:
            start = find(_SIG, pos)
            if start < 0:
                pos = size
                break
            # Header: signature, 2 flag bytes, a length of 1..4 bytes.
            if start + 4 > size:
                if not at_end:
                    pos = start
                    break
                # Truncated before a length could be read.
                if start + 1 < size and buf[start + 1] & 0xF0 == 0x20:
                    text_start = self._report(
                        events,
                        text_start,
                        start,
                        buf[start:],
                        "truncated packet header",
                    )
                pos = start + 1
                continue
            if buf[start + 1] & 0xF0 != 0x20:
                pos = start + 1  # not a version-2 header: plain data
                continue
            first = buf[start + 3]
            width = (first >> 6) + 1
            body = start + 3 + width
            if body > size:
                if not at_end:
                    pos = start
                    break
                text_start = self._report(
                    events, text_start, start, buf[start:], "truncated packet header"
                )
                pos = start + 1
                continue
            length = int.from_bytes(buf[start + 3 : body], "big") & (
                (1 << (8 * width - 2)) - 1
            )
            if length < MIN_PACKET or length > MAX_PACKET or length < body - start + 4:
                text_start = self._report(
                    events,
                    text_start,
                    start,
                    buf[start:body],
                    f"packet length {length} is out of range",
                )
                pos = start + 1
                continue
            stop = start + length
            if stop > size:
                if not at_end:
                    pos = start
                    self._need = length
                    break
                text_start = self._report(
                    events,
                    text_start,
                    start,
                    buf[start:],
                    f"truncated packet: {length} bytes claimed, {size - start} present",
                )
                pos = start + 1
                continue
            crc_at = stop - 4
            if crc32(buf[start:crc_at]) != int.from_bytes(buf[crc_at:stop], "big"):
                text_start = self._report(
                    events,
                    text_start,
                    start,
                    buf[start:stop],
                    "bad checksum",
                )
                pos = start + 1
                continue
            try:
                event = parse(buf, body, crc_at, (buf[start + 1] << 8) | buf[start + 2])
            except _Malformed as error:
                text_start = self._report(
                    events, text_start, start, buf[start:stop], str(error)
                )
                pos = start + 1
                continue
            if text_start < start:
                self._text(events, buf[text_start:start])
            self._tail = b""
            append(event)
            text_start = pos = stop
        # Deliver the finished run of text; keep an undecided candidate.
        if text_start < pos:
            self._text(events, buf[text_start:pos])
        if pos < size:
            self._buf = buf[pos:]
            if self._need:
                self._held = [self._buf]
                self._held_size = len(self._buf)
        else:
            self._buf = b""
            self._need = 0
        if not self._held:
            self._need = 0
        self._base += pos
        return events

    def _text(self, events: List[Event], data: bytes) -> None:
        self._tail = (self._tail + data)[-3:] if len(data) < 3 else data[-3:]
        if self.non_subunit_name is not None:
            events.append(
                _new_event(
                    Event,
                    (None, None, None, True, self.non_subunit_name, data, False)
                    + (None, None, None, None),
                )
            )

    def _report(
        self, events: List[Event], text_start: int, start: int, packet: bytes, why: str
    ) -> int:
        """A candidate at ``start`` failed: report it unless it is just UTF-8 text.

        Returns where the undelivered run of text now starts: a reported candidate
        ends the run before it, so the report sits in stream order.
        """
        buf = self._buf
        before = (self._tail + buf[max(text_start, start - 3) : start])[-3:]
        if _inside_utf8(before):
            return text_start
        if text_start < start:
            self._text(events, buf[text_start:start])
        offset = self._base + start
        events.append(
            Event(
                test_id=PARSER_TEST_ID,
                file_name="Packet data",
                file_bytes=bytes(packet),
                eof=True,
                mime_type="application/octet-stream",
            )
        )
        events.append(
            Event(
                test_id=PARSER_TEST_ID,
                test_status="fail",
                file_name="Parser Error",
                file_bytes=f"{why} (packet at stream offset {offset})".encode(),
                eof=True,
                mime_type="text/plain;charset=utf8",
            )
        )
        return start

    def _parse(self, buf: bytes, pos: int, end: int, flags: int) -> Event:
        """Fields of a CRC-checked packet; raises _Malformed if they do not fit."""
        timestamp = test_id = tags = mime_type = None
        file_name = file_bytes = route_code = parent = None
        if flags & FLAG_TIMESTAMP:
            if pos + 4 > end:
                raise _Malformed("timestamp runs past the end of the packet")
            seconds = int.from_bytes(buf[pos : pos + 4], "big")
            nanos, pos = _number(buf, pos + 4, end)
            if nanos >= 1000000000:
                raise _Malformed(f"timestamp has {nanos} nanoseconds")
            micros, rest = divmod(nanos, 1000)
            if rest > 500 or (rest == 500 and micros & 1):
                micros += 1
                if micros == 1000000:
                    seconds += 1
                    micros = 0
            if seconds != self._second:
                self._second = seconds
                self._second_dt = _EPOCH + datetime.timedelta(seconds=seconds)
            timestamp = self._second_dt.replace(microsecond=micros)
        if flags & FLAG_TEST_ID:
            test_id, pos = _string(buf, pos, end)
        if flags & FLAG_TAGS:
            count, pos = _number(buf, pos, end)
            tags = set()
            for _ in range(count):
                tag, pos = _string(buf, pos, end)
                tags.add(tag)
        if flags & FLAG_MIME_TYPE:
            mime_type, pos = _string(buf, pos, end)
        if flags & FLAG_FILE_CONTENT:
            file_name, pos = _string(buf, pos, end)
            size, pos = _number(buf, pos, end)
            stop = pos + size
            if stop > end:
                raise _Malformed(
                    f"file content of {size} bytes runs past the end of the packet"
                )
            file_bytes = buf[pos:stop]
            pos = stop
        if flags & FLAG_ROUTE_CODE:
            route_code, pos = _string(buf, pos, end)
        if flags & FLAG_PARENT:
            parent, pos = _string(buf, pos, end)
        if pos != end:
            raise _Malformed(f"{end - pos} bytes left over after the packet's fields")
        return _new_event(
            Event,
            (
                test_id,
                STATUS_NAMES[flags & 7],
                tags,
                bool(flags & FLAG_RUNNABLE),
                file_name,
                file_bytes,
                bool(flags & FLAG_EOF),
                mime_type,
                route_code,
                timestamp,
                parent,
            ),
        )
