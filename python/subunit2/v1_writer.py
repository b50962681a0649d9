"""V1Writer: a result that writes the subunit v1 text protocol.

v1 runs one test at a time and states an outcome before its details, while v2
interleaves tests and sends attachments before the status.  So each test's events
are held until its final status and then written as one block::

    time: 2024-01-02 03:04:05.000001Z      (when the test started, if known)
    test: pkg.test_a
    tags: slow unit                        (the test's latest tag set)
    time: 2024-01-02 03:04:06Z             (when it ended, if different)
    failure: pkg.test_a [ multipart        (or success, skip, xfail, uxsuccess)
    Content-Type: text/x-traceback;charset=utf8
    traceback
    1A\\r\\n<26 bytes>0\\r\\n
    ]

Memory is bounded by the tests in flight: a test's record is dropped once written,
and attachment bytes past :data:`SPOOL_LIMIT` in total go to temporary files.  What
v1 cannot carry (route codes, parent ids, ``runnable``, ``exists``) is dropped; see
docs/v1.md for the whole mapping.
"""

from __future__ import annotations

import datetime
import tempfile
from typing import AbstractSet, Dict, FrozenSet, Iterable, List, Optional, Tuple

from .decoder import Decoder
from .event import Event
from .fileio import binary_stream, chunk_reader
from .reader import READ_SIZE
from .result import StreamResult

__all__ = ["SPOOL_LIMIT", "V1Writer", "convert_2to1"]

#: Attachment bytes held in memory across all tests in flight before spilling.
SPOOL_LIMIT = 16 * 1024 * 1024
_OCTET = "application/octet-stream"
_TEXT = "text/plain;charset=utf8"
_OUTCOMES = {
    "success": "success",
    "fail": "failure",
    "skip": "skip",
    "xfail": "xfail",
    "uxsuccess": "uxsuccess",
}
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_MINUTE = datetime.timedelta(minutes=1)


def _one_line(text: str) -> str:
    """``text`` with line breaks made spaces: a v1 field cannot span lines."""
    if "\n" in text or "\r" in text:
        return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text


class _Attachment:
    """One file of a test in flight: its mime type and bytes (maybe on disk)."""

    __slots__ = ("mime", "chunks", "file")

    def __init__(self, mime: Optional[str]) -> None:
        self.mime = mime
        self.chunks: List[bytes] = []
        self.file = None

    def spill(self) -> int:
        """Move the bytes held in memory to a temporary file; returns how many."""
        if self.file is None:
            self.file = tempfile.TemporaryFile()
        moved = 0
        for chunk in self.chunks:
            self.file.write(chunk)
            moved += len(chunk)
        self.chunks = []
        return moved

    def pieces(self):
        if self.file is not None:
            self.file.seek(0)
            while True:
                data = self.file.read(1 << 20)
                if not data:
                    break
                yield data
            self.file.close()
        yield from self.chunks


class _Test:
    """What is known of one test in flight."""

    __slots__ = ("test_id", "start", "tags", "files")

    def __init__(self, test_id: str) -> None:
        self.test_id = test_id
        self.start = None
        self.tags = None
        self.files: Optional[Dict[str, _Attachment]] = None


class V1Writer(StreamResult):
    """Writes v2 events as v1 text on a binary stream (a text stream's buffer).

    Events without a test id are written through as they come: their bytes are
    non-protocol text in v1.  ``flush=True`` writes and flushes after each test,
    for live readers; otherwise output is gathered into larger writes.  Call
    ``stopTestRun()`` at the end: tests still in flight are then written with the
    outcome ``error``, and everything is flushed.
    """

    def __init__(self, stream, *, flush: bool = False) -> None:
        self.stream = binary_stream(stream)
        self._live = flush
        self._tests: Dict[Tuple[Optional[str], str], _Test] = {}
        self._last_time: Optional[datetime.datetime] = None
        self._line_start = True
        self._buffered = 0
        # v1 text not yet written.
        self._out: List[str] = []
        # The minute of the last time line, and its text up to the seconds.
        self._minute_start = _EPOCH
        self._minute_end = _EPOCH + _MINUTE
        self._minute_text = "time: 1970-01-01 00:00:"
        self._tag_lines: Dict[FrozenSet[str], str] = {}

    def startTestRun(self) -> None:
        self._line_start = True

    def stopTestRun(self) -> None:
        tests = list(self._tests.values())
        self._tests.clear()
        for test in tests:
            self._write_test(test, "error", None)
        self._drain()
        self.stream.flush()

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
        self.event(
            test_id, test_status, test_tags, file_name, file_bytes, mime_type,
            route_code, timestamp,
        )  # fmt: skip

    def write_events(self, events: Iterable[Event]) -> None:
        """Write decoded events: the fast path :func:`convert_2to1` takes.

        Status changes without attachments (nearly every event of a run) are
        handled here inline; everything else goes through :meth:`event`.
        """
        event = self.event
        tests = self._tests
        get = tests.get
        pop = tests.pop
        outcomes = _OUTCOMES
        write_test = self._write_test
        for e in events:
            test_id, status, tags, _, name, data, _, mime, route, when, _ = e
            if test_id is None or name is not None:
                event(test_id, status, tags, name, data, mime, route, when)
            elif status == "inprogress":
                test = get((route, test_id))
                if test is None:
                    test = tests[(route, test_id)] = _Test(test_id)
                    test.start = when
                elif test.start is None:
                    test.start = when
                if tags is not None:
                    test.tags = tags
            elif status in outcomes:
                test = pop((route, test_id), None)
                if test is None:
                    test = _Test(test_id)
                if tags is not None:
                    test.tags = tags
                write_test(test, outcomes[status], when)
            else:
                event(test_id, status, tags, name, data, mime, route, when)

    def event(
        self,
        test_id: Optional[str],
        test_status: Optional[str],
        test_tags: Optional[AbstractSet[str]],
        file_name: Optional[str],
        file_bytes: Optional[bytes],
        mime_type: Optional[str],
        route_code: Optional[str],
        timestamp: Optional[datetime.datetime],
    ) -> None:
        """One event, given only the fields v1 can use."""
        if test_id is None:
            if file_bytes:
                self._drain()
                self.stream.write(file_bytes)
                self._line_start = file_bytes[-1:] == b"\n"
                if self._live:
                    self.stream.flush()
            return
        key = (route_code, test_id)
        test = self._tests.get(key)
        if test is None:
            if test_status == "exists":
                return  # v1 has no way to list a test without running it
            test = self._tests[key] = _Test(test_id)
        if test_tags is not None:
            test.tags = test_tags
        if file_name is not None and file_bytes is not None:
            self._attach(test, file_name, file_bytes, mime_type)
        if test_status is None:
            return
        if test_status == "inprogress":
            if test.start is None:
                test.start = timestamp
            return
        outcome = _OUTCOMES.get(test_status)
        if outcome is None:  # exists for a test in flight: keep waiting
            return
        del self._tests[key]
        self._write_test(test, outcome, timestamp)

    def _attach(self, test: _Test, name: str, data: bytes, mime: Optional[str]) -> None:
        files = test.files
        if files is None:
            files = test.files = {}
        attachment = files.get(name)
        if attachment is None:
            attachment = files[name] = _Attachment(mime)
        elif mime is not None and attachment.mime is None:
            attachment.mime = mime
        if not data:
            return
        if attachment.file is not None:
            attachment.file.write(data)
            return
        attachment.chunks.append(data)
        self._buffered += len(data)
        if self._buffered > SPOOL_LIMIT:
            self._buffered -= attachment.spill()

    def _drain(self) -> None:
        """Write the v1 text gathered so far."""
        if self._out:
            self.stream.write("".join(self._out).encode("utf-8", "replace"))
            self._out.clear()

    def _tag_line(self, tags: AbstractSet[str]) -> str:
        """``tags: a b\\n`` for the tags v1 can spell (one word, no leading "-")."""
        key = tags if tags.__class__ is frozenset else frozenset(tags)
        line = self._tag_lines.get(key)
        if line is None:
            words = sorted(tag for tag in key if tag.split() == [tag] and tag[0] != "-")
            line = f"tags: {' '.join(words)}\n" if words else ""
            if len(self._tag_lines) > 1024:
                self._tag_lines.clear()
            self._tag_lines[key] = line
        return line

    def _time_line(self, when: datetime.datetime) -> str:
        """``time: ...Z\\n`` for an aware datetime.  The text up to the minute is
        cached, as consecutive events are usually within the same minute."""
        if when.tzinfo is not _UTC:
            when = when.astimezone(_UTC)
        if not self._minute_start <= when < self._minute_end:
            start = self._minute_start = when.replace(second=0, microsecond=0)
            self._minute_end = start + _MINUTE
            self._minute_text = f"time: {start.isoformat(' ')[:-9]}:"
        return f"{self._minute_text}{when.second:02d}.{when.microsecond:06d}Z\n"

    def _write_test(self, test: _Test, outcome: str, when) -> None:
        out = self._out
        if not self._line_start:
            out.append("\n")
            self._line_start = True
        start = test.start
        last = self._last_time
        if start is not None and start != last:
            last = start
            out.append(self._time_line(start))
        name = test.test_id
        if "\n" in name or "\r" in name:
            name = _one_line(name)
        tags = test.tags
        tag_line = self._tag_line(tags) if tags else ""
        if when is not None and when != last:
            last = when
            time_line = self._time_line(when)
        else:
            time_line = ""
        self._last_time = last
        files = test.files
        if not files:
            out.append(f"test: {name}\n{tag_line}{time_line}{outcome}: {name}\n")
            if self._live or len(out) > 1024:
                self._drain()
                if self._live:
                    self.stream.flush()
            return
        out.append(
            f"test: {name}\n{tag_line}{time_line}{outcome}: {name} [ multipart\n"
        )
        self._drain()
        self._write_files(files)
        self.stream.write(b"]\n")
        if self._live:
            self.stream.flush()

    def _write_files(self, files: Dict[str, _Attachment]) -> None:
        write = self.stream.write
        for name, attachment in files.items():
            self._buffered -= sum(map(len, attachment.chunks))
            mime = attachment.mime
            if mime is None:
                # v1 readers (testtools) require a skip reason to be text.
                mime = _TEXT if name == "reason" else _OCTET
            mime = _one_line(mime)
            if "/" not in mime:
                mime = _OCTET
            header = f"Content-Type: {mime}\n{_one_line(name)}\n"
            write(header.encode("utf-8", "replace"))
            for piece in attachment.pieces():
                if piece:  # an empty chunk would end the body
                    write(b"%X\r\n" % len(piece))
                    write(piece)
            write(b"0\r\n")


def convert_2to1(source, out, *, flush: bool = False) -> None:
    """Read a v2 stream from ``source`` and write it as v1 text to ``out``."""
    writer = V1Writer(out, flush=flush)
    write_events = writer.write_events
    read = chunk_reader(source)
    decoder = Decoder("stdout")
    writer.startTestRun()
    try:
        while True:
            data = read(READ_SIZE)
            if not data:
                break
            write_events(decoder.feed(data))
        write_events(decoder.close())
    finally:
        writer.stopTestRun()
