"""subunit2pyunit: a unittest-style text report of a subunit v2/2.1 stream."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli, passthrough
from subunit2.reader import read_stream
from subunit2.textreport import TextReport

DESCRIPTION = """\
Read a subunit v2/2.1 stream (FILE or standard input) and write a report in the
style of Python's unittest runner: one character per test as it completes
(. success, F fail, s skip, x expected failure, u unexpected success, E did not
complete) or with -v one line per test ("test_id ... ok") with its subtests
indented under it; then every failure, unexpected success and incomplete test with
its attachments (traceback first), "Ran N tests in X.XXXs" (subtests are counted
apart; X is the span of the stream's timestamps) and OK or FAILED (failures=...).

Non-subunit bytes of the input are copied unchanged to standard error
(--no-passthrough drops them), never mixed into the report.

Exits 1 when a test failed, succeeded unexpectedly or never completed, unless
--no-verdict is given."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit2pyunit", DESCRIPTION, verdict=True)
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="one line per test, subtests indented under their parent",
    )
    passthrough.add_option(parser)
    return parser


def report(args: argparse.Namespace) -> int:
    """Read ``args.input`` and write its report; the exit code is the verdict."""
    with cli.open_input(args.input) as source, cli.open_output(args.output) as out:
        reporter = TextReport(
            out,
            verbose=args.verbose,
            flush=cli.is_live(out),
            on_non_test=passthrough.non_test_sink(not args.no_passthrough),
        )
        reporter.startTestRun()
        try:
            read_stream(source, reporter)
        finally:
            reporter.stopTestRun()
    if reporter.wasSuccessful() or args.no_verdict:
        return cli.EXIT_OK
    return cli.EXIT_FAILING


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2pyunit`` command; returns its exit code."""
    return cli.run(build_parser(), report, argv)


if __name__ == "__main__":
    sys.exit(main())
