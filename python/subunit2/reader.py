"""Adapters binding the sans-IO :class:`~subunit2.decoder.Decoder` to real streams.

:func:`read_stream` drives any binary or text file object (pipes, sockets made into
files, ``sys.stdin``) into a result, taking reads of whatever size the source returns;
:func:`read_stream_async` does the same for an :class:`asyncio.StreamReader`.  Neither
calls ``startTestRun``/``stopTestRun``: the caller brackets the run.
"""

from __future__ import annotations

import select
import time
from typing import Iterable, List, Optional

from .decoder import Decoder
from .event import Event
from .result import as_target

__all__ = ["decode_bytes", "deliver_all", "read_stream", "read_stream_async"]

#: Bytes asked of the source per read; the decoder keeps memory near this plus one
#: maximum-size packet.
READ_SIZE = 65536


def deliver_all(events: Iterable[Event], result) -> None:
    """Replay events on a result that accepts ``parent_test_id`` (see as_target)."""
    status = result.status
    for e in events:
        status(
            test_id=e[0],
            test_status=e[1],
            test_tags=e[2],
            runnable=e[3],
            file_name=e[4],
            file_bytes=e[5],
            eof=e[6],
            mime_type=e[7],
            route_code=e[8],
            timestamp=e[9],
            parent_test_id=e[10],
        )


def decode_bytes(
    data: bytes, non_subunit_name: Optional[str] = "stdout"
) -> List[Event]:
    """Every event in a complete stream held in memory."""
    decoder = Decoder(non_subunit_name)
    return decoder.feed(data) + decoder.close()


def _reader(source):
    source = getattr(source, "buffer", source)
    read1 = getattr(source, "read1", None)
    if read1 is not None:
        return read1
    return source.read


def read_stream(
    source,
    result,
    *,
    non_subunit_name: Optional[str] = "stdout",
    read_size: int = READ_SIZE,
    decoder: Optional[Decoder] = None,
) -> None:
    """Decode everything ``source`` yields into ``result``, until end of file.

    Each read returns as soon as some bytes are available, so a live pipe is decoded
    as it arrives; a non-blocking source is waited on when it has nothing ready.
    A text stream's underlying binary buffer is used.
    """
    read = _reader(source)
    target = as_target(result)
    if decoder is None:
        decoder = Decoder(non_subunit_name)
    while True:
        data = read(read_size)
        if data is None:  # a non-blocking source with nothing ready yet
            _wait_readable(source)
            continue
        if not data:
            break
        events = decoder.feed(data)
        if events:
            deliver_all(events, target)
    deliver_all(decoder.close(), target)


def _wait_readable(source) -> None:
    source = getattr(source, "buffer", source)
    try:
        select.select([source], [], [])
    except (OSError, TypeError, ValueError):
        time.sleep(0.01)  # no selectable descriptor: poll


async def read_stream_async(
    reader,
    result,
    *,
    non_subunit_name: Optional[str] = "stdout",
    read_size: int = READ_SIZE,
) -> None:
    """Decode an :class:`asyncio.StreamReader` (anything with ``await read(n)``)."""
    target = as_target(result)
    decoder = Decoder(non_subunit_name)
    while True:
        data = await reader.read(read_size)
        if not data:
            break
        events = decoder.feed(data)
        if events:
            deliver_all(events, target)
    deliver_all(decoder.close(), target)
