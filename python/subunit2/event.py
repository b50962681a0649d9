"""The one event type: the arguments of a ``status()`` call, as a value.

The sans-IO decoder produces :class:`Event` objects; :func:`deliver` replays one on any
result.  Fields are in the order of SPEC section 1.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, NamedTuple, Optional

__all__ = ["Event", "FIELDS", "deliver"]


class Event(NamedTuple):
    """One ``status()`` call.  Every field is optional; defaults match ``status()``."""

    test_id: Optional[str] = None
    test_status: Optional[str] = None
    test_tags: Optional[AbstractSet[str]] = None
    runnable: bool = True
    file_name: Optional[str] = None
    file_bytes: Optional[bytes] = None
    eof: bool = False
    mime_type: Optional[str] = None
    route_code: Optional[str] = None
    timestamp: Optional[datetime.datetime] = None
    parent_test_id: Optional[str] = None

    def kwargs(self) -> dict:
        """The event as keyword arguments for ``status()``."""
        return dict(zip(FIELDS, self))


#: The keyword names of ``status()``, in Event field order.
FIELDS: tuple[str, ...] = Event._fields


def deliver(event: Event, result) -> None:
    """Call ``result.status()`` with every field of ``event``.

    ``result`` must accept ``parent_test_id``; wrap results that may not (testtools'
    classes) with :func:`subunit2.result.as_target` once, up front.
    """
    result.status(
        test_id=event[0],
        test_status=event[1],
        test_tags=event[2],
        runnable=event[3],
        file_name=event[4],
        file_bytes=event[5],
        eof=event[6],
        mime_type=event[7],
        route_code=event[8],
        timestamp=event[9],
        parent_test_id=event[10],
    )
