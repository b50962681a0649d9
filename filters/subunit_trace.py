"""subunit-trace: watch a subunit v2/2.1 stream as it arrives, in a terminal.

A thin command over :mod:`subunit2.trace`: one line per completed test, failure
details, a progress line on a terminal, a summary at the end, and the run's verdict
as the exit code.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import Optional, Sequence

from subunit2 import cli
from subunit2.trace import Trace, read_live

DESCRIPTION = """\
Show a subunit v2/2.1 stream (FILE or standard input) as it arrives: one line per
completed test with its outcome, worker (route code) and duration, subtests
indented under their parent, and the text attachments of failures right after
them. On a terminal a progress line at the bottom shows counts, elapsed time and,
when the stream enumerated its tests, a bar and an estimate of the time left.
The run ends with a summary: counts per outcome, wall time, per-worker balance,
the slowest tests and the tests that never finished.

Colour is used on a terminal unless --no-colour is given or the NO_COLOR
environment variable is set. Bytes in the input that are not subunit packets are
passed through unchanged (shown dimmed on a terminal).

Example: python -m subunit2.run discover | subunit-trace"""


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``subunit-trace``."""
    p = cli.make_parser("subunit-trace", DESCRIPTION, verdict=True)
    p.add_argument(
        "-f",
        "--failures-only",
        action="store_true",
        help="show only failing tests (and the parents of failing subtests)",
    )
    p.add_argument(
        "--all-attachments",
        action="store_true",
        help="show the attachments of every test, not only of failures",
    )
    p.add_argument(
        "--colour",
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output: auto (on a terminal, unless NO_COLOR is set;"
        " the default), always or never",
    )
    p.add_argument(
        "--no-colour",
        "--no-color",
        dest="colour",
        action="store_const",
        const="never",
        help="the same as --colour never",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress line, even on a terminal",
    )
    p.add_argument(
        "--slowest",
        type=int,
        default=10,
        metavar="N",
        help="list the N slowest tests in the summary (default 10; 0: none)",
    )
    return p


class _TextSink:
    """A binary-looking front for a text-only standard output (embedding)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        self.stream.flush()


def _is_terminal(stream) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def trace(args: argparse.Namespace) -> int:
    """Read ``args.input`` into a :class:`~subunit2.trace.Trace`; return the code."""
    if args.slowest < 0:
        raise cli.CliError("--slowest must be 0 or more", cli.EXIT_USAGE)
    with (
        cli.open_input(args.input) as source,
        cli.open_output(args.output, binary=True) as out,
    ):
        terminal = _is_terminal(out)
        if args.colour == "auto":
            colour = terminal and not os.environ.get("NO_COLOR")
        else:
            colour = args.colour == "always"
        if isinstance(out, io.TextIOBase):
            out = _TextSink(out)
        view = Trace(
            out,
            colour=colour,
            terminal=terminal and not args.no_progress,
            failures_only=args.failures_only,
            all_attachments=args.all_attachments,
            flush=cli.is_live(out),
            slowest=args.slowest,
        )
        view.startTestRun()
        try:
            read_live(source, view, tick=view.tick if view.terminal else None)
        except BaseException:
            view.clear()
            raise
        view.stopTestRun()
    if args.no_verdict or view.model.successful:
        return cli.EXIT_OK
    return cli.EXIT_FAILING


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-trace`` command; returns its exit code."""
    return cli.run(parser(), trace, argv)


if __name__ == "__main__":
    sys.exit(main())
