"""tap2subunit: convert TAP (versions 12, 13 and 14) into a subunit v2/2.1 stream.

The rules are in :mod:`subunit2.tap` and docs/tap-and-go.md; this is the command.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.convert import add_common_options, run_converter
from subunit2.tap import TapConverter

DESCRIPTION = """\
Convert TAP (versions 12, 13 and 14; FILE or standard input) into a subunit v2
stream, test by test as the input arrives. ok/not ok lines become tests named by
their description (the number when there is none; repeats get " [N]"); SKIP
gives skip, TODO gives xfail (not ok) or uxsuccess (ok); YAML blocks and
comments after a test are attached to it; TAP 14 indented child streams become
subtests with parent_test_id. Tests the plan promised but never reported, a
missing plan and "Bail out!" become failures. Lines that are not TAP pass
through unchanged as non-test stdout. Exit 0 whatever the tests did, unless
--verdict is given. See docs/tap-and-go.md."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``tap2subunit`` command; returns its exit code."""
    parser = cli.make_parser("tap2subunit", DESCRIPTION, verdict=cli.VERDICT_ON_REQUEST)
    add_common_options(parser)

    def convert(args: argparse.Namespace) -> int:
        return run_converter(args, TapConverter)

    return cli.run(parser, convert, argv)


if __name__ == "__main__":
    sys.exit(main())
