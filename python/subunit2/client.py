"""A client for the unittest test server (``python -m subunit2.run --server``).

::

    from subunit2.client import TestServerClient

    with TestServerClient(["discover", "-s", "tests"], cwd=project) as server:
        ids = server.list()
        batch = server.run(ids[:100])          # events of the batch, and its reply
        print(batch.reply["failing"], len(batch.events))
        for event in server.iter_run(ids[100:]):   # the same, live
            ...
        server.send_input(b"c\\n")             # to a test waiting on stdin (pdb)
        server.reload()                        # pick up edited modules

Every wait is bounded (``timeout``, seconds): a hung server raises
:class:`TimeoutError` instead of hanging its caller; :meth:`TestServerClient.close`
(called on leaving the ``with`` block) asks the server to stop and kills it if it
does not.  The channel is specified in ``docs/server-protocol.md``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from .commands import REPLY_FILE, CommandAssembler, encode_command, encode_input
from .decoder import Decoder
from .event import Event

__all__ = ["Batch", "ServerError", "TestServerClient"]

#: Bytes of the server's standard error kept for error messages.
STDERR_TAIL = 65536


class ServerError(Exception):
    """The server ended, or answered a command with ``ok: false``."""


@dataclass
class Batch:
    """What one command produced: its events (in order) and its reply."""

    events: List[Event] = field(default_factory=list)
    reply: Dict[str, Any] = field(default_factory=dict)

    def final(self) -> Dict[str, str]:
        """Test id -> final status, for the tests that reached one."""
        return {
            e.test_id: e.test_status
            for e in self.events
            if e.test_id is not None and e.test_status not in (None, "inprogress")
        }

    def attachment(self, test_id: str, file_name: str) -> bytes:
        """The joined chunks of one attachment of one test."""
        return b"".join(
            e.file_bytes
            for e in self.events
            if e.test_id == test_id and e.file_name == file_name and e.file_bytes
        )


class TestServerClient:
    """Starts ``python -m subunit2.run --server ARGS`` and talks to it.

    ``args`` are the runner's arguments (e.g. ``["discover", "-s", "tests"]``);
    ``cwd`` and ``env`` are the process's.  ``timeout`` bounds every wait.  The
    server's ``hello`` reply is :attr:`hello`; replies no command asked for
    (``error``, rejected ``input``) are collected in :attr:`notices`.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        cwd: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        python: Optional[str] = None,
        timeout: float = 60.0,
    ) -> None:
        self.timeout = timeout
        command = [python or sys.executable, "-m", "subunit2.run", "--server"]
        self.process = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.notices: List[Dict[str, Any]] = []
        self._items: queue.Queue[tuple] = queue.Queue()
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._stderr = bytearray()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            self.hello: Dict[str, Any] = self._wait_reply("hello", None, None)
        except BaseException:
            self.kill()
            raise

    # -- plumbing ----------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stderr(self) -> str:
        """The tail of what the server wrote on its standard error."""
        return self._stderr.decode("utf-8", "replace")

    def _read_stdout(self) -> None:
        decoder = Decoder("stdout")
        assembler = CommandAssembler(REPLY_FILE)
        stdout = self.process.stdout
        try:
            while True:
                data = os.read(stdout.fileno(), 65536)
                if not data:
                    break
                for event in decoder.feed(data):
                    for kind, value in assembler.feed(event):
                        self._items.put((kind, value))
            for event in decoder.close():
                for kind, value in assembler.feed(event):
                    self._items.put((kind, value))
        except (OSError, ValueError):
            pass
        finally:
            self._items.put(("eof", None))

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        try:
            while True:
                data = os.read(stderr.fileno(), 65536)
                if not data:
                    return
                self._stderr += data
                del self._stderr[:-STDERR_TAIL]
        except (OSError, ValueError):
            return

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as error:
                raise ServerError(
                    f"the server is gone: {error}{self._tail()}"
                ) from None

    def _tail(self) -> str:
        text = self.stderr.strip()
        return f"\n--- server stderr ---\n{text[-4000:]}" if text else ""

    def _next(self, deadline: float) -> tuple:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply from the test server{self._tail()}")
        try:
            return self._items.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError(
                f"no reply from the test server in {self.timeout}s{self._tail()}"
            ) from None

    def _iter_until(
        self, name: str, command_id: Optional[int], timeout: Optional[float]
    ) -> Iterator[Any]:
        """Yield events until the reply to (name, id); return that reply."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            kind, value = self._next(deadline)
            if kind == "other":
                yield value
            elif kind == "message":
                if value.get("reply") == name and value.get("id") == command_id:
                    return value
                self.notices.append(value)
            elif kind == "error":
                self.notices.append({"reply": "error", "ok": False, "error": value})
            elif kind == "eof":
                self._items.put(("eof", None))  # later waits fail fast too
                raise ServerError(f"the test server ended{self._tail()}")

    def _wait_reply(
        self, name: str, command_id: Optional[int], timeout: Optional[float]
    ) -> Dict[str, Any]:
        events = self._iter_until(name, command_id, timeout)
        while True:
            try:
                next(events)
            except StopIteration as stop:
                return stop.value

    # -- commands ----------------------------------------------------------------

    def iter_command(
        self, name: str, *, timeout: Optional[float] = None, **fields: Any
    ) -> Iterator[Event]:
        """Send a command; yield the events it produces as they arrive.  The
        generator's return value (and :attr:`last_reply`) is the reply.  Closing
        the generator early waits for the rest (bounded by the timeout)."""
        command_id = next(self._ids)
        self._send(encode_command(name, id=command_id, **fields))
        try:
            reply = yield from self._iter_until(name, command_id, timeout)
        except GeneratorExit:
            # Abandoned early: consume the rest, so it is not taken for the
            # next command's events.
            with contextlib.suppress(ServerError, TimeoutError):
                self.last_reply = self._wait_reply(name, command_id, timeout)
            raise
        self.last_reply = reply
        return reply

    def command(
        self,
        name: str,
        *,
        on_event: Optional[Callable[[Event], object]] = None,
        timeout: Optional[float] = None,
        check: bool = True,
        **fields: Any,
    ) -> Batch:
        """Send a command and collect its events and reply.  ``check`` raises
        :class:`ServerError` when the reply says ``ok: false``."""
        batch = Batch()
        events = self.iter_command(name, timeout=timeout, **fields)
        while True:
            try:
                event = next(events)
            except StopIteration as stop:
                batch.reply = stop.value
                break
            batch.events.append(event)
            if on_event is not None:
                on_event(event)
        if check and not batch.reply.get("ok"):
            raise ServerError(f"{name} failed: {batch.reply.get('error')}")
        return batch

    def list(self, *, timeout: Optional[float] = None) -> List[str]:
        """The ids of the loaded tests, in load order."""
        batch = self.command("list", timeout=timeout)
        return [e.test_id for e in batch.events if e.test_status == "exists"]

    def run(
        self,
        ids: Optional[Sequence[str]] = None,
        *,
        on_event: Optional[Callable[[Event], object]] = None,
        timeout: Optional[float] = None,
    ) -> Batch:
        """Run the tests ``ids`` (all when None) as one batch; wait for its end."""
        fields = {} if ids is None else {"tests": list(ids)}
        return self.command("run", on_event=on_event, timeout=timeout, **fields)

    def iter_run(
        self, ids: Optional[Sequence[str]] = None, *, timeout: Optional[float] = None
    ) -> Iterator[Event]:
        """Run a batch, yielding its events live; the reply is :attr:`last_reply`."""
        fields = {} if ids is None else {"tests": list(ids)}
        return self.iter_command("run", timeout=timeout, **fields)

    def send_input(
        self,
        data: bytes | str,
        *,
        eof: bool = False,
        route_code: Optional[str] = None,
    ) -> None:
        """Send bytes (str is UTF-8 encoded) to the running test's standard input;
        ``eof`` ends the input once (as Ctrl-D would)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._send(encode_input(data, eof=eof, route_code=route_code))

    def reload(self, *, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Forget the test modules and load them again; the reply."""
        return self.command("reload", timeout=timeout).reply

    def ping(self, *, timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.command("ping", timeout=timeout).reply

    def close(self, timeout: float = 10.0) -> Optional[int]:
        """Ask the server to stop, close its input, wait; kill it if it lingers.
        Returns its exit code."""
        if self.process.poll() is None:
            try:
                self.command("stop", timeout=timeout, check=False)
            except (ServerError, TimeoutError):
                pass
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        for thread in self._threads:
            thread.join(timeout)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass
        return self.process.returncode

    def kill(self) -> None:
        """End the server at once."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def __enter__(self) -> TestServerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
