"""RunStats: a :class:`~subunit2.summary.Summary` that also collects tags, and takes
decoded events in bulk.

subunit-stats needs the Summary's counts, verdict and wall time plus the set of
tags seen.  :meth:`RunStats.consume` is the same bookkeeping as ``status()`` done in
one loop over decoded :class:`~subunit2.event.Event` tuples, which skips a
keyword-argument call per event: the difference between reading a large stream in
about the time of decoding it and taking a third longer.
"""

from __future__ import annotations

from typing import AbstractSet, Callable, Dict, Iterable, List, Optional, Set

from .event import Event
from .result import BatchResult
from .status import FINAL_STATUSES
from .summary import Summary

__all__ = ["RunStats", "format_report", "report_counts"]


class RunStats(BatchResult, Summary):
    """Summary plus :attr:`tags` (every tag seen on a test event).

    Events without a test id go to ``on_non_test`` (when given) and are otherwise
    ignored, as in Summary.
    """

    def __init__(self, on_non_test: Optional[Callable[[Event], object]] = None):
        self.on_non_test = on_non_test
        super().__init__()

    def _reset(self) -> None:
        super()._reset()
        #: Every tag seen on an event with a test id.
        self.tags: Set[str] = set()
        self._last_tags: Optional[AbstractSet[str]] = None

    def consume(self, events: Iterable[Event]) -> None:
        """Count decoded events, in stream order (Summary's rules, plus tags)."""
        counts = self.counts
        open_tests = self._open
        final = FINAL_STATUSES
        first, last = self.first_timestamp, self.last_timestamp
        tags, last_tags = self.tags, self._last_tags
        on_non_test = self.on_non_test
        for event in events:
            test_id = event[0]
            if test_id is None:
                if on_non_test is not None:
                    on_non_test(event)
                continue
            stamp = event[9]
            if stamp is not None:
                if first is None:
                    first = last = stamp
                elif stamp > last:
                    last = stamp
                elif stamp < first:
                    first = stamp
            event_tags = event[2]
            if event_tags is not last_tags:  # the decoder often shares tag sets
                if event_tags and not event_tags <= tags:  # a subset test is cheaper
                    tags.update(event_tags)
                last_tags = event_tags
            status = event[1]
            if status in final:
                counts[status] += 1
                if open_tests:
                    open_tests.pop((event[8], test_id), None)
            elif status is not None:
                open_tests[(event[8], test_id)] = status
            else:
                key = (event[8], test_id)
                if key not in open_tests:
                    open_tests[key] = None
        self.first_timestamp, self.last_timestamp = first, last
        self._last_tags = last_tags


#: Report lines: label and the count behind it.
_LINES = (
    ("Total tests", None),
    ("Passed", "success"),
    ("Failed", "fail"),
    ("Skipped", "skip"),
    ("Expected failures", "xfail"),
    ("Unexpected successes", "uxsuccess"),
    ("Incomplete", "incomplete"),
    ("Enumerated (exists)", "exists"),
)


def report_counts(stats: Summary) -> Dict[str, int]:
    """The counts subunit-stats reports, keyed by status (plus total, incomplete)."""
    counts = dict(stats.counts)
    counts["incomplete"] = len(stats.incomplete)
    counts["total"] = stats.tests_run + counts["incomplete"]
    return counts


def format_report(stats: RunStats) -> str:
    """The text subunit-stats prints: counts, tags, wall time, verdict."""
    counts = report_counts(stats)
    lines: List[str] = []
    width = max(len(label) for label, _ in _LINES) + 1
    for label, key in _LINES:
        value = counts["total" if key is None else key]
        lines.append(f"{label + ':':<{width}} {value:>8}")
    tags = ", ".join(sorted(stats.tags)) if stats.tags else "(none)"
    lines.append(f"{'Tags:':<{width}} {tags}")
    wall = stats.wall_time
    shown = "(no timestamps)" if wall is None else f"{wall.total_seconds():.3f} s"
    lines.append(f"{'Wall time:':<{width}} {shown}")
    verdict = "PASSED" if stats.wasSuccessful() else "FAILED"
    lines.append(f"{'Verdict:':<{width}} {verdict}")
    return "\n".join(lines) + "\n"
