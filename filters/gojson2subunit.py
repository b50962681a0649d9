"""gojson2subunit: convert ``go test -json`` output into a subunit v2/2.1 stream.

The rules are in :mod:`subunit2.gojson` and docs/tap-and-go.md; this is the command.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.convert import add_common_options, run_converter
from subunit2.gojson import GoJsonConverter

DESCRIPTION = """\
Convert the output of `go test -json` (test2json events; FILE or standard
input) into a subunit v2 stream as it arrives. Tests are named
<package>.<Test>, subtests (Parent/Sub) carry parent_test_id, and each package
is a non-runnable test of its own holding package-level output and its result.
Output goes to the test that wrote it, Time becomes the timestamp, build
failures (build-output/build-fail, or "FAIL pkg [build failed]") fail, tests
still running at the end are left incomplete. Lines that are not test2json
JSON pass through unchanged as non-test stdout. Exit 0 whatever the tests did,
unless --verdict is given. See docs/tap-and-go.md."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``gojson2subunit`` command; returns its exit code."""
    parser = cli.make_parser(
        "gojson2subunit", DESCRIPTION, verdict=cli.VERDICT_ON_REQUEST
    )
    add_common_options(parser)

    def convert(args: argparse.Namespace) -> int:
        return run_converter(args, GoJsonConverter)

    return cli.run(parser, convert, argv)


if __name__ == "__main__":
    sys.exit(main())
