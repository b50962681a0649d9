"""Sans-IO decoder: bytes in, :class:`~subunit2.event.Event` objects out.

It follows SPEC section 3.  A packet is recognised wherever a complete, valid one
starts at a 0xB3 byte; every other byte is non-subunit data, delivered in order as
events with no test id and a configurable file name, a run at a time.  A candidate that
fails is reported in-band (events on ``subunit.parser``) when it looked like a packet,
and its bytes stay non-subunit data; scanning resumes at the byte after its 0xB3, so
corruption never hides a valid packet that follows or overlaps it.  :meth:`Decoder.feed`
and :meth:`Decoder.close` never raise on any input, and the decoder holds at most one
maximum-size packet plus the bytes of the current ``feed`` call.

The class is self-contained so a compiled twin can replace it behind the same API:
:class:`PyDecoder` is this pure-Python decoder, and :data:`Decoder` is the compiled
one from ``subunit2._speedups`` when it is built (see :mod:`subunit2._accel`),
else :class:`PyDecoder`.  Both give the same events for the same bytes, however
they are cut into feeds.
"""

from __future__ import annotations

import datetime
import struct
from typing import List, Optional
from zlib import crc32

from . import _accel
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

__all__ = ["IMPLEMENTATION", "Decoder", "PARSER_TEST_ID", "PyDecoder", "REPORT_LIMIT"]

#: The test id of in-band parser-error reports (the name existing consumers know).
PARSER_TEST_ID = "subunit.parser"

#: Most bytes of a failed candidate copied into its ``Packet data`` report.  A
#: candidate claiming more is also judged early on this many of its bytes: when they
#: already show that its fields cannot fill its length, it fails without waiting for
#: the rest, so a stray 0xB3 in text cannot hold back the stream for megabytes.
REPORT_LIMIT = 256

#: The reason given whenever a candidate's first bytes show its fields cannot fit.
_NO_FIT = "fields do not fit the packet length"

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_new_event = tuple.__new__
_datetime = datetime.datetime
_timedelta = datetime.timedelta
_TS4 = struct.Struct(">II").unpack_from
_HEAD = struct.Struct(">HBB").unpack_from
# Flags, a 1- or 2-byte length's first two bytes and, for a 2-byte length, where a
# timestamp's 4-byte seconds and 4-byte nanoseconds would be: one read for the
# usual packet.
_HEAD_TS = struct.Struct(">HHII").unpack_from
_CRC = struct.Struct(">I").unpack_from
_SIG = b"\xb3"
# Fields after the test id that a packet without file content may carry.
_SUFFIX_FLAGS = FLAG_TAGS | FLAG_MIME_TYPE | FLAG_ROUTE_CODE | FLAG_PARENT
_ID_NOT_FILE = FLAG_TEST_ID | FLAG_FILE_CONTENT
# Entries kept in the decoder's memo of repeated field runs before it starts over.
_CACHE_LIMIT = 4096


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
    # The position is made relative to the packet by the caller (_reason), so the
    # report does not depend on how the stream was cut into feeds.
    # ``0 in raw`` looks for the byte 0 directly; ``b"\x00" in raw`` would first try
    # its argument as an int and build a TypeError message, per call.
    if 0 in raw:
        raise _Malformed("string at packet offset {} contains a NUL byte", pos)
    try:
        return raw.decode("utf-8"), stop
    except UnicodeDecodeError:
        raise _Malformed("string at packet offset {} is not valid UTF-8", pos) from None


def _reason(error: _Malformed, start: int) -> str:
    """The message of a field error; a buffer position in it becomes packet-relative."""
    if len(error.args) == 2:
        template, pos = error.args
        return template.format(pos - start)
    return str(error)


class _Undecided(Exception):
    """Deciding needs bytes that have not arrived."""


def _length_at(buf: bytes, pos: int, end: int, avail: int):
    """A number at ``pos`` read from bytes before ``avail``; returns (value, next)."""
    if pos >= end:
        raise _Malformed("field past the end")
    if pos >= avail:
        raise _Undecided
    stop = pos + (buf[pos] >> 6) + 1
    if stop > end:
        raise _Malformed("field past the end")
    if stop > avail:
        raise _Undecided
    return int.from_bytes(buf[pos:stop], "big") & (
        (1 << (8 * (stop - pos) - 2)) - 1
    ), stop


def _fields_fit(
    buf: bytes, pos: int, end: int, flags: int, avail: int
) -> Optional[bool]:
    """Whether a candidate's field lengths add up to exactly its length.

    Only bytes before ``avail`` are read: False when they already show a field
    running past ``end`` or the fields ending short of it, None when deciding needs
    later bytes, True when the lengths fit.  Contents (UTF-8, NUL) are not checked.
    """
    try:
        if flags & FLAG_TIMESTAMP:
            pos = _length_at(buf, pos + 4, end, avail)[1]
        for flag in (FLAG_TEST_ID, FLAG_TAGS, FLAG_MIME_TYPE, FLAG_FILE_CONTENT):
            if not flags & flag:
                continue
            count = 1
            if flag == FLAG_TAGS:
                count, pos = _length_at(buf, pos, end, avail)
            for _ in range(count + (flag == FLAG_FILE_CONTENT)):
                size, pos = _length_at(buf, pos, end, avail)
                pos += size
                if pos > end:
                    return False
        for flag in (FLAG_ROUTE_CODE, FLAG_PARENT):
            if flags & flag:
                size, pos = _length_at(buf, pos, end, avail)
                pos += size
    except _Malformed:
        return False
    except _Undecided:
        return None
    return pos == end


def _judged_early(buf: bytes, start: int, body: int, length: int, flags: int) -> bool:
    """True when the candidate's first REPORT_LIMIT bytes show its fields cannot fit.

    The verdict depends on those bytes only, so it is the same however the stream
    was cut into reads; a failed candidate it condemns is always reported as _NO_FIT.
    """
    window = start + min(length, REPORT_LIMIT)
    return _fields_fit(buf, body, start + length - 4, flags, window) is False


class PyDecoder:
    """Incremental v2/2.1 decoder (pure Python).

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
        self._tail = b""  # up to 3 text bytes just before self._buf, for UTF-8 context
        self._closed = False
        self._second = -1  # cache of the last timestamp's whole second
        self._fields = (1970, 1, 1, 0, 0, 0)  # ... and its calendar fields
        self._suffixes: dict = {}  # (flags, bytes) -> (tags, mime, route, parent)

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
        self._need = 0  # set again by _frame if a candidate must wait
        events: List[Event] = []
        append = events.append
        text_start = 0  # start of the non-subunit run not yet delivered
        packet_end = 0  # end of the last packet accepted in buf (0: none yet)
        cached_second = self._second  # timestamp cache
        year, month, day, hour, minute, sec = self._fields
        new_datetime = _datetime
        utc = _UTC
        pos = 0
        find = buf.find
        frame = self._frame
        suffixes = self._suffixes
        status_names = STATUS_NAMES
        last_raw = last_id = None  # the last test id's bytes and string
        last_after = last_kind = last_fields = None  # see "byte for byte" below
        while True:
            start = find(_SIG, pos)
            if start < 0:
                pos = size
                break
            # Fast path: a version-2 header with a 1- or 2-byte length; for a 2-byte
            # one, the 8 bytes after it are read too, as the usual timestamp.
            if start + 13 <= size:
                flags, word, seconds, nanos = _HEAD_TS(buf, start + 1)
                if flags & 0xF000 != 0x2000:
                    pos = start + 1  # not a version-2 header: plain data
                    continue
                if 0x4009 <= word < 0x8000:  # a 2-byte length of at least 9
                    length = word & 0x3FFF
                    body = start + 5
                elif 0x800 <= word < 0x4000:  # a 1-byte length of at least 8
                    length = word >> 8
                    body = start + 4
                    nanos = 0  # seconds and nanos were not read at the body
                else:
                    length = body = nanos = 0
            elif start + 8 <= size:
                nanos = 0
                flags, first, second = _HEAD(buf, start + 1)
                if flags & 0xF000 != 0x2000:
                    pos = start + 1  # not a version-2 header: plain data
                    continue
                if 8 <= first < 0x40:
                    length = first
                    body = start + 4
                elif 0x40 <= first < 0x80:
                    length = ((first & 0x3F) << 8) | second
                    body = start + 5
                    if length < 9:
                        length = body = 0
                else:
                    length = body = 0
            else:
                length = body = nanos = 0
            if not length or start + length > size:
                try:
                    decided = frame(buf, start, size, at_end)
                except _Malformed as error:
                    why, end, claimed = error.args
                    text_start = self._report(
                        packet_end,
                        events,
                        text_start,
                        start,
                        why,
                        buf[start:end],
                        claimed,
                    )
                    pos = start + 1
                    continue
                if decided is None:  # wait for more bytes
                    pos = start
                    break
                if not decided:  # not a version-2 header: plain data
                    pos = start + 1
                    continue
                length, body = decided
                flags = (buf[start + 1] << 8) | buf[start + 2]
                nanos = 0
                end = start + length - 4
                if length > 0x3FFF and not _fields_fit(buf, body, end, flags, end):
                    # Checked before the CRC: a long candidate costs a CRC of up to
                    # 4 MiB, and corrupt data can hold many overlapping ones.
                    text_start = self._report(
                        packet_end,
                        events,
                        text_start,
                        start,
                        _NO_FIT,
                        buf[start : start + length],
                        length,
                    )
                    pos = start + 1
                    continue
            stop = start + length
            crc_at = stop - 4
            if crc32(buf[start:crc_at]) != _CRC(buf, crc_at)[0]:
                if _judged_early(buf, start, body, length, flags):
                    why = _NO_FIT
                else:
                    why = "bad checksum"
                text_start = self._report(
                    packet_end, events, text_start, start, why, buf[start:stop], length
                )
                pos = start + 1
                continue
            at = body
            try:
                timestamp = test_id = None
                if flags & FLAG_TIMESTAMP:
                    if at + 8 <= crc_at and nanos >= 0xC0000000:
                        # The usual form (4-byte seconds, 4-byte nanoseconds), read
                        # with the header.
                        nanos &= 0x3FFFFFFF
                        at += 8
                    elif at + 8 <= crc_at and buf[at + 4] >= 0xC0:
                        seconds, nanos = _TS4(buf, at)
                        nanos &= 0x3FFFFFFF
                        at += 8
                    else:
                        if at + 5 > crc_at:
                            raise _Malformed(
                                "timestamp runs past the end of the packet"
                            )
                        seconds = int.from_bytes(buf[at : at + 4], "big")
                        nanos, at = _number(buf, at + 4, crc_at)
                    if nanos >= 1000000000:
                        raise _Malformed(f"timestamp has {nanos} nanoseconds")
                    rest = nanos % 1000
                    micros = nanos // 1000
                    if rest and (rest > 500 or (rest == 500 and micros & 1)):
                        micros += 1
                        if micros == 1000000:
                            seconds += 1
                            micros = 0
                    if seconds != cached_second:
                        # Calendar fields of this second, worked out once per second.
                        cached_second = seconds
                        year, month, day, hour, minute, sec = (
                            _EPOCH + _timedelta(seconds=seconds)
                        ).timetuple()[:6]
                    timestamp = new_datetime(
                        year, month, day, hour, minute, sec, micros, utc
                    )
                # The fields after the timestamp are often byte for byte those of the
                # packet before (a test's start and its result): reuse its decoding.
                if flags & _ID_NOT_FILE == FLAG_TEST_ID:
                    after = buf[at:crc_at]
                    kind = flags & _SUFFIX_FLAGS
                    if after == last_after and kind == last_kind:
                        test_id, tags, mime_type, route_code, parent = last_fields
                        file_name = file_bytes = None
                        fresh = False
                    else:
                        fresh = True
                else:
                    fresh = True
                    after = None
                if fresh:
                    if flags & FLAG_TEST_ID:
                        n = buf[at] if at < crc_at else 0x100
                        if n < 0x40:
                            at += 1
                            cut = at + n
                            raw = buf[at:cut]
                            if raw == last_raw and cut <= crc_at:
                                test_id = last_id  # as the previous packet's: checked
                                at = cut
                            elif cut > crc_at or 0 in raw:
                                # The careful reader raises with the right reason.
                                test_id, at = _string(buf, at - 1, crc_at)
                            else:
                                try:
                                    test_id = raw.decode("utf-8")
                                except UnicodeDecodeError:
                                    raise _Malformed(
                                        "test id is not valid UTF-8"
                                    ) from None
                                at = cut
                                last_raw, last_id = raw, test_id
                        else:
                            test_id, at = _string(buf, at, crc_at)
                    if flags & FLAG_FILE_CONTENT:
                        tags, mime_type, at = self._tags_mime(buf, at, crc_at, flags)
                        file_name, at = _string(buf, at, crc_at)
                        n, at = _number(buf, at, crc_at)
                        cut = at + n
                        if cut > crc_at:
                            raise _Malformed(
                                f"file content of {n} bytes runs past the end"
                                " of the packet"
                            )
                        file_bytes = buf[at:cut]
                        route_code, parent = self._route_parent(buf, cut, crc_at, flags)
                    elif flags & _SUFFIX_FLAGS:
                        # Tags, mime type, route code and parent repeat packet after
                        # packet: decode each distinct run of those bytes once.
                        key = (flags & _SUFFIX_FLAGS, buf[at:crc_at])
                        fields = suffixes.get(key)
                        if fields is None:
                            tags, mime_type, at = self._tags_mime(
                                buf, at, crc_at, flags
                            )
                            fields = (tags, mime_type) + self._route_parent(
                                buf, at, crc_at, flags
                            )
                            if len(suffixes) >= _CACHE_LIMIT:
                                suffixes.clear()
                            suffixes[key] = fields
                        tags, mime_type, route_code, parent = fields
                        file_name = file_bytes = None
                    else:
                        if at != crc_at:
                            raise _Malformed(
                                f"{crc_at - at} bytes left over after the fields"
                            )
                        tags = mime_type = route_code = parent = None
                        file_name = file_bytes = None
                    if after is not None:
                        last_after, last_kind = after, kind
                        last_fields = (test_id, tags, mime_type, route_code, parent)
                event = _new_event(
                    Event,
                    (
                        test_id,
                        status_names[flags & 7],
                        tags,
                        flags & FLAG_RUNNABLE != 0,
                        file_name,
                        file_bytes,
                        flags & FLAG_EOF != 0,
                        mime_type,
                        route_code,
                        timestamp,
                        parent,
                    ),
                )
            except _Malformed as error:
                if _judged_early(buf, start, body, length, flags):
                    why = _NO_FIT
                else:
                    why = _reason(error, start)
                text_start = self._report(
                    packet_end, events, text_start, start, why, buf[start:stop], length
                )
                pos = start + 1
                continue
            if text_start < start:
                self._text(events, buf[text_start:start])
            append(event)
            text_start = pos = packet_end = stop
        # Deliver the finished run of text; keep an undecided candidate.
        if text_start < pos:
            self._text(events, buf[text_start:pos])
        self._second = cached_second
        self._fields = (year, month, day, hour, minute, sec)
        self._tail = self._before(buf, packet_end, pos)
        if pos < size:
            self._buf = buf[pos:]
            if self._need:
                self._held = [self._buf]
                self._held_size = len(self._buf)
        else:
            self._buf = b""
        self._base += pos
        return events

    def _frame(self, buf: bytes, start: int, size: int, at_end: bool):
        """Decide on the candidate at ``start`` when the fast path could not.

        Returns ``(length, body offset)`` for a complete frame whose length is in
        range, ``None`` to wait for more bytes, or ``False`` when the 0xB3 does not
        start a version-2 header (plain data).  A failed candidate raises
        :class:`_Malformed` with the reason and the end of the bytes it spans.
        """
        if start + 4 > size:
            if not at_end:
                return None
            if start + 1 < size and buf[start + 1] & 0xF0 == 0x20:
                raise _Malformed("truncated packet header", size, None)
            return False
        if buf[start + 1] & 0xF0 != 0x20:
            return False
        first = buf[start + 3]
        width = (first >> 6) + 1
        body = start + 3 + width
        if body > size:
            if not at_end:
                return None
            raise _Malformed("truncated packet header", size, None)
        length = int.from_bytes(buf[start + 3 : body], "big") & (
            (1 << (8 * width - 2)) - 1
        )
        if length < MIN_PACKET or length > MAX_PACKET or length < body - start + 4:
            raise _Malformed(f"packet length {length} is out of range", body, None)
        if start + length > size:
            flags = (buf[start + 1] << 8) | buf[start + 2]
            window = min(length, REPORT_LIMIT)
            if size - start >= window and _judged_early(
                buf, start, body, length, flags
            ):
                raise _Malformed(_NO_FIT, size, length)
            if not at_end:
                # Wait for the window first, then (if still undecided) the rest.
                self._need = window if size - start < window else length
                return None
            raise _Malformed(
                f"truncated packet: {length} bytes claimed, {size - start} present",
                size,
                length,
            )
        return length, body

    def _before(self, buf: bytes, packet_end: int, start: int) -> bytes:
        """Up to 3 non-packet bytes that precede ``buf[start]``, for UTF-8 context."""
        before = buf[max(packet_end, start - 3) : start]
        if not packet_end and len(before) < 3:
            before = (self._tail + before)[-3:]  # reaches back into earlier feeds
        return before

    def _text(self, events: List[Event], data: bytes) -> None:
        if self.non_subunit_name is not None:
            events.append(
                _new_event(
                    Event,
                    (None, None, None, True, self.non_subunit_name, data, False)
                    + (None, None, None, None),
                )
            )

    def _report(
        self,
        packet_end: int,
        events: List[Event],
        text_start: int,
        start: int,
        why: str,
        packet: bytes,
        claimed: Optional[int],
    ) -> int:
        """A candidate at ``start`` failed: report it unless it is just UTF-8 text.

        ``packet`` is the candidate's bytes at hand, ``claimed`` its length when its
        header gave one.  Returns where the undelivered run of text now starts: a
        reported candidate ends the run before it, so the report sits in stream order.
        """
        buf = self._buf
        if _inside_utf8(self._before(buf, packet_end, start)):
            return text_start
        if text_start < start:
            self._text(events, buf[text_start:start])
        offset = self._base + start
        shown = ""
        size = len(packet)
        if size > REPORT_LIMIT or (size == REPORT_LIMIT and (claimed or 0) > size):
            # A diagnostic only (the bytes are delivered as data too): keep it small
            # so overlapping long candidates cannot multiply memory.
            shown = f"; first {REPORT_LIMIT} of its {claimed} bytes attached"
            packet = packet[:REPORT_LIMIT]
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
                file_bytes=f"{why} (packet at stream offset {offset}{shown})".encode(),
                eof=True,
                mime_type="text/plain;charset=utf8",
            )
        )
        return start

    @staticmethod
    def _tags_mime(buf: bytes, pos: int, end: int, flags: int):
        tags = mime_type = None
        if flags & FLAG_TAGS:
            count, pos = _number(buf, pos, end)
            names = []
            for _ in range(count):
                tag, pos = _string(buf, pos, end)
                names.append(tag)
            tags = frozenset(names)
        if flags & FLAG_MIME_TYPE:
            mime_type, pos = _string(buf, pos, end)
        return tags, mime_type, pos

    @staticmethod
    def _route_parent(buf: bytes, pos: int, end: int, flags: int):
        route_code = parent = None
        if flags & FLAG_ROUTE_CODE:
            route_code, pos = _string(buf, pos, end)
        if flags & FLAG_PARENT:
            parent, pos = _string(buf, pos, end)
        if pos != end:
            raise _Malformed(f"{end - pos} bytes left over after the fields")
        return route_code, parent


Decoder = PyDecoder
if _accel.speedups is not None:
    Decoder = _accel.speedups.Decoder  # noqa: F811
#: "c" when :data:`Decoder` is the compiled decoder, else "python".
IMPLEMENTATION = _accel.IMPLEMENTATION
