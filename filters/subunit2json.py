"""subunit2json: decode a subunit v2/2.1 stream into JSON lines.

One JSON object per event, one per line; see :mod:`subunit2.jsonlines` for the keys.
Bytes that are not subunit packets come out as events with file name ``stdout`` and no
test id, so nothing in the input is lost.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.jsonlines import JsonLinesWriter
from subunit2.reader import read_stream

DESCRIPTION = """\
Decode a subunit v2/2.1 stream (FILE or standard input) into JSON lines: one
compact JSON object per event, with the keys test_id, test_status, test_tags,
runnable, file_name, file_bytes (base64), eof, mime_type, route_code, timestamp
(UTC, e.g. 2024-01-02T03:04:05.123456Z) and parent_test_id. Non-subunit bytes
become events with file_name "stdout" and no test_id. Output is flushed per line
when it is a terminal or a pipe. json2subunit does the reverse."""


def convert(args: argparse.Namespace) -> None:
    """Decode ``args.input`` onto a JSON lines writer on ``args.output``."""
    with cli.open_input(args.input) as source, cli.open_output(args.output) as out:
        writer = JsonLinesWriter(out, flush=cli.is_live(out))
        writer.startTestRun()
        try:
            read_stream(source, writer)
        finally:
            writer.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2json`` command; returns its exit code."""
    return cli.run(cli.make_parser("subunit2json", DESCRIPTION), convert, argv)


if __name__ == "__main__":
    sys.exit(main())
