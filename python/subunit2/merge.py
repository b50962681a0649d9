"""Merge several live subunit streams into one result, tagging each by its input.

A parallel runner starts N workers, each writing subunit to a pipe; the consumer
wants one stream.  :func:`merge_streams` reads all pipes at once and delivers events
in the order their bytes arrive, with route codes prefixed by the input's index
(:func:`prefix_route`): an event with no route code from input 2 gets ``"2"``, one
with route code ``"3"`` gets ``"2/3"``.  :class:`~subunit2.routing.Router` with
``consume=True`` undoes this.

How: one daemon thread per input only reads raw bytes (``read1``, or ``os.read`` for
a file descriptor), taking whatever size a read returns, and puts the chunks on one
bounded queue.  The calling thread takes chunks in arrival order, feeds each input's
own :class:`~subunit2.decoder.Decoder`, and calls the result, so the result is only
ever called from the calling thread and needs no locking.  The bounded queue makes a
fast producer wait for a slow consumer instead of filling memory: memory is about
``queue_size`` reads plus one maximum packet per input.
"""

from __future__ import annotations

import datetime
import os
import queue
import threading
from typing import AbstractSet, Callable, Iterable, List, Optional, Union

from .decoder import Decoder
from .event import deliver_all
from .fileio import chunk_reader
from .result import Forwarder, as_target

__all__ = ["RoutePrefixer", "merge_streams", "prefix_route"]

#: Largest read asked of an input at a time.
READ_SIZE = 65536
#: Chunks the queue holds before readers wait for the consumer.
QUEUE_SIZE = 16


def prefix_route(prefix: Union[int, str], route_code: Optional[str]) -> str:
    """``route_code`` as seen through a multiplexer input named ``prefix``.

    ``prefix_route(0, None) == "0"``; ``prefix_route(0, "3") == "0/3"``.  An empty
    route code is treated as none.
    """
    head = str(prefix)
    return f"{head}/{route_code}" if route_code else head


class RoutePrefixer(Forwarder):
    """Forwards every event to ``target`` with its route code behind ``prefix``.

    The in-process counterpart of :func:`merge_streams`: give each source its own
    RoutePrefixer in front of a shared result.  Every other field passes unchanged.
    """

    def __init__(self, target, prefix: Union[int, str]) -> None:
        super().__init__(target)
        self.prefix = str(prefix)

    def status(
        self,
        test_id: Optional[str] = None,
        test_status: Optional[str] = None,
        test_tags: Optional[AbstractSet[str]] = None,
        runnable: bool = True,
        file_name: Optional[str] = None,
        file_bytes: Optional[bytes] = None,
        eof: bool = False,
        mime_type: Optional[str] = None,
        route_code: Optional[str] = None,
        timestamp: Optional[datetime.datetime] = None,
        parent_test_id: Optional[str] = None,
    ) -> None:
        self._target.status(
            test_id=test_id,
            test_status=test_status,
            test_tags=test_tags,
            runnable=runnable,
            file_name=file_name,
            file_bytes=file_bytes,
            eof=eof,
            mime_type=mime_type,
            route_code=prefix_route(self.prefix, route_code),
            timestamp=timestamp,
            parent_test_id=parent_test_id,
        )


def _read_function(source) -> Callable[[int], bytes]:
    """A function returning the next bytes available from ``source`` (b"" at EOF)."""
    if isinstance(source, int):
        return lambda size: os.read(source, size)
    return chunk_reader(source)


def _put(chunks: queue.Queue, item, stop: threading.Event) -> None:
    """Put ``item``, waiting for room, unless the merge was abandoned."""
    while not stop.is_set():
        try:
            chunks.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _pump(
    index: int,
    read: Callable[[int], bytes],
    read_size: int,
    chunks: queue.Queue,
    stop: threading.Event,
) -> None:
    """Reader thread body: chunks, then None at EOF or the exception raised."""
    try:
        while not stop.is_set():
            data = read(read_size)
            if not data:
                break
            _put(chunks, (index, bytes(data)), stop)
    except BaseException as error:  # handed to the calling thread to raise
        _put(chunks, (index, error), stop)
        return
    _put(chunks, (index, None), stop)


def merge_streams(
    sources: Iterable,
    result,
    non_subunit_name: Optional[str] = "stdout",
    *,
    read_size: int = READ_SIZE,
    queue_size: int = QUEUE_SIZE,
) -> None:
    """Decode every input in ``sources`` into ``result`` as bytes arrive.

    ``sources`` are binary file objects (pipes from subprocesses, files, sockets'
    ``makefile("rb")``), text streams (their buffer is read) or integer file
    descriptors.  Input *i*'s events get route code :func:`prefix_route` (i, ...);
    its non-subunit data becomes events with file name ``non_subunit_name`` (None
    drops it) and route code ``"i"``.  Returns once every input has reached end of
    file.  Does not call ``startTestRun``/``stopTestRun``: the caller brackets.

    A read error on one input ends that input (its decoder is closed, so a truncated
    packet is reported as usual); the others are merged to the end and then the
    first error is raised.  If ``result`` raises, the merge stops at once and the
    reader threads are abandoned: they exit after their next read returns.  Until
    then a thread may hold its input's buffer lock, so closing a buffered input
    blocks until the producer ends it (close the producer's end first).
    """
    sources = list(sources)
    target = as_target(result)
    count = len(sources)
    if not count:
        return
    chunks: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
    stop = threading.Event()
    decoders = [Decoder(non_subunit_name) for _ in range(count)]
    prefixers = [RoutePrefixer(target, index) for index in range(count)]
    threads = [
        threading.Thread(
            target=_pump,
            args=(index, _read_function(source), read_size, chunks, stop),
            name=f"subunit2-merge-{index}",
            daemon=True,
        )
        for index, source in enumerate(sources)
    ]
    errors: List[BaseException] = []
    try:
        for thread in threads:
            thread.start()
        remaining = count
        while remaining:
            index, data = chunks.get()
            decoder = decoders[index]
            if isinstance(data, bytes):
                events = decoder.feed(data)
            else:
                if data is not None:
                    errors.append(data)
                events = decoder.close()
                remaining -= 1
            deliver_all(events, prefixers[index])
    finally:
        stop.set()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
