"""Decoding a stream into batches of events, for consumers that skip ``status()``.

:func:`subunit2.reader.read_stream` calls ``status()`` with eleven keywords per
event, which is the right interface for composing results.  A command whose whole job
is one tight loop over events (counting, listing, filtering) goes faster by taking
the decoder's lists of :class:`~subunit2.event.Event` tuples directly: that is what
:func:`feed_batches` hands to its ``consume`` callback, one list per read.
"""

from __future__ import annotations

from typing import Callable, List, Optional

from .decoder import Decoder
from .event import Event
from .fileio import chunk_reader

__all__ = ["READ_SIZE", "feed_batches"]

#: Bytes asked of the source per read (as :data:`subunit2.reader.READ_SIZE`).
READ_SIZE = 65536


def feed_batches(
    source,
    consume: Callable[[List[Event]], object],
    *,
    non_subunit_name: Optional[str] = "stdout",
    read_size: int = READ_SIZE,
) -> None:
    """Decode ``source`` until end of file, calling ``consume(events)`` per read.

    ``consume`` gets each non-empty list the decoder returns, in stream order, the
    last one after end of file.  ``non_subunit_name=None`` drops non-subunit bytes
    in the decoder instead of delivering them as events.  Reads return as soon as
    bytes are available, so a live pipe is handled as it arrives.
    """
    read = chunk_reader(source)
    decoder = Decoder(non_subunit_name)
    feed = decoder.feed
    while True:
        data = read(read_size)
        if not data:
            break
        events = feed(data)
        if events:
            consume(events)
    events = decoder.close()
    if events:
        consume(events)
