"""subunit2junitxml: a subunit v2/2.1 stream in, a JUnit XML report out.

The library side is :class:`subunit2.junit_writer.JUnitXmlWriter`; this module adds
where the report goes and when.  With ``-o FILE`` the report is always written to a
temporary file next to FILE and renamed over it, so FILE is never half written: once
at the start (a report saying the run has not finished), then as periodic snapshots
while the stream runs, then the final report.  On standard output nothing is written
until the stream ends; then the whole report is.  ``docs/junitxml.md`` has the rules.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.event import Event
from subunit2.junit_writer import XFAIL_MODES, JUnitXmlWriter
from subunit2.reader import read_stream

DESCRIPTION = """\
Convert a subunit v2/2.1 stream (FILE or standard input) into a JUnit XML report
that CI systems (Jenkins, GitLab, GitHub actions, Azure...) read: one <testcase>
per test, <failure> for fail and uxsuccess, <skipped> for skip, <error> for a
test that never completed, stdout/stderr as <system-out>/<system-err>. Subtests
are test cases of their own, named after their parent. Memory stays flat however
long the stream: test cases are spooled to a temporary file.

With -o FILE the report is replaced atomically (temporary file + rename): first
a report that says the run is unfinished, then a snapshot every few seconds
(--snapshot-interval), then the final report, so a run killed half way leaves a
well-formed report of what finished, marked as an error. On standard output the
report is written once, at the end.

Exit status 1 when the stream shows failing tests (fail, uxsuccess, or a test
that never completed), unless --no-verdict. See docs/junitxml.md."""


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


def _is_regular_target(path: str) -> bool:
    """False for /dev/stdout, FIFOs and such: they are written, never replaced."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


def _non_test_sink(where: str):
    if where == "system-out":
        return "system-out"
    if where == "drop":
        return None
    stream = getattr(sys.stderr, "buffer", None)

    def to_stderr(event: Event) -> None:
        if event.file_bytes and stream is not None:
            stream.write(event.file_bytes)
            stream.flush()

    return to_stderr


def convert(args: argparse.Namespace) -> Optional[int]:
    """Read the stream of ``args.input`` and write the report; see the module doc."""
    if args.snapshot_interval < 0:
        raise cli.CliError("--snapshot-interval must not be negative", cli.EXIT_USAGE)
    report: Optional[ReportFile] = None
    if args.output not in (None, "-") and _is_regular_target(args.output):
        report = ReportFile(args.output)
    writer = JUnitXmlWriter(
        suite_name=args.suite_name,
        xfail=args.xfail,
        non_test=_non_test_sink(args.non_subunit),
    )
    with writer, cli.open_input(args.input) as source:
        writer.startTestRun()
        snapshots: Optional[Snapshots] = None
        if report is not None:
            report.write(writer, UNFINISHED)
            if args.snapshot_interval:
                snapshots = Snapshots(report, writer, args.snapshot_interval)
                snapshots.start()
        try:
            read_stream(source, writer)
        except BaseException as error:  # noqa: BLE001 - report, then re-raise
            if snapshots is not None:
                snapshots.stop()
            writer.stopTestRun()
            _final(writer, report, args.output, _describe(error))
            raise
        if snapshots is not None:
            snapshots.stop()
        writer.stopTestRun()
        _final(writer, report, args.output, None)
        if writer.failing and not args.no_verdict:
            return cli.EXIT_FAILING
    return None


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


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Inside the block, SIGTERM raises :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2junitxml`` command; returns its exit code."""
    parser = cli.make_parser("subunit2junitxml", DESCRIPTION, verdict=True)
    parser.add_argument(
        "--no-verdict",
        "--exit-zero",
        action="store_true",
        help="exit 0 even when tests failed (errors in input or output still exit 3)",
    )
    parser.add_argument(
        "--xfail",
        choices=XFAIL_MODES,
        default="pass",
        help="how an expected failure is reported: as a pass (default) or as <skipped>",
    )
    parser.add_argument(
        "--suite-name",
        default="subunit",
        metavar="NAME",
        help="name of the <testsuites> and <testsuite> elements (default: subunit)",
    )
    parser.add_argument(
        "--non-subunit",
        choices=("system-out", "stderr", "drop"),
        default="system-out",
        help="where bytes that are not subunit packets (and other events without a "
        "test id) go: the suite's <system-out>/<system-err> (default), this "
        "command's standard error, or nowhere",
    )
    parser.add_argument(
        "--snapshot-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with -o FILE, rewrite FILE with the tests finished so far this often "
        "(default 10; 0 = only at start and end)",
    )
    with _sigterm_as_interrupt():
        return cli.run(parser, convert, argv)


if __name__ == "__main__":
    sys.exit(main())
