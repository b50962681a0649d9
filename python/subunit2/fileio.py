"""Binding file objects: the binary stream behind one, and reads of what is there.

Every adapter that reads or writes a stream (the reader, the writer, the merger, the
JSON-lines replay) goes through these, so text streams, short reads and
non-blocking sources are handled the same way everywhere.
"""

from __future__ import annotations

import select
import time
from typing import BinaryIO, Callable

__all__ = ["binary_stream", "chunk_reader"]


def binary_stream(stream) -> BinaryIO:
    """The binary stream behind ``stream`` (a text stream's ``.buffer``), or itself."""
    return getattr(stream, "buffer", stream)


def chunk_reader(source) -> Callable[[int], bytes]:
    """A function ``read(n)`` returning up to ``n`` bytes as soon as any are there.

    It uses ``read1`` when the source has it (so a live pipe is not waited on to
    fill a whole buffer), else ``read``.  A non-blocking source with nothing ready
    (``read`` returns None) is waited on, so ``b""`` always and only means EOF.
    """
    source = binary_stream(source)
    read = getattr(source, "read1", None) or source.read

    def read_available(size: int) -> bytes:
        while True:
            data = read(size)
            if data is not None:
                return data
            _wait_readable(source)

    return read_available


def _wait_readable(source) -> None:
    try:
        select.select([source], [], [])
    except (OSError, TypeError, ValueError):
        time.sleep(0.01)  # no selectable descriptor: poll
