"""Aggregator: gather a test's scattered events into one :class:`TestRecord`.

A stream spreads one test over many events (inprogress, attachment chunks, the final
status), interleaved with other tests on other route codes.  Reporters (JUnit XML,
a failure list, a timing database) want one record per test; this builds it.

* Events are gathered per (route_code, test_id).  When a final status arrives the
  record is handed to the callback and forgotten, so memory is bounded by the tests
  in flight.  ``exists`` is final on its own (an enumerated test); if the same test
  later runs, that is a new record.
* At ``stopTestRun`` tests with no final status are handed over too, in the order of
  their first event, with status ``"inprogress"`` (never a final status, so
  :attr:`TestRecord.complete` is False), whatever their last interim status was.
* Tags: the latest set seen wins (``None`` means no change).  ``parent_test_id``:
  the latest one given wins.  ``runnable``: False if any event said False (True is
  the default and says nothing).  Start and stop times: the first and last
  timestamps seen, in arrival order.
* Attachments: chunks of the same file name are concatenated in arrival order.  The
  mime type is the first one given for that file; ``eof`` is True once a chunk said
  so.
* Events without a test id (non-subunit data) are not part of any test; they go, as
  :class:`~subunit2.event.Event` values, to the optional ``on_non_test`` callback,
  and are dropped when there is none.

As in :mod:`subunit2.summary`, an event that arrives after its test's final status
starts a new record, which ends up incomplete unless another final status follows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import AbstractSet, Callable, Dict, FrozenSet, List, Optional, Tuple

from .event import Event
from .result import StreamResult
from .status import FINAL_STATUSES

__all__ = ["Aggregator", "Attachment", "TestRecord", "INCOMPLETE"]

#: The status given to records flushed at ``stopTestRun`` without a final status.
INCOMPLETE = "inprogress"


@dataclass
class Attachment:
    """One file attached to a test: its chunks joined, in arrival order."""

    mime_type: Optional[str] = None
    content: bytes = b""
    eof: bool = False


@dataclass
class TestRecord:
    """Everything a stream said about one test run, in one value."""

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    route_code: Optional[str] = None
    #: The final status; ``"inprogress"`` for a test that never completed.
    status: Optional[str] = None
    tags: Optional[FrozenSet[str]] = None
    runnable: bool = True
    parent_test_id: Optional[str] = None
    #: First and last timestamps seen for the test, in arrival order.
    start_time: Optional[datetime.datetime] = None
    stop_time: Optional[datetime.datetime] = None
    #: file name -> Attachment, in order of each file's first chunk.
    attachments: Dict[str, Attachment] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when the test reached a final status."""
        return self.status in FINAL_STATUSES

    @property
    def duration(self) -> Optional[datetime.timedelta]:
        """Stop minus start time, or None without timestamps."""
        if self.start_time is None or self.stop_time is None:
            return None
        return self.stop_time - self.start_time


class _Pending:
    """A record being gathered; chunks stay in lists until the record is done."""

    __slots__ = ("record", "chunks")

    def __init__(self, record: TestRecord) -> None:
        self.record = record
        self.chunks: Dict[str, List[bytes]] = {}

    def finish(self, status: Optional[str]) -> TestRecord:
        record = self.record
        record.status = status
        for name, chunks in self.chunks.items():
            record.attachments[name].content = b"".join(chunks)
        return record


class Aggregator(StreamResult):
    """Calls ``callback(record)`` with one :class:`TestRecord` per test run.

    See the module docstring for how events become records.  ``startTestRun``
    discards anything gathered and not yet handed over.
    """

    def __init__(
        self,
        callback: Callable[[TestRecord], object],
        on_non_test: Optional[Callable[[Event], object]] = None,
    ) -> None:
        self.callback = callback
        self.on_non_test = on_non_test
        self._pending: Dict[Tuple[Optional[str], str], _Pending] = {}

    @property
    def pending(self) -> List[Tuple[Optional[str], str]]:
        """(route_code, test_id) of the records still being gathered."""
        return list(self._pending)

    def startTestRun(self) -> None:
        self._pending.clear()

    def stopTestRun(self) -> None:
        pending = list(self._pending.values())
        self._pending.clear()
        for item in pending:
            self.callback(item.finish(INCOMPLETE))

    def status(
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
    ) -> None:
        if test_id is None:
            if self.on_non_test is not None:
                self.on_non_test(
                    Event(
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
            return
        key = (route_code, test_id)
        item = self._pending.get(key)
        if item is None:
            item = self._pending[key] = _Pending(TestRecord(test_id, route_code))
        record = item.record
        if test_tags is not None:
            record.tags = frozenset(test_tags)
        if not runnable:
            record.runnable = False
        if parent_test_id is not None:
            record.parent_test_id = parent_test_id
        if timestamp is not None:
            if record.start_time is None:
                record.start_time = timestamp
            record.stop_time = timestamp
        if file_name is not None:
            attachment = record.attachments.get(file_name)
            if attachment is None:
                attachment = record.attachments[file_name] = Attachment(mime_type)
                item.chunks[file_name] = []
            elif attachment.mime_type is None:
                attachment.mime_type = mime_type
            if file_bytes:
                item.chunks[file_name].append(bytes(file_bytes))
            if eof:
                attachment.eof = True
        if test_status in FINAL_STATUSES:
            del self._pending[key]
            self.callback(item.finish(test_status))
