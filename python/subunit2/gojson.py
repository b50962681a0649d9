"""``go test -json`` (test2json events) to subunit events, streaming and sans-IO.

:class:`GoJsonConverter` takes the JSON lines as they arrive and calls ``status()`` on
a result for each.  The rules, in short (docs/tap-and-go.md has them in full):

* A test's id is ``<Package>.<Test>``, e.g. ``example.com/calc.TestDivide/by_zero``.
  A subtest names its parent (the longest running ``Test`` that prefixes it at a
  ``/``) as ``parent_test_id``; a top-level test names its package.
* Each package is a test too, id ``<Package>``, not runnable (it is a container):
  ``inprogress`` when first seen, ``success``/``fail``/``skip`` from its own result
  (``skip`` is "no test files").  Output with no ``Test`` goes into its ``stdout``.
* ``run`` gives ``inprogress``; ``pass``/``fail``/``skip`` the final status;
  ``bench`` ``success``; ``pause``/``cont`` change nothing.  ``output`` goes into the
  ``stdout`` file of the test it names; output for a test that is not running goes to
  its package.  ``Time`` is every event's timestamp.
* Builds (Go 1.24+): ``build-output`` lines go into the ``stdout`` of a test named by
  the ``ImportPath`` (e.g. ``example.com/calc [example.com/calc.test]``),
  ``build-fail`` fails it; a package's ``FailedBuild`` is its ``reason``.  Older Go
  prints the compiler's errors as plain lines (passed through) and fails the
  package with ``FAIL <pkg> [build failed]`` output, so the package fails either way.
* When a package passes, tests in it still open (benchmarks: test2json gives them no
  result) succeed with a note; when it fails (panic, timeout) they stay incomplete,
  as do tests still open at the end of the input, each with a note saying so.
* A line that is not a JSON object with a string ``Action`` (compiler errors, a
  panic's stack written outside test2json, junk) is passed through exactly as bytes
  with no test id and file name ``stdout``; so is a line longer than ``max_line``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from typing import Dict, Optional

from .lines import AttachmentSink, LineSplitter, feed_all
from .result import as_target
from .wire import MAX_SECONDS

__all__ = ["MAX_LINE", "GoJsonConverter", "parse_time", "convert_stream"]

#: Longest line parsed as JSON, in bytes; longer lines pass through as raw bytes.
MAX_LINE = 1 << 20
#: Longest id taken as is, in characters; longer ones are cut and given a digest.
MAX_ID = 16384
#: Most running tests tracked at once (for parents and output); more still convert,
#: but a subtest's parent is then guessed from its name alone.
MAX_TRACKED = 100_000

TEXT = "text/plain;charset=utf8"
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_LATEST = _EPOCH + datetime.timedelta(seconds=MAX_SECONDS)
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))\Z"
)
_FINAL = {"pass": "success", "fail": "fail", "skip": "skip", "bench": "success"}


def parse_time(value) -> Optional[datetime.datetime]:
    """An RFC 3339 time (as test2json writes ``Time``) as aware UTC, else None.

    Nanoseconds round to the nearest microsecond, ties to even; times outside what
    a subunit packet can hold (1970..2106) give None.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _TIME.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, oh, om = (
        match.groups()
    )
    try:
        offset = datetime.timedelta(hours=int(oh or 0), minutes=int(om or 0))
        if sign == "-":
            offset = -offset
        stamp = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),
            tzinfo=datetime.timezone(offset),
        )
        nanos = int((fraction or "")[:9].ljust(9, "0"))
        micros, rest = divmod(nanos, 1000)
        if rest > 500 or (rest == 500 and micros % 2):
            micros += 1
        stamp = (stamp + datetime.timedelta(microseconds=micros)).astimezone(_UTC)
    except (ValueError, OverflowError):
        return None
    if not _EPOCH <= stamp <= _LATEST:
        return None
    return stamp


def _clean(text: str) -> str:
    """A str usable as an id: valid UTF-8, no NUL, bounded length."""
    if not text.isascii():
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if len(text) > MAX_ID:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
        text = f"{text[:MAX_ID]}...{digest}"
    return text


def _string(obj: dict, key: str) -> Optional[str]:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


class _Package:
    """A package seen and not yet finished, with its running tests."""

    __slots__ = ("name", "running")

    def __init__(self, name: str) -> None:
        self.name = name
        self.running: Dict[str, Optional[str]] = {}  # Test -> its parent's id


class GoJsonConverter:
    """Converts ``go test -json`` bytes into ``status()`` calls on ``result``.

    Memory is bounded by ``max_line`` plus one attachment chunk plus the packages
    and tests in flight.  No input makes it raise.  The caller brackets the run.
    """

    def __init__(self, result, *, max_line: int = MAX_LINE) -> None:
        target = as_target(result)
        self._status = target.status
        self._sink = AttachmentSink(target)
        self._splitter = LineSplitter(max_line)
        self._packages: Dict[str, _Package] = {}
        self._builds: Dict[str, None] = {}
        self._tracked = 0
        self._long = False
        self._closed = False

    # -- input -------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Read more input; events for every complete line are delivered."""
        for piece, start, end in self._splitter.feed(data):
            self._piece(piece, start, end)
        self._sink.flush()

    def close(self) -> None:
        """End of input: whatever is still running is left incomplete, with a note."""
        if self._closed:
            return
        self._closed = True
        for piece, start, end in self._splitter.close():
            self._piece(piece, start, end)
        note = b"incomplete: the input ended before this test reported a result\n"
        for package in list(self._packages.values()):
            for test in list(package.running):
                self._note(package, test, note)
            if package.name:
                self._sink.add(
                    package.name, "reason", note, mime_type=TEXT, runnable=False
                )
        self._packages.clear()
        for build in list(self._builds):
            # No build-fail came: the build finished without failing.
            self._final(build, "success", None, None, runnable=False)
        self._builds.clear()
        self._sink.flush()

    def _piece(self, piece: bytes, start: bool, end: bool) -> None:
        if start and end:
            self._line(piece)
        else:
            self._passthrough(piece)

    def _passthrough(self, data: bytes) -> None:
        self._sink.add(None, "stdout", data)

    def _line(self, raw: bytes) -> None:
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # also UnicodeDecodeError
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("Action"), str):
            self._passthrough(raw)
            return
        action = obj["Action"]
        stamp = parse_time(obj.get("Time"))
        output = obj.get("Output")
        data = (
            output.encode("utf-8", "surrogatepass") if isinstance(output, str) else b""
        )
        if action in ("build-output", "build-fail"):
            self._build(action, obj, data, stamp, raw)
            return
        name = _string(obj, "Package")
        test = _string(obj, "Test")
        if any(not isinstance(obj.get(key, ""), str) for key in ("Package", "Test")):
            self._passthrough(raw)  # not test2json: keep it whole, change nothing
            return
        if name is None and test is None:
            if action == "output":
                self._passthrough(data)
            else:
                self._passthrough(raw)
            return
        name = _clean(name) if name is not None else ""
        if test is not None:
            test = _clean(test)
        if action not in _FINAL and action not in (
            "start",
            "run",
            "pause",
            "cont",
            "output",
        ):
            self._passthrough(raw)
            return
        package = self._package(name, stamp)
        if test is None:
            if data:
                self._package_output(package, data, stamp)
            if action in _FINAL:
                self._finish_package(package, _FINAL[action], obj, stamp)
            return
        if action == "run":
            self._run(package, test, stamp)
        elif action == "output" or data:
            self._output(package, test, data, stamp)
        if action in _FINAL:
            if test in package.running:
                parent = package.running.pop(test)
                self._tracked -= 1
            else:
                parent = self._parent(package, test)
            self._final(self._id(package, test), _FINAL[action], parent, stamp)

    # -- packages and builds -----------------------------------------------------

    def _package(self, name: str, stamp) -> _Package:
        package = self._packages.get(name)
        if package is None:
            package = self._packages[name] = _Package(name)
            if name:
                self._sink.flush()
                self._status(
                    test_id=name,
                    test_status="inprogress",
                    runnable=False,
                    timestamp=stamp,
                )
        return package

    def _package_output(self, package: _Package, data: bytes, stamp) -> None:
        if package.name:
            self._sink.add(
                package.name,
                "stdout",
                data,
                mime_type=TEXT,
                runnable=False,
                timestamp=stamp,
            )
        else:
            self._passthrough(data)

    def _finish_package(self, package: _Package, status: str, obj: dict, stamp) -> None:
        del self._packages[package.name]
        for test in list(package.running):
            parent = package.running.pop(test)
            self._tracked -= 1
            if status == "success":
                self._final(
                    self._id(package, test),
                    "success",
                    parent,
                    stamp,
                    reason="no result event of its own (test2json gives none for "
                    "benchmarks); its package passed",
                )
            else:
                self._note(
                    package,
                    test,
                    b"incomplete: its package finished (" + status.encode() + b") "
                    b"before this test reported a result\n",
                    parent,
                )
        if not package.name:
            return
        failed_build = _string(obj, "FailedBuild")
        reason = f"build failed: {_clean(failed_build)}" if failed_build else None
        self._final(package.name, status, None, stamp, reason=reason, runnable=False)

    def _build(self, action: str, obj: dict, data: bytes, stamp, raw: bytes) -> None:
        path = _string(obj, "ImportPath") or _string(obj, "Package")
        if path is None:
            self._passthrough(data if action == "build-output" else raw)
            return
        build = _clean(path)
        if build not in self._builds:
            self._builds[build] = None
            self._sink.flush()
            self._status(
                test_id=build, test_status="inprogress", runnable=False, timestamp=stamp
            )
        if data:
            self._sink.add(
                build, "stdout", data, mime_type=TEXT, runnable=False, timestamp=stamp
            )
        if action == "build-fail":
            del self._builds[build]
            self._final(build, "fail", None, stamp, runnable=False)

    # -- tests -------------------------------------------------------------------

    def _id(self, package: _Package, test: str) -> str:
        return f"{package.name}.{test}" if package.name else test

    def _parent(self, package: _Package, test: str) -> Optional[str]:
        """The id of ``test``'s parent: the longest running prefix at a ``/``."""
        cut = test.rfind("/")
        if cut <= 0:
            return package.name or None
        first = cut
        while cut > 0:
            if test[:cut] in package.running:
                return self._id(package, test[:cut])
            cut = test.rfind("/", 0, cut)
        return self._id(package, test[:first])

    def _run(self, package: _Package, test: str, stamp) -> None:
        parent = self._parent(package, test)
        if test not in package.running and self._tracked < MAX_TRACKED:
            package.running[test] = parent
            self._tracked += 1
        self._sink.flush()
        self._status(
            test_id=self._id(package, test),
            test_status="inprogress",
            timestamp=stamp,
            parent_test_id=parent,
        )

    def _output(self, package: _Package, test: str, data: bytes, stamp) -> None:
        if test in package.running:
            self._sink.add(
                self._id(package, test),
                "stdout",
                data,
                mime_type=TEXT,
                parent_test_id=package.running[test],
                timestamp=stamp,
            )
        else:  # not running (yet, or any more): keep it with the package
            self._package_output(package, data, stamp)

    def _note(
        self, package: _Package, test: str, note: bytes, parent: Optional[str] = None
    ) -> None:
        if parent is None:
            parent = package.running.get(test)
        self._sink.add(
            self._id(package, test),
            "reason",
            note,
            mime_type=TEXT,
            parent_test_id=parent,
        )

    def _final(
        self,
        test_id: str,
        status: str,
        parent: Optional[str],
        stamp,
        *,
        reason: Optional[str] = None,
        runnable: bool = True,
    ) -> None:
        self._sink.flush()
        if reason:
            self._status(
                test_id=test_id,
                test_status=status,
                runnable=runnable,
                file_name="reason",
                file_bytes=reason.encode("utf-8"),
                eof=True,
                mime_type=TEXT,
                timestamp=stamp,
                parent_test_id=parent,
            )
        else:
            self._status(
                test_id=test_id,
                test_status=status,
                runnable=runnable,
                timestamp=stamp,
                parent_test_id=parent,
            )


def convert_stream(source, result) -> None:
    """Convert everything ``source`` (a binary file object) yields into ``result``."""
    feed_all(source, GoJsonConverter(result))
