"""Writing a JUnit XML report to a file that is only ever replaced whole.

:func:`write_report` reads a stream into a
:class:`~subunit2.junit_writer.JUnitXmlWriter` and writes the report.  To a
regular file it writes atomically (temporary file and rename): first a report
saying the run is unfinished, then snapshots every few seconds from a thread while
events arrive, then the final report; so a run killed half way leaves a
well-formed report of what finished, marked as an error.  To standard output, a
pipe or a device it writes once, at the end.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
import time
from typing import BinaryIO, Callable, Optional, Union

from . import cli
from .event import Event
from .junit_writer import JUnitXmlWriter
from .reader import read_stream

__all__ = ["UNFINISHED", "ReportFile", "Snapshots", "Terminated", "write_report"]


#: Why a report written before the stream ended is incomplete.
UNFINISHED = "the run has not finished yet (this is a snapshot)"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the report of what finished is still written."""


def _describe(error: BaseException) -> str:
    if isinstance(error, Terminated):
        return "conversion terminated (SIGTERM) before the stream ended"
    if isinstance(error, KeyboardInterrupt):
        return "conversion interrupted before the stream ended"
    return f"conversion stopped by an error: {error}"


class ReportFile:
    """Replaces ``path`` atomically each time :meth:`write` is called."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            self.mode = 0o666 & ~umask
        else:
            self.mode = stat.S_IMODE(mode)

    def write(self, writer: JUnitXmlWriter, partial: Optional[str]) -> None:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(self.path)}.", suffix=".tmp", dir=self.directory
        )
        try:
            with os.fdopen(fd, "wb") as out:
                writer.write_report(out, partial)
            os.chmod(temporary, self.mode)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


class Snapshots(threading.Thread):
    """Rewrites the report every ``interval`` seconds while events keep arriving.

    A thread, so a run that stalls (a hung test, a quiet pipe) still gets the
    tests that finished before it into the file.  The interval stretches so that
    snapshots take at most a fifth of the time.  A write error stops the
    snapshots; the final write reports it.
    """

    def __init__(
        self, report: ReportFile, writer: JUnitXmlWriter, interval: float
    ) -> None:
        super().__init__(name="subunit2junitxml-snapshots", daemon=True)
        self.report = report
        self.writer = writer
        self.interval = interval
        self.finished = threading.Event()

    def run(self) -> None:
        wait = self.interval
        written = self.writer.version
        while not self.finished.wait(wait):
            if self.writer.version == written:
                continue
            start = time.monotonic()
            try:
                with self.writer.lock:
                    written = self.writer.version
                    self.report.write(self.writer, UNFINISHED)
            except (OSError, ValueError):
                return
            wait = max(self.interval, 4 * (time.monotonic() - start))

    def stop(self) -> None:
        self.finished.set()
        self.join()


def is_regular_target(path: str) -> bool:
    """False for /dev/stdout, FIFOs and such: they are written, never replaced."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


def write_report(
    source: BinaryIO,
    output: Optional[str],
    *,
    suite_name: str = "subunit",
    xfail: str = "pass",
    non_test: Union[str, None, Callable[[Event], object]] = "system-out",
    snapshot_interval: float = 10.0,
) -> JUnitXmlWriter:
    """Read the stream ``source`` and write its report to the path ``output``
    (None or ``-``: standard output); returns the writer, whose ``failing`` is
    the verdict.  ``snapshot_interval`` 0 writes a file only at start and end."""
    report: Optional[ReportFile] = None
    if output not in (None, "-") and is_regular_target(output):
        report = ReportFile(output)
    writer = JUnitXmlWriter(suite_name=suite_name, xfail=xfail, non_test=non_test)
    with writer:
        writer.startTestRun()
        snapshots: Optional[Snapshots] = None
        if report is not None:
            report.write(writer, UNFINISHED)
            if snapshot_interval:
                snapshots = Snapshots(report, writer, snapshot_interval)
                snapshots.start()
        try:
            read_stream(source, writer)
        except BaseException as error:  # noqa: BLE001 - report, then re-raise
            if snapshots is not None:
                snapshots.stop()
            writer.stopTestRun()
            _final(writer, report, output, _describe(error))
            raise
        if snapshots is not None:
            snapshots.stop()
        writer.stopTestRun()
        _final(writer, report, output, None)
    return writer


def _final(
    writer: JUnitXmlWriter,
    report: Optional[ReportFile],
    output: Optional[str],
    partial: Optional[str],
) -> None:
    if report is not None:
        report.write(writer, partial)
        return
    with cli.open_output(output, binary=True) as out:
        writer.write_report(out, partial)
