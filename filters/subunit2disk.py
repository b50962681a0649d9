"""subunit2disk: write a subunit v2/2.1 stream out as one directory per test."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.disk import LAYOUT, MAX_NAME, DiskWriter
from subunit2.reader import read_stream

DESCRIPTION = f"""\
Read a subunit v2/2.1 stream (FILE or standard input) and write every test as a
directory holding a JSON record and its attachments, under DIR (created if
missing):

{LAYOUT}

test.json has test_id, status, route_code, parent_test_id, tags, runnable,
enumerated, start_time, stop_time (ISO 8601 UTC), duration (seconds) and
attachments (name, path, mime_type, eof, size). A test still in progress at the
end of the stream gets status "inprogress". A test that was enumerated (exists) and
then run is one directory, with enumerated true.

NAME and FILE are the test id and file name when they are plain (ASCII letters,
digits, '.', '_', '-'; not starting with '.' or '-'; at most {MAX_NAME} characters;
not a Windows device name); otherwise the unsafe characters become '_' and '-' plus
12 hex digits of the original's SHA-256 are appended. A name already taken gets
'-2', '-3', ... (names differing only in case count as taken). Nothing is ever
written outside DIR and no earlier record is overwritten, whatever the test ids
hold. Non-subunit bytes of the input are kept in DIR/stream/stdout."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit2disk", DESCRIPTION, output=False)
    parser.add_argument(
        "-d",
        "--directory",
        "-o",
        "--output",
        dest="directory",
        metavar="DIR",
        required=True,
        help="directory to write into (created if missing)",
    )
    return parser


def convert(args: argparse.Namespace) -> None:
    """Read ``args.input`` into a :class:`DiskWriter` on ``args.directory``."""
    with cli.open_input(args.input) as source:
        writer = DiskWriter(args.directory)
        writer.startTestRun()
        try:
            read_stream(source, writer)
        finally:
            writer.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2disk`` command; returns its exit code."""
    return cli.run(build_parser(), convert, argv)


if __name__ == "__main__":
    sys.exit(main())
