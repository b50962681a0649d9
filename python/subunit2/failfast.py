"""FailFast: pass everything on, and say so the moment a test fails.

A runner can use the callback to stop scheduling work, kill workers, or close its
input, so a broken run ends early instead of running to completion.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Callable, List, Optional, Set, Tuple

from .result import Forwarder
from .status import FAILING_STATUSES

__all__ = ["FailFast"]


class FailFast(Forwarder):
    """Forwards every event to ``target``; reports failing tests to ``on_failure``.

    ``on_failure(test_id, route_code)`` is called when a ``fail`` or ``uxsuccess``
    status arrives, after the event has been forwarded (so the target already knows
    about the failure when the callback acts).  It is called once per failing test,
    keyed by (route_code, test_id): a repeated failing status for the same test is
    forwarded but not reported again.  Parser-error reports (``subunit.parser``
    with status ``fail``) are failures too: corrupt input should stop a run.  The
    record of reported tests is :attr:`failures`, cleared by ``startTestRun``; it
    grows only with failing tests.
    """

    def __init__(
        self, target, on_failure: Callable[[Optional[str], Optional[str]], object]
    ) -> None:
        super().__init__(target)
        self.on_failure = on_failure
        #: (route_code, test_id) of every failing test reported so far, in order.
        self.failures: List[Tuple[Optional[str], Optional[str]]] = []
        self._seen: Set[Tuple[Optional[str], Optional[str]]] = set()

    @property
    def failed(self) -> bool:
        """True once any failure has been reported in this run."""
        return bool(self.failures)

    def startTestRun(self) -> None:
        self.failures = []
        self._seen = set()
        self._target.startTestRun()

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
        if test_status in FAILING_STATUSES:
            key = (route_code, test_id)
            if key not in self._seen:
                self._seen.add(key)
                self.failures.append(key)
                self.on_failure(test_id, route_code)
