"""Combine: run producer commands in parallel and merge their streams live.

Child *N* (its position among the inputs, counting from 0) is started with its
standard output on a pipe; :func:`~subunit2.merge.merge_streams` decodes all pipes
as bytes arrive and delivers every event with route code ``N`` or ``N/<its own>``
(:func:`~subunit2.merge.prefix_route`).  Children's standard error is ours.

Input routing (the contract shared with ``subunit2.run``): when a routing stream is
given, it is read as a v2 stream in a thread of its own.  A packet whose route code
is ``N`` or ``N/rest`` is re-encoded with route code ``rest`` (none for plain ``N``)
and written to child N's standard input, and to no other.  Packets for a test's
input carry file name ``stdin``, the bytes, and ``eof`` at the end of that input;
they are forwarded like any other.  A packet without a route code, for a child that
does not exist, did not start or has exited, and non-subunit bytes, are dropped
with a one-line warning.  At the end of the routing stream every child's standard
input is closed.

Problems are reported in-band, so nothing is lost, and counted in
:attr:`Combiner.problems`:

* a child that cannot be started, or that exits with a nonzero status or is killed
  by a signal, becomes a failed test ``subunit-combine[N]`` on route code ``N``
  with a ``reason`` attachment (text) naming the command and what happened; an
  exit status of 1 from a child whose stream shows failing tests of its own is the
  runner saying "tests failed": counted, without a synthetic test repeating it;
* a child's non-subunit bytes become ``stdout`` events on route code ``N`` (or are
  dropped with ``passthrough=False``); corrupt packets are reported by the decoder
  as ``subunit.parser`` failures, which are counted as problems too.

Stream files can be merged the same way: :class:`Combiner` takes ready inputs
alongside commands.
"""

from __future__ import annotations

import datetime
import io
import signal
import subprocess
import sys
import threading
from typing import BinaryIO, Callable, List, Optional, Sequence, Set

from .decoder import PARSER_TEST_ID, Decoder
from .encoder import EncodeError, encode
from .fileio import chunk_reader
from .merge import merge_streams, prefix_route
from .result import Forwarder
from .status import FAILING_STATUSES

__all__ = ["Child", "Combiner", "child_test_id"]

#: The file name the routing decoder gives non-subunit bytes: no packet can carry
#: it (NUL is invalid in packet strings).
_NON_SUBUNIT = "\x00non-subunit"
#: Seconds a child gets to exit after SIGTERM before it is killed.
TERMINATE_GRACE = 5.0


def child_test_id(index: int) -> str:
    """The test id of the in-band report about child ``index``."""
    return f"subunit-combine[{index}]"


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


class Child:
    """One producer command and its process (None until started, when it could
    not be, or when ``argv`` is None: a child with nothing to run)."""

    def __init__(self, index: int, argv: Optional[Sequence[str]]) -> None:
        self.index = index
        self.argv = None if argv is None else list(argv)
        self.process: Optional[subprocess.Popen] = None
        self.start_error: Optional[str] = None
        self._stdin_lock = threading.Lock()
        self._stdin_open = False

    def start(self, routed: bool) -> None:
        """Start the process; a failure is kept in :attr:`start_error`."""
        if self.argv is None:
            return
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE if routed else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            self.start_error = str(error) or type(error).__name__
            return
        self._stdin_open = routed

    def send(self, data: bytes) -> bool:
        """Write ``data`` to the child's standard input; False if it is gone."""
        with self._stdin_lock:
            if not self._stdin_open or self.process is None:
                return False
            try:
                view = memoryview(data)
                while view:
                    written = self.process.stdin.write(view)
                    view = view[written or 0 :]
                return True
            except (OSError, ValueError):
                self._stdin_open = False
                return False

    def close_stdin(self) -> None:
        with self._stdin_lock:
            if self._stdin_open and self.process is not None:
                self._stdin_open = False
                try:
                    self.process.stdin.close()
                except OSError:
                    pass


class _Watch(Forwarder):
    """Forwards events, counting corrupt-packet reports and noting which inputs
    (by route-code index) reported failing tests of their own."""

    def __init__(self, target) -> None:
        super().__init__(target)
        self.parser_failures = 0
        self.failing_inputs: Set[str] = set()

    def status(self, test_id=None, test_status=None, **kwargs) -> None:
        if test_status in FAILING_STATUSES:
            if test_id == PARSER_TEST_ID:
                self.parser_failures += 1
            else:
                route = kwargs.get("route_code") or ""
                self.failing_inputs.add(route.partition("/")[0])
        self._target.status(test_id=test_id, test_status=test_status, **kwargs)


def _warn_stderr(message: str) -> None:
    try:
        sys.stderr.write(f"subunit-combine: warning: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


class Combiner:
    """Runs ``commands`` (argument lists) and merges them, then ``files`` (binary
    readable streams), into ``result``.  A command given as None keeps its index
    but runs nothing (a child left without work).

    ``routing`` is a binary stream of addressed input for the children (see the
    module docstring), or None to give children no input at all.  ``warn`` gets
    one-line warnings.  Call :meth:`run`; the caller brackets it with
    ``startTestRun``/``stopTestRun``.
    """

    def __init__(
        self,
        commands: Sequence[Optional[Sequence[str]]],
        result,
        *,
        files: Sequence[BinaryIO] = (),
        routing: Optional[BinaryIO] = None,
        passthrough: bool = True,
        warn: Callable[[str], object] = _warn_stderr,
    ) -> None:
        self.children = [Child(n, argv) for n, argv in enumerate(commands)]
        self.files = list(files)
        self.routing = routing
        self.passthrough = passthrough
        self.warn = warn
        self._watch = _Watch(result)
        #: Children that failed plus corrupt packets seen, after :meth:`run`.
        self.problems = 0

    # In-band reports.
    def _report(self, child: Child, what: str) -> None:
        self.problems += 1
        route = prefix_route(child.index, None)
        test_id = child_test_id(child.index)
        now = datetime.datetime.now(datetime.timezone.utc)
        text = f"command {child.argv!r} {what}\n".encode("utf-8", "replace")
        target = self._watch
        target.status(
            test_id=test_id, test_status="inprogress", route_code=route, timestamp=now
        )
        target.status(
            test_id=test_id,
            file_name="reason",
            file_bytes=text,
            eof=True,
            mime_type="text/plain;charset=utf8",
            route_code=route,
        )
        target.status(
            test_id=test_id, test_status="fail", route_code=route, timestamp=now
        )

    # Input routing.
    def _route_input(self) -> None:
        read = chunk_reader(self.routing)
        decoder = Decoder(_NON_SUBUNIT)
        try:
            while True:
                data = read(65536)
                if not data:
                    break
                for event in decoder.feed(data):
                    self._forward(event)
            for event in decoder.close():
                self._forward(event)
        except (OSError, ValueError) as error:
            self.warn(f"reading input for the children failed: {error}")
        finally:
            for child in self.children:
                child.close_stdin()

    def _forward(self, event) -> None:
        route = event.route_code
        if event.file_name == _NON_SUBUNIT:
            size = len(event.file_bytes or b"")
            self.warn(f"{size} bytes of non-subunit input dropped (not addressed)")
            return
        if not route:
            self.warn(
                f"input packet for test {event.test_id!r} has no route code; dropped"
            )
            return
        head, _, rest = route.partition("/")
        index = int(head) if head.isdigit() and head.isascii() else -1
        if not 0 <= index < len(self.children):
            self.warn(f"input for route code {route!r} dropped: no such child")
            return
        try:
            packet = encode(**event._replace(route_code=rest or None).kwargs())
        except EncodeError as error:  # cannot happen for decoded events
            self.warn(f"input for route code {route!r} dropped: {error}")
            return
        if not self.children[index].send(packet):
            self.warn(
                f"input for route code {route!r} dropped: child {index}"
                " is not running or not reading"
            )

    # The run.
    def run(self) -> int:
        """Start, merge, wait; returns :attr:`problems`.  On KeyboardInterrupt
        (or any exception) the children are stopped before it propagates."""
        routed = self.routing is not None
        try:
            for child in self.children:
                child.start(routed)
            for child in self.children:
                if child.start_error is not None:
                    self._report(child, f"could not be started: {child.start_error}")
            if routed:
                threading.Thread(
                    target=self._route_input,
                    name="subunit-combine-input",
                    daemon=True,
                ).start()
            sources: List = [
                child.process.stdout.fileno() if child.process else io.BytesIO()
                for child in self.children
            ]
            sources += self.files
            merge_streams(sources, self._watch, "stdout" if self.passthrough else None)
            for child in self.children:
                if child.process is None:
                    continue
                code = child.process.wait()
                child.close_stdin()
                child.process.stdout.close()
                if code == 1 and str(child.index) in self._watch.failing_inputs:
                    # "Tests failed", and its stream already shows which: the run
                    # still fails, without a synthetic test repeating it.
                    self.problems += 1
                elif code:
                    self._report(child, _describe_exit(code))
        except BaseException:
            self.stop_children()
            raise
        self.problems += self._watch.parser_failures
        return self.problems

    def stop_children(self) -> None:
        """Terminate every child still running, killing those that linger."""
        running = [c.process for c in self.children if c.process is not None]
        for process in running:
            if process.poll() is None:
                try:
                    process.terminate()
                except OSError:
                    pass
        for process in running:
            try:
                process.wait(TERMINATE_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
