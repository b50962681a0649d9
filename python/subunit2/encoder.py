"""Sans-IO encoder: the arguments of one ``status()`` call in, packet bytes out.

:func:`encode` validates every field before producing a byte, so a writer never emits
half a packet.  An attachment too large for one packet is split across as many packets
as it needs; the status and ``eof`` go on the last of them.

:class:`PyEncoder` and :func:`py_encode` are the pure-Python implementation;
:data:`Encoder` and :func:`encode` are the compiled ones from ``subunit2._speedups``
when it is built (see :mod:`subunit2._accel`).  Both produce the same bytes and
raise the same errors: the compiled encoder hands unusual arguments to PyEncoder.
"""

from __future__ import annotations

import datetime
import struct
from typing import AbstractSet, Optional
from zlib import crc32

from . import _accel
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
    MAX_SECONDS,
    STATUS_CODES,
    VERSION_2,
    encode_number,
)

__all__ = [
    "IMPLEMENTATION",
    "EncodeError",
    "Encoder",
    "PyEncoder",
    "encode",
    "py_encode",
]

_UTC = datetime.timezone.utc
_datetime = datetime.datetime
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_TS4 = struct.Struct(">II").pack
_SIG = b"\xb3"
# Room the frame takes besides the fields: signature, flags, a length of up to
# 4 bytes, CRC.
_FRAME = 1 + 2 + 4 + 4


class EncodeError(ValueError):
    """A ``status()`` argument cannot be encoded; the message names the field."""


def _string(field: str, value) -> bytes:
    if not isinstance(value, str):
        raise EncodeError(f"{field} must be a str, not {type(value).__name__}")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise EncodeError(f"{field} is not encodable as UTF-8: {error}") from None
    if 0 in data:
        raise EncodeError(f"{field} contains a NUL character")
    if len(data) > MAX_PACKET:
        raise EncodeError(f"{field} is too long ({len(data)} bytes)")
    return encode_number(len(data)) + data


def _timestamp(value) -> bytes:
    """Seconds as 4 bytes, then nanoseconds as a number."""
    if value.__class__ is not datetime.datetime or value.tzinfo is not _UTC:
        if not isinstance(value, datetime.datetime):
            raise EncodeError(
                f"timestamp must be a datetime, not {type(value).__name__}"
            )
        if value.tzinfo is None or value.utcoffset() is None:
            raise EncodeError("timestamp must be timezone-aware (naive datetime given)")
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if not 0 <= seconds <= MAX_SECONDS:
        raise EncodeError(f"timestamp {value.isoformat()} is outside 1970..2106")
    nanos = delta.microseconds * 1000
    if nanos >= 0x400000:
        return _TS4(seconds, nanos | 0xC0000000)
    return seconds.to_bytes(4, "big") + encode_number(nanos)


def _frame(flags: int, body: bytes) -> bytes:
    """Signature, flags and length in front of ``body``, the CRC behind it."""
    # The length counts itself, so its own width decides the total.
    size = len(body) + 8
    if size < 0x40:
        head = _HEAD1(0xB3, flags, size)
    elif size < 0x3FFF:
        head = _HEAD2(0xB3, flags, (size + 1) | 0x4000)
    else:
        size += 2
        head = _HEAD1(0xB3, flags, 0x80 | (size >> 16)) + (size & 0xFFFF).to_bytes(
            2, "big"
        )
    return b"".join((head, body, _CRC(crc32(body, crc32(head)))))


_HEAD1 = struct.Struct(">BHB").pack
_HEAD2 = struct.Struct(">BHH").pack
_LEN1 = struct.Struct(">B").pack
_SIZE1 = tuple(bytes((n,)) for n in range(0x40))  # 1-byte numbers
_LEN2 = struct.Struct(">H").pack
_CRC = struct.Struct(">I").pack
# Entries kept in an encoder's memo of encoded strings before it starts over.
_CACHE_LIMIT = 4096
_BASE_FLAGS = {name: VERSION_2 | code for name, code in STATUS_CODES.items()}


class PyEncoder:
    """Encodes events in pure Python, remembering strings and tag sets it has seen.

    Test runs repeat route codes, tags, mime types, file names and parent ids in
    almost every packet; a writer that keeps one Encoder pays for each once.
    """

    def __init__(self, *, v2_only: bool = False) -> None:
        self.v2_only = v2_only
        self._strings: dict = {}  # str -> its length-prefixed UTF-8 form
        self._tags: dict = {}  # frozenset -> the encoded TAGS field

    def _string(self, field: str, value) -> bytes:
        """Encode a string not yet in the memo (most test ids), and remember it."""
        encoded = None
        if value.__class__ is str and value.isascii():
            data = value.encode("ascii")
            if len(data) < 0x40 and b"\x00" not in data:
                encoded = _LEN1(len(data)) + data
            elif len(data) < 0x4000 and b"\x00" not in data:
                encoded = _LEN2(len(data) | 0x4000) + data
        if encoded is None:
            encoded = _string(field, value)
        if len(self._strings) >= _CACHE_LIMIT:
            self._strings.clear()
        self._strings[value] = encoded
        return encoded

    def _tag_field(self, tags) -> bytes:
        """Encode a TAGS field not yet memoised, and remember it under its key.

        Sets are keyed by ``tuple(tags)`` (cheaper than building a frozenset; an
        equal set iterated in another order just takes a second entry), frozensets
        by themselves, since their hash is cached and decoded events share them.
        """
        if isinstance(tags, (str, bytes)):
            raise EncodeError("test_tags must be a set of str, not a single string")
        try:
            names = sorted(tags)
        except TypeError:
            raise EncodeError("test_tags must be a set of str") from None
        encoded = encode_number(len(names)) + b"".join(
            _string("test_tags", name) for name in names
        )
        cls = tags.__class__
        if cls is set or cls is frozenset:
            if len(self._tags) >= _CACHE_LIMIT:
                self._tags.clear()
            self._tags[tags if cls is frozenset else tuple(tags)] = encoded
        return encoded

    def encode(
        self,
        test_id: Optional[str] = None,
        test_status: Optional[str] = None,
        test_tags: Optional[AbstractSet[str]] = None,
        runnable: bool = True,
        file_name: Optional[str] = None,
        file_bytes: Optional[bytes] = None,
        eof: bool = False,
        mime_type: Optional[str] = None,
        route_code: Optional[str] = None,
        timestamp: Optional[datetime.datetime] = None,
        parent_test_id: Optional[str] = None,
    ) -> bytes:
        """Encode one event as one or more packets; see :func:`encode`."""
        try:
            flags = _BASE_FLAGS[test_status]
        except (KeyError, TypeError):
            raise EncodeError(
                f"test_status {test_status!r} is not a known status"
            ) from None
        strings = self._strings
        parts = []
        if runnable:
            flags |= FLAG_RUNNABLE
        if eof:
            flags |= FLAG_EOF
        if timestamp is not None:
            flags |= FLAG_TIMESTAMP
            if timestamp.__class__ is _datetime and timestamp.tzinfo is _UTC:
                # The usual case, inline: an aware UTC datetime.
                delta = timestamp - _EPOCH
                seconds = delta.days * 86400 + delta.seconds
                nanos = delta.microseconds * 1000
                if nanos >= 0x400000 and 0 <= seconds <= MAX_SECONDS:
                    parts.append(_TS4(seconds, nanos | 0xC0000000))
                else:
                    parts.append(_timestamp(timestamp))
            else:
                parts.append(_timestamp(timestamp))
        if test_id is not None:
            # Test ids rarely repeat often enough to be worth memoising.
            flags |= FLAG_TEST_ID
            try:
                data = test_id.encode()
            except (AttributeError, UnicodeEncodeError):
                data = b"\x00"  # let _string say what is wrong
            size = len(data)
            if 0 in data or size >= 0x4000:
                parts.append(_string("test_id", test_id))
            else:
                parts.append(_SIZE1[size] if size < 0x40 else _LEN2(size | 0x4000))
                parts.append(data)
        if test_tags is not None:
            flags |= FLAG_TAGS
            cls = test_tags.__class__
            if cls is frozenset:
                field = self._tags.get(test_tags)
            elif cls is set:
                field = self._tags.get(tuple(test_tags))
            else:
                field = None
            parts.append(field or self._tag_field(test_tags))
        if mime_type is not None:
            flags |= FLAG_MIME_TYPE
            try:
                parts.append(strings[mime_type])
            except (KeyError, TypeError):
                parts.append(self._string("mime_type", mime_type))
        after = []
        if route_code is not None:
            flags |= FLAG_ROUTE_CODE
            try:
                after.append(strings[route_code])
            except (KeyError, TypeError):
                after.append(self._string("route_code", route_code))
        if parent_test_id is not None and not self.v2_only:
            flags |= FLAG_PARENT
            try:
                after.append(strings[parent_test_id])
            except (KeyError, TypeError):
                after.append(self._string("parent_test_id", parent_test_id))
        if file_bytes is None:
            if file_name is not None:
                raise EncodeError("file_name given without file_bytes")
            parts.extend(after)
            body = b"".join(parts)
            size = len(body) + 8
            # The usual small packet, framed inline (see _frame).
            if size < 0x40:
                head = _HEAD1(0xB3, flags, size)
                return b"".join((head, body, _CRC(crc32(body, crc32(head)))))
            if size < 0x3FFF:
                head = _HEAD2(0xB3, flags, (size + 1) | 0x4000)
                return b"".join((head, body, _CRC(crc32(body, crc32(head)))))
            if size - 8 + _FRAME > MAX_PACKET:
                raise EncodeError("the event's fields do not fit in one packet")
            return _frame(flags, body)
        if file_name is None:
            raise EncodeError("file_bytes given without a file_name")
        if not isinstance(file_bytes, (bytes, bytearray, memoryview)):
            raise EncodeError(
                f"file_bytes must be bytes, not {type(file_bytes).__name__}"
            )
        flags |= FLAG_FILE_CONTENT
        try:
            parts.append(strings[file_name])
        except (KeyError, TypeError):
            parts.append(self._string("file_name", file_name))
        head = b"".join(parts)
        after = b"".join(after)
        content = bytes(file_bytes)
        room = MAX_PACKET - _FRAME - len(head) - len(after) - 4
        if len(content) <= room:
            return _frame(
                flags, b"".join((head, encode_number(len(content)), content, after))
            )
        if room < 1:
            raise EncodeError("the event's fields leave no room for file_bytes")
        # Too big for one packet: every chunk repeats the other fields; only the last
        # carries the status and eof, so a reader sees the outcome after the content.
        early = flags & ~(FLAG_EOF | 0x7)
        packets = []
        last = len(content) - room
        for start in range(0, len(content), room):
            chunk = content[start : start + room]
            packets.append(
                _frame(
                    flags if start >= last else early,
                    b"".join((head, encode_number(len(chunk)), chunk, after)),
                )
            )
        return b"".join(packets)


_ENCODER = PyEncoder()


def py_encode(
    test_id: Optional[str] = None,
    test_status: Optional[str] = None,
    test_tags: Optional[AbstractSet[str]] = None,
    runnable: bool = True,
    file_name: Optional[str] = None,
    file_bytes: Optional[bytes] = None,
    eof: bool = False,
    mime_type: Optional[str] = None,
    route_code: Optional[str] = None,
    timestamp: Optional[datetime.datetime] = None,
    parent_test_id: Optional[str] = None,
    *,
    v2_only: bool = False,
) -> bytes:
    """Encode one event as one or more packets.

    ``v2_only`` drops ``parent_test_id`` so strict pre-2.1 readers see plain v2.
    Raises :class:`EncodeError` naming the offending field, before producing a byte.
    """
    if v2_only:
        parent_test_id = None
    return _ENCODER.encode(
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


Encoder = PyEncoder
encode = py_encode
if _accel.speedups is not None:
    Encoder = _accel.speedups.Encoder  # noqa: F811
    encode = _accel.speedups.encode  # noqa: F811
#: "c" when :data:`Encoder` and :func:`encode` are compiled, else "python".
IMPLEMENTATION = _accel.IMPLEMENTATION
