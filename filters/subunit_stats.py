"""subunit-stats: counts per outcome, tags seen, wall time and the run's verdict."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.batches import feed_batches
from subunit2.fileio import binary_stream
from subunit2.stats import RunStats, format_report, report_counts

DESCRIPTION = """\
Read a subunit v2/2.1 stream (FILE or standard input) and report how many tests
passed, failed, were skipped, failed as expected, succeeded unexpectedly, never
completed (incomplete: events but no final status) or were only enumerated
(exists); the tags seen on test events; and the wall time from the earliest to
the latest timestamp. The run fails when any test failed, succeeded unexpectedly
or is incomplete (a stream with no tests passes): then the exit code is 1,
unless --no-verdict (or its alias --exit-zero) is given.

Non-subunit bytes in the input are copied to standard error, so the report on
standard output (or -o FILE) stays clean; --no-passthrough drops them."""


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-stats", DESCRIPTION, verdict=True)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as one JSON object instead of text",
    )
    parser.add_argument(
        "--no-passthrough",
        dest="passthrough",
        action="store_false",
        help="drop non-subunit input instead of copying it to standard error",
    )
    return parser


def as_json(stats: RunStats) -> str:
    """The report as one JSON object (keys sorted) and a newline."""
    counts = report_counts(stats)
    wall = stats.wall_time
    report = {
        "total": counts["total"],
        "passed": counts["success"],
        "failed": counts["fail"],
        "skipped": counts["skip"],
        "xfail": counts["xfail"],
        "uxsuccess": counts["uxsuccess"],
        "incomplete": counts["incomplete"],
        "enumerated": counts["exists"],
        "tags": sorted(stats.tags),
        "wall_time": None if wall is None else wall.total_seconds(),
        "successful": stats.wasSuccessful(),
    }
    return json.dumps(report, sort_keys=True) + "\n"


def stats(args: argparse.Namespace) -> Optional[int]:
    """Count ``args.input`` and write the report to ``args.output``."""
    with cli.open_input(args.input) as source:
        on_non_test = None
        if args.passthrough and sys.stderr is not None:
            errors = binary_stream(sys.stderr)

            def on_non_test(event) -> None:
                if event[5]:
                    errors.write(event[5])
                    errors.flush()

        result = RunStats(on_non_test)
        result.startTestRun()
        feed_batches(source, result.consume)
        result.stopTestRun()
    with cli.open_output(args.output) as out:
        out.write(as_json(result) if args.json else format_report(result))
    if not args.no_verdict and not result.wasSuccessful():
        return cli.EXIT_FAILING
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-stats`` command; returns its exit code."""
    return cli.run(make_parser(), stats, argv)


if __name__ == "__main__":
    sys.exit(main())
