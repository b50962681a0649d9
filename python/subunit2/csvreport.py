"""CsvWriter: one CSV row per completed test, written as each test completes.

Columns (the header row names them)::

    test_id, status, start_time, stop_time, duration, route_code, parent_test_id

Times are ISO 8601 in UTC (``2024-01-02T03:04:05.123456Z``), the first and last
timestamps seen for the test; ``duration`` is stop minus start in seconds with six
decimals.  Columns with nothing to say are empty.  Quoting is the ``csv`` module's
minimal quoting, so ids holding commas, quotes or line breaks survive a round trip.

Memory is bounded by the tests in flight: a test's three small values are kept only
until its final status.  Tests still open at ``stopTestRun`` get a row with status
``inprogress`` (they did not complete; never reported as a pass).  ``exists`` events
(an enumeration: listed, not run) get rows of their own only with
``include_exists=True``.
Attachments are not rendered; events without a test id (non-subunit data) go to the
optional ``on_non_test`` callback.

Speed: besides ``status()``, :meth:`CsvWriter.feed` takes the decoder's
:class:`~subunit2.event.Event` lists directly, skipping a method call per event.
"""

from __future__ import annotations

import csv
import datetime
from typing import IO, Callable, Dict, Iterable, List, Optional, Tuple

from .event import Event
from .result import BatchResult

__all__ = ["HEADER", "CsvWriter", "format_time", "time_formatter", "write_csv"]

#: The header row.
HEADER = (
    "test_id",
    "status",
    "start_time",
    "stop_time",
    "duration",
    "route_code",
    "parent_test_id",
)

_UTC = datetime.timezone.utc
_SECOND = datetime.timedelta(seconds=1)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_PATTERN = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
_COMMAS = len(HEADER) - 1  # in a row's line when no field holds one
_FINAL_RUN = frozenset({"success", "uxsuccess", "skip", "fail", "xfail"})


def format_time(when: Optional[datetime.datetime]) -> str:
    """``when`` as ISO 8601 UTC with microseconds and ``Z``; ``""`` for None.

    A naive datetime is taken to be UTC already.
    """
    if when is None:
        return ""
    if when.tzinfo is not None and when.tzinfo is not _UTC:
        when = when.astimezone(_UTC)
    return _PATTERN % (
        when.year,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
        when.microsecond,
    )


def time_formatter() -> Callable[[datetime.datetime], str]:
    """A :func:`format_time` for non-None times that remembers the last whole second
    it formatted: a stream's timestamps come many to a second, so most calls only
    format the microseconds."""
    low: Optional[datetime.datetime] = None
    high: Optional[datetime.datetime] = None
    prefix = ""

    def stamp(when: datetime.datetime) -> str:
        nonlocal low, high, prefix
        if when.tzinfo is not _UTC:
            return format_time(when)
        if low is None or not low <= when < high:
            low = when.replace(microsecond=0)
            high = low + _SECOND
            prefix = _PATTERN[:-5] % (
                when.year,
                when.month,
                when.day,
                when.hour,
                when.minute,
                when.second,
            )
        return f"{prefix}{when.microsecond:06d}Z"

    return stamp


def _second_of(
    when: datetime.datetime,
) -> Tuple[datetime.datetime, datetime.datetime, str]:
    """The whole second holding the UTC time ``when``: its start, the next second's
    start, and the formatted text up to the microseconds."""
    low = when.replace(microsecond=0)
    prefix = _PATTERN[:-5] % (
        when.year,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
    )
    return low, low + _SECOND, prefix


def _duration(start, stop) -> str:
    if start is None or stop is None:
        return ""
    if (start.tzinfo is None) != (stop.tzinfo is None):  # mixed: take naive as UTC
        start, stop = (t if t.tzinfo else t.replace(tzinfo=_UTC) for t in (start, stop))
    return f"{(stop - start).total_seconds():.6f}"


class CsvWriter(BatchResult):
    """Writes a CSV row to the text stream ``out`` per completed test.

    ``flush=True`` flushes after each batch of rows (for live consumers).  See the
    module docstring for the columns and which tests get rows.
    """

    def __init__(
        self,
        out: IO[str],
        *,
        include_exists: bool = False,
        flush: bool = False,
        on_non_test: Optional[Callable[[Event], object]] = None,
    ) -> None:
        self._out = out
        self._write = out.write
        self._writerows = csv.writer(out, lineterminator="\n").writerows
        self._flush = out.flush if flush else None
        # The last whole second formatted, as time_formatter() keeps it: [low, high)
        # and its text.  Empty to begin with.
        self._second = (_EPOCH, _EPOCH, "")
        self.include_exists = include_exists
        self.on_non_test = on_non_test
        # (route_code, test_id) -> [start, stop, parent]
        self._open: Dict[Tuple[Optional[str], str], List] = {}
        #: Rows written, header excluded.
        self.rows = 0

    def startTestRun(self) -> None:
        self._open.clear()
        self._writerows((HEADER,))

    def stopTestRun(self) -> None:
        pending = self._open
        self._open = {}
        rows = [
            (
                test_id,
                "inprogress",
                format_time(start),
                format_time(stop),
                _duration(start, stop),
                route_code or "",
                parent or "",
            )
            for (route_code, test_id), (start, stop, parent) in pending.items()
        ]
        self._emit(rows)
        self._out.flush()

    def _emit(self, rows: list) -> None:
        if rows:
            self._write_rows(rows)
            self.rows += len(rows)
            if self._flush is not None:
                self._flush()

    def _write_rows(self, rows: list) -> None:
        """Write ``rows`` exactly as the ``csv`` writer would.

        A row none of whose fields holds a comma, a quote or a character that is not
        printable (line breaks included) needs no quoting, so its line is the fields
        joined by commas: written that way directly, as the csv writer tests each
        character of each field with a call of its own (most of the time rows took
        to write).  Any other row (or one with a non-string field) goes through the
        csv writer, in order.
        """
        lines: List[str] = []
        add = lines.append
        for row in rows:
            try:
                line = ",".join(row)
            except TypeError:  # a field that is not a string: the writer formats it
                line = '"'
            if line.count(",") == _COMMAS and '"' not in line and line.isprintable():
                add(line)
                continue
            if lines:
                add("")
                self._write("\n".join(lines))
                lines.clear()
            self._writerows((row,))
        if lines:
            add("")
            self._write("\n".join(lines))

    def consume(self, events: Iterable[Event]) -> None:
        """Take events in stream order (as ``status()`` would, one by one)."""
        open_tests = self._open
        pop = open_tests.pop
        get = open_tests.get
        final = _FINAL_RUN
        utc = _UTC
        low, high, prefix = self._second
        rows = []
        append = rows.append
        for event in events:
            test_id = event[0]
            if test_id is None:
                if self.on_non_test is not None:
                    self._emit(rows)
                    rows = []
                    append = rows.append
                    self.on_non_test(event)
                continue
            status = event[1]
            route_code = event[8]
            timestamp = event[9]
            key = (route_code, test_id)
            if status in final or (status == "exists" and key in open_tests):
                state = pop(key, None)
                parent = event[10]
                if state is None:
                    start = stop = timestamp
                else:
                    start, stop, held = state
                    if timestamp is not None:
                        stop = timestamp
                        if start is None:
                            start = timestamp
                    if parent is None:
                        parent = held
                if start is None:
                    append(
                        (test_id, status, "", "", "", route_code or "", parent or "")
                    )
                    continue
                # Formatted as time_formatter() does, inline: rows come fast.
                if start.tzinfo is not utc:
                    begun = format_time(start)
                else:
                    if not low <= start < high:
                        low, high, prefix = _second_of(start)
                    begun = f"{prefix}{start.microsecond:06d}Z"
                if stop.tzinfo is not utc:
                    ended = format_time(stop)
                else:
                    if not low <= stop < high:
                        low, high, prefix = _second_of(stop)
                    ended = f"{prefix}{stop.microsecond:06d}Z"
                append(
                    (
                        test_id,
                        status,
                        begun,
                        ended,
                        f"{(stop - start).total_seconds():.6f}",
                        route_code or "",
                        parent or "",
                    )
                )
            elif status == "exists":
                if self.include_exists:
                    row = (
                        test_id,
                        status,
                        "",
                        "",
                        "",
                        route_code or "",
                        event[10] or "",
                    )
                    append(row)
            else:
                state = get(key)
                if state is None:
                    open_tests[key] = [timestamp, timestamp, event[10]]
                    continue
                if timestamp is not None:
                    state[1] = timestamp
                    if state[0] is None:
                        state[0] = timestamp
                if event[10] is not None:
                    state[2] = event[10]
        self._second = (low, high, prefix)
        self._emit(rows)


def write_csv(source, writer: CsvWriter, read_size: int = 65536) -> None:
    """Decode the binary stream ``source`` straight into ``writer.consume``."""
    from .batches import feed_batches

    feed_batches(source, writer.consume, read_size=read_size)
