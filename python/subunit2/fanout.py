"""FanOut: one result that copies every call to several results.

Use it to feed one stream to, say, a summary, a live reporter and a file writer at
once.  Targets are called in the order given; an exception from one target propagates
at once and the targets after it do not see that call.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Optional

from .result import StreamResult, as_target

__all__ = ["FanOut"]


class FanOut(StreamResult):
    """Forwards ``startTestRun``, ``status`` and ``stopTestRun`` to every target.

    Each target goes through :func:`~subunit2.result.as_target`, so pre-2.1 results
    (testtools') get every field but ``parent_test_id`` and 2.1 results get it too.
    """

    def __init__(self, *targets) -> None:
        #: The results as given, in call order.
        self.targets: tuple = targets
        self._targets = tuple(as_target(t) for t in targets)

    def startTestRun(self) -> None:
        for target in self._targets:
            target.startTestRun()

    def stopTestRun(self) -> None:
        for target in self._targets:
            target.stopTestRun()

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
        for target in self._targets:
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
