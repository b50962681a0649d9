"""TestLister: the ids of a stream's tests, one line each, as they complete.

A test is listed when its final status arrives (completion order), so a listing of
a live stream grows as the run goes.  Options:

* ``times``: each line also gives the test's duration in seconds, from the first
  to the final timestamp seen on its events (``-`` without two timestamps).
* ``exists``: enumerated tests (status ``exists``) are listed too, when their
  ``exists`` event arrives.  A test enumerated and then run is listed for each.
* ``tree``: subtests (protocol 2.1 ``parent_test_id``) are shown under their
  parent, indented two spaces per level.  A subtest usually completes before its
  parent; its lines are held only while its parent is in flight (has events but no
  final status yet) and come out, below the parent's line, when the parent
  completes.  A subtest whose parent is not in flight is listed at once, at the
  top level, followed by ``(subtest of PARENT)``.  At the end of the stream,
  parents still in flight that hold subtests are listed with ``(incomplete)``.

Tests are told apart by (route code, test id), as everywhere in subunit2.  Memory
is bounded by the tests in flight (and, with ``tree``, their completed subtests'
lines).
"""

from __future__ import annotations

from typing import (
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
)

from .event import Event
from .result import BatchResult
from .status import FINAL_STATUSES

__all__ = ["TestLister"]

Key = Tuple[Optional[str], str]
_RUN_STATUSES = FINAL_STATUSES - {"exists"}


class TestLister(BatchResult):
    """Writes test ids (lines ending in a newline) with ``write``; see the module
    docstring.  :meth:`consume` takes decoded events in bulk and writes once per
    call; ``status()`` works one event at a time.  Events without a test id go to
    ``on_non_test`` when given.
    """

    def __init__(
        self,
        write: Callable[[str], object],
        *,
        times: bool = False,
        exists: bool = False,
        tree: bool = False,
        on_non_test: Optional[Callable[[Event], object]] = None,
    ) -> None:
        self._write = write
        self.times = times
        self.tree = tree
        self.on_non_test = on_non_test
        self._listed = FINAL_STATUSES if exists else _RUN_STATUSES
        # In-flight tests (times or tree only): key -> [first timestamp, parent id].
        self._open: Dict[Key, list] = {}
        # tree: key of an in-flight parent -> lines of its completed subtests.
        self._held: Dict[Key, List[str]] = {}

    def startTestRun(self) -> None:
        self._open.clear()
        self._held.clear()

    def stopTestRun(self) -> None:
        lines: List[str] = []
        for key in list(self._held):
            children = self._held.pop(key)
            lines.append(f"{key[1]} (incomplete)\n")
            lines.extend("  " + line for line in children)
        self._open.clear()
        if lines:
            self._write("".join(lines))

    def consume(self, events: Iterable[Event]) -> None:
        """List the tests these decoded events complete, in stream order."""
        if self.times or self.tree:
            self._consume_tracked(events)
            return
        listed = self._listed
        on_non_test = self.on_non_test
        lines = []
        for event in events:
            if event[1] in listed:
                if event[0] is not None:
                    lines.append(event[0] + "\n")
            elif event[0] is None and on_non_test is not None:
                on_non_test(event)
        if lines:
            self._write("".join(lines))

    def _consume_tracked(self, events: Iterable[Event]) -> None:
        listed = self._listed
        final = FINAL_STATUSES
        open_tests = self._open
        times, tree = self.times, self.tree
        on_non_test = self.on_non_test
        lines: List[str] = []
        for event in events:
            test_id = event[0]
            if test_id is None:
                if on_non_test is not None:
                    on_non_test(event)
                continue
            key = (event[8], test_id)
            status = event[1]
            known = open_tests.get(key)
            if status not in final:
                if known is None:
                    open_tests[key] = [event[9], event[10]]
                else:
                    if known[0] is None:
                        known[0] = event[9]
                    if event[10] is not None:
                        known[1] = event[10]
                continue
            if known is not None:
                del open_tests[key]
            if status not in listed:
                continue
            line = test_id
            if times:
                stamp = event[9]
                started = None if known is None else known[0]
                if started is None or stamp is None:
                    line += " -"
                else:
                    line += f" {(stamp - started).total_seconds():.6f}"
            if not tree:
                lines.append(line + "\n")
                continue
            block = [line + "\n"]
            children = self._held.pop(key, None)
            if children:
                block.extend("  " + child for child in children)
            parent = event[10]
            if parent is None and known is not None:
                parent = known[1]
            if parent is None:
                lines.extend(block)
                continue
            parent_key = (event[8], parent)
            if parent_key in open_tests:
                self._held.setdefault(parent_key, []).extend(block)
            else:
                block[0] = f"{line} (subtest of {parent})\n"
                lines.extend(block)
        if lines:
            self._write("".join(lines))
