"""subunit2html: one self-contained HTML report from a subunit v2/2.1 stream.

A thin command over :mod:`subunit2.htmlreport`; the memory rules (which
attachments are kept, and how much of them) are in that module's docstring.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.htmlreport import ATTACHMENT_LIMIT, ReportBuilder, render_html
from subunit2.trace import read_live

DESCRIPTION = f"""\
Write one self-contained HTML page (no network, no external files) reporting a
subunit v2/2.1 stream (FILE or standard input): counts per outcome, a timeline of
tests per worker, and one row per test with its outcome, worker and duration,
subtests nested under their parents, attachments expandable. A filter shows
failures only. Large runs (100k tests) stay smooth: rows are drawn as they
scroll into view.

Attachments of failing tests and skips are kept, up to {ATTACHMENT_LIMIT // 1024}
KiB each (head and tail); those of passing tests are dropped unless
--all-attachments. Binary attachments are summarised (type, size, first bytes).
Output outside any test (non-subunit bytes) is shown in its own section.
Exits 1 when the run failed, unless --exit-zero."""


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``subunit2html``."""
    p = cli.make_parser("subunit2html", DESCRIPTION, verdict=True)
    p.add_argument("--title", default="Test report", help="the page's title")
    p.add_argument(
        "--all-attachments",
        action="store_true",
        help="keep the attachments of passing tests too (still capped)",
    )
    return p


def report(args: argparse.Namespace) -> int:
    """Read ``args.input``, write the page to ``args.output``; return the code."""
    builder = ReportBuilder(all_attachments=args.all_attachments)
    with cli.open_input(args.input) as source:
        builder.startTestRun()
        read_live(source, builder)
        builder.stopTestRun()
    built = builder.build()
    with cli.open_output(args.output) as out:
        render_html(built, out, title=args.title)
    if args.no_verdict or built.failing == 0:
        return cli.EXIT_OK
    return cli.EXIT_FAILING


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit2html`` command; returns its exit code."""
    return cli.run(parser(), report, argv)


if __name__ == "__main__":
    sys.exit(main())
