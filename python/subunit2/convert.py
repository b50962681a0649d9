"""The shared body of the commands that convert other formats into subunit.

``tap2subunit`` and ``gojson2subunit`` differ only in their converter: an object
built on a result, with ``feed(bytes)`` and ``close()``.  This module reads the
input into it as the bytes arrive and writes the events as a v2 stream.
"""

from __future__ import annotations

import argparse
from typing import Callable

from . import cli
from .fanout import FanOut
from .lines import feed_all
from .summary import Summary
from .writer import StreamWriter

__all__ = ["READ_SIZE", "add_common_options", "run_converter"]

#: Bytes asked of the input per read (a pipe returns whatever it has sooner).
READ_SIZE = 65536


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--v2-only``, as every converter offers it (``--verdict`` comes from
    ``cli.make_parser(verdict=cli.VERDICT_ON_REQUEST)``)."""
    parser.add_argument(
        "--v2-only",
        action="store_true",
        help="drop parent_test_id (protocol 2.1) so strict v2 readers accept the "
        "stream",
    )


def run_converter(args: argparse.Namespace, factory: Callable) -> int:
    """Convert ``args.input`` to ``args.output`` with ``factory(result)``.

    Returns :data:`cli.EXIT_FAILING` when ``--verdict`` is given and the stream
    shows failing tests, else :data:`cli.EXIT_OK`.
    """
    summary = Summary() if args.verdict else None
    with cli.open_input(args.input) as source:
        with cli.open_output(args.output, binary=True) as out:
            writer = StreamWriter(out, flush=cli.is_live(out), v2_only=args.v2_only)
            target = writer if summary is None else FanOut(writer, summary)
            target.startTestRun()
            try:
                feed_all(source, factory(target), READ_SIZE)
            finally:
                target.stopTestRun()
    if summary is not None and not summary.wasSuccessful():
        return cli.EXIT_FAILING
    return cli.EXIT_OK
