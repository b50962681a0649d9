"""The test-server command channel: commands, replies and input, as v2 packets.

A test server (``python -m subunit2.run --server``) reads subunit v2 packets on its
standard input and writes an ordinary subunit stream on its standard output.  Three
kinds of packet carry the conversation; none has a test id or a status, so a
consumer that knows nothing of the channel sees a valid stream with a few non-test
attachments (and a correct verdict):

* a **command** (client to server): file name ``subunit2.command``, a JSON object
  as the file content (``application/json``), ``eof`` on its last chunk;
* a **reply** (server to client): file name ``subunit2.reply``, likewise; every
  command gets exactly one reply, written after everything the command produced, so
  the reply to ``run`` marks the end of the batch;
* **input** for the running test (client to server): file name ``stdin``, the raw
  bytes as content, ``eof=True`` at the end of input.  The route code says where the
  input goes (none: the running test).

``docs/server-protocol.md`` is the full specification.  This module is the codec both
ends share; it does no I/O.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Optional, Tuple

from .encoder import encode
from .event import Event
from .timestamping import utc_now

__all__ = [
    "COMMANDS",
    "COMMAND_FILE",
    "INPUT_FILE",
    "JSON_MIME",
    "MAX_COMMAND_BYTES",
    "PROTOCOL_VERSION",
    "REPLY_FILE",
    "ChannelError",
    "CommandAssembler",
    "encode_command",
    "encode_input",
    "encode_reply",
    "parse_body",
]

#: File name of a command packet (client to server).
COMMAND_FILE = "subunit2.command"
#: File name of a reply packet (server to client).
REPLY_FILE = "subunit2.reply"
#: File name of an input packet: bytes for the running test's standard input.
INPUT_FILE = "stdin"
#: Mime type of command and reply bodies.
JSON_MIME = "application/json"
#: Version of the command channel, announced in the server's ``hello`` reply.
PROTOCOL_VERSION = 1
#: The commands a server understands.
COMMANDS = ("list", "run", "reload", "ping", "stop")
#: Largest command body (all chunks together) a server accepts.
MAX_COMMAND_BYTES = 16 * 1024 * 1024


class ChannelError(ValueError):
    """A command or reply body is not valid; the message says why."""


def _json_packet(
    file_name: str, body: Dict[str, Any], timestamp: Optional[datetime.datetime]
) -> bytes:
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return encode(
        file_name=file_name,
        file_bytes=data,
        eof=True,
        mime_type=JSON_MIME,
        timestamp=timestamp or utc_now(),
    )


def encode_command(
    command: str, *, timestamp: Optional[datetime.datetime] = None, **fields: Any
) -> bytes:
    """Packet bytes for one command: ``encode_command("run", id=1, tests=[...])``."""
    return _json_packet(COMMAND_FILE, {"command": command, **fields}, timestamp)


def encode_reply(
    reply: str, *, timestamp: Optional[datetime.datetime] = None, **fields: Any
) -> bytes:
    """Packet bytes for one reply, e.g. ``encode_reply("run", id=1, ok=True)``."""
    return _json_packet(REPLY_FILE, {"reply": reply, **fields}, timestamp)


def encode_input(
    data: bytes,
    *,
    eof: bool = False,
    route_code: Optional[str] = None,
    timestamp: Optional[datetime.datetime] = None,
) -> bytes:
    """Packet bytes delivering ``data`` to a test's standard input."""
    return encode(
        file_name=INPUT_FILE,
        file_bytes=bytes(data),
        eof=eof,
        route_code=route_code,
        timestamp=timestamp or utc_now(),
    )


def parse_body(data: bytes, key: str) -> Dict[str, Any]:
    """Decode a command (``key="command"``) or reply (``key="reply"``) body.

    The body must be a UTF-8 JSON object whose ``key`` member is a string.
    Raises :class:`ChannelError` otherwise.
    """
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ChannelError(f"body is not UTF-8 JSON: {error}") from None
    if not isinstance(body, dict):
        raise ChannelError("body is not a JSON object")
    if not isinstance(body.get(key), str):
        raise ChannelError(f'body has no string "{key}" member')
    return body


class CommandAssembler:
    """Sorts decoded events into commands (or replies), input and everything else.

    :meth:`feed` takes one :class:`~subunit2.event.Event` and returns a list of
    ``(kind, value)`` pairs, in order:

    * ``("message", dict)``: a complete command (or reply) body;
    * ``("error", str)``: a body that could not be parsed, or one too large;
    * ``("input", event)``: an input chunk (the event itself, for its route code,
      bytes and eof);
    * ``("other", event)``: any other event (a server ignores these; a client
      passes them on as test events).

    Bodies may span several packets; chunks are joined until one says ``eof``.
    ``file_name`` chooses what counts as a message: :data:`COMMAND_FILE` on a
    server, :data:`REPLY_FILE` on a client.
    """

    def __init__(
        self,
        file_name: str = COMMAND_FILE,
        *,
        max_bytes: int = MAX_COMMAND_BYTES,
    ) -> None:
        self.file_name = file_name
        self.key = "command" if file_name == COMMAND_FILE else "reply"
        self.max_bytes = max_bytes
        self._chunks: List[bytes] = []
        self._size = 0
        self._overflow = False

    def feed(self, event: Event) -> List[Tuple[str, Any]]:
        """Classify one event; see the class docstring."""
        if event.test_id is None and event.test_status is None:
            if event.file_name == self.file_name and event.file_bytes is not None:
                return self._message_chunk(event)
            if event.file_name == INPUT_FILE and event.file_bytes is not None:
                return [("input", event)]
        return [("other", event)]

    def _message_chunk(self, event: Event) -> List[Tuple[str, Any]]:
        if not self._overflow:
            self._size += len(event.file_bytes)
            if self._size > self.max_bytes:
                self._overflow = True
                self._chunks = []
            else:
                self._chunks.append(event.file_bytes)
        if not event.eof:
            return []
        data = b"".join(self._chunks)
        overflow = self._overflow
        self._chunks, self._size, self._overflow = [], 0, False
        if overflow:
            return [("error", f"{self.key} larger than {self.max_bytes} bytes")]
        try:
            return [("message", parse_body(data, self.key))]
        except ChannelError as error:
            return [("error", str(error))]
