"""Sans-IO reader of the subunit v1 text protocol: bytes in, v2 ``status()`` calls out.

v1 is line based: ``test: ID`` starts a test; ``success``/``successful``,
``failure``, ``error``, ``skip``, ``xfail`` and ``uxsuccess`` end it, optionally with
details (``[`` ... ``]`` text, or ``[ multipart`` parts of a ``Content-Type:`` line, a
name line and an HTTP-chunked body); ``tags:``, ``time:`` and ``progress:`` lines
may appear anywhere outside details.  A keyword may have a trailing colon.  See
docs/v1.md for the grammar and for how each line maps onto v2 events.

The rules that keep untrusted input safe:

* Nothing is lost: a line that is not v1 (or is malformed v1) is delivered as
  non-test data (file name ``stdout``, no test id), in order.
* Malformed v1 (a bad ``time:`` or ``progress:`` value, a bad chunk header, bad
  UTF-8 in a test id, an outcome for a test that is not running, ...) never raises:
  the line is passed through as above and reported to ``on_error(line, message)``.
* Memory is bounded: lines longer than ``max_line`` are passed on in pieces, and
  attachment bytes are sent on as they arrive, never collected whole.
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Set

from .fileio import chunk_reader
from .isotime import parse_timestamp
from .result import as_target

__all__ = ["MAX_LINE", "V1Parser", "read_v1"]

#: Longest line held whole; longer lines are passed through in pieces.
MAX_LINE = 65536
#: Attachment bytes gathered before they are sent on as one event.
_PIECE = 65536

_TEST = "test"
_TAGS = "tags"
_TIME = "time"
_PROGRESS = "progress"
#: v1 keyword (colon stripped) -> what it is: a v2 final status, or a directive.
_KEYWORDS = {
    b"test": _TEST,
    b"testing": _TEST,
    b"success": "success",
    b"successful": "success",
    b"failure": "fail",
    b"error": "fail",
    b"skip": "skip",
    b"xfail": "xfail",
    b"uxsuccess": "uxsuccess",
    b"tags": _TAGS,
    b"time": _TIME,
    b"progress": _PROGRESS,
}
#: The attachment that ``[ ... ]`` details become, by v2 status.
_TRACEBACK = ("traceback", "text/x-traceback;charset=utf8")
_BRACKETED = {
    "skip": ("reason", "text/plain"),
    "success": ("message", "text/plain"),
}
_END_DETAILS = (b"]\n", b"]\r\n")
_PROGRESS_VALUE = re.compile(rb"[+-]?[0-9]+|push|pop")
_CHUNK_HEADER = re.compile(rb"([0-9A-Fa-f]{1,16})\r?\n")
_CONTENT_TYPE = re.compile(rb"content-type:?[ \t]+([^\s/]+/\S[^\r\n]*)\r?\n", re.I)

# Parser states.
_OUTSIDE = 0  # between tests
_IN_TEST = 1  # after "test: X"
_BRACKET = 2  # inside "[ ... ]" details
_PART_TYPE = 3  # multipart: expecting "Content-Type: ..." or "]"
_PART_NAME = 4  # multipart: expecting the part's name
_CHUNK_HEAD = 5  # multipart: expecting a chunk size line
_CHUNK_BODY = 6  # multipart: inside a chunk's bytes


def _strip_eol(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\n") else data


class V1Parser:
    """Parses v1 text fed in any pieces and calls ``result.status()`` per v2 event.

    ``feed(data)`` as bytes arrive, ``close()`` at end of input.  Every test event
    carries the current ``time:`` (None before the first) and the test's tags: the
    run's tags (from ``tags:`` lines outside tests) plus the test's own changes.
    ``non_v1_name`` names the file non-v1 lines are delivered as (None drops them).
    ``on_error(line_number, message)`` hears of each malformed line; the count is
    kept in :attr:`errors`.  The caller brackets the run with
    ``startTestRun``/``stopTestRun``.
    """

    def __init__(
        self,
        result,
        *,
        non_v1_name: Optional[str] = "stdout",
        on_error: Optional[Callable[[int, str], None]] = None,
        max_line: int = MAX_LINE,
    ) -> None:
        self._status = as_target(result).status
        self.non_v1_name = non_v1_name
        self.on_error = on_error
        self.max_line = max_line
        #: How many malformed lines (or truncations) were reported.
        self.errors = 0
        self._buf = bytearray()
        self._line_no = 0  # lines completed so far
        self._state = _OUTSIDE
        self._long = False  # inside a line longer than max_line
        self._long_is_text = True
        self._text = bytearray()
        self._time = None
        self._run_tags: Set[str] = set()
        # The current test.
        self._test: Optional[str] = None
        self._tags: Set[str] = set()
        self._tags_given = False
        self._start_pending = False
        self._start_time = None
        self._outcome: Optional[str] = None
        self._outcome_time = None
        self._used_names: Set[str] = set()
        # The current attachment.
        self._part_name: Optional[str] = None
        self._part_mime: Optional[str] = None
        self._part_buf = bytearray()
        self._remaining = 0

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse ``data``, the next bytes of the stream."""
        buf = self._buf
        buf += data
        pos = 0
        size = len(buf)
        while pos < size:
            if self._state == _CHUNK_BODY:
                take = min(size - pos, self._remaining)
                piece = bytes(buf[pos : pos + take])
                pos += take
                self._line_no += piece.count(b"\n")
                self._remaining -= take
                self._part_add(piece)
                if not self._remaining:
                    self._state = _CHUNK_HEAD
                continue
            end = buf.find(b"\n", pos)
            if end < 0:
                if size - pos > self.max_line:
                    self._overlong(bytes(buf[pos:]))
                    pos = size
                break
            line = bytes(buf[pos : end + 1])
            pos = end + 1
            self._line_no += 1
            if self._long:
                self._long = False
                self._long_piece(line)
            else:
                self._line(line)
        del buf[:pos]
        # A test's start waits for the "tags:" lines that follow it, but never
        # past the end of what has arrived, so live readers see it at once.
        self._flush_start()
        self._flush_text()

    def close(self) -> None:
        """End of input: deliver what is left and end an unfinished test as failed."""
        rest = bytes(self._buf)
        self._buf.clear()
        if rest:
            if self._state == _CHUNK_BODY:
                self._part_add(rest)
            elif self._long:
                self._long = False
                self._long_piece(rest)
            else:
                self._line(rest)
        if self._state != _OUTSIDE:
            self._lost_connection()
        self._flush_start()
        self._flush_text()

    # -- lines ---------------------------------------------------------------

    def _report(self, message: str) -> None:
        self.errors += 1
        if self.on_error is not None:
            self.on_error(max(self._line_no, 1), message)

    def _line(self, line: bytes) -> None:
        state = self._state
        if state <= _IN_TEST:
            self._command(line)
        elif state == _BRACKET:
            if line in _END_DETAILS:
                self._end_details()
            elif line.startswith(b" ]"):
                self._part_add(line[1:])  # a quoted "]" line
            else:
                self._part_add(line)
        elif state == _PART_TYPE:
            self._part_type(line)
        elif state == _PART_NAME:
            name = self._decode(line, "attachment name")
            if name is None:
                self._state = _PART_TYPE
                self._add_text(line)
            else:
                self._part_name = name.rstrip("\r")
                self._state = _CHUNK_HEAD
        else:  # _CHUNK_HEAD
            match = _CHUNK_HEADER.fullmatch(line)
            if match is None:
                self._report(
                    f"bad chunk header {line[:40]!r} in attachment "
                    f"{self._part_name!r} of test {self._test!r}"
                )
                self._part_close()
                self._state = _PART_TYPE
                self._part_type(line, quiet=True)
                return
            size = int(match.group(1), 16)
            if size:
                self._remaining = size
                self._state = _CHUNK_BODY
            else:
                self._part_close()
                self._state = _PART_TYPE

    def _overlong(self, piece: bytes) -> None:
        """The start of a line longer than ``max_line``."""
        state = self._state
        self._long = True
        self._long_is_text = state != _BRACKET
        if state > _BRACKET:
            self._report(f"overlong line in multipart details of test {self._test!r}")
            self._part_close()
            self._state = _PART_TYPE
        self._long_piece(piece)

    def _long_piece(self, piece: bytes) -> None:
        if self._long_is_text:
            self._add_text(piece)
        else:
            self._part_add(piece)

    def _split(self, line: bytes):
        """(kind, keyword, argument) of a v1 directive line, or None."""
        parts = line.split(None, 1)
        if len(parts) != 2 or not line.startswith(parts[0]):
            return None
        kind = _KEYWORDS.get(parts[0].rstrip(b":"))
        if kind is None:
            return None
        return kind, parts[0], line[len(parts[0]) + 1 :]

    def _decode(self, data: bytes, what: str) -> Optional[str]:
        """``data`` (less its newline) as text a v2 string can hold, or None."""
        data = _strip_eol(data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self._report(f"{what} is not valid UTF-8: {data[:40]!r}")
            return None
        if "\x00" in text:
            self._report(f"{what} contains a NUL byte: {data[:40]!r}")
            return None
        return text

    def _command(self, line: bytes) -> None:
        split = self._split(line)
        if split is None:
            self._add_text(line)
            return
        kind, keyword, arg = split
        if kind is _TAGS:
            self._tags_line(line, arg)
            return
        self._flush_start()
        if kind is _TIME:
            try:
                self._time = parse_timestamp(_strip_eol(arg).decode("ascii"))
            except ValueError as error:  # includes UnicodeDecodeError
                self._report(f"bad time: {error}")
                self._add_text(line)
        elif kind is _PROGRESS:
            # Valid progress has no v2 equivalent and is dropped.
            if _PROGRESS_VALUE.fullmatch(arg.strip()) is None:
                self._report(f"bad progress value {arg.strip()[:40]!r}")
                self._add_text(line)
        elif kind is _TEST:
            self._start(line, arg)
        else:
            self._outcome_line(line, kind, arg)

    def _tags_line(self, line: bytes, arg: bytes) -> None:
        text = self._decode(arg, "tags")
        if text is None:
            self._flush_start()
            self._add_text(line)
            return
        tags = self._tags if self._state == _IN_TEST else self._run_tags
        for word in text.split():
            if word.startswith("-"):
                tags.discard(word[1:])
            else:
                tags.add(word)
        if self._state == _IN_TEST:
            self._tags_given = True
        else:
            self._flush_start()

    def _start(self, line: bytes, arg: bytes) -> None:
        if self._state == _IN_TEST:
            self._report(
                f"'test' line inside test {self._test!r} (passed through): "
                f"{line[:60]!r}"
            )
            self._add_text(line)
            return
        name = self._decode(arg, "test id")
        if name is None:
            self._add_text(line)
            return
        self._flush_text()
        self._test = name
        self._tags = set(self._run_tags)
        self._tags_given = bool(self._tags)
        self._used_names = set()
        self._state = _IN_TEST
        self._start_time = self._time
        self._start_pending = True

    def _outcome_line(self, line: bytes, status: str, arg: bytes) -> None:
        name = self._decode(arg, "test id")
        if name is None:
            self._add_text(line)
            return
        test = self._test
        if self._state != _IN_TEST:
            self._report(f"outcome for test {name!r} outside a test (passed through)")
            self._add_text(line)
            return
        if name == test:
            self._finish(status)
            return
        if name == test + " [":
            self._state = _BRACKET
            self._part_name, self._part_mime = _BRACKETED.get(status, _TRACEBACK)
        elif name == test + " [ multipart":
            self._state = _PART_TYPE
        else:
            self._report(
                f"outcome for test {name!r} while test {test!r} runs (passed through)"
            )
            self._add_text(line)
            return
        self._outcome = status
        self._outcome_time = self._time

    def _part_type(self, line: bytes, quiet: bool = False) -> None:
        if line in _END_DETAILS:
            self._end_details()
            return
        match = _CONTENT_TYPE.fullmatch(line)
        if match is not None:
            mime = self._decode(match.group(1), "Content-Type")
            if mime is not None:
                self._part_mime = mime
                self._state = _PART_NAME
                return
        elif self._split(line) is not None:
            # A v1 directive cannot be a part header: the details were cut short.
            self._report(f"details of test {self._test!r} not terminated by ']'")
            self._end_details()
            self._command(line)
            return
        if not quiet:
            self._report(
                f"expected 'Content-Type:' or ']' in details of test {self._test!r}, "
                f"got {line[:40]!r}"
            )
        self._add_text(line)

    # -- events --------------------------------------------------------------

    def _add_text(self, data: bytes) -> None:
        self._flush_start()
        self._text += data

    def _flush_text(self) -> None:
        if self._text:
            data = bytes(self._text)
            self._text.clear()
            if self.non_v1_name is not None:
                self._status(file_name=self.non_v1_name, file_bytes=data)

    def _tag_value(self):
        return set(self._tags) if self._tags_given or self._tags else None

    def _flush_start(self) -> None:
        if self._start_pending:
            self._start_pending = False
            self._flush_text()
            self._status(
                test_id=self._test,
                test_status="inprogress",
                test_tags=self._tag_value(),
                timestamp=self._start_time,
            )

    def _part_add(self, data: bytes) -> None:
        self._part_buf += data
        if len(self._part_buf) >= _PIECE:
            self._send_part(False)

    def _send_part(self, eof: bool) -> None:
        self._flush_text()
        data = bytes(self._part_buf)
        self._part_buf.clear()
        self._used_names.add(self._part_name)
        self._status(
            test_id=self._test,
            file_name=self._part_name,
            file_bytes=data,
            eof=eof,
            mime_type=self._part_mime,
            timestamp=self._outcome_time,
        )

    def _part_close(self) -> None:
        """End the current attachment, if one is open."""
        if self._part_name is not None:
            self._send_part(True)
            self._part_name = None
            self._part_mime = None
        self._remaining = 0

    def _end_details(self) -> None:
        self._part_close()
        self._finish(self._outcome)

    def _finish(self, status: Optional[str], timestamp=None) -> None:
        self._flush_start()
        self._flush_text()
        self._status(
            test_id=self._test,
            test_status=status,
            test_tags=self._tag_value(),
            timestamp=timestamp or self._time,
        )
        self._state = _OUTSIDE
        self._test = None
        self._outcome = None
        self._outcome_time = None

    def _lost_connection(self) -> None:
        """The input ended inside a test: it failed, as v1 readers have it."""
        where = "test" if self._state == _IN_TEST else "details of test"
        self._report(f"input ended inside {where} {self._test!r}")
        self._part_close()
        self._flush_start()
        timestamp = self._outcome_time or self._time
        if "traceback" not in self._used_names:
            self._flush_text()
            self._status(
                test_id=self._test,
                file_name="traceback",
                file_bytes=f"lost connection during {where} {self._test!r}\n".encode(),
                eof=True,
                mime_type=_TRACEBACK[1],
                timestamp=timestamp,
            )
        self._finish("fail", timestamp)


def read_v1(
    source,
    result,
    *,
    non_v1_name: Optional[str] = "stdout",
    on_error: Optional[Callable[[int, str], None]] = None,
    read_size: int = 65536,
) -> V1Parser:
    """Parse v1 text from a file object into ``result``; returns the parser (for
    :attr:`V1Parser.errors`).  The caller brackets the run."""
    read = chunk_reader(source)
    parser = V1Parser(result, non_v1_name=non_v1_name, on_error=on_error)
    while True:
        data = read(read_size)
        if not data:
            break
        parser.feed(data)
    parser.close()
    return parser
