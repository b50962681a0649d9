"""The unittest test server: load once, then run batches on command.

``python -m subunit2.run --server [discover args]`` builds a :class:`TestServer`.  It
loads the tests once, announces itself with a ``hello`` reply, then serves commands
read from its standard input (see :mod:`subunit2.commands` and
``docs/server-protocol.md``) until a ``stop`` command or the end of that input:

* ``list``: every loaded test as an ``exists`` event;
* ``run``: a set of test ids (or all) as one suite, so class and module fixtures are
  set up once per batch; the reply comes after the batch's last event;
* ``reload``: forget the modules loaded from the test roots and load again
  (``--watch`` does this before a ``list`` or ``run`` whenever a source changed);
* ``ping`` and ``stop``.

Commands are read on a thread, so input packets (file name ``stdin``) reach a test
while it runs: the test's ``sys.stdin`` blocks until input arrives, which is how
``input()`` and pdb work through the stream.  An input packet with ``eof`` ends the
input once, as Ctrl-D does at a terminal; when the server's standard input closes the
test's input ends for good.  File descriptor 0 is pointed at the null device, so a
test (or a child process) cannot consume commands.
"""

from __future__ import annotations

import io
import os
import queue
import sys
import threading
from typing import Any, Dict, List, Optional

from .commands import (
    COMMANDS,
    PROTOCOL_VERSION,
    CommandAssembler,
    encode_reply,
)
from .decoder import PARSER_TEST_ID, Decoder
from .event import Event
from .reloader import ModuleWatcher
from .unittest_result import UnittestStreamResult, is_load_failure, test_id_of
from .unittest_runner import (
    LoadSpec,
    LockedResult,
    TestCatalog,
    list_tests,
    run_batch,
)

__all__ = ["CommandError", "TestInput", "TestServer"]

READ_SIZE = 65536
#: File name the decoder gives bytes on the command channel that are not packets.
NON_PACKET = "subunit2.non-packet"


class CommandError(Exception):
    """A command that cannot be carried out; its reply says ``ok: false``."""


class TestInput(io.RawIOBase):
    """The running test's standard input, fed from input packets.

    A read blocks until bytes arrive.  ``eof`` on an input packet makes one read
    return end of file (as Ctrl-D at a terminal); :meth:`close_input` makes every
    read from then on return it.  ``on_wait`` is called before a read blocks.
    """

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._data = bytearray()
        self._eof = False
        self._ended = False
        self.on_wait = None

    def readable(self) -> bool:
        return True

    def feed(self, data: bytes, eof: bool = False) -> None:
        with self._cond:
            self._data += data
            self._eof = self._eof or eof
            self._cond.notify_all()

    def close_input(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def readinto(self, buffer) -> int:
        with self._cond:
            waiting = not (self._data or self._eof or self._ended)
        if waiting and self.on_wait is not None:
            self.on_wait()
        with self._cond:
            while not (self._data or self._eof or self._ended):
                self._cond.wait()
            if self._data:
                size = min(len(buffer), len(self._data))
                buffer[:size] = self._data[:size]
                del self._data[:size]
                return size
            self._eof = False  # one end of file per eof packet
            return 0


class _ServerResult(UnittestStreamResult):
    """Flushes a test's pending output whenever it is about to wait for input."""

    def __init__(self, target, test_input: TestInput, **options: Any) -> None:
        super().__init__(target, **options)
        test_input.on_wait = self.flush_output


class TestServer:
    """Serves commands from ``command_fd`` onto ``out`` (a :class:`LockedResult`
    over a :class:`~subunit2.writer.StreamWriter`); see the module docstring.

    ``options`` go to each batch's :class:`UnittestStreamResult` (capture,
    tb_locals, failfast, route_code).  ``watch`` reloads edited sources before a
    ``list`` or ``run``.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        spec: LoadSpec,
        out: LockedResult,
        command_fd: int,
        *,
        watch: bool = False,
        **options: Any,
    ) -> None:
        self.catalog = TestCatalog(spec)
        self.watcher = ModuleWatcher(spec.roots)
        self.out = out
        self.command_fd = command_fd
        self.watch = watch
        self.options = options
        self.input = TestInput()
        self.stdin = io.TextIOWrapper(
            io.BufferedReader(self.input), encoding="utf-8", errors="replace"
        )
        self._queue: queue.Queue[Optional[Dict[str, Any]]] = queue.Queue()
        self._known: set = set()

    # -- replies -----------------------------------------------------------------

    def reply(self, name: str, **fields: Any) -> None:
        self.out.write_raw(encode_reply(name, **fields))

    # -- the command reader (a thread) ---------------------------------------------

    def read_commands(self) -> None:
        """Decode the command channel until it ends; runs on its own thread."""
        decoder = Decoder(NON_PACKET)
        assembler = CommandAssembler()
        try:
            while True:
                try:
                    data = os.read(self.command_fd, READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    break
                for event in decoder.feed(data):
                    self._dispatch(assembler, event)
            for event in decoder.close():
                self._dispatch(assembler, event)
        finally:
            self.input.close_input()
            self._queue.put(None)

    def _dispatch(self, assembler: CommandAssembler, event: Event) -> None:
        for kind, value in assembler.feed(event):
            if kind == "message":
                self._queue.put(value)
            elif kind == "error":
                self.reply("error", ok=False, error=value)
            elif kind == "input":
                self._feed_input(value)
            else:
                self._stray(value)

    def _feed_input(self, event: Event) -> None:
        route = event.route_code
        if route is not None and route not in self._known:
            self.reply(
                "input",
                ok=False,
                error=f"no test {route!r} here; {len(event.file_bytes)} bytes dropped",
            )
            return
        self.input.feed(event.file_bytes, event.eof)

    def _stray(self, event: Event) -> None:
        if event.test_id is None and event.file_bytes is not None:
            # Bytes that are not packets: say so, never swallow them silently.
            error = f"{len(event.file_bytes)} bytes that are not packets ignored"
        elif event.test_id == PARSER_TEST_ID:
            if event.test_status is None:
                return  # its fail event carries the explanation
            error = "a malformed packet was ignored"
        else:
            error = "a packet that is not a command or input was ignored"
        self.reply("error", ok=False, error=error)

    # -- loading -----------------------------------------------------------------

    def _load(self) -> Optional[str]:
        """Load the tests; return an error message instead of raising."""
        try:
            self.catalog.load()
            error = None
        except Exception as exc:  # a bad name or start dir: keep serving
            self.catalog.tests = []
            self.catalog.suite = None
            self.catalog._by_id = {}
            error = f"cannot load tests: {type(exc).__name__}: {exc}"
        self._known = set(self.catalog.ids)
        self.watcher.snapshot()
        return error

    def _load_errors(self) -> List[str]:
        return [test_id_of(t) for t in self.catalog.tests if is_load_failure(t)]

    def _reload(self, changed: List[str]) -> Dict[str, Any]:
        modules = self.watcher.forget_modules(changed)
        error = self._load()
        if error:
            raise CommandError(error)
        return {"changed": changed, "modules": modules}

    def _maybe_reload(self) -> Optional[Dict[str, Any]]:
        if not self.watch:
            return None
        changed = self.watcher.changed()
        return self._reload(changed) if changed else None

    # -- commands ----------------------------------------------------------------

    def _result(self) -> _ServerResult:
        return _ServerResult(self.out, self.input, **self.options)

    def do_list(self, body: Dict[str, Any]) -> Dict[str, Any]:
        reloaded = self._maybe_reload()
        result = self._result()
        list_tests(self.catalog, result)
        return {
            "tests": len(self.catalog.tests),
            "load_errors": self._load_errors(),
            "reloaded": reloaded,
        }

    def do_run(self, body: Dict[str, Any]) -> Dict[str, Any]:
        ids = body.get("tests")
        if ids is not None and not (
            isinstance(ids, list) and all(isinstance(i, str) for i in ids)
        ):
            raise CommandError('"tests" must be a list of test ids, or absent')
        reloaded = self._maybe_reload()
        tests, missing = self.catalog.select(ids)
        result = self._result()
        saved = sys.stdin
        sys.stdin = self.stdin
        try:
            run_batch(tests, missing, result)
        finally:
            sys.stdin = saved
        return {
            "ran": result.testsRun,
            "missing": missing,
            "failing": result.failing,
            "reloaded": reloaded,
        }

    def do_reload(self, body: Dict[str, Any]) -> Dict[str, Any]:
        result = self._reload(self.watcher.changed())
        result["tests"] = len(self.catalog.tests)
        result["load_errors"] = self._load_errors()
        return result

    def do_ping(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return {"pid": os.getpid()}

    def do_stop(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return {}

    # -- the loop ----------------------------------------------------------------

    def serve(self) -> None:
        """Load, say hello, serve until ``stop`` or the end of the commands."""
        error = self._load()
        hello: Dict[str, Any] = {
            "ok": error is None,
            "pid": os.getpid(),
            "protocol": PROTOCOL_VERSION,
            "commands": list(COMMANDS),
            "tests": len(self.catalog.tests),
            "load_errors": self._load_errors(),
        }
        if error:
            hello["error"] = error
        self.reply("hello", **hello)
        reader = threading.Thread(
            target=self.read_commands, name="subunit2-commands", daemon=True
        )
        reader.start()
        sys.stdin = self.stdin
        while True:
            body = self._queue.get()
            if body is None:
                return
            name = body["command"]
            fields: Dict[str, Any] = {}
            if "id" in body:
                fields["id"] = body["id"]
            handler = getattr(self, f"do_{name}", None) if name in COMMANDS else None
            if handler is None:
                self.reply(name, ok=False, error=f"unknown command {name!r}", **fields)
                continue
            try:
                fields.update(handler(body))
                fields["ok"] = True
            except CommandError as exc:
                fields.update(ok=False, error=str(exc))
            self.reply(name, **fields)
            if name == "stop":
                return


def claim_stdin() -> int:
    """Take file descriptor 0 for the command channel; point 0 at the null device."""
    fd = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    return fd
