"""Summary: the verdict on a run, and the counts behind it.

It answers "did the run pass?" the way SPEC section 1 requires: any ``fail`` or
``uxsuccess`` fails the run, and so does any incomplete test (one that had events but
no final status), which is never taken for a pass.  Parser-error reports are events
on ``subunit.parser`` with status ``fail``, so corrupt input counts as a failure and
cannot look green.  A run with no tests at all is successful.

Memory is bounded by the tests in flight: a test is remembered from its first event
until its final status, then only counted.  The flip side is that an event arriving
for a test after its final status (a producer that sends an attachment late) opens
the test again, and it ends up incomplete unless another final status follows.
Producers put the final status last, as the protocol intends.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Dict, List, Optional, Tuple

from .result import StreamResult
from .status import FINAL_STATUSES

__all__ = ["Summary"]

#: Statuses :class:`Summary` counts, in a stable display order.
COUNTED: Tuple[str, ...] = ("exists", "success", "uxsuccess", "skip", "fail", "xfail")

Key = Tuple[Optional[str], str]


class Summary(StreamResult):
    """Counts final statuses and tracks tests in flight; see the module docstring.

    Events without a test id (non-subunit data) are ignored, for counting and for
    timestamps.  ``startTestRun`` resets everything, so one Summary can serve
    successive runs.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        #: Tests per final status; every status in :data:`COUNTED` has an entry.
        self.counts: Dict[str, int] = dict.fromkeys(COUNTED, 0)
        # (route_code, test_id) -> last interim status (None or "inprogress").
        self._open: Dict[Key, Optional[str]] = {}
        #: Earliest and latest timestamp seen on a test event (None until one is).
        self.first_timestamp: Optional[datetime.datetime] = None
        self.last_timestamp: Optional[datetime.datetime] = None
        #: True between ``stopTestRun`` and the next ``startTestRun``.
        self.stopped = False

    def startTestRun(self) -> None:
        self._reset()

    def stopTestRun(self) -> None:
        self.stopped = True

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
            return
        if timestamp is not None:
            if self.first_timestamp is None or timestamp < self.first_timestamp:
                self.first_timestamp = timestamp
            if self.last_timestamp is None or timestamp > self.last_timestamp:
                self.last_timestamp = timestamp
        key = (route_code, test_id)
        if test_status in FINAL_STATUSES:
            self.counts[test_status] += 1
            self._open.pop(key, None)
        elif test_status is not None or key not in self._open:
            # inprogress, or the first (status-less) event of a test.
            self._open[key] = test_status

    @property
    def incomplete(self) -> List[Key]:
        """(route_code, test_id) of tests with events but no final status yet.

        After ``stopTestRun`` these are the tests that did not complete.  Before it
        they are the tests still running; they already count against the verdict,
        so asking early (or forgetting ``stopTestRun``) never shows a false pass.
        Ordered by each test's first event.
        """
        return list(self._open)

    @property
    def in_flight(self) -> Dict[Key, Optional[str]]:
        """Open tests mapped to their last interim status (None or inprogress)."""
        return dict(self._open)

    @property
    def tests_run(self) -> int:
        """Tests that reached a final status other than ``exists``."""
        return sum(self.counts.values()) - self.counts["exists"]

    @property
    def failure_count(self) -> int:
        """Failures, unexpected successes and incomplete tests together."""
        return self.counts["fail"] + self.counts["uxsuccess"] + len(self._open)

    @property
    def wall_time(self) -> Optional[datetime.timedelta]:
        """Latest minus earliest timestamp seen, or None without timestamps."""
        if self.first_timestamp is None or self.last_timestamp is None:
            return None
        return self.last_timestamp - self.first_timestamp

    def wasSuccessful(self) -> bool:
        """False when any test failed, succeeded unexpectedly, or is incomplete."""
        return self.failure_count == 0

    @property
    def verdict(self) -> bool:
        """The same as :meth:`wasSuccessful`, as a property."""
        return self.failure_count == 0
