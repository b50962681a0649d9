"""Adapters binding the sans-IO :class:`~subunit2.decoder.Decoder` to real streams.

:func:`read_stream` drives any binary or text file object (pipes, sockets made into
files, ``sys.stdin``) into a result, taking reads of whatever size the source returns;
:func:`read_stream_async` does the same for an :class:`asyncio.StreamReader`.  Neither
calls ``startTestRun``/``stopTestRun``: the caller brackets the run.
"""

from __future__ import annotations

from typing import List, Optional

from . import _accel
from .decoder import Decoder
from .event import Event
from .event import deliver_all as _py_deliver_all
from .fileio import chunk_reader
from .result import as_target

__all__ = ["decode_bytes", "deliver_all", "read_stream", "read_stream_async"]

#: Replays events on a result: compiled with the accelerator (the same calls, made
#: without a Python loop), else :func:`subunit2.event.deliver_all`.
deliver_all = (
    _accel.speedups.deliver_all if _accel.speedups is not None else _py_deliver_all
)

#: Bytes asked of the source per read; the decoder keeps memory near this plus one
#: maximum-size packet.
READ_SIZE = 65536


def decode_bytes(
    data: bytes, non_subunit_name: Optional[str] = "stdout"
) -> List[Event]:
    """Every event in a complete stream held in memory."""
    decoder = Decoder(non_subunit_name)
    return decoder.feed(data) + decoder.close()


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
    read = chunk_reader(source)
    target = as_target(result)
    if decoder is None:
        decoder = Decoder(non_subunit_name)
    while True:
        data = read(read_size)
        if not data:
            break
        events = decoder.feed(data)
        if events:
            deliver_all(events, target)
    deliver_all(decoder.close(), target)


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
