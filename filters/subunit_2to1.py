"""subunit-2to1: convert a subunit v2 stream into the v1 text protocol.

Each test is written as one v1 block when it ends; what v1 cannot carry is dropped
(route codes, parent ids, ``runnable``, ``exists``).  Non-test data is written
through.  See :mod:`subunit2.v1_writer` and docs/v1.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.v1_writer import convert_2to1

DESCRIPTION = """\
Convert a subunit v2/2.1 stream (FILE or standard input) into subunit v1 text.

v1 runs one test at a time, so each test is written as one block when its
final status arrives: "time:" (start), "test:", "tags:" (its latest set),
"time:" (end) and the outcome (success, failure for fail, skip, xfail,
uxsuccess), with its attachments as "[ multipart" details. Tests still running
when the input ends are written with the outcome "error". Non-test data (and
bytes that are not subunit) is written through as it comes.

v1 has no route codes, parent test ids, runnable flag or "exists" status:
those are dropped, as are tags v1 cannot spell (containing spaces or starting
with "-"). See docs/v1.md for the whole mapping."""


def convert(args: argparse.Namespace) -> None:
    """Convert ``args.input`` to v1 text on ``args.output``."""
    with (
        cli.open_input(args.input) as source,
        cli.open_output(args.output, binary=True) as out,
    ):
        convert_2to1(source, out, flush=cli.is_live(out))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-2to1`` command; returns its exit code."""
    return cli.run(cli.make_parser("subunit-2to1", DESCRIPTION), convert, argv)


if __name__ == "__main__":
    sys.exit(main())
