"""Tagger: add or remove tags on every test event passing through.

Typical use: mark every test from one worker or environment (``worker-0``,
``py39``) before merging streams, or strip a tag a filter should not see.

Tags follow "latest set wins" (SPEC section 1): ``test_tags=None`` means "no change",
so a consumer keeps the last set it saw for a test.  The rules here keep that meaning
intact:

* An event with a tag set gets ``(tags - remove) | add``.
* An event with ``test_tags=None`` keeps ``None`` when there is nothing to add
  (removal was already applied to the last set the consumer saw).  When there is
  something to add it gets a set: the test's last tag set as sent on (after removal)
  plus ``add``, or just ``add`` if the test has had no set yet.  Giving it only
  ``add`` would make the consumer forget the test's earlier tags.
* Events without a test id (non-subunit data) pass unchanged.

Every tag set sent on is a new set: the caller's sets are never mutated nor handed
on.  To carry earlier tags onto later events the tagger remembers the last set of each
test in flight, keyed by (route_code, test_id), and forgets it when the test reaches a
final status, so memory is bounded by the tests in flight.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Dict, FrozenSet, Iterable, Optional, Tuple

from .result import Forwarder
from .status import FINAL_STATUSES

__all__ = ["Tagger"]


class Tagger(Forwarder):
    """Forwards every event to ``target`` with ``add`` tags added, ``remove`` removed.

    A tag may not be in both ``add`` and ``remove`` (``ValueError``): the intent
    would be unclear.
    """

    def __init__(
        self, target, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> None:
        for name, tags in (("add", add), ("remove", remove)):
            if isinstance(tags, (str, bytes)):
                raise TypeError(f"{name} must be an iterable of tags, not a string")
        self.add: FrozenSet[str] = frozenset(add)
        self.remove: FrozenSet[str] = frozenset(remove)
        both = self.add & self.remove
        if both:
            raise ValueError(f"tags both added and removed: {sorted(both)}")
        super().__init__(target)
        # Last tag set sent on per test in flight; only needed when adding.
        self._last: Dict[Tuple[Optional[str], str], FrozenSet[str]] = {}

    def startTestRun(self) -> None:
        self._last.clear()
        self._target.startTestRun()

    def stopTestRun(self) -> None:
        self._last.clear()
        self._target.stopTestRun()

    def _retag(
        self,
        test_id: str,
        test_status: Optional[str],
        test_tags: Optional[AbstractSet[str]],
        route_code: Optional[str],
    ) -> Optional[AbstractSet[str]]:
        add = self.add
        if not add:
            # Nothing remembered: None stays None, sets lose the removed tags.
            if test_tags is None:
                return None
            return set(test_tags) - self.remove
        key = (route_code, test_id)
        if test_tags is not None:
            tags = (set(test_tags) - self.remove) | add
        else:
            tags = set(self._last.get(key, add))
        if test_status in FINAL_STATUSES or tags == add:
            # Forget finished tests; ``add`` alone is the default anyway.
            self._last.pop(key, None)
        else:
            self._last[key] = frozenset(tags)
        return tags

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
        if test_id is not None:
            test_tags = self._retag(test_id, test_status, test_tags, route_code)
        self._target.status(
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
