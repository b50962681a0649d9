"""The one event type: the arguments of a ``status()`` call, as a value.

The sans-IO decoder produces :class:`Event` objects; :func:`deliver` replays one on any
result.  Fields are in the order of SPEC section 1.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Iterable, NamedTuple, Optional

__all__ = ["Event", "FIELDS", "deliver", "deliver_all"]


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


def deliver_all(events: Iterable[Event], result) -> None:
    """Replay events on a result that accepts ``parent_test_id``.

    Wrap results that may not (testtools' classes) with
    :func:`subunit2.result.as_target` once, up front.
    """
    status = result.status
    for e in events:
        status(
            test_id=e[0],
            test_status=e[1],
            test_tags=e[2],
            runnable=e[3],
            file_name=e[4],
            file_bytes=e[5],
            eof=e[6],
            mime_type=e[7],
            route_code=e[8],
            timestamp=e[9],
            parent_test_id=e[10],
        )


def deliver(event: Event, result) -> None:
    """Call ``result.status()`` with every field of ``event`` (see deliver_all)."""
    deliver_all((event,), result)
