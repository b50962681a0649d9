"""The result protocol: ``startTestRun()``, ``status(...)``, ``stopTestRun()``.

:class:`StreamResult` is a do-nothing base to subclass.  Any object with those three
methods is a result, testtools' StreamResult classes included; those predate protocol
2.1 and take no ``parent_test_id``, so every piece of this package that accepts a result
passes it through :func:`as_target`, which withholds that one argument from results
that cannot take it.
"""

from __future__ import annotations

import datetime
from typing import AbstractSet, Iterable, Optional

from .event import Event

__all__ = [
    "StreamResult",
    "BatchResult",
    "Forwarder",
    "accepts_parent",
    "as_target",
    "WithholdParent",
]


class StreamResult:
    """Base result: every method accepts its arguments and does nothing."""

    def startTestRun(self) -> None:
        """Called once before the first event."""

    def stopTestRun(self) -> None:
        """Called once after the last event."""

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
        """One event; see SPEC section 1 for what each argument means."""


def accepts_parent(result) -> bool:
    """True when ``result.status`` can be given ``parent_test_id``.

    A status method that names the parameter accepts it.  One that takes ``**kwargs``
    accepts it too, unless it is or derives from a testtools class: those forward
    their keywords to targets (or a base ``status``) that would reject it.
    """
    status = getattr(result, "status", None)
    if status is None:
        return False
    import inspect  # here, not at the top: it costs commands milliseconds to start

    try:
        params = inspect.signature(status).parameters
    except (TypeError, ValueError):
        return False
    if "parent_test_id" in params:
        return True
    has_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    from_testtools = any(
        (cls.__module__ or "").startswith("testtools") for cls in type(result).__mro__
    )
    return has_var_kw and not from_testtools


class WithholdParent:
    """Wraps a pre-2.1 result, dropping ``parent_test_id`` from every event."""

    def __init__(self, target) -> None:
        self.target = target

    def startTestRun(self) -> None:
        self.target.startTestRun()

    def stopTestRun(self) -> None:
        self.target.stopTestRun()

    def status(self, parent_test_id=None, **kwargs) -> None:
        self.target.status(**kwargs)

    def __getattr__(self, name):
        # Anything else (summaries, wasSuccessful, ...) is the wrapped result's.
        return getattr(self.target, name)


def as_target(result):
    """Return ``result`` itself when it takes ``parent_test_id``, else a wrapper."""
    if isinstance(result, (StreamResult, WithholdParent)) or accepts_parent(result):
        return result
    return WithholdParent(result)


class Forwarder(StreamResult):
    """Base for a result that passes every call on to one ``target``.

    ``target`` is kept as given (the :attr:`target` attribute); calls go to
    ``as_target(target)``, kept as ``_target``, so a pre-2.1 result never gets
    ``parent_test_id``.  ``startTestRun``, ``stopTestRun`` and ``status`` are
    forwarded unchanged.  A subclass overrides only what it changes; an override of
    ``status`` keeps the explicit signature and calls ``self._target.status(...)``
    with every field by keyword, which is the fastest way on the per-event path.
    """

    def __init__(self, target) -> None:
        #: The result as given.
        self.target = target
        self._target = as_target(target)

    def startTestRun(self) -> None:
        self._target.startTestRun()

    def stopTestRun(self) -> None:
        self._target.stopTestRun()

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


class BatchResult(StreamResult):
    """Base for a result whose work is one tight loop over events: ``consume()``.

    Commands hand it the decoder's event lists whole (:mod:`subunit2.batches`),
    which skips a Python call with eleven keywords per event; ``status()`` wraps
    its one event in a batch, so the class is an ordinary result too.  Subclasses
    implement :meth:`consume`.
    """

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
        self.consume(
            (
                Event(
                    test_id,
                    test_status,
                    test_tags,
                    runnable,
                    file_name,
                    file_bytes,
                    eof,
                    mime_type,
                    route_code,
                    timestamp,
                    parent_test_id,
                ),
            )
        )

    def consume(self, events: Iterable[Event]) -> None:
        """Take events in stream order, as ``status()`` would one by one."""
        raise NotImplementedError
