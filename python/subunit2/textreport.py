"""TextReport: a unittest-style text report of a stream.

While the stream is read: one character per test (``.`` success, ``F`` fail, ``s``
skip, ``x`` expected failure, ``u`` unexpected success, ``E`` incomplete) or, when
verbose, one line per test (``test_id ... ok``) with its subtests indented under
it.  At the end: each problem (fail, unexpected success, incomplete) with its
attachments (the traceback first), then ``Ran N tests in X.XXXs`` and ``OK`` or
``FAILED (failures=..)`` with the other counts in brackets.

Subtests (records with a ``parent_test_id``) are not counted in N; they are counted
under ``subtests=`` and their problems count like any other.  In the compact form a
passing subtest prints nothing.  In verbose form a subtest's line waits for its
parent's line (memory: the subtests of parents still running); subtests whose
parent never appears are printed at the end.  Enumerated tests (``exists``) are
not runs and are not reported.  X is the span of the stream's timestamps, or the
wall-clock time of the run when the stream has none.  Problems are rendered as they
complete and kept until the end in a temporary file once they pass
:data:`SPOOL_SIZE`, so memory stays bounded however many tests fail.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import time
from typing import IO, Callable, Dict, List, Optional, Tuple

from .aggregate import INCOMPLETE, Aggregator, TestRecord
from .event import Event
from .result import StreamResult

__all__ = ["TextReport"]

_CHARS = {
    "success": ".",
    "fail": "F",
    "skip": "s",
    "xfail": "x",
    "uxsuccess": "u",
    INCOMPLETE: "E",
}
_WORDS = {
    "success": "ok",
    "fail": "FAIL",
    "skip": "skipped",
    "xfail": "expected failure",
    "uxsuccess": "unexpected success",
    INCOMPLETE: "INCOMPLETE (no final status)",
}
_PROBLEMS = {
    "fail": "FAIL",
    "uxsuccess": "UNEXPECTED SUCCESS",
    INCOMPLETE: "INCOMPLETE",
}
#: Bytes of rendered problems kept in memory before they go to a temporary file.
SPOOL_SIZE = 4 * 1024 * 1024
_RULE = "=" * 70
_THIN = "-" * 70
_TEXTUAL = ("text/", "application/json", "application/x-yaml")


def _text(content: bytes) -> str:
    return content.decode("utf-8", "replace")


class _Node:
    __slots__ = ("record", "children")

    def __init__(self, record: TestRecord) -> None:
        self.record = record
        self.children: List[_Node] = []


class TextReport(StreamResult):
    """Writes the report to the text stream ``out``; see the module docstring.

    After ``stopTestRun``: :attr:`counts` (status -> tests and subtests),
    :attr:`tests_run`, :attr:`subtests_run` and :meth:`wasSuccessful`.
    """

    def __init__(
        self,
        out: IO[str],
        *,
        verbose: bool = False,
        flush: bool = False,
        on_non_test: Optional[Callable[[Event], object]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.verbose = verbose
        self._flush = flush
        self._clock = clock
        self._aggregator = Aggregator(self._completed, on_non_test)
        self._reset()

    def _reset(self) -> None:
        self.counts: Dict[str, int] = {}
        self.tests_run = 0
        self.subtests_run = 0
        self._problems: Optional[IO[str]] = None  # rendered, spilled to disk if big
        self._waiting: Dict[Tuple[Optional[str], str], List[_Node]] = {}
        self._first: Optional[datetime.datetime] = None
        self._last: Optional[datetime.datetime] = None
        self._started = self._clock()
        self._column = 0

    # The result protocol.
    def startTestRun(self) -> None:
        self._reset()
        self._aggregator.startTestRun()

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
        if timestamp is not None:
            if self._first is None or timestamp < self._first:
                self._first = timestamp
            if self._last is None or timestamp > self._last:
                self._last = timestamp
        self._aggregator.status(
            test_id=test_id,
            test_status=test_status,
            test_tags=test_tags,
            runnable=runnable,
            file_name=file_name,
            file_bytes=file_bytes,
            eof=eof,
            mime_type=mime_type,
            route_code=route_code,
            timestamp=timestamp,
            parent_test_id=parent_test_id,
        )

    def stopTestRun(self) -> None:
        self._aggregator.stopTestRun()
        orphans = self._waiting
        self._waiting = {}
        for nodes in orphans.values():  # subtests whose parent never completed
            for node in nodes:
                self._print_tree(node, 0)
        if self._column or (not self.verbose and self.tests_run + self.subtests_run):
            self.out.write("\n")
            self._column = 0
        self._write_problems()
        self._write_summary()
        self.out.flush()

    def wasSuccessful(self) -> bool:
        """False when any test or subtest failed, succeeded unexpectedly or did
        not complete."""
        return not any(self.counts.get(status) for status in _PROBLEMS)

    # Progress.
    def _completed(self, record: TestRecord) -> None:
        if record.status == "exists":
            return
        status = record.status if record.status in _CHARS else INCOMPLETE
        record.status = status
        self.counts[status] = self.counts.get(status, 0) + 1
        if record.parent_test_id is None:
            self.tests_run += 1
        else:
            self.subtests_run += 1
        if status in _PROBLEMS:
            self._render_problem(record)
        if not self.verbose:
            if record.parent_test_id is None or status != "success":
                self._write_progress(_CHARS[status])
            return
        node = _Node(record)
        node.children = self._waiting.pop((record.route_code, record.test_id), [])
        if record.parent_test_id is not None:
            key = (record.route_code, record.parent_test_id)
            self._waiting.setdefault(key, []).append(node)
            return
        self._print_tree(node, 0)

    def _write_progress(self, char: str) -> None:
        self.out.write(char)
        self._column += 1
        if self._column >= 70:
            self.out.write("\n")
            self._column = 0
        if self._flush:
            self.out.flush()

    def _print_tree(self, node: _Node, depth: int) -> None:
        record = node.record
        word = _WORDS[record.status]
        if record.status == "skip":
            reason = record.attachments.get("reason")
            if reason is not None and reason.content:
                word = f"skipped {_text(reason.content).strip()!r}"
        self.out.write(f"{'  ' * depth}{record.test_id} ... {word}\n")
        for child in node.children:
            self._print_tree(child, depth + 1)
        if self._flush and not depth:
            self.out.flush()

    # The end.
    def _write_problems(self) -> None:
        problems, self._problems = self._problems, None
        if problems is not None:
            with problems:
                problems.seek(0)
                shutil.copyfileobj(problems, self.out)

    def _render_problem(self, record: TestRecord) -> None:
        if self._problems is None:
            self._problems = tempfile.SpooledTemporaryFile(
                SPOOL_SIZE, mode="w+", encoding="utf-8", errors="surrogateescape"
            )
        write = self._problems.write
        write(f"{_RULE}\n{_PROBLEMS[record.status]}: {record.test_id}\n")
        details = []
        if record.parent_test_id is not None:
            details.append(f"subtest of: {record.parent_test_id}")
        if record.route_code:
            details.append(f"route code: {record.route_code}")
        if details:
            write("  " + "; ".join(details) + "\n")
        write(f"{_THIN}\n")
        names = sorted(record.attachments, key=lambda name: name != "traceback")
        for name in names:
            attachment = record.attachments[name]
            mime = attachment.mime_type or "application/octet-stream"
            if name != "traceback":
                write(f"--- {name} ---\n")
            if mime.startswith(_TEXTUAL) or name == "traceback":
                text = _text(attachment.content)
                write(text if text.endswith("\n") or not text else text + "\n")
            else:
                write(f"({len(attachment.content)} bytes of {mime})\n")
        write("\n")

    def _elapsed(self) -> float:
        if self._first is not None and self._last is not None:
            return (self._last - self._first).total_seconds()
        return self._clock() - self._started

    def _write_summary(self) -> None:
        run = self.tests_run
        noun = "test" if run == 1 else "tests"
        extra = f" ({self.subtests_run} subtests)" if self.subtests_run else ""
        self.out.write(
            f"{_THIN}\nRan {run} {noun}{extra} in {self._elapsed():.3f}s\n\n"
        )
        parts = [
            f"{label}={self.counts[status]}"
            for status, label in (
                ("fail", "failures"),
                ("uxsuccess", "unexpected successes"),
                (INCOMPLETE, "incomplete"),
                ("skip", "skipped"),
                ("xfail", "expected failures"),
            )
            if self.counts.get(status)
        ]
        verdict = "OK" if self.wasSuccessful() else "FAILED"
        self.out.write(f"{verdict} ({', '.join(parts)})\n" if parts else f"{verdict}\n")
