"""subunit-ls: the ids of a stream's tests, one per line, in completion order."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.batches import feed_batches
from subunit2.fileio import binary_stream
from subunit2.listing import TestLister

DESCRIPTION = """\
List the tests of a subunit v2/2.1 stream (FILE or standard input), one id per
line, as each completes (its final status arrives): tests that ran, whatever
their outcome. Tests still without a final status at the end are not listed
(subunit-stats counts them as incomplete). The output is flushed per read when
it is a terminal or a pipe, so a live run can be followed. This command lists
and does not judge: it exits 0 whatever the outcomes.

--tree: subtests (parent_test_id) are indented two spaces per level under their
parent. A subtest's line is held only while its parent is in flight and is
written below the parent's line when the parent completes; a subtest whose
parent is not in flight is listed at once, marked "(subtest of PARENT)"; a
parent left in flight at the end is listed with "(incomplete)" above the
subtests it holds.

Non-subunit bytes in the input are copied to standard error, so the listing
stays clean; --no-passthrough drops them."""


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-ls", DESCRIPTION)
    parser.add_argument(
        "--times",
        action="store_true",
        help="add each test's duration in seconds, first to final timestamp of "
        "its events ('-' without timestamps)",
    )
    parser.add_argument(
        "--exists",
        action="store_true",
        help="list enumerated tests (status exists) too; a test enumerated and "
        "then run is listed for each",
    )
    parser.add_argument(
        "--tree",
        action="store_true",
        help="show subtests indented under their parent",
    )
    parser.add_argument(
        "--no-passthrough",
        dest="passthrough",
        action="store_false",
        help="drop non-subunit input instead of copying it to standard error",
    )
    return parser


def list_tests(args: argparse.Namespace) -> None:
    """List ``args.input`` onto ``args.output``."""
    with cli.open_input(args.input) as source:
        with cli.open_output(args.output) as out:
            on_non_test = None
            if args.passthrough and sys.stderr is not None:
                errors = binary_stream(sys.stderr)

                def on_non_test(event) -> None:
                    if event[5]:
                        errors.write(event[5])
                        errors.flush()

            write = out.write
            if cli.is_live(out):

                def write(text: str, _write=out.write, _flush=out.flush) -> None:
                    _write(text)
                    _flush()

            lister = TestLister(
                write,
                times=args.times,
                exists=args.exists,
                tree=args.tree,
                on_non_test=on_non_test,
            )
            lister.startTestRun()
            feed_batches(source, lister.consume)
            lister.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-ls`` command; returns its exit code."""
    return cli.run(make_parser(), list_tests, argv)


if __name__ == "__main__":
    sys.exit(main())
