"""Router: send each event to one of several results, by route code or test id.

Use it to split a merged stream back into per-worker streams (route-code prefixes),
or to pull particular tests (say ``subunit.parser`` reports) out to their own result.

Matching, most specific first:

1. an exact test-id rule for the event's test id;
2. the longest route-code prefix rule that matches whole components of the route
   code: prefix ``"0"`` matches ``"0"`` and ``"0/3"`` but not ``"01"``; prefix
   ``"0/3"`` beats ``"0"`` for ``"0/3/1"``.  With ``consume=True`` the prefix and
   its ``/`` are cut off what the target sees (``"0/3"`` becomes ``"3"``, ``"0"``
   becomes ``None``), undoing what a merger added;
3. otherwise the fallback.

``startTestRun``/``stopTestRun`` go to every distinct target (fallback first, then
in the order rules added them) exactly once, however many rules name it.  A target
first named by a rule added while a run is in progress is started at once, so every
target it sends events to has been started.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Dict, List, Optional, Tuple

from .result import StreamResult, as_target

__all__ = ["Router"]


class Router(StreamResult):
    """Routes each event to the target of the first matching rule, else ``fallback``."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback
        self._wrapped: Dict[int, object] = {}  # id(original) -> as_target(original)
        self._order: List[object] = []  # distinct originals, in first-seen order
        self._running = False
        self._fallback = self._wrap(fallback)
        self._prefixes: Dict[str, Tuple[object, bool]] = {}
        self._test_ids: Dict[str, object] = {}

    def _wrap(self, target):
        key = id(target)
        wrapped = self._wrapped.get(key)
        if wrapped is None:
            wrapped = self._wrapped[key] = as_target(target)
            self._order.append(target)
            if self._running:
                wrapped.startTestRun()
        return wrapped

    def add_prefix(self, prefix: str, target, *, consume: bool = False) -> None:
        """Send events whose route code starts with the components ``prefix``.

        ``prefix`` is one or more whole components (``"0"``, ``"0/3"``); each prefix
        may have one rule.  ``consume=True`` strips it from the route code.
        """
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("a route-code prefix must be a non-empty string")
        if prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"route-code prefix {prefix!r} has an empty component")
        if prefix in self._prefixes:
            raise ValueError(f"route-code prefix {prefix!r} already has a rule")
        self._prefixes[prefix] = (self._wrap(target), consume)

    def add_test_id(self, test_id: str, target) -> None:
        """Send every event about ``test_id`` (on any route code) to ``target``."""
        if not isinstance(test_id, str):
            raise ValueError("a test id rule needs a str test id")
        if test_id in self._test_ids:
            raise ValueError(f"test id {test_id!r} already has a rule")
        self._test_ids[test_id] = self._wrap(target)

    @property
    def targets(self) -> Tuple[object, ...]:
        """Every distinct target as given: the fallback, then those of the rules."""
        return tuple(self._order)

    def startTestRun(self) -> None:
        self._running = True
        for target in self._order:
            self._wrapped[id(target)].startTestRun()

    def stopTestRun(self) -> None:
        self._running = False
        for target in self._order:
            self._wrapped[id(target)].stopTestRun()

    def _route(
        self, test_id: Optional[str], route_code: Optional[str]
    ) -> Tuple[object, Optional[str]]:
        """The target for an event, and the route code it should see."""
        if test_id is not None and self._test_ids:
            target = self._test_ids.get(test_id)
            if target is not None:
                return target, route_code
        if route_code and self._prefixes:
            head = route_code
            while True:
                rule = self._prefixes.get(head)
                if rule is not None:
                    target, consume = rule
                    if consume:
                        rest = route_code[len(head) + 1 :]
                        route_code = rest or None
                    return target, route_code
                cut = head.rfind("/")
                if cut <= 0:
                    break
                head = head[:cut]
        return self._fallback, route_code

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
        target, route_code = self._route(test_id, route_code)
        target.status(
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
