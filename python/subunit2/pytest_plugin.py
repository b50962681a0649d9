"""pytest plugin: ``pytest --subunit`` writes the run as a subunit v2/2.1 stream.

Registered through the ``pytest11`` entry point and inactive unless ``--subunit`` or
``--subunit-file=PATH`` is given, so installing subunit2 changes nothing for other
pytest runs (and pytest is not a dependency of subunit2: this module is imported only
by pytest).

What the stream holds:

- one ``exists`` event per collected test (``--collect-only`` emits only those);
- per test, ``inprogress`` when its setup starts, then its attachments (``stdout``,
  ``stderr``, ``log``, ``traceback``, ``reason``), then exactly one final status folded
  from setup, call and teardown: any phase failing makes the test ``fail``; an xfail is
  ``xfail``, a non-strict xpass ``uxsuccess``; a skip is ``skip``;
- each subtest (pytest's ``subtests`` fixture) as a test of its own, with
  ``parent_test_id`` the test's node id; a failed subtest fails its parent;
- a collection error as a failing test named after the collector's node id;
- under pytest-xdist, the controller writes the stream and each worker's tests carry
  the worker id (``gw0``, ``gw1``, ...) as their route code.

With ``--subunit`` the stream owns standard output: pytest's own terminal report (and
any output of uncaptured tests) is sent to standard error instead.
"""

from __future__ import annotations

import datetime
import os
import sys
from typing import Dict, List, Optional

import pytest

from .writer import StreamWriter

__all__ = ["SubunitReporter", "fold_outcome", "subtest_id"]

_UTC = datetime.timezone.utc
_TEXT = "text/plain; charset=utf8"
_TRACEBACK = "text/x-traceback; charset=utf8"
# Attachments in the order they are written; pytest's section titles map onto them.
_SECTION_NAMES = (("stdout", "stdout"), ("stderr", "stderr"), ("log", "log"))
_STDOUT_FD = pytest.StashKey[int]()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("subunit", "subunit v2 stream output (subunit2)")
    group.addoption(
        "--subunit",
        action="store_true",
        default=False,
        help="write results as a subunit v2/2.1 stream to standard output; "
        "pytest's terminal report goes to standard error",
    )
    group.addoption(
        "--subunit-file",
        metavar="PATH",
        default=None,
        help="write the subunit stream to PATH instead (terminal report unchanged)",
    )


def _streams_to_stdout(namespace) -> bool:
    # No worker check here: xdist sets a worker's workerinput only after this
    # hook, and its environment variable is inherited by any pytest a test starts.
    # A worker's fd 1 is not its controller's channel, so moving it is harmless.
    return bool(getattr(namespace, "subunit", False)) and not getattr(
        namespace, "subunit_file", None
    )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Before pytest's output capturing saves file descriptor 1: keep the real stdout
    # for the stream and point fd 1 at stderr, so pytest's terminal report (and any
    # uncaptured output, with -s) can never mix into the stream.
    if _streams_to_stdout(early_config.known_args_namespace):
        sys.stdout.flush()
        early_config.stash[_STDOUT_FD] = os.dup(1)
        os.dup2(2, 1)
    yield


def pytest_configure(config) -> None:
    path = config.getoption("subunit_file")
    if not (config.getoption("subunit") or path):
        return
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    saved = config.stash.get(_STDOUT_FD, None)
    if path:
        stream = open(path, "wb")
    elif saved is not None:
        stream = os.fdopen(saved, "wb")
    else:  # loaded too late to move pytest's own output: share stdout
        stream = os.fdopen(os.dup(1), "wb")
    reporter = SubunitReporter(stream, real_stdout=saved is not None and not path)
    config.pluginmanager.register(reporter, "subunit2-reporter")


def _now() -> datetime.datetime:
    return datetime.datetime.now(_UTC)


def _at(seconds: Optional[float]) -> datetime.datetime:
    if not seconds:
        return _now()
    return datetime.datetime.fromtimestamp(seconds, _UTC)


def _route_of(report) -> Optional[str]:
    worker = getattr(report, "worker_id", None)
    if worker:
        return str(worker)
    node = getattr(report, "node", None)
    gateway = getattr(node, "gateway", None)
    return getattr(gateway, "id", None)


def _subtest_context(report):
    """The subtest context of a report, or None for an ordinary test report."""
    context = getattr(report, "context", None)
    if context is None or not hasattr(context, "kwargs"):
        return None
    return context


def subtest_id(nodeid: str, msg: Optional[str], kwargs) -> str:
    """A subtest's id as pytest shows it: ``nodeid [msg] (k=v, ...)``."""
    parts = []
    if msg is not None:
        parts.append(f"[{msg}]")
    if kwargs:
        parts.append("(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")")
    return f"{nodeid} {' '.join(parts) or '(<subtest>)'}"


def fold_outcome(reports: List, failed_subtests: int = 0) -> str:
    """One final subunit status from a test's setup, call and teardown reports."""
    status = "success"
    for report in reports:
        if report.failed:
            return "fail"
        if report.skipped:
            status = "xfail" if hasattr(report, "wasxfail") else "skip"
        elif report.when == "call" and hasattr(report, "wasxfail"):
            status = "uxsuccess"
    if failed_subtests and status == "success":
        return "fail"
    return status


class _Test:
    """What is known about one test while it runs."""

    __slots__ = ("reports", "route", "failed_subtests", "subtest_ids")

    def __init__(self, route: Optional[str]) -> None:
        self.reports: List = []
        self.route = route
        self.failed_subtests = 0
        self.subtest_ids: Dict[str, int] = {}


class SubunitReporter:
    """The pytest hooks that turn a session's reports into stream events."""

    def __init__(self, stream, *, real_stdout: bool = False) -> None:
        self._stream = stream
        self._real_stdout = real_stdout
        self._out = StreamWriter(stream)
        self._tests: Dict[str, _Test] = {}
        self._enumerated = False

    # -- collection ----------------------------------------------------------------
    def pytest_collection_finish(self, session) -> None:
        self._enumerate(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self._enumerate(ids)  # every worker collects the same tests: list them once

    def _enumerate(self, ids) -> None:
        if self._enumerated:
            return
        self._enumerated = True
        now = _now()
        for test_id in ids:
            self._out.status(test_id=test_id, test_status="exists", timestamp=now)

    def pytest_collectreport(self, report) -> None:
        if report.passed:
            return
        test_id = report.nodeid or "<collection>"
        now = _now()
        self._out.status(test_id=test_id, test_status="inprogress", timestamp=now)
        if report.failed:
            self._attach(test_id, "traceback", report.longreprtext, _TRACEBACK, None)
            self._out.status(test_id=test_id, test_status="fail", timestamp=now)
        else:
            self._attach(test_id, "reason", _skip_reason(report), _TEXT, None)
            self._out.status(test_id=test_id, test_status="skip", timestamp=now)

    # -- running -------------------------------------------------------------------
    def pytest_runtest_logreport(self, report) -> None:
        test = self._tests.get(report.nodeid)
        if test is None:
            test = self._tests[report.nodeid] = _Test(_route_of(report))
            self._out.status(
                test_id=report.nodeid,
                test_status="inprogress",
                route_code=test.route,
                timestamp=_at(getattr(report, "start", None)),
            )
        context = _subtest_context(report)
        if context is not None:
            self._subtest(test, report, context)
            return
        test.reports.append(report)
        if report.when == "teardown":
            self._finish(report.nodeid, test, getattr(report, "stop", None))

    def _subtest(self, test: _Test, report, context) -> None:
        sub_id = subtest_id(report.nodeid, context.msg, context.kwargs)
        seen = test.subtest_ids.get(sub_id, 0) + 1
        test.subtest_ids[sub_id] = seen
        if seen > 1:  # the same message twice: keep ids unique
            sub_id = f"{sub_id} #{seen}"
        status = fold_outcome([report])
        if status == "fail":
            test.failed_subtests += 1
        route = test.route
        self._out.status(
            test_id=sub_id,
            test_status="inprogress",
            route_code=route,
            timestamp=_at(getattr(report, "start", None)),
            parent_test_id=report.nodeid,
        )
        self._attach_report(sub_id, [report], status, route, report.nodeid)
        self._out.status(
            test_id=sub_id,
            test_status=status,
            route_code=route,
            timestamp=_at(getattr(report, "stop", None)),
            parent_test_id=report.nodeid,
        )

    def _finish(self, nodeid: str, test: _Test, stop: Optional[float]) -> None:
        del self._tests[nodeid]
        status = fold_outcome(test.reports, test.failed_subtests)
        self._attach_report(nodeid, test.reports, status, test.route, None)
        self._out.status(
            test_id=nodeid,
            test_status=status,
            route_code=test.route,
            timestamp=_at(stop),
        )

    def _attach_report(self, test_id, reports, status, route, parent) -> None:
        for name, marker in _SECTION_NAMES:
            text = "".join(
                content
                for report in reports
                for title, content in report.sections
                if title.startswith("Captured") and marker in title.split()
            )
            self._attach(test_id, name, text, _TEXT, route, parent)
        if status in ("fail", "xfail"):
            failure = "\n".join(
                report.longreprtext
                for report in reports
                if (report.failed or status == "xfail") and report.longreprtext
            )
            if not failure and status == "fail" and not any(r.failed for r in reports):
                failure = "a subtest failed"
            self._attach(test_id, "traceback", failure, _TRACEBACK, route, parent)
        elif status == "skip":
            reason = "".join(_skip_reason(r) for r in reports if r.skipped)
            self._attach(test_id, "reason", reason, _TEXT, route, parent)

    def _attach(self, test_id, name, text, mime, route, parent=None) -> None:
        if not text:
            return
        self._out.status(
            test_id=test_id,
            file_name=name,
            file_bytes=text.encode("utf-8", "replace"),
            eof=True,
            mime_type=mime,
            route_code=route,
            timestamp=_now(),
            parent_test_id=parent,
        )

    # -- end -----------------------------------------------------------------------
    def pytest_sessionfinish(self, session) -> None:
        # Tests whose teardown never reported (the session was interrupted) stay
        # "inprogress" in the stream: a consumer sees that they never completed.
        self._out.stopTestRun()

    def pytest_unconfigure(self, config) -> None:
        self._stream.flush()
        if self._real_stdout:
            sys.stdout.flush()
            os.dup2(self._stream.fileno(), 1)  # give the process its stdout back
        self._stream.close()


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")
