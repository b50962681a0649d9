"""subunit2csv: one CSV row per completed test of a subunit v2/2.1 stream."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli, passthrough
from subunit2.csvreport import CsvWriter, write_csv

DESCRIPTION = """\
Read a subunit v2/2.1 stream (FILE or standard input) and write CSV: a header row,
then one row per test as it completes, with the columns

  test_id,status,start_time,stop_time,duration,route_code,parent_test_id

Times are ISO 8601 UTC (2024-01-02T03:04:05.123456Z): the first and last timestamps
seen for the test; duration is in seconds. Empty cells mean "not given". A test
still in progress at the end of the stream gets status "inprogress" (it did not
complete). Enumerations (status "exists": listed, not run) get rows of their own
only with --include-exists. Quoting is standard CSV (RFC 4180 style), so ids
holding commas, quotes or line breaks are safe.

Non-subunit bytes in the input never reach the CSV: they are copied unchanged to
standard error (--no-passthrough drops them). Memory is bounded by the tests in
flight, not the length of the stream."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit2csv", DESCRIPTION)
    parser.add_argument(
        "--include-exists",
        action="store_true",
        help='also write a row (status "exists") for each enumerated test',
    )
    passthrough.add_option(parser)
    return parser


def convert(args: argparse.Namespace) -> None:
    """Read ``args.input`` and write its CSV to ``args.output``."""
    with cli.open_input(args.input) as source, cli.open_output(args.output) as out:
        writer = CsvWriter(
            out,
            include_exists=args.include_exists,
            flush=cli.is_live(out),
            on_non_test=passthrough.non_test_sink(not args.no_passthrough),
        )
        writer.startTestRun()
        try:
            write_csv(source, writer)
        finally:
            writer.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2csv`` command; returns its exit code."""
    return cli.run(build_parser(), convert, argv)


if __name__ == "__main__":
    sys.exit(main())
