"""Timestamper: stamp events that carry no time with the time they pass through.

Producers that do not time their events (a shell script, a TAP converter) give
consumers nothing to compute durations from; putting a Timestamper right after such a
producer records when each event was seen.  Events that already have a timestamp keep
it, and so do all their other fields.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Callable, Optional

from .result import Forwarder

__all__ = ["Timestamper", "utc_now"]


def utc_now() -> datetime.datetime:
    """The current time as an aware UTC datetime (the default clock)."""
    return datetime.datetime.now(datetime.timezone.utc)


class Timestamper(Forwarder):
    """Forwards every event to ``target``, filling in ``timestamp`` when it is None.

    ``clock`` is called once per unstamped event and must return an aware UTC
    datetime; it defaults to :func:`utc_now` and exists so tests can fix the time.
    Events without a test id (non-subunit data) are stamped too.
    """

    def __init__(
        self, target, clock: Optional[Callable[[], datetime.datetime]] = None
    ) -> None:
        super().__init__(target)
        self.clock: Callable[[], datetime.datetime] = clock or utc_now

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
        if timestamp is None:
            timestamp = self.clock()
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
