"""subunit2junitxml: a subunit v2/2.1 stream in, a JUnit XML report out.

The command line over :func:`subunit2.junit_report.write_report`.  With ``-o FILE``
the report is always written to a temporary file next to FILE and renamed over it,
so FILE is never half written: once at the start (a report saying the run has not
finished), then as periodic snapshots while the stream runs, then the final report.
On standard output nothing is written until the stream ends; then the whole report
is.  SIGTERM is handled like Ctrl-C.  ``docs/junitxml.md`` has the rules.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.event import Event
from subunit2.junit_report import Terminated, write_report
from subunit2.junit_writer import XFAIL_MODES

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
    with cli.open_input(args.input) as source:
        writer = write_report(
            source,
            args.output,
            suite_name=args.suite_name,
            xfail=args.xfail,
            non_test=_non_test_sink(args.non_subunit),
            snapshot_interval=args.snapshot_interval,
        )
    if writer.failing and not args.no_verdict:
        return cli.EXIT_FAILING
    return None


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
