"""subunit-trace's view: what a live run looks like in a terminal, and its summary.

Three parts, so each can be tested on its own:

* :class:`TraceModel` computes, from finished :class:`~subunit2.aggregate.TestRecord`
  values: counts per outcome, progress against the enumerated tests, per-worker
  balance, the slowest tests, tests that never finished, and the subtest tree (a
  subtest waits for its parent, then both are shown together).
* :class:`Styler` and the ``format_*`` functions turn records and the model into
  text lines, coloured or plain.
* :class:`Trace` is the result a stream is read into (by :func:`read_live`, in the
  decoder's batches): a :class:`Gatherer` turns events into records, and it writes
  lines as tests complete, keeps a progress line at the bottom of a terminal
  (redrawn at most ten times a second) and prints the summary at ``stopTestRun``.

Output is bytes (UTF-8), so non-subunit bytes in the input are passed through
exactly when the output is not a terminal; on a terminal they are shown dimmed.
Text that comes from the stream (test ids, attachments) has control characters
escaped, so a test cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import datetime
import heapq
import os
import re
import select
import time
from dataclasses import dataclass
from typing import (
    BinaryIO,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Set,
    Tuple,
)

from .aggregate import INCOMPLETE, Attachment, TestRecord
from .decoder import Decoder
from .event import Event, deliver_all
from .fileio import chunk_reader
from .result import BatchResult, as_target
from .status import FAILING_STATUSES, FINAL_STATUSES

__all__ = [
    "Gatherer",
    "OUTCOMES",
    "Styler",
    "Trace",
    "TraceModel",
    "WorkerStats",
    "attachment_text",
    "clean",
    "format_duration",
    "format_progress",
    "format_record",
    "format_summary",
    "is_failure",
    "read_live",
]

#: Outcomes in display order; ``inprogress`` is a test that never finished.
OUTCOMES: Tuple[str, ...] = (
    "success",
    "fail",
    "uxsuccess",
    "xfail",
    "skip",
    INCOMPLETE,
)

#: Each outcome's label on a test line and in the summary.
LABELS: Dict[str, str] = {
    "success": "PASS",
    "fail": "FAIL",
    "uxsuccess": "XPASS",
    "xfail": "XFAIL",
    "skip": "SKIP",
    INCOMPLETE: "INCOMPLETE",
}

NAMES: Dict[str, str] = {
    "success": "passed",
    "fail": "failed",
    "uxsuccess": "unexpected success",
    "xfail": "expected failure",
    "skip": "skipped",
    INCOMPLETE: "incomplete",
}

#: SGR colour per outcome (used only when colour is on).
COLOURS: Dict[str, str] = {
    "success": "32",
    "fail": "1;31",
    "uxsuccess": "1;31",
    "xfail": "33",
    "skip": "36",
    INCOMPLETE: "1;35",
}

#: Mime types other than text/* whose content is shown as text.
TEXT_MIME = ("application/json", "application/xml", "application/x-yaml")
#: File names taken for text when no mime type is given (valid UTF-8 only).
CONVENTIONAL_TEXT = frozenset({"stdout", "stderr", "traceback", "reason", "details"})

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]|\n")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    return f"\\x{ord(char):02x}"


def clean(text: str, *, multiline: bool = False) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\r``...).

    Tabs are kept; newlines are kept only when ``multiline`` is true.  This is what
    stops a test id or an attachment from driving the terminal.
    """
    if text.isprintable():
        return text
    pattern = _CONTROL if multiline else _CONTROL_NL
    if not pattern.search(text):
        return text
    return pattern.sub(_escape_char, text)


def is_failure(status: Optional[str]) -> bool:
    """True for outcomes that fail a run: fail, uxsuccess and incomplete."""
    return status in FAILING_STATUSES or status == INCOMPLETE


def attachment_text(name: str, attachment: Attachment) -> Optional[str]:
    """The attachment's content as text, or None when it is binary.

    Text is a ``text/*`` (or JSON/XML/YAML) mime type, or no mime type on a
    conventional name (stdout, stderr, traceback, reason, details) when the bytes
    are valid UTF-8.  Text is decoded with replacement of invalid bytes.
    """
    mime = (attachment.mime_type or "").strip().lower()
    if mime.startswith("text/") or mime.startswith(TEXT_MIME):
        return attachment.content.decode("utf-8", "replace")
    if not mime and name in CONVENTIONAL_TEXT:
        try:
            return attachment.content.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def format_duration(seconds: Optional[float]) -> str:
    """Seconds as a short fixed-width string: ``0.012s``, ``12.345s``, ``-``."""
    if seconds is None:
        return "-"
    if seconds < 100:
        return f"{seconds:.3f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


@dataclass
class WorkerStats:
    """What one worker (route code) did."""

    tests: int = 0
    #: Sum of the durations of its tests, in seconds.
    busy: float = 0.0
    first_start: Optional[datetime.datetime] = None
    last_stop: Optional[datetime.datetime] = None

    @property
    def span(self) -> Optional[float]:
        """Seconds from its first test's start to its last test's end."""
        if self.first_start is None or self.last_stop is None:
            return None
        return (self.last_stop - self.first_start).total_seconds()


class TraceModel:
    """The numbers behind the live view and the summary; no I/O.

    Feed it with :meth:`add` (one finished record each) and :meth:`finish`.
    :meth:`add` returns the records ready to display: a top-level test together
    with its subtests (depth-first, as ``(depth, record)``), or nothing while a
    subtest waits for its parent.  Subtests whose parent never came are released
    by :meth:`finish`.  Enumerated tests (``exists``) set the expected total.
    Subtests count in the outcome counts, as in :class:`~subunit2.summary.Summary`.
    """

    def __init__(self, slowest: int = 10, keep_attachments: bool = False) -> None:
        self.slowest_count = slowest
        self.keep_attachments = keep_attachments
        #: Tests per outcome (see :data:`OUTCOMES`).
        self.counts: Dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        #: Route code -> stats; ``None`` is a stream without route codes.
        self.workers: Dict[Optional[str], WorkerStats] = {}
        #: (route_code, test_id) of tests that never finished, in stream order.
        self.incomplete: List[Tuple[Optional[str], str]] = []
        self._enumerated: Set[str] = set()
        #: Tests enumerated (``exists``); 0 when the stream enumerated nothing.
        self.total = 0
        #: Enumerated tests that have run.
        self.done_enumerated = 0
        #: Tests that finished (any outcome but incomplete), subtests included.
        self.finished = 0
        # Earliest and latest timestamps of subtests (top-level tests' are in
        # their worker's stats).
        self._sub_first: Optional[datetime.datetime] = None
        self._sub_last: Optional[datetime.datetime] = None
        self._slow: List[Tuple[float, int, str, Optional[str]]] = []
        self._serial = 0
        self._waiting: Dict[str, List[TestRecord]] = {}

    # -- input ------------------------------------------------------------------
    def add(self, record: TestRecord) -> List[Tuple[int, TestRecord]]:
        """Account for one record; return what can be displayed now."""
        status = record.status
        if status == "exists":
            if record.test_id not in self._enumerated:
                self._enumerated.add(record.test_id)
                self.total += 1
            return []
        self._account(record)
        if not self.keep_attachments and not is_failure(status):
            if record.attachments and status != "skip":
                record.attachments = {}
        if record.parent_test_id is not None:
            self._waiting.setdefault(record.parent_test_id, []).append(record)
            return []
        if not self._waiting:
            return [(0, record)]
        out: List[Tuple[int, TestRecord]] = []
        self._walk(record, 0, out)
        return out

    def _walk(self, record: TestRecord, depth: int, out: list) -> None:
        out.append((depth, record))
        for child in self._waiting.pop(record.test_id, ()):
            self._walk(child, depth + 1, out)

    def _account(self, record: TestRecord) -> None:
        self.tally(
            record.test_id,
            record.route_code,
            record.status or INCOMPLETE,
            record.start_time,
            record.stop_time,
            record.parent_test_id,
        )

    def tally(
        self,
        test_id: str,
        route_code: Optional[str],
        status: str,
        start: Optional[datetime.datetime],
        stop: Optional[datetime.datetime],
        parent_test_id: Optional[str] = None,
    ) -> Optional[float]:
        """Count one finished (or incomplete) test; return its duration in
        seconds, or None without timestamps.  :meth:`add` calls this; a caller
        that displays a plain top-level test itself may call it directly."""
        counts = self.counts
        if status in counts:
            counts[status] += 1
        if status == INCOMPLETE:
            self.incomplete.append((route_code, test_id))
        else:
            self.finished += 1
            if self._enumerated and test_id in self._enumerated:
                self._enumerated.discard(test_id)
                self.done_enumerated += 1
        seconds = None if start is None else (stop - start).total_seconds()
        if parent_test_id is not None:
            # A subtest's time is part of its parent's, not its worker's.
            if start is not None:
                if self._sub_first is None or start < self._sub_first:
                    self._sub_first = start
                if self._sub_last is None or stop > self._sub_last:
                    self._sub_last = stop
            return seconds
        worker = self.workers.get(route_code)
        if worker is None:
            worker = self.workers[route_code] = WorkerStats()
        worker.tests += 1
        if seconds is None:
            return None
        worker.busy += seconds
        if worker.first_start is None or start < worker.first_start:
            worker.first_start = start
        if worker.last_stop is None or stop > worker.last_stop:
            worker.last_stop = stop
        if status != INCOMPLETE and self.slowest_count > 0:
            slow = self._slow
            if len(slow) < self.slowest_count:
                self._serial += 1
                heapq.heappush(slow, (seconds, -self._serial, test_id, route_code))
            elif seconds > slow[0][0]:
                self._serial += 1
                heapq.heapreplace(slow, (seconds, -self._serial, test_id, route_code))
        return seconds

    def finish(self) -> List[Tuple[int, TestRecord]]:
        """Release subtests whose parent never appeared (as top-level trees)."""
        out: List[Tuple[int, TestRecord]] = []
        while self._waiting:
            parent = next(iter(self._waiting))
            for child in self._waiting.pop(parent):
                self._walk(child, 0, out)
        return out

    # -- answers ----------------------------------------------------------------
    @property
    def not_run(self) -> List[str]:
        """Enumerated tests that never ran (meaningful once the stream ended)."""
        return sorted(self._enumerated)

    @property
    def slowest(self) -> List[Tuple[float, str, Optional[str]]]:
        """(seconds, test_id, route_code) of the slowest top-level tests."""
        ordered = sorted(self._slow, reverse=True)
        return [(seconds, test_id, route) for seconds, _, test_id, route in ordered]

    @property
    def failures(self) -> int:
        """Failed, unexpectedly successful and incomplete tests."""
        return self.counts["fail"] + self.counts["uxsuccess"] + self.counts[INCOMPLETE]

    @property
    def successful(self) -> bool:
        """The run's verdict, as :class:`~subunit2.summary.Summary` gives it."""
        return self.failures == 0

    @property
    def wall_time(self) -> Optional[float]:
        """Seconds between the earliest and latest test timestamps, if any."""
        first, last = self.first_timestamp, self.last_timestamp
        if first is None or last is None:
            return None
        return (last - first).total_seconds()

    @property
    def first_timestamp(self) -> Optional[datetime.datetime]:
        """The earliest timestamp of any test, or None."""
        times = [w.first_start for w in self.workers.values() if w.first_start]
        if self._sub_first is not None:
            times.append(self._sub_first)
        return min(times, default=None)

    @property
    def last_timestamp(self) -> Optional[datetime.datetime]:
        """The latest timestamp of any test, or None."""
        times = [w.last_stop for w in self.workers.values() if w.last_stop]
        if self._sub_last is not None:
            times.append(self._sub_last)
        return max(times, default=None)


class Styler:
    """Wraps text in SGR escape codes when colour is on, else leaves it."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self._heads: Dict[Tuple[str, Optional[str]], str] = {}

    def __call__(self, text: str, sgr: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{sgr}m{text}\x1b[0m"

    def head(self, status: str, route_code: Optional[str]) -> str:
        """The start of a test line: padded outcome label and worker (cached)."""
        key = (status, route_code)
        text = self._heads.get(key)
        if text is None:
            label = LABELS.get(status, status)
            text = (
                self.outcome(status, label)
                + " " * max(0, 5 - len(label))
                + " "
                + self(f"[{_worker_label(route_code)}]", "2")
            )
            if len(self._heads) < 1024:
                self._heads[key] = text
        return text

    def outcome(self, status: str, text: Optional[str] = None) -> str:
        """``text`` (default: the outcome's label) in the outcome's colour."""
        label = LABELS.get(status, status) if text is None else text
        return self(label, COLOURS.get(status, "0"))


def _worker_label(route_code: Optional[str]) -> str:
    return "-" if route_code is None else clean(route_code)


def format_record(
    record: TestRecord,
    depth: int,
    style: Styler,
    *,
    attachments: bool,
) -> List[str]:
    """The line of one test, then (when ``attachments``) its attachments.

    A subtest is indented under its parent, its name shortened when it starts
    with the parent's id.  A skip shows the first line of its reason.
    """
    status = record.status or INCOMPLETE
    duration = record.duration
    took = format_duration(None if duration is None else duration.total_seconds())
    name = record.test_id
    indent = ""
    if depth:
        parent = record.parent_test_id
        if parent and name.startswith(parent) and len(name) > len(parent):
            name = name[len(parent) :].lstrip()
        indent = "    " * depth
    line = f"{style.head(status, record.route_code)} {took:>8}  {indent}{clean(name)}"
    if status == "skip":
        reason = record.attachments.get("reason")
        if reason is not None:
            text = attachment_text("reason", reason)
            first = text.strip().splitlines()[0] if text and text.strip() else ""
            if first:
                line += style(f"  ({clean(first)})", "2")
    lines = [line]
    if attachments:
        lines += format_attachments(record.attachments, depth, style, status=status)
    return lines


def format_attachments(
    attachments: Dict[str, Attachment], depth: int, style: Styler, *, status: str
) -> List[str]:
    """The lines showing a test's attachments: text in full, binary summarised.

    A skip's ``reason`` is left out (its test line shows it).
    """
    lines: List[str] = []
    pad = " " * 16 + "    " * depth
    for file_name, attachment in attachments.items():
        if status == "skip" and file_name == "reason":
            continue
        text = attachment_text(file_name, attachment)
        if text is None:
            mime = attachment.mime_type or "application/octet-stream"
            lines.append(
                pad
                + style(
                    f"{clean(file_name)}: <{len(attachment.content)} bytes,"
                    f" {clean(mime)}>",
                    "2",
                )
            )
            continue
        lines.append(pad + style(f"{clean(file_name)}:", "2"))
        body = clean(text.rstrip("\n"), multiline=True)
        lines.append(f"{pad}  " + body.replace("\n", f"\n{pad}  "))
    return lines


def format_progress(
    model: TraceModel, elapsed: float, width: int, style: Styler
) -> str:
    """The progress line: bar and counts when the total is known, then times."""
    counts = model.counts
    parts = []
    for status in OUTCOMES:
        if counts[status]:
            parts.append(
                style.outcome(status, f"{LABELS[status].lower()} {counts[status]}")
            )
    tally = " ".join(parts)
    plain_tally_len = len(_strip_sgr(tally))
    times = _clock(elapsed)
    if model.total:
        done = model.done_enumerated
        fraction = min(1.0, done / model.total)
        if 0 < done < model.total:
            left = elapsed / done * (model.total - done)
            times += f" ~{_clock(left)} left"
        head = f"{done}/{model.total} {fraction * 100:3.0f}%"
        room = width - len(head) - len(times) - plain_tally_len - 6
        bar = ""
        if room >= 10:
            size = min(40, room)
            filled = int(size * fraction)
            bar = "[" + "#" * filled + "." * (size - filled) + "] "
        line = f"{bar}{head} {tally} {times}"
    else:
        line = f"{model.finished} done {tally} {times}"
    if len(_strip_sgr(line)) >= width:  # too narrow: the essentials only
        head = f"{model.done_enumerated}/{model.total}" if model.total else ""
        line = f"{head or model.finished} {times}"[: max(1, width - 1)]
    return line


_SGR = re.compile("\x1b\\[[0-9;]*m")


def _strip_sgr(text: str) -> str:
    return _SGR.sub("", text)


def format_summary(
    model: TraceModel,
    style: Styler,
    *,
    elapsed: Optional[float] = None,
    slowest: int = 10,
) -> List[str]:
    """The end-of-run summary: counts, wall time, workers, slowest, unfinished."""
    lines = ["", style("Summary", "1")]
    counts = model.counts
    ran = sum(counts.values())
    wall = model.wall_time
    timing = ""
    if wall is not None:
        timing = f" in {format_duration(wall)} (stream timestamps)"
    elif elapsed is not None:
        timing = f" in {format_duration(elapsed)} (watched)"
    lines.append(f"  Ran {ran} tests{timing}")
    for status in OUTCOMES:
        if counts[status] or status in ("success", "fail"):
            name = style.outcome(status, f"{NAMES[status]:<20}")
            lines.append(f"    {name}{counts[status]:>8}")
    not_run = model.not_run
    if not_run:
        lines.append(f"    {'enumerated, not run':<20}{len(not_run):>8}")
    if model.workers and (len(model.workers) > 1 or None not in model.workers):
        lines.append("")
        lines.append(style("Workers", "1"))
        busiest = max((w.busy for w in model.workers.values()), default=0.0)
        for route in sorted(model.workers, key=lambda r: (r is None, r or "")):
            worker = model.workers[route]
            share = f"{worker.busy / busiest * 100:5.1f}%" if busiest > 0 else "    -"
            span = worker.span
            spanned = f", spanning {format_duration(span)}" if span is not None else ""
            lines.append(
                f"  [{_worker_label(route)}] {worker.tests:>7} tests,"
                f" busy {format_duration(worker.busy)} ({share} of busiest){spanned}"
            )
    top = model.slowest[:slowest]
    if top:
        lines.append("")
        lines.append(style(f"Slowest {len(top)} tests", "1"))
        for seconds, test_id, route in top:
            lines.append(
                f"  {format_duration(seconds):>8}  [{_worker_label(route)}]"
                f" {clean(test_id)}"
            )
    if model.incomplete:
        lines.append("")
        lines.append(
            style(f"Never finished ({len(model.incomplete)})", COLOURS[INCOMPLETE])
        )
        for route, test_id in model.incomplete:
            lines.append(f"  [{_worker_label(route)}] {clean(test_id)}")
    if not_run and len(not_run) <= 20:
        lines.append("")
        lines.append(style(f"Enumerated but not run ({len(not_run)})", "1"))
        lines.extend(f"  {clean(test_id)}" for test_id in not_run)
    lines.append("")
    if model.successful:
        lines.append(style("PASSED", "1;32"))
    else:
        lines.append(style(f"FAILED ({model.failures} failing)", "1;31"))
    return lines


#: Least seconds between two redraws of the progress line.
REDRAW_INTERVAL = 0.1
_CLEAR_LINE = b"\r\x1b[K"
_DIM = b"\x1b[2m"
_RESET = b"\x1b[0m"


class Gatherer:
    """Gathers a test's events into a :class:`~subunit2.aggregate.TestRecord`,
    from batches of :class:`~subunit2.event.Event` tuples.

    The same rules as :class:`~subunit2.aggregate.Aggregator` for what the views
    use (timestamps, parent id, attachments, final status; tags and runnable are
    not kept), but it takes the decoder's lists directly instead of one
    ``status()`` call per event: the views must keep up with a fast pipe.
    ``on_record`` gets each finished record; ``on_non_test`` each event without
    a test id.  :meth:`flush` hands over the tests that never finished, in the
    order of their first event, with status ``inprogress``.  A caller that wants
    the raw parts instead of a record (to skip building one) gives ``on_final``:
    it gets ``(key, status, item)`` and may call :func:`make_record` itself.
    """

    def __init__(
        self,
        on_record: Optional[Callable[[TestRecord], object]],
        on_non_test: Callable[[Event], object],
        on_final: Optional[Callable[[tuple, str, list], object]] = None,
    ) -> None:
        self.on_non_test = on_non_test
        if on_final is None:
            assert on_record is not None

            def on_final(key: tuple, status: str, item: list) -> None:
                on_record(make_record(key, status, item))

        self.on_final = on_final
        # (route_code, test_id) -> [start, stop, parent, {name: [mime, chunks, eof]}]
        self._open: Dict[Tuple[Optional[str], str], list] = {}

    def reset(self) -> None:
        self._open.clear()

    def consume(self, events: Iterable[Event]) -> None:
        """Take one batch of events, in stream order."""
        pending = self._open
        get = pending.get
        final = FINAL_STATUSES
        on_final = self.on_final
        for event in events:
            (
                test_id,
                status,
                _tags,
                _runnable,
                file_name,
                file_bytes,
                eof,
                mime_type,
                route_code,
                stamp,
                parent,
            ) = event
            if test_id is None:
                self.on_non_test(event)
                continue
            key = (route_code, test_id)
            item = get(key)
            if item is None:
                item = pending[key] = [stamp, stamp, parent, None]
            else:
                if stamp is not None:
                    if item[0] is None:
                        item[0] = stamp
                    item[1] = stamp
                if parent is not None:
                    item[2] = parent
            if file_name is not None:
                files = item[3]
                if files is None:
                    files = item[3] = {}
                entry = files.get(file_name)
                if entry is None:
                    entry = files[file_name] = [mime_type, [], False]
                elif entry[0] is None:
                    entry[0] = mime_type
                if file_bytes:
                    entry[1].append(bytes(file_bytes))
                if eof:
                    entry[2] = True
            if status in final:
                del pending[key]
                on_final(key, status, item)

    def flush(self) -> None:
        """Hand over the tests still open as incomplete records."""
        items = list(self._open.items())
        self._open.clear()
        for key, item in items:
            self.on_final(key, INCOMPLETE, item)


def make_record(key: tuple, status: str, item: list) -> TestRecord:
    """The :class:`TestRecord` of a :class:`Gatherer`'s ``(key, status, item)``."""
    attachments: Dict[str, Attachment] = {}
    if item[3]:
        for name, (mime, chunks, eof) in item[3].items():
            attachments[name] = Attachment(mime, b"".join(chunks), eof)
    return TestRecord(
        key[1],
        key[0],
        status,
        parent_test_id=item[2],
        start_time=item[0],
        stop_time=item[1],
        attachments=attachments,
    )


class Trace(BatchResult):
    """The live view as a result: read a stream into it, get lines and a summary.

    ``out`` is a binary stream.  ``terminal`` turns on the progress line and the
    buffered redraws (at most every :data:`REDRAW_INTERVAL` seconds); ``colour``
    the SGR codes.  ``failures_only`` shows only failing tests (and the parents
    they hang under); ``all_attachments`` shows every test's attachments instead
    of the failures' only; ``flush`` flushes ``out`` after every batch of
    input (a pipe).  On a terminal, lines are written with each redraw, so a
    caller other than :func:`read_live` should call :meth:`tick` while the input
    is quiet.
    """

    def __init__(
        self,
        out: BinaryIO,
        *,
        colour: bool = False,
        terminal: bool = False,
        failures_only: bool = False,
        all_attachments: bool = False,
        flush: bool = False,
        slowest: int = 10,
        clock: Callable[[], float] = time.monotonic,
        width: Optional[Callable[[], int]] = None,
    ) -> None:
        self.out = out
        self.style = Styler(colour)
        self.terminal = terminal
        self.failures_only = failures_only
        self.all_attachments = all_attachments
        self.flush = flush
        self.slowest = slowest
        self.clock = clock
        self.width = width or _terminal_width
        self.model = TraceModel(slowest=slowest, keep_attachments=all_attachments)
        self._gatherer = Gatherer(None, self._non_test, self._final)
        self._heads = self.style._heads
        self._gather = self._gatherer.consume
        self._pending: List[bytes] = []
        self._text: List[str] = []  # plain test lines, encoded together
        self._last_draw = float("-inf")
        self._bar_shown = False
        self._started = clock()
        self._open_line = False  # passthrough bytes left a line unterminated

    # -- the result protocol ----------------------------------------------------
    def startTestRun(self) -> None:
        self._started = self.clock()
        self._gatherer.reset()

    def stopTestRun(self) -> None:
        self._gatherer.flush()
        for depth, record in self.model.finish():
            self._show(depth, record)
        elapsed = self.clock() - self._started
        lines = format_summary(
            self.model, self.style, elapsed=elapsed, slowest=self.slowest
        )
        self._emit(("\n".join(lines) + "\n").encode("utf-8"))
        self._draw(force=True, final=True)

    def consume(self, events: Iterable[Event]) -> None:
        """Take one batch of events (what :func:`read_live` calls)."""
        self._gather(events)
        if self.terminal:
            self.tick()
        elif self._text or self._pending:
            self._write_pending()
            if self.flush:
                self.out.flush()

    # -- input --------------------------------------------------------------------
    def _final(self, key: tuple, status: str, item: list) -> None:
        """A test ended; the common case (a top-level test with no attachments and
        nothing waiting on it) is formatted here without building a record."""
        model = self.model
        files = item[3]
        if (
            item[2] is None
            and status != "exists"
            and (files is None or status != "skip")
            and not model._waiting
        ):
            route, test_id = key
            seconds = model.tally(test_id, route, status, item[0], item[1])
            if self.failures_only and not is_failure(status):
                return
            head = self._heads.get((status, route))
            if head is None:
                head = self.style.head(status, route)
            if test_id.isprintable():
                name = test_id
            else:
                name = clean(test_id)
            if seconds is None:
                line = f"{head}        -  {name}\n"
            elif seconds < 100:
                line = f"{head} {seconds:7.3f}s  {name}\n"
            else:
                line = f"{head} {format_duration(seconds):>8}  {name}\n"
            if self._open_line:
                line = "\n" + line
                self._open_line = False
            self._text.append(line)
            if files is not None and (self.all_attachments or is_failure(status)):
                shown = {
                    name: Attachment(mime, b"".join(chunks), eof)
                    for name, (mime, chunks, eof) in files.items()
                }
                lines = format_attachments(shown, 0, self.style, status=status)
                self._text.append("\n".join(lines) + "\n")
            return
        self._record(make_record(key, status, item))

    def _record(self, record: TestRecord) -> None:
        shown = self.model.add(record)
        if self.failures_only:
            shown = _failing_subtrees(shown)
        for depth, item in shown:
            self._show(depth, item)

    def _show(self, depth: int, record: TestRecord) -> None:
        attachments = self.all_attachments or is_failure(record.status)
        lines = format_record(record, depth, self.style, attachments=attachments)
        self._emit(("\n".join(lines) + "\n").encode("utf-8"))

    def _non_test(self, event: Event) -> None:
        data = event.file_bytes
        if not data:
            return
        self._seal()
        if self.terminal:
            # Shown dimmed; a partial line is ended before the next redraw.
            self._pending.append(_DIM + bytes(data) + _RESET)
        else:
            self._pending.append(bytes(data))  # passed through exactly
        self._open_line = not data.endswith(b"\n")

    # -- output -------------------------------------------------------------------
    def _emit(self, data: bytes) -> None:
        if self._open_line:
            data = b"\n" + data
            self._open_line = False
        self._seal()
        self._pending.append(data)

    def _seal(self) -> None:
        """Move the plain test lines into the byte buffer, in order."""
        if self._text:
            self._pending.append("".join(self._text).encode("utf-8"))
            self._text.clear()

    def _write_pending(self) -> None:
        self._seal()
        self.out.write(b"".join(self._pending))
        self._pending.clear()

    def tick(self) -> None:
        """Redraw the progress line if it is due (terminal only)."""
        if self.terminal and self.clock() - self._last_draw >= REDRAW_INTERVAL:
            self._draw()

    def _draw(self, force: bool = False, final: bool = False) -> None:
        if not self.terminal:
            if self._pending or self._text:
                self._write_pending()
            return
        now = self.clock()
        parts = []
        if self._bar_shown:
            parts.append(_CLEAR_LINE)
        self._seal()
        parts.extend(self._pending)
        self._pending.clear()
        if self._open_line:
            parts.append(b"\n")
            self._open_line = False
        if not final:
            width = max(20, self.width())
            line = format_progress(self.model, now - self._started, width, self.style)
            parts.append(line.encode("utf-8"))
            self._bar_shown = True
        else:
            self._bar_shown = False
        self._last_draw = now
        self.out.write(b"".join(parts))
        self.out.flush()

    def clear(self) -> None:
        """Remove the progress line and write anything pending (on interrupt)."""
        if self.terminal:
            self._draw(force=True, final=True)
        elif self._pending or self._text:
            self._write_pending()


def _terminal_width() -> int:
    import shutil  # only on a terminal: it pulls in the compression modules

    return shutil.get_terminal_size((80, 24)).columns


def _failing_subtrees(
    items: List[Tuple[int, TestRecord]],
) -> List[Tuple[int, TestRecord]]:
    """Only failing records, and the ancestors they are shown under."""
    keep = [False] * len(items)
    for index, (depth, record) in enumerate(items):
        if not is_failure(record.status):
            continue
        keep[index] = True
        want = depth - 1
        for back in range(index - 1, -1, -1):  # mark the ancestors
            if want < 0:
                break
            if items[back][0] == want:
                keep[back] = True
                want -= 1
    return [item for item, wanted in zip(items, keep) if wanted]


def read_live(
    source,
    result,
    *,
    tick: Optional[Callable[[], None]] = None,
    interval: float = REDRAW_INTERVAL,
    read_size: int = 65536,
) -> None:
    """Decode ``source`` into ``result`` like :func:`~subunit2.reader.read_stream`,
    calling ``tick()`` whenever no input came for ``interval`` seconds.

    A result with a ``consume(events)`` method gets the decoder's batches of
    events; any other result gets ``status()`` calls.

    With a ``tick`` and a source that has a file descriptor, the descriptor is
    read directly (nothing else may have read from it), so the elapsed time keeps
    moving while a test runs silently.
    """
    consume = getattr(result, "consume", None)
    if consume is None:
        target = as_target(result)

        def consume(events: List[Event]) -> None:
            deliver_all(events, target)

    decoder = Decoder()
    fd = None
    if tick is not None:
        raw = getattr(source, "buffer", source)
        try:
            fd = raw.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
    if fd is None:
        read = chunk_reader(source)
    while True:
        if fd is not None:
            ready, _, _ = select.select([fd], [], [], interval)
            if not ready:
                tick()
                continue
            try:
                data = os.read(fd, read_size)
            except BlockingIOError:
                continue
        else:
            data = read(read_size)
        if not data:
            break
        events = decoder.feed(data)
        if events:
            consume(events)
    events = decoder.close()
    if events:
        consume(events)
