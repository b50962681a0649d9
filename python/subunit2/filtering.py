"""Test selection: a result that keeps or drops whole tests, as subunit-filter does.

:class:`TestFilter` sits between a decoder and any result.  It gathers each test's
events (per route code and test id) until the test's final status, then keeps or
drops all of them together:

* by **status**: the final status must be in ``keep`` (``"incomplete"`` stands for
  a test still without a final status at ``stopTestRun``);
* by **id**: some ``with_patterns`` regular expression must match the test id (when
  any are given) and no ``without_patterns`` one may; with
  ``match_attachments=True`` the expressions also search the text of the test's
  attachments (decoded as UTF-8, bad bytes replaced);
* by **tags**: the union of the tags on the test's events must hold every tag in
  ``with_tags`` and none in ``without_tags``.

``expected_failures`` (test ids) turns those tests' ``fail`` into ``xfail`` and
their ``success`` into ``uxsuccess`` before the status check.  ``renames`` are
``(pattern, replacement)`` pairs applied in order with :func:`re.sub` to the test id
and the parent test id of every kept event, whatever its status.  Selection and
expected failures see the ids as they arrive, before renaming.

Subtests (protocol 2.1): every test, subtest or not, is judged on its own, so a
dropped parent does not drop its subtests.  A kept subtest keeps its parent, though:
when it completes while its parent is still in flight, the parent (and its own
parent, and so on) is kept whatever its status, its events so far are delivered
before the subtest's, and its later events pass straight through.  A parent that
completed before its subtest (not the usual nesting) has already been judged.

Everything else about a kept event is delivered unchanged: route code, timestamp,
tags, runnable, attachments, ``exists`` events.  Events without a test id (packets
about no test, and the decoder's non-subunit data) are forwarded at once.  A kept
test's events are delivered together when it completes, so the output groups each
test's events where the input may interleave tests; their order within a test is
kept.  Memory is bounded by the tests in flight (and their attachments), never by
the length of the stream.
"""

from __future__ import annotations

import re
from typing import (
    AbstractSet,
    Dict,
    Iterable,
    List,
    Optional,
    Pattern,
    Sequence,
    Tuple,
    Union,
)

from .event import Event, deliver_all
from .result import BatchResult, as_target
from .status import FINAL_STATUSES

__all__ = [
    "DEFAULT_KEEP",
    "GENUINE_FAILURES",
    "SELECTABLE",
    "TestFilter",
    "read_test_list",
]

#: The statuses a filter can keep or drop; "incomplete" is a test left without a
#: final status at the end of the stream.
SELECTABLE: Tuple[str, ...] = (
    "success",
    "fail",
    "skip",
    "xfail",
    "uxsuccess",
    "exists",
    "incomplete",
)

#: The default selection: everything but successes.
DEFAULT_KEEP: frozenset = frozenset(SELECTABLE) - {"success"}

#: "Only genuine failures": what makes a run fail.
GENUINE_FAILURES: frozenset = frozenset({"fail", "uxsuccess", "incomplete"})

_FIXUP = {"fail": "xfail", "success": "uxsuccess"}
_COMMITTED = None  # marks a kept test whose events pass straight through
_RENAME_CACHE_LIMIT = 4096

PatternLike = Union[str, Pattern[str]]


def read_test_list(lines: Iterable[str]) -> frozenset:
    """Test ids from a list file's lines: one per line, surrounding whitespace
    stripped; blank lines and lines starting with ``#`` are skipped."""
    ids = set()
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            ids.add(line)
    return frozenset(ids)


def _compile(patterns: Iterable[PatternLike]) -> List[Pattern[str]]:
    return [p if isinstance(p, re.Pattern) else re.compile(p) for p in patterns]


class TestFilter(BatchResult):
    """Keeps or drops whole tests on their way to ``target``; see the module
    docstring for the rules.  :meth:`consume` takes decoded events in bulk (the
    fast path); :meth:`status` takes them one call at a time."""

    def __init__(
        self,
        target,
        *,
        keep: AbstractSet[str] = DEFAULT_KEEP,
        with_patterns: Sequence[PatternLike] = (),
        without_patterns: Sequence[PatternLike] = (),
        match_attachments: bool = False,
        with_tags: Iterable[str] = (),
        without_tags: Iterable[str] = (),
        expected_failures: Iterable[str] = (),
        renames: Sequence[Tuple[PatternLike, str]] = (),
    ) -> None:
        unknown = set(keep) - set(SELECTABLE)
        if unknown:
            raise ValueError(f"unknown statuses to keep: {sorted(unknown)}")
        self.target = target
        self._target = as_target(target)
        self._keep = frozenset(keep)
        self._with = _compile(with_patterns)
        self._without = _compile(without_patterns)
        self._match_attachments = match_attachments
        self._with_tags = frozenset(with_tags)
        self._without_tags = frozenset(without_tags)
        self._by_id = bool(self._with or self._without)
        self._by_tags = bool(self._with_tags or self._without_tags)
        self._expected = frozenset(expected_failures)
        self._renames = [(re.compile(p), r) for p, r in renames]
        self._renamed: Dict[str, str] = {}
        # (route_code, test_id) -> events so far, or _COMMITTED once kept.
        self._open: Dict[Tuple[Optional[str], str], Optional[List[Event]]] = {}

    @property
    def in_flight(self) -> int:
        """How many tests have events gathered (or pass through) and no final
        status yet: what the filter's memory is bounded by."""
        return len(self._open)

    # The result protocol.
    def startTestRun(self) -> None:
        self._open.clear()
        self._target.startTestRun()

    def stopTestRun(self) -> None:
        self.flush()
        self._target.stopTestRun()

    # The work.
    def consume(self, events: Iterable[Event]) -> None:
        """Take decoded events in stream order; deliver what is decided."""
        open_tests = self._open
        final = FINAL_STATUSES
        out: List[Event] = []
        for event in events:
            test_id = event[0]
            if test_id is None:
                out.append(event)
                continue
            key = (event[8], test_id)
            gathered = open_tests.get(key, False)
            if gathered is False:  # the test's first event
                if event[1] in final:
                    self._judge(key, [event], event, out)
                else:
                    open_tests[key] = [event]
            elif gathered is _COMMITTED:
                out.append(self._rewrite(event, True))
                if event[1] in final:
                    del open_tests[key]
            else:
                gathered.append(event)
                if event[1] in final:
                    del open_tests[key]
                    self._judge(key, gathered, event, out)
        if out:
            deliver_all(out, self._target)

    def flush(self) -> None:
        """Judge the tests still in flight as incomplete and deliver those kept.

        Called by :meth:`stopTestRun`.  Subtests are judged before their parents
        (a kept one keeps its parent); kept tests are delivered in the order of
        their first event.
        """
        pending = [(k, v) for k, v in self._open.items() if v is not _COMMITTED]
        self._open.clear()
        open_keys = {key for key, _ in pending}
        needed = set()
        kept = [False] * len(pending)
        for index in range(len(pending) - 1, -1, -1):
            key, gathered = pending[index]
            if key in needed or self._selected(key[1], gathered, None):
                kept[index] = True
                parent = _parent_of(gathered)
                if parent is not None:
                    parent_key = (key[0], parent)
                    if parent_key in open_keys:
                        needed.add(parent_key)
        out: List[Event] = []
        for (_, gathered), keep in zip(pending, kept):
            if keep:
                out.extend(self._rewrite(e, False) for e in gathered)
        if out:
            deliver_all(out, self._target)

    def _selected(
        self, test_id: str, gathered: List[Event], status: Optional[str]
    ) -> bool:
        """Whether a test with these events and (fixed-up) final status is kept."""
        if (status if status is not None else "incomplete") not in self._keep:
            return False
        if self._by_id:
            text = test_id
            if self._match_attachments:
                text = "\n".join(
                    [test_id]
                    + [
                        e[5].decode("utf-8", "replace")
                        for e in gathered
                        if e[5] is not None
                    ]
                )
            if self._with and not any(p.search(text) for p in self._with):
                return False
            if any(p.search(text) for p in self._without):
                return False
        if self._by_tags:
            tags: set = set()
            for e in gathered:
                if e[2]:
                    tags.update(e[2])
            if not self._with_tags <= tags or self._without_tags & tags:
                return False
        return True

    def _judge(
        self,
        key: Tuple[Optional[str], str],
        gathered: List[Event],
        last: Event,
        out: List[Event],
    ) -> None:
        """A test completed with ``last``: deliver all its events if it is kept."""
        status = last[1]
        if key[1] in self._expected:
            status = _FIXUP.get(status, status)
        if not self._selected(key[1], gathered, status):
            return
        parent = _parent_of(gathered)
        if parent is not None:
            self._commit((key[0], parent), out)
        if self._renames or status != last[1]:
            out.extend([self._rewrite(e, e is last) for e in gathered])
        else:
            out.extend(gathered)

    def _commit(self, key: Tuple[Optional[str], str], out: List[Event]) -> None:
        """Keep an in-flight test (a kept subtest's parent), ancestors first."""
        gathered = self._open.get(key, False)
        if gathered is False or gathered is _COMMITTED:
            return
        self._open[key] = _COMMITTED
        parent = _parent_of(gathered)
        if parent is not None:
            self._commit((key[0], parent), out)
        out.extend([self._rewrite(e, False) for e in gathered])

    def _rewrite(self, event: Event, fix_status: bool) -> Event:
        """``event`` renamed, and with its status fixed up when ``fix_status``."""
        test_id, status, parent = event[0], event[1], event[10]
        changes = {}
        if fix_status and test_id in self._expected and status in _FIXUP:
            changes["test_status"] = _FIXUP[status]
        if self._renames:
            if test_id is not None:
                changes["test_id"] = self._rename(test_id)
            if parent is not None:
                changes["parent_test_id"] = self._rename(parent)
        return event._replace(**changes) if changes else event

    def _rename(self, name: str) -> str:
        renamed = self._renamed.get(name)
        if renamed is None:
            renamed = name
            for pattern, replacement in self._renames:
                renamed = pattern.sub(replacement, renamed)
            if len(self._renamed) >= _RENAME_CACHE_LIMIT:
                self._renamed.clear()
            self._renamed[name] = renamed
        return renamed


def _parent_of(gathered: List[Event]) -> Optional[str]:
    """The latest parent test id given on a test's events, if any."""
    for event in reversed(gathered):
        if event[10] is not None:
            return event[10]
    return None
