"""Sans-IO encoder: the arguments of one ``status()`` call in, packet bytes out.

:func:`encode` validates every field before producing a byte, so a writer never emits
half a packet.  An attachment too large for one packet is split across as many packets
as it needs; the status and ``eof`` go on the last of them.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Optional
from zlib import crc32

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
    number_size,
)

__all__ = ["EncodeError", "encode"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_SIG = b"\xb3"
# Room that the header and CRC can take besides the fields: signature, flags,
# a length of up to 4 bytes, CRC.
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
    if b"\x00" in data:
        raise EncodeError(f"{field} contains a NUL character")
    if len(data) > MAX_PACKET:
        raise EncodeError(f"{field} is too long ({len(data)} bytes)")
    return encode_number(len(data)) + data


def _timestamp(value) -> bytes:
    if not isinstance(value, datetime.datetime):
        raise EncodeError(f"timestamp must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise EncodeError("timestamp must be timezone-aware (naive datetime given)")
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if not 0 <= seconds <= MAX_SECONDS:
        raise EncodeError(f"timestamp {value.isoformat()} is outside 1970..2106")
    return seconds.to_bytes(4, "big") + encode_number(delta.microseconds * 1000)


def _frame(flags: int, body: bytes) -> bytes:
    # The length counts itself, so its own size decides the total.
    size = 1 + 2 + 4 + len(body)
    for width in (1, 2, 3):
        if number_size(size + width) <= width:
            size += width
            break
    else:
        size += 4
    head = _SIG + flags.to_bytes(2, "big") + encode_number(size)
    packet = head + body
    return packet + crc32(packet).to_bytes(4, "big")


def encode(
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
    Raises :class:`EncodeError` naming the offending field.
    """
    try:
        code = STATUS_CODES[test_status]
    except (KeyError, TypeError):
        raise EncodeError(
            f"test_status {test_status!r} is not a known status"
        ) from None
    flags = VERSION_2 | code
    # Fields before FILE, and fields after it, in wire order.
    pre = []
    post = []
    if runnable:
        flags |= FLAG_RUNNABLE
    if eof:
        flags |= FLAG_EOF
    if timestamp is not None:
        flags |= FLAG_TIMESTAMP
        pre.append(_timestamp(timestamp))
    if test_id is not None:
        flags |= FLAG_TEST_ID
        pre.append(_string("test_id", test_id))
    if test_tags is not None:
        if isinstance(test_tags, (str, bytes)):
            raise EncodeError("test_tags must be a set of str, not a single string")
        flags |= FLAG_TAGS
        try:
            tags = sorted(test_tags)
        except TypeError:
            raise EncodeError("test_tags must be a set of str") from None
        pre.append(encode_number(len(tags)))
        pre.extend(_string("test_tags", tag) for tag in tags)
    if mime_type is not None:
        flags |= FLAG_MIME_TYPE
        pre.append(_string("mime_type", mime_type))
    if file_bytes is not None:
        if file_name is None:
            raise EncodeError("file_bytes given without a file_name")
        if not isinstance(file_bytes, (bytes, bytearray, memoryview)):
            raise EncodeError(
                f"file_bytes must be bytes, not {type(file_bytes).__name__}"
            )
        flags |= FLAG_FILE_CONTENT
        name = _string("file_name", file_name)
    elif file_name is not None:
        raise EncodeError("file_name given without file_bytes")
    if route_code is not None:
        flags |= FLAG_ROUTE_CODE
        post.append(_string("route_code", route_code))
    if parent_test_id is not None and not v2_only:
        flags |= FLAG_PARENT
        post.append(_string("parent_test_id", parent_test_id))
    head = b"".join(pre)
    tail = b"".join(post)
    if file_bytes is None:
        if _FRAME + len(head) + len(tail) > MAX_PACKET:
            raise EncodeError("the event's fields do not fit in one packet")
        return _frame(flags, head + tail)
    content = bytes(file_bytes)
    room = MAX_PACKET - _FRAME - len(head) - len(tail) - len(name) - 4
    if len(content) <= room:
        return _frame(flags, head + name + encode_number(len(content)) + content + tail)
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
                head + name + encode_number(len(chunk)) + chunk + tail,
            )
        )
    return b"".join(packets)
