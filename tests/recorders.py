"""Recording results and a full event, shared by the tests of the kit modules.

Test modules import these as ``from recorders import ...``: pytest puts ``tests/`` on
``sys.path`` for them (its default import mode does so for a test directory without
``__init__.py``, and ``conftest.py`` does so whatever the mode).
"""

from __future__ import annotations

import datetime

import testtools

from subunit2 import StreamResult
from subunit2.event import Event

__all__ = ["FULL", "FULL_PRE_21", "OldRecorder", "Recorder", "T0", "UTC"]

UTC = datetime.timezone.utc
#: The timestamp of :data:`FULL`; it has microseconds, which must survive too.
T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

#: Every ``status()`` argument, each with a value other than its default.
FULL = dict(
    test_id="pkg.test_a",
    test_status="fail",
    test_tags={"slow", "db"},
    runnable=False,
    file_name="traceback",
    file_bytes=b"boom",
    eof=True,
    mime_type="text/plain;charset=utf8",
    route_code="0/1",
    timestamp=T0,
    parent_test_id="pkg.parent",
)
#: :data:`FULL` as a pre-2.1 result must receive it: without ``parent_test_id``.
FULL_PRE_21 = {k: v for k, v in FULL.items() if k != "parent_test_id"}


class Recorder(StreamResult):
    """A 2.1 result that records every call.

    :attr:`events` holds the keyword arguments of each ``status()`` call, exactly as
    given.  :attr:`log` holds every call in order: ``(name, "start")``,
    ``(name, "status", test_id, test_status)`` and ``(name, "stop")``; give several
    recorders one ``log`` list to see how their calls interleave.
    """

    def __init__(self, name="r", log=None):
        self.name = name
        self.log = [] if log is None else log
        self.events = []

    def startTestRun(self):
        self.log.append((self.name, "start"))

    def stopTestRun(self):
        self.log.append((self.name, "stop"))

    def status(self, **kwargs):
        self.events.append(kwargs)
        self.log.append(
            (self.name, "status", kwargs.get("test_id"), kwargs.get("test_status"))
        )


class OldRecorder(testtools.StreamResult):
    """A testtools (pre-2.1) result: passing parent_test_id would be a TypeError.

    :attr:`events` holds the arguments of each ``status()`` call as a dict.
    """

    def __init__(self):
        super().__init__()
        self.events = []

    def status(
        self,
        test_id=None,
        test_status=None,
        test_tags=None,
        runnable=True,
        file_name=None,
        file_bytes=None,
        eof=False,
        mime_type=None,
        route_code=None,
        timestamp=None,
    ):
        kwargs = dict(locals())
        del kwargs["self"]
        self.events.append(kwargs)


def events_of(recorder) -> list:
    """A recorder's calls as :class:`~subunit2.event.Event` values, for comparing."""
    return [Event(**kwargs) for kwargs in recorder.events]
