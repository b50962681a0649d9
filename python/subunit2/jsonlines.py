"""Events as JSON lines: one JSON object per ``status()`` call, one object per line.

This is how tools in any language read and write subunit streams without a codec of
their own.  Every object has exactly these keys (the ``status()`` arguments, SPEC
section 1), in this order:

============== =========================================================
key            JSON value
============== =========================================================
test_id        string or null
test_status    one of the statuses, or null
test_tags      sorted list of strings, or null when the event has no tags
runnable       true or false
file_name      string or null
file_bytes     standard base64 (with ``=`` padding), or null
eof            true or false
mime_type      string or null
route_code     string or null
timestamp      ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six fraction
               digits), or null
parent_test_id string or null (protocol 2.1)
============== =========================================================

Reading is more lenient than writing: a missing key takes its ``status()`` default;
timestamps may use ``t`` or a space for ``T``, any number of fraction digits (rounded
to the microsecond, ties to even, as the decoder does), and ``Z`` or an offset
(``+05:30``, ``+0530``, ``+05``), converted to UTC; a timestamp without ``Z`` or an
offset is rejected as ambiguous.  base64 may omit its padding.  An unknown key or a
value of the wrong type is an error that names the key.  Lines are UTF-8; blank lines
are skipped.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from typing import Any, Optional, TextIO

from .encoder import EncodeError
from .event import FIELDS, Event
from .fileio import binary_stream
from .result import StreamResult, as_target
from .status import STATUSES

__all__ = [
    "JsonFieldError",
    "JsonLineError",
    "JsonLinesWriter",
    "TIMESTAMP_FORMAT",
    "event_to_json",
    "format_timestamp",
    "json_to_kwargs",
    "parse_timestamp",
    "read_json_lines",
]

#: The exact form written for timestamps, as a strftime pattern (always UTC).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_UTC = datetime.timezone.utc
_STRING_KEYS = ("test_id", "file_name", "mime_type", "route_code", "parent_test_id")
_BOOL_KEYS = ("runnable", "eof")
_DEFAULTS = Event()._asdict()
_TIMESTAMP_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)"
)
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class JsonFieldError(ValueError):
    """A JSON value does not describe an event; ``key`` names the offending key
    (None when the value is not an object at all).  The message names it too."""

    def __init__(self, key: Optional[str], message: str) -> None:
        super().__init__(message)
        self.key = key


def _wrong(key: str, expected: str, value: Any) -> JsonFieldError:
    return JsonFieldError(key, f"{key}: expected {expected}, got {_kind(value)}")


class JsonLineError(ValueError):
    """Line ``line`` of a JSON lines stream is not a valid event."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


def format_timestamp(value: datetime.datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; it must be aware."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware (naive datetime given)")
    t = value.astimezone(_UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T"
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}Z"
    )


def parse_timestamp(text: str) -> datetime.datetime:
    """An ISO 8601 date-time with ``Z`` or a UTC offset, as an aware UTC datetime.

    Raises :class:`ValueError` saying what is wrong.
    """
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time with Z or a UTC offset "
            "(e.g. 2024-01-02T03:04:05.123456Z)"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, oh, om = (
        match.groups()
    )
    offset = datetime.timedelta(0)
    if not zulu:
        hours, minutes = int(oh), int(om or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} has an out-of-range UTC offset")
        offset = datetime.timedelta(hours=hours, minutes=minutes)
        if sign == "-":
            offset = -offset
    micros = 0
    if fraction:
        if len(fraction) <= 6:
            micros = int(fraction.ljust(6, "0"))
        else:
            scale = 10 ** (len(fraction) - 6)
            micros, rest = divmod(int(fraction), scale)
            if rest * 2 > scale or (rest * 2 == scale and micros & 1):
                micros += 1  # may reach a whole second: timedelta carries it
    try:
        local = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=datetime.timezone(offset),
        )
        return (local + datetime.timedelta(microseconds=micros)).astimezone(_UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{text!r} is not a valid date-time: {error}") from None


def event_to_json(event: Optional[Event] = None, /, **fields: Any) -> dict:
    """One event as a JSON-ready dict with exactly the keys in this module's table.

    Give an :class:`~subunit2.event.Event` (or any 11-item sequence in its field
    order), or the ``status()`` keyword arguments.
    """
    if event is None:
        event = Event(**fields)
    elif fields:
        raise TypeError("give an event or keyword arguments, not both")
    (
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
    ) = event
    return {
        "test_id": test_id,
        "test_status": test_status,
        "test_tags": None if test_tags is None else sorted(test_tags),
        "runnable": bool(runnable),
        "file_name": file_name,
        "file_bytes": (
            None
            if file_bytes is None
            else base64.b64encode(bytes(file_bytes)).decode("ascii")
        ),
        "eof": bool(eof),
        "mime_type": mime_type,
        "route_code": route_code,
        "timestamp": None if timestamp is None else format_timestamp(timestamp),
        "parent_test_id": parent_test_id,
    }


def _kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _decode_base64(text: str) -> bytes:
    if len(text) % 4 and not text.endswith("="):
        text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def json_to_kwargs(obj: Any) -> dict:
    """The ``status()`` keyword arguments described by a decoded JSON object.

    All eleven keywords are returned; keys the object lacks take their defaults.
    Raises :class:`JsonFieldError` naming the key for an unknown key or a bad value.
    """
    if not isinstance(obj, dict):
        raise JsonFieldError(None, f"expected a JSON object, got {_kind(obj)}")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise JsonFieldError(
            unknown[0],
            f"unknown key{'s' if len(unknown) > 1 else ''} {names} "
            f"(known keys: {', '.join(FIELDS)})",
        )
    kwargs = dict(_DEFAULTS)
    for key in _STRING_KEYS:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise _wrong(key, "a string or null", value)
        kwargs[key] = value
    for key in _BOOL_KEYS:
        if key in obj:
            value = obj[key]
            if not isinstance(value, bool):
                raise _wrong(key, "true or false", value)
            kwargs[key] = value
    status = obj.get("test_status")
    if status is not None and status not in STATUSES:
        shown = repr(status) if isinstance(status, str) else _kind(status)
        raise JsonFieldError(
            "test_status",
            f"test_status: expected one of {', '.join(STATUSES)} or null, got {shown}",
        )
    kwargs["test_status"] = status
    tags = obj.get("test_tags")
    if tags is not None:
        if not isinstance(tags, list):
            raise _wrong("test_tags", "a list of strings or null", tags)
        for tag in tags:
            if not isinstance(tag, str):
                raise JsonFieldError(
                    "test_tags",
                    "test_tags: expected a list of strings, but an item is "
                    + _kind(tag),
                )
        tags = set(tags)
    kwargs["test_tags"] = tags
    data = obj.get("file_bytes")
    if data is not None:
        if not isinstance(data, str):
            raise _wrong("file_bytes", "a base64 string or null", data)
        try:
            data = _decode_base64(data)
        except (binascii.Error, ValueError) as error:
            raise JsonFieldError(
                "file_bytes", f"file_bytes: invalid base64: {error}"
            ) from None
    kwargs["file_bytes"] = data
    stamp = obj.get("timestamp")
    if stamp is not None:
        if not isinstance(stamp, str):
            raise _wrong("timestamp", "an ISO 8601 string or null", stamp)
        try:
            stamp = parse_timestamp(stamp)
        except ValueError as error:
            raise JsonFieldError("timestamp", f"timestamp: {error}") from None
    kwargs["timestamp"] = stamp
    return kwargs


class JsonLinesWriter(StreamResult):
    """A result that writes each ``status()`` call as one compact JSON line.

    ``stream`` is a text stream (UTF-8 recommended: non-ASCII text is written as is).
    ``flush=True`` flushes after every line so a live reader sees it at once.
    """

    def __init__(self, stream: TextIO, *, flush: bool = True) -> None:
        self.stream = stream
        self._write = stream.write
        self._flush = stream.flush if flush else None

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
        obj = event_to_json(
            (
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
        self._write(_DUMPS(obj) + "\n")
        if self._flush is not None:
            self._flush()

    def stopTestRun(self) -> None:
        self.stream.flush()


def read_json_lines(source, result) -> int:
    """Replay the JSON lines of ``source`` onto ``result``; return the event count.

    ``source`` is a binary stream (lines decoded as UTF-8) or a text stream (its
    binary buffer is used when it has one).  Lines are read as they arrive, so a live
    pipe is replayed live.  A bad line (invalid UTF-8 or JSON, an unknown key, a bad
    value, or an event ``result`` cannot encode) raises :class:`JsonLineError` naming
    the line, after every earlier line has been delivered.  The caller brackets the
    run: its ``stopTestRun()`` flushes what was delivered, error or not.
    """
    source = binary_stream(source)
    target = as_target(result)
    status = target.status
    count = 0
    for number, line in enumerate(source, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise JsonLineError(number, f"not valid UTF-8: {error}") from None
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]  # a byte order mark some editors add
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise JsonLineError(
                number, f"invalid JSON: {error.msg} at column {error.colno}"
            ) from None
        try:
            kwargs = json_to_kwargs(obj)
        except JsonFieldError as error:
            raise JsonLineError(number, str(error)) from None
        try:
            status(**kwargs)
        except EncodeError as error:
            raise JsonLineError(number, str(error)) from None
        count += 1
    return count
