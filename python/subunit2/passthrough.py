"""Where report commands send the non-subunit bytes of their input.

A stream may carry bytes that are not packets (a runner's stray prints), which the
decoder delivers as events with no test id.  Commands whose output is structured
(CSV) or a report (text) must not mix them in, yet nothing may be lost: they write
those bytes, unchanged and in order, to standard error, or drop them when asked
(``--no-passthrough``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import BinaryIO, Callable, Optional

from .event import Event

__all__ = ["HELP", "add_option", "non_test_sink"]

#: The ``--help`` text of ``--no-passthrough``.
HELP = (
    "drop the non-subunit bytes of the input; by default they are copied, "
    "unchanged and in order, to standard error"
)


def add_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-passthrough`` to ``parser`` (dest ``no_passthrough``)."""
    parser.add_argument("--no-passthrough", action="store_true", help=HELP)


def non_test_sink(
    enabled: bool, stream: Optional[BinaryIO] = None
) -> Optional[Callable[[Event], None]]:
    """A callback writing each test-less event's bytes to ``stream`` (default:
    standard error's binary buffer), or None when ``enabled`` is false."""
    if not enabled:
        return None
    if stream is None:
        stream = getattr(sys.stderr, "buffer", None)
    if stream is None:  # stderr replaced by a text object (tests, embedding)
        text = sys.stderr

        def write_text(event: Event) -> None:
            if event.file_bytes:
                text.write(event.file_bytes.decode("utf-8", "replace"))

        return write_text

    def write(event: Event) -> None:
        if event.file_bytes:
            with contextlib.suppress(ValueError):
                stream.write(event.file_bytes)
                stream.flush()

    return write
