"""Line-oriented plumbing shared by the text-to-subunit converters (TAP, go test -json).

:class:`LineSplitter` cuts a byte stream into lines with a hard cap on line length, so
an input with no newline never grows a buffer without bound.  :class:`AttachmentSink`
coalesces consecutive chunks of one attachment into few events and delivers them to a
result, so a converter can say "this line belongs to that file" without emitting one
packet per line.
"""

from __future__ import annotations

from typing import Iterator, List, Optional, Tuple

from .fileio import chunk_reader

__all__ = ["AttachmentSink", "LineSplitter", "Piece", "feed_all"]

#: One piece of a line: its bytes (with the newline, if this piece ends the line),
#: whether it starts a line, and whether it ends one.  A line within the cap is one
#: piece with both flags true.
Piece = Tuple[bytes, bool, bool]


class LineSplitter:
    """Sans-IO line splitter: bytes in, :data:`Piece` values out.

    A line longer than ``max_line`` bytes comes out in pieces of at most
    ``max_line`` bytes (the first with ``start`` true, the last with ``end`` true), so
    memory stays near ``max_line`` whatever the input.  Concatenating every piece
    gives back the input exactly.
    """

    def __init__(self, max_line: int = 65536) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._buffer = bytearray()
        self._in_long = False  # inside a line already cut at least once

    def feed(self, data: bytes) -> Iterator[Piece]:
        """The pieces completed by ``data``."""
        buffer = self._buffer
        buffer += data
        begin = 0
        limit = self.max_line
        while True:
            newline = buffer.find(b"\n", begin, begin + limit)
            if newline >= 0:
                end = newline + 1
                yield bytes(buffer[begin:end]), not self._in_long, True
                self._in_long = False
                begin = end
            elif len(buffer) - begin >= limit:
                yield bytes(buffer[begin : begin + limit]), not self._in_long, False
                self._in_long = True
                begin += limit
            else:
                break
        del buffer[:begin]

    def close(self) -> Iterator[Piece]:
        """The last line, when the input did not end with a newline."""
        if self._buffer:
            yield bytes(self._buffer), not self._in_long, True
        elif self._in_long:
            yield b"", False, True
        self._buffer = bytearray()
        self._in_long = False


class AttachmentSink:
    """Deliver attachment chunks to ``result``, merging consecutive ones.

    Chunks of the same (test id, file name) that follow each other are joined into
    one event of up to ``chunk_size`` bytes, stamped with the first chunk's time.
    :meth:`flush` delivers what is held; converters call it before any status event
    (so order is kept) and at the end of every input read (so a live pipe sees
    output promptly).
    """

    def __init__(self, result, chunk_size: int = 65536) -> None:
        self._status = result.status
        self.chunk_size = chunk_size
        self._key: Optional[tuple] = None
        self._parts: List[bytes] = []
        self._size = 0
        self._timestamp = None

    def add(
        self,
        test_id: Optional[str],
        file_name: str,
        data: bytes,
        *,
        mime_type: Optional[str] = None,
        parent_test_id: Optional[str] = None,
        runnable: bool = True,
        timestamp=None,
    ) -> None:
        """Queue ``data`` as a chunk of ``file_name`` on ``test_id``."""
        if not data:
            return
        key = (test_id, file_name, mime_type, parent_test_id, runnable)
        if key != self._key or self._size + len(data) > self.chunk_size:
            self.flush()
            self._key = key
            self._timestamp = timestamp  # a merged chunk carries its first time
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        """Deliver the held chunk, if any."""
        if self._key is None:
            return
        test_id, file_name, mime_type, parent, runnable = self._key
        timestamp = self._timestamp
        data = b"".join(self._parts)
        self._key = None
        self._parts = []
        self._size = 0
        self._status(
            test_id=test_id,
            file_name=file_name,
            file_bytes=data,
            mime_type=mime_type,
            runnable=runnable,
            timestamp=timestamp,
            parent_test_id=parent,
        )


def feed_all(source, converter, read_size: int = 65536) -> None:
    """Feed everything ``source`` (a file object) yields to ``converter``, then
    close it; each read returns what a pipe has, so a live input converts live."""
    read = chunk_reader(source)
    while True:
        data = read(read_size)
        if not data:
            break
        converter.feed(data)
    converter.close()
