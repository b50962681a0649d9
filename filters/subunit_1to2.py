"""subunit-1to2: convert the subunit v1 text protocol into a v2 stream.

Every v1 test becomes ``inprogress`` and final events; details become attachments;
``time:`` and ``tags:`` lines become the events' timestamps and tags.  Lines that are
not v1 become non-test ``stdout`` data, so nothing is lost.  Malformed v1 lines are
passed through the same way and reported on stderr.  See docs/v1.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.v1_reader import read_v1
from subunit2.writer import StreamWriter

DESCRIPTION = """\
Convert subunit v1 text (FILE or standard input) into a subunit v2 stream.

v1 outcomes map to v2 statuses: success/successful -> success, failure and
error -> fail, skip, xfail, uxsuccess; "test:" -> inprogress. "[ ... ]" details
become a "traceback" attachment ("reason" for skip, "message" for success);
"[ multipart" details keep their names and Content-Types. "time:" lines stamp
the events that follow; "tags:" lines outside a test apply to every later test,
inside a test to that test. "progress:" lines have no v2 equivalent and are
dropped. A test the input ends inside is reported as failed.

Lines that are not v1 are passed through as non-test "stdout" data. Malformed
v1 lines (a bad time or progress value, a bad chunk header, an outcome for a
test that is not running, bad UTF-8 in a test id, ...) are passed through the
same way and reported on stderr as "line N: ..."; with --strict they also make
the exit code 3 (the output is still complete). See docs/v1.md."""

#: Malformed lines reported one by one; past this only the total is reported.
REPORT_LIMIT = 20


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-1to2", DESCRIPTION)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with code 3 if the input had malformed v1 lines",
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="do not report malformed v1 lines on stderr",
    )
    return parser


def convert(args: argparse.Namespace) -> Optional[int]:
    """Convert ``args.input`` to v2 on ``args.output``; report malformed lines."""
    prog = "subunit-1to2"
    reported = 0

    def on_error(line: int, message: str) -> None:
        nonlocal reported
        reported += 1
        if not args.quiet and reported <= REPORT_LIMIT:
            sys.stderr.write(f"{prog}: line {line}: {message}\n")

    with (
        cli.open_input(args.input) as source,
        cli.open_output(args.output, binary=True) as out,
    ):
        writer = StreamWriter(out, flush=cli.is_live(out))
        writer.startTestRun()
        try:
            read_v1(source, writer, on_error=on_error)
        finally:
            writer.stopTestRun()
    if reported > REPORT_LIMIT and not args.quiet:
        sys.stderr.write(
            f"{prog}: {reported} malformed lines in all "
            f"({reported - REPORT_LIMIT} not shown)\n"
        )
    if reported and args.strict:
        return cli.EXIT_IO
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-1to2`` command; returns its exit code."""
    return cli.run(make_parser(), convert, argv)


if __name__ == "__main__":
    sys.exit(main())
