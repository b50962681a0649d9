"""StreamWriter: a result that writes each ``status()`` call as packets to a stream."""

from __future__ import annotations

from . import _accel
from .encoder import Encoder
from .fileio import binary_stream
from .result import StreamResult

__all__ = ["StreamWriter", "binary_stream"]


class StreamWriter(StreamResult):
    """Encodes every event onto a binary stream (a text stream's buffer is used).

    ``flush=True`` (the default) flushes after each event so live consumers reading a
    pipe see it at once; pass ``flush=False`` for bulk work.  ``v2_only=True`` drops
    parent ids for strict pre-2.1 readers.  Invalid arguments raise
    :class:`subunit2.encoder.EncodeError` before any byte is written.
    """

    def __init__(self, stream, *, flush: bool = True, v2_only: bool = False) -> None:
        self.stream = binary_stream(stream)
        self.v2_only = v2_only
        self._encode = Encoder(v2_only=v2_only).encode
        self._write = self.stream.write
        self._flush = self.stream.flush if flush else None
        if _accel.speedups is not None and type(self).status is StreamWriter.status:
            # The compiled status(): same arguments, bytes and errors, no Python
            # frame per event.  Not for subclasses that override status().
            self.status = _accel.speedups.StatusWriter(
                self._write, self._flush, v2_only
            )

    def status(
        self,
        test_id=None,
        test_status=None,
        test_tags=None,
        runnable=True,
        file_name=None,
        file_bytes=None,
        eof=False,
        mime_type=None,
        route_code=None,
        timestamp=None,
        parent_test_id=None,
    ) -> None:
        self._write(
            self._encode(
                test_id,
                test_status,
                test_tags,
                runnable,
                file_name,
                file_bytes,
                eof,
                mime_type,
                route_code,
                timestamp,
                parent_test_id,
            )
        )
        if self._flush is not None:
            self._flush()

    def stopTestRun(self) -> None:
        self.stream.flush()
