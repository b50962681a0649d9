"""json2subunit: encode JSON lines (as written by subunit2json) into a subunit stream.

Each line is one event; see :mod:`subunit2.jsonlines` for the keys.  A stream written
by this project survives ``subunit2json | json2subunit`` byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.jsonlines import JsonLineError, read_json_lines
from subunit2.writer import StreamWriter

DESCRIPTION = """\
Encode JSON lines (FILE or standard input; one JSON object per line, as written
by subunit2json) into a subunit v2 stream. Every key is optional and takes the
status() default when missing: test_id, test_status, test_tags (list),
runnable, file_name, file_bytes (base64), eof, mime_type, route_code, timestamp
(ISO 8601 with Z or an offset) and parent_test_id. An unknown key or a bad value
stops the conversion with an error naming the line (exit 3); every line before
it has been written. Output is flushed per event when it is a pipe."""


def convert(args: argparse.Namespace) -> None:
    """Encode the JSON lines of ``args.input`` as packets on ``args.output``."""
    with (
        cli.open_input(args.input) as source,
        cli.open_output(args.output, binary=True) as out,
    ):
        writer = StreamWriter(out, flush=cli.is_live(out), v2_only=args.v2_only)
        writer.startTestRun()
        try:
            read_json_lines(source, writer)
        finally:
            writer.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``json2subunit`` command; returns its exit code."""
    parser = cli.make_parser("json2subunit", DESCRIPTION)
    parser.add_argument(
        "--v2-only",
        action="store_true",
        help="drop parent_test_id (protocol 2.1) so strict v2 readers accept the "
        "stream",
    )
    return cli.run(parser, convert, argv, input_errors=(JsonLineError,))


if __name__ == "__main__":
    sys.exit(main())
