"""Loading and running unittest tests for ``python -m subunit2.run`` and its server.

:class:`TestCatalog` loads tests once (by name or by discovery, as unittest does),
keeps them as a flat list in load order and selects batches by id, so a long-lived
process can run any subset again and again.  :func:`run_batch` runs a selection on a
:class:`~subunit2.unittest_result.UnittestStreamResult`.  :func:`claim_stdout` takes
the process's real standard output for the stream, so tests that print, replace
``sys.stdout`` or write to file descriptor 1 cannot corrupt it.
"""

from __future__ import annotations

import os
import sys
import threading
import unittest
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .timestamping import utc_now
from .unittest_result import (
    TEXT_MIME,
    TRACEBACK_MIME,
    OutputCapture,
    is_load_failure,
    test_id_of,
)

__all__ = [
    "LoadSpec",
    "announce",
    "LockedResult",
    "TestCatalog",
    "claim_stdout",
    "flatten",
    "list_tests",
    "read_id_list",
    "route_stray_output",
    "run_batch",
]


@dataclass
class LoadSpec:
    """What to load: test ``names`` (modules, classes, methods), or discovery
    (``discover=True`` with ``start``, ``pattern`` and ``top``), like unittest's
    command line.  ``patterns`` are ``-k`` filters (substrings or fnmatch patterns).
    No names and no discovery means discovery from the current directory."""

    names: List[str] = field(default_factory=list)
    discover: bool = False
    start: str = "."
    pattern: str = "test*.py"
    top: Optional[str] = None
    patterns: List[str] = field(default_factory=list)

    @property
    def roots(self) -> List[str]:
        """Directories whose source files belong to the tests (for reloading)."""
        if self.discover or not self.names:
            return [os.path.abspath(self.top or self.start)]
        return [os.path.abspath(".")]


def flatten(suite: Iterable) -> Iterator[unittest.TestCase]:
    """Every test case in ``suite``, nested suites opened, in order."""
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from flatten(test)
        else:
            yield test


class TestCatalog:
    """The tests of one load, by id.  :meth:`load` (again) picks up edits once the
    changed modules are gone from ``sys.modules``; see :mod:`subunit2.reloader`."""

    __test__ = False  # not a pytest test class

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.suite: unittest.TestSuite = unittest.TestSuite()
        self.tests: List[unittest.TestCase] = []
        self._by_id: Dict[str, unittest.TestCase] = {}

    def load(self) -> None:
        """Load the tests; raises whatever unittest's loader raises on bad names
        or a bad start directory.  Import errors become ``_FailedTest`` cases."""
        spec = self.spec
        loader = unittest.TestLoader()
        if spec.patterns:
            loader.testNamePatterns = [
                p if "*" in p else f"*{p}*" for p in spec.patterns
            ]
        if spec.discover or not spec.names:
            suite = loader.discover(spec.start, spec.pattern, spec.top)
        else:
            suite = loader.suiteClass(
                [self._load_name(loader, name) for name in spec.names]
            )
        self.suite = suite
        self.tests = list(flatten(suite))
        self._by_id = {}
        for test in self.tests:
            self._by_id.setdefault(test_id_of(test), test)

    @staticmethod
    def _load_name(loader: unittest.TestLoader, name: str) -> unittest.TestSuite:
        """Load one name; a failure to load it is named after it (unittest names
        a missing attribute by its last part only)."""
        suite = loader.loadTestsFromName(name)
        found = list(flatten(suite))
        if len(found) == 1 and is_load_failure(found[0]):
            found[0].subunit2_id = name
        return suite

    @property
    def ids(self) -> List[str]:
        return [test_id_of(test) for test in self.tests]

    def select(
        self, ids: Optional[Iterable[str]]
    ) -> Tuple[List[unittest.TestCase], List[str]]:
        """The tests named by ``ids`` (all when None), in load order so class and
        module fixtures are set up once, and the ids that name no test.

        A subtest id (``pkg.T.test_foo (i=3)``) selects its parent test.
        """
        if ids is None:
            return list(self.tests), []
        wanted = set()
        missing = []
        for test_id in dict.fromkeys(ids):
            if test_id in self._by_id:
                wanted.add(test_id)
                continue
            parent = test_id.split(" ", 1)[0]
            if parent != test_id and parent in self._by_id:
                wanted.add(parent)
            else:
                missing.append(test_id)
        chosen = []
        for test in self.tests:
            test_id = test_id_of(test)
            if test_id in wanted:
                chosen.append(test)
                wanted.discard(test_id)  # duplicates run once
        return chosen, missing


def read_id_list(path: str) -> List[str]:
    """Test ids from a ``--load-list`` file: one per line, blank lines ignored."""
    with open(path, encoding="utf-8") as stream:
        return [line.strip() for line in stream if line.strip()]


def run_batch(tests: Sequence[unittest.TestCase], missing: Sequence[str], result):
    """Run ``tests`` on ``result`` (a :class:`UnittestStreamResult`) as one suite,
    then report each of ``missing`` as a failing test (never a silent gap)."""
    suite = unittest.TestSuite(tests)
    result.startTestRun()
    try:
        suite.run(result)
    finally:
        result.stopTestRun()
    for test_id in missing:
        result.report(
            test_id,
            "fail",
            [("reason", b"no test with this id was loaded\n", TEXT_MIME)],
        )


def announce(tests: Iterable[unittest.TestCase], result) -> None:
    """Report each test about to run as ``exists`` (no attachments): a total for
    live views, without the listing's load-error details."""
    for test in tests:
        result.report(test_id_of(test), "exists", [])


def list_tests(catalog: TestCatalog, result) -> None:
    """Report every loaded test as ``exists``; a module that failed to import also
    gets its traceback as an attachment, so the listing shows why."""
    for test in catalog.tests:
        test_id = test_id_of(test)
        error = getattr(test, "_exception", None) if is_load_failure(test) else None
        attachments = []
        if error is not None:
            text = str(error).encode("utf-8", "replace")
            attachments.append(("traceback", text, TRACEBACK_MIME))
        result.report(test_id, "exists", attachments)
        if attachments:
            result.failing = True


class LockedResult:
    """Serialises ``status()`` calls from several threads onto one target."""

    def __init__(self, target) -> None:
        self.target = target
        self.lock = threading.Lock()

    def startTestRun(self) -> None:
        with self.lock:
            self.target.startTestRun()

    def stopTestRun(self) -> None:
        with self.lock:
            self.target.stopTestRun()

    def status(self, **kwargs) -> None:
        with self.lock:
            self.target.status(**kwargs)

    def write_raw(self, data: bytes) -> None:
        """Write already-encoded packets (replies) between events."""
        with self.lock:
            stream = self.target.stream
            stream.write(data)
            stream.flush()


def claim_stdout() -> BinaryIO:
    """Take file descriptor 1 for the stream and return it as a binary file.

    The real descriptor is duplicated first; descriptor 1 then points at standard
    error, so output written straight to it (subprocesses, C code) lands there.
    Pair it with :func:`route_stray_output` for ``sys.stdout``.
    """
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    real = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(real, "wb")


def route_stray_output(target) -> None:
    """Send what is written to ``sys.stdout`` outside any test to ``target`` as
    events with no test id and file name ``stdout``, a line (or a flush) at a
    time."""

    def emit(data: bytes, eof: bool) -> None:
        target.status(
            file_name="stdout",
            file_bytes=data,
            eof=eof,
            mime_type=TEXT_MIME,
            timestamp=utc_now(),
        )

    sys.stdout = OutputCapture(emit, limit=0).text
