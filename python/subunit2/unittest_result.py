"""A :class:`unittest.TestResult` that reports everything as ``status()`` events.

:class:`UnittestStreamResult` turns unittest's callbacks into subunit events on any
result (usually a :class:`~subunit2.writer.StreamWriter`), every one timestamped:

* ``startTest`` gives ``inprogress``; ``stopTest`` the test's final status, after its
  attachments: ``stdout``/``stderr`` (captured output), ``traceback``, ``reason``.
* Subtests (``TestCase.subTest``) are tests of their own, named as unittest names
  them (``pkg.T.test_foo (i=3)``), with ``parent_test_id`` the test's id and their own
  outcome, passing ones included.  The parent's status follows from its subtests: any
  failing subtest makes it ``fail``; when unittest reports no outcome of its own
  (which it does not when a subtest failed or was skipped) it is ``success``, or
  ``skip`` when every subtest was skipped.
* Errors outside any test (``setUpClass``, ``setUpModule``, their teardowns) become
  failing (or skipped) tests named as unittest names them, e.g.
  ``setUpClass (pkg.mod.T)``, marked not runnable.  Modules that failed to import
  (unittest's ``_FailedTest`` cases) are tests named after the module.
* Output is captured per test (unless ``capture=False``) by replacing ``sys.stdout``
  and ``sys.stderr``, and sent as the test's attachments in chunks: when a test has
  written ``chunk_size`` bytes, when it reads its standard input (so a prompt shows up
  before the wait), and at its end.  Output written straight to file descriptors
  (a subprocess, C code) is not captured.
"""

from __future__ import annotations

import datetime
import io
import sys
import unittest
from typing import Callable, Dict, List, Optional, Tuple

from .status import FAILING_STATUSES
from .timestamping import utc_now

__all__ = [
    "OutputCapture",
    "TEXT_MIME",
    "TRACEBACK_MIME",
    "UnittestStreamResult",
    "is_load_failure",
    "test_id_of",
]

#: Mime type of captured output and skip reasons.
TEXT_MIME = "text/plain;charset=utf8"
#: Mime type of tracebacks.
TRACEBACK_MIME = "text/x-traceback;charset=utf8"
#: Captured output is sent once this many bytes are pending.
CHUNK_SIZE = 65536
#: The captured streams, in the order their attachments are sent.
NAMES = ("stdout", "stderr")

_FailedTest = getattr(unittest.loader, "_FailedTest", None)
_SubTest = getattr(unittest.case, "_SubTest", None)


def is_load_failure(test) -> bool:
    """True for unittest's stand-in for a name that failed to load (``_FailedTest``)."""
    return _FailedTest is not None and isinstance(test, _FailedTest)


def test_id_of(test) -> str:
    """The id a test is reported under: ``test.id()``, except that a name that
    failed to load (unittest's ``_FailedTest``) is named by what was asked for:
    the module, or the name given on the command line."""
    if is_load_failure(test):
        return getattr(test, "subunit2_id", None) or test._testMethodName
    return test.id()


def _is_subtest(test) -> bool:
    if _SubTest is not None:
        return isinstance(test, _SubTest)
    return hasattr(test, "test_case") and hasattr(test, "_subDescription")


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


class OutputCapture(io.RawIOBase):
    """A binary sink that hands what is written to ``emit(data, eof)`` in chunks.

    Bytes are held until ``limit`` are pending or :meth:`drain` is called.  With
    ``limit=0`` text is handed over a line at a time (and on ``flush()``, as
    ``input()`` does before reading).  :attr:`text` is a text stream over it,
    suitable as ``sys.stdout``; it has a ``buffer`` for tests that write bytes.
    """

    def __init__(
        self, emit: Callable[[bytes, bool], None], limit: int = CHUNK_SIZE
    ) -> None:
        super().__init__()
        self._emit = emit
        self._limit = limit
        self._chunks: List[bytes] = []
        self._size = 0
        #: True once anything has been handed to ``emit``.
        self.emitted = False
        self.text = io.TextIOWrapper(
            io.BufferedWriter(self),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=not limit,
            write_through=bool(limit),
        )

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        size = len(data)
        if size:
            self._chunks.append(bytes(data))
            self._size += size
            if self._size >= self._limit:
                self._hand_over(False)
        return size

    def _hand_over(self, eof: bool) -> None:
        data = b"".join(self._chunks)
        self._chunks, self._size = [], 0
        if data or (eof and self.emitted):
            self.emitted = True
            self._emit(data, eof)

    def drain(self, eof: bool = False) -> None:
        """Hand over everything written so far; ``eof`` ends the attachment (an
        empty last chunk is sent only if something was sent before)."""
        try:
            self.text.flush()
        except ValueError:  # closed by the test
            pass
        self._hand_over(eof)


class UnittestStreamResult(unittest.TestResult):
    """Reports a unittest run to ``target`` (anything with ``status()``).

    ``capture`` replaces ``sys.stdout``/``sys.stderr`` during each test and sends what
    the test wrote as its attachments.  ``tb_locals`` shows local variables in
    tracebacks; ``failfast`` stops the run at the first failure.  ``route_code`` is
    put on every event.  ``clock`` returns aware UTC datetimes (tests fix it).
    :attr:`failing` is True once any failing status was reported.
    """

    def __init__(
        self,
        target,
        *,
        capture: bool = True,
        tb_locals: bool = False,
        failfast: bool = False,
        route_code: Optional[str] = None,
        clock: Optional[Callable[[], datetime.datetime]] = None,
    ) -> None:
        super().__init__()
        self.target = target
        self.capture = capture
        self.tb_locals = tb_locals
        self.failfast = failfast
        self.route_code = route_code
        self.clock = clock or utc_now
        #: True once a ``fail`` or ``uxsuccess`` has been reported.
        self.failing = False
        self._current = None
        self._current_id: Optional[str] = None
        self._status: Optional[str] = None
        self._attachments: List[Tuple[str, bytes, str]] = []
        self._subtests: Dict[str, int] = {}
        self._captures: Dict[str, OutputCapture] = {}
        self._saved: Tuple[object, object] = (None, None)

    # -- emitting ----------------------------------------------------------------

    def _emit(self, test_id: Optional[str], test_status: Optional[str] = None, **kw):
        if test_status in FAILING_STATUSES:
            self.failing = True
        self.target.status(
            test_id=test_id,
            test_status=test_status,
            route_code=self.route_code,
            timestamp=self.clock(),
            **kw,
        )

    def report(
        self,
        test_id: str,
        status: str,
        attachments: List[Tuple[str, bytes, str]],
        *,
        runnable: bool = True,
        parent: Optional[str] = None,
    ) -> None:
        """Attachments, then the final status, for one test."""
        for name, data, mime in attachments:
            self._emit(
                test_id,
                file_name=name,
                file_bytes=data,
                eof=True,
                mime_type=mime,
                runnable=runnable,
                parent_test_id=parent,
            )
        self._emit(test_id, status, runnable=runnable, parent_test_id=parent)

    # -- output capture ----------------------------------------------------------

    def _start_capture(self, test_id: str) -> None:
        def emitter(name: str) -> Callable[[bytes, bool], None]:
            def emit(data: bytes, eof: bool) -> None:
                self._emit(
                    test_id,
                    file_name=name,
                    file_bytes=data,
                    eof=eof,
                    mime_type=TEXT_MIME,
                )

            return emit

        self._captures = {name: OutputCapture(emitter(name)) for name in NAMES}
        _flush_std()  # what was written before the test goes first
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = self._captures["stdout"].text
        sys.stderr = self._captures["stderr"].text

    def flush_output(self) -> None:
        """Send the running test's pending output now (e.g. before it waits for
        input, so a prompt is seen)."""
        for capture in self._captures.values():
            capture.drain()

    def _stop_capture(self) -> None:
        if not self._captures:
            return
        sys.stdout, sys.stderr = self._saved
        self._saved = (None, None)
        captures, self._captures = self._captures, {}
        for capture in captures.values():
            capture.drain(eof=True)

    # -- unittest's callbacks ----------------------------------------------------

    def startTest(self, test) -> None:
        super().startTest(test)
        test_id = test_id_of(test)
        self._current, self._current_id = test, test_id
        self._status, self._attachments, self._subtests = None, [], {}
        self._emit(test_id, "inprogress")
        if self.capture:
            self._start_capture(test_id)

    def stopTest(self, test) -> None:
        if self._captures:
            self._stop_capture()
        else:
            _flush_std()  # uncaptured output goes before the outcome
        if test is self._current:
            status, attachments = self._parent_outcome()
            self.report(self._current_id, status, attachments)
            self._current = self._current_id = None
        super().stopTest(test)

    def _parent_outcome(self) -> Tuple[str, List[Tuple[str, bytes, str]]]:
        status, attachments, subs = self._status, self._attachments, self._subtests
        failed = subs.get("fail", 0)
        if failed and status not in FAILING_STATUSES:
            note = f"{failed} subtest(s) failed\n".encode()
            return "fail", attachments + [("reason", note, TEXT_MIME)]
        if status is not None:
            return status, attachments
        if subs:
            return ("skip" if set(subs) == {"skip"} else "success"), attachments
        note = b"unittest reported no outcome for this test (interrupted?)\n"
        return "fail", attachments + [("reason", note, TEXT_MIME)]

    def _record(self, test, status: str, attachment=None) -> None:
        """An outcome for ``test``: the running test, a subtest, or a fixture."""
        attachments = [attachment] if attachment else []
        if test is self._current and test is not None:
            if self._attachments and attachment:
                taken = {name for name, _, _ in self._attachments}
                name, n = attachment[0], 2
                while f"{name}-{n}" in taken:
                    n += 1
                attachments = [(f"{name}-{n}", attachment[1], attachment[2])]
            self._attachments.extend(attachments)
            if self._status not in FAILING_STATUSES:
                self._status = status
        elif _is_subtest(test):
            self._subtest(test, status, attachments)
        else:  # an error holder for a fixture, or a test we never saw start
            self.report(
                test_id_of(test)
                if isinstance(test, unittest.TestCase)
                else str(test.id()),
                status,
                attachments,
                runnable=isinstance(test, unittest.TestCase),
            )

    def _subtest(self, subtest, status: str, attachments) -> None:
        parent = test_id_of(subtest.test_case)
        if subtest.test_case is self._current:
            self._subtests[status] = self._subtests.get(status, 0) + 1
            self.flush_output()
        self.report(subtest.id(), status, attachments, parent=parent)

    def _traceback(self, errors: list) -> Tuple[str, bytes, str]:
        return ("traceback", errors[-1][1].encode("utf-8", "replace"), TRACEBACK_MIME)

    def addSuccess(self, test) -> None:
        super().addSuccess(test)
        self._record(test, "success")

    def addFailure(self, test, err) -> None:
        super().addFailure(test, err)
        self._record(test, "fail", self._traceback(self.failures))

    def addError(self, test, err) -> None:
        super().addError(test, err)
        self._record(test, "fail", self._traceback(self.errors))

    def addSkip(self, test, reason) -> None:
        super().addSkip(test, reason)
        self._record(test, "skip", ("reason", str(reason).encode("utf-8"), TEXT_MIME))

    def addExpectedFailure(self, test, err) -> None:
        super().addExpectedFailure(test, err)
        self._record(test, "xfail", self._traceback(self.expectedFailures))

    def addUnexpectedSuccess(self, test) -> None:
        super().addUnexpectedSuccess(test)
        self._record(test, "uxsuccess")

    def addSubTest(self, test, subtest, err) -> None:
        super().addSubTest(test, subtest, err)
        if err is None:
            self._subtest(subtest, "success", [])
            return
        if issubclass(err[0], test.failureException):
            errors = self.failures
        else:
            errors = self.errors
        self._subtest(subtest, "fail", [self._traceback(errors)])
