"""JUnit XML from a subunit stream, in memory flat in the stream's length.

:class:`JUnitXmlWriter` is a result.  It gathers each test's events with an
:class:`~subunit2.aggregate.Aggregator` and, as each test finishes, appends its
``<testcase>`` to a spool file on disk.  The counts belong in attributes that come
before the test cases, so the report is only assembled by :meth:`write_report`:
header with the counts, the spooled test cases copied through, footer.  It can be
called at any time (a snapshot) as well as at the end; ``docs/junitxml.md`` has the
rules this module implements:

* ids split into ``classname`` and ``name`` (:func:`split_id`; an id with no
  classname part gets the suite name, as Jenkins needs a classname), subtests
  shown after their parent's name, duplicates made unique with ``#2``, ``#3``...; when
  ``classname + "." + name`` is not the test id, a ``subunit.test_id`` property
  keeps the exact id (and ``subunit.parent_test_id`` the parent, ``subunit.status``
  a status the XML cannot say) so junitxml2subunit gives the stream back;
* ``fail`` -> ``<failure>`` with the traceback as body; ``uxsuccess`` -> a
  ``<failure>`` "unexpected success"; ``skip`` -> ``<skipped message=reason>``;
  ``xfail`` -> a pass (or ``<skipped>``); a test that never completed ->
  ``<error type="Incomplete">``; ``exists`` (enumerated, not run) -> no test case;
* ``stdout`` -> ``<system-out>``, ``stderr`` -> ``<system-err>``, other text
  attachments appended to ``<system-out>`` under a header line, binary ones
  summarised there in one line;
* events without a test id (non-subunit bytes) go to the suite's ``<system-out>``
  (``stderr`` chunks to its ``<system-err>``), or wherever ``non_test`` says.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import re
import tempfile
import threading
from array import array
from typing import IO, BinaryIO, Callable, Dict, List, Optional, Tuple

from .aggregate import Aggregator, Attachment, TestRecord
from .event import Event
from .result import StreamResult
from .safexml import attr, text

__all__ = [
    "INCOMPLETE_MESSAGE",
    "JUnitXmlWriter",
    "join_id",
    "split_id",
]

#: The ``<error>`` message of a test that never reached a final status.
INCOMPLETE_MESSAGE = "test did not complete: the stream has no final status for it"
#: Property names used to keep what classname/name cannot say.
PROP_TEST_ID = "subunit.test_id"
PROP_PARENT = "subunit.parent_test_id"
PROP_STATUS = "subunit.status"
#: Conventional attachment names that are text whatever their mime type says.
TEXT_NAMES = frozenset({"stdout", "stderr", "traceback", "reason"})
XFAIL_MODES = ("pass", "skipped")
_COPY = 1 << 20
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_TOKENS = re.compile(r"::|[.()\[\]{}]")
_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*)(?::|$)")
_MESSAGE_MAX = 1000


def _top_level(test_id: str) -> Tuple[List[int], List[int]]:
    """Offsets of ``.`` and of ``::`` outside brackets and parentheses."""
    dots: List[int] = []
    colons: List[int] = []
    depth = 0
    for match in _TOKENS.finditer(test_id):
        token = match.group()
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0:
            (dots if token == "." else colons).append(match.start())
    return dots, colons


def split_id(test_id: str) -> Tuple[str, str]:
    """``(classname, name)`` for a test id.

    An id with ``::`` outside brackets is a pytest node id
    (``path/to/test_mod.py::Class::test[param]``): the classname is the path
    made a dotted module (``.py`` dropped, ``/`` and ``\\`` to ``.``) followed by
    the middle parts, the name is the last part.  Otherwise the id is split at its
    last ``.`` outside brackets and parentheses, so ``pkg.Test.test_x[1.5]`` gives
    ``pkg.Test`` and ``test_x[1.5]``.  An id with no such ``.`` is all name, with
    an empty classname.
    """
    dots, colons = _top_level(test_id)
    if colons:
        parts = []
        start = 0
        for offset in colons:
            parts.append(test_id[start:offset])
            start = offset + 2
        parts.append(test_id[start:])
        path = parts[0]
        if path.endswith(".py"):
            path = path[:-3]
        module = path.replace("\\", ".").replace("/", ".").strip(".")
        classname = ".".join(p for p in [module, *parts[1:-1]] if p)
        return classname, parts[-1]
    for offset in reversed(dots):
        if 0 < offset < len(test_id) - 1:
            return test_id[:offset], test_id[offset + 1 :]
    return "", test_id


def join_id(classname: str, name: str) -> str:
    """The test id a JUnit reader derives: ``classname.name``, or ``name`` alone."""
    return f"{classname}.{name}" if classname else name


class _SeenNames:
    """A set of 64-bit hashes in an open-addressing array: 16 bytes per name.

    Remembering every (classname, name) as Python strings would make memory grow
    with the stream; this keeps it to a few MiB per 100k tests.  A hash collision
    (odds about 1 in 10^7 at a million tests) only adds a needless ``#2``.
    """

    def __init__(self) -> None:
        self._table = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._size = 0

    @staticmethod
    def _hash(key: str) -> int:
        digest = hashlib.blake2b(
            key.encode("utf-8", "surrogatepass"), digest_size=8
        ).digest()
        return int.from_bytes(digest, "little") or 1

    def add(self, key: str) -> bool:
        """Remember ``key``; False when it was already there."""
        value = self._hash(key)
        table = self._table
        mask = self._mask
        i = value & mask
        while True:
            slot = table[i]
            if slot == 0:
                break
            if slot == value:
                return False
            i = (i + 1) & mask
        table[i] = value
        self._size += 1
        if self._size * 2 > mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        self._table = table = array("Q", bytes(16 * len(old)))
        self._mask = mask = len(table) - 1
        for value in old:
            if value:
                i = value & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = value


def _charset(mime_type: Optional[str]) -> str:
    for part in (mime_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return "utf-8"


def is_text(name: str, mime_type: Optional[str]) -> bool:
    """True for attachments to include as text (see :data:`TEXT_NAMES`)."""
    if name in TEXT_NAMES:
        return True
    mime = (mime_type or "").split(";")[0].strip().lower()
    return (
        mime.startswith("text/")
        or mime in ("application/json", "application/xml")
        or mime.endswith(("+json", "+xml"))
    )


def _decode(attachment: Attachment) -> str:
    """An attachment's text; undecodable bytes become ``\\xNN``."""
    return attachment.content.decode(_charset(attachment.mime_type), "backslashreplace")


def _failure_summary(traceback: str) -> Tuple[str, str]:
    """``(message, type)`` for a traceback: its last line, and the exception name."""
    lines = [line.strip() for line in traceback.splitlines() if line.strip()]
    if not lines:
        return "test failed", "Failure"
    message = lines[-1][:_MESSAGE_MAX]
    match = _EXCEPTION.match(message)
    return message, match.group(1) if match else "Failure"


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds // 1000}.{milliseconds % 1000:03d}"


def _milliseconds(record: TestRecord) -> int:
    start = record.start_time
    stop = record.stop_time
    if start is None or stop is None:
        return 0
    delta = stop - start
    micros = (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    return max(0, (micros + 500) // 1000)


class _Counts:
    __slots__ = ("tests", "failures", "errors", "skipped", "milliseconds")

    def __init__(self) -> None:
        self.tests = self.failures = self.errors = self.skipped = 0
        self.milliseconds = 0

    def copy(self) -> _Counts:
        other = _Counts()
        for name in self.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    def attributes(self) -> str:
        return (
            f'tests="{self.tests}" failures="{self.failures}" '
            f'errors="{self.errors}" skipped="{self.skipped}" '
            f'time="{_seconds(self.milliseconds)}"'
        )


class JUnitXmlWriter(StreamResult):
    """A result that turns a stream into a JUnit XML report; see the module doc.

    ``xfail`` is ``"pass"`` (the default) or ``"skipped"``.  ``non_test`` says where
    events without a test id go: ``"system-out"`` (the suite's, the default), or a
    callable taking each :class:`~subunit2.event.Event`, or None to drop them.
    Every method holds :attr:`lock`, so another thread may call
    :meth:`write_report` (a snapshot) while events arrive; :attr:`version` changes
    with every event.  Call :meth:`close` (or use ``with``) to remove the spools.
    """

    def __init__(
        self,
        *,
        suite_name: str = "subunit",
        xfail: str = "pass",
        non_test="system-out",
        spool_dir: Optional[str] = None,
    ) -> None:
        if xfail not in XFAIL_MODES:
            raise ValueError(f"xfail must be one of {XFAIL_MODES}, not {xfail!r}")
        self.suite_name = suite_name
        self.xfail = xfail
        self.lock = threading.RLock()
        self.version = 0
        self._spool_dir = spool_dir
        if non_test == "system-out":
            on_non_test: Optional[Callable[[Event], object]] = self._spool_non_test
        elif non_test is None or callable(non_test):
            on_non_test = non_test
        else:
            raise ValueError("non_test must be 'system-out', a callable or None")
        self._aggregator = Aggregator(self._add_record, on_non_test)
        self._cases: Optional[BinaryIO] = None
        self._out: Optional[BinaryIO] = None
        self._err: Optional[BinaryIO] = None
        self._reset()

    # -- the result protocol ------------------------------------------------------

    def _reset(self) -> None:
        self.close()
        self.counts = _Counts()
        self.first_timestamp: Optional[datetime.datetime] = None
        self._seen = _SeenNames()
        self._parents: Dict[Tuple[Optional[str], str], str] = {}
        self._non_test_name: Optional[str] = None
        self.stopped = False

    def startTestRun(self) -> None:
        """Start a new report, discarding anything gathered so far."""
        with self.lock:
            self._reset()
            self._aggregator.startTestRun()
            self.version += 1

    def stopTestRun(self) -> None:
        """Write every test still open as an incomplete test (an ``<error>``)."""
        with self.lock:
            self._aggregator.stopTestRun()
            self._parents.clear()
            self.stopped = True
            self.version += 1

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
        with self.lock:
            self.version += 1
            if parent_test_id is not None and test_id is not None:
                self._parents[(route_code, test_id)] = parent_test_id
            self._aggregator.status(
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

    # -- verdict ------------------------------------------------------------------

    @property
    def failing(self) -> bool:
        """True when a test failed, succeeded unexpectedly or never completed
        (including tests still open, which count against the run)."""
        counts = self.counts
        return bool(counts.failures or counts.errors or self._aggregator.pending)

    # -- spooling -----------------------------------------------------------------

    def _spool(self) -> BinaryIO:
        return tempfile.TemporaryFile(prefix="subunit2junit-", dir=self._spool_dir)

    def _spool_non_test(self, event: Event) -> None:
        if not event.file_bytes:
            return
        if event.file_name == "stderr":
            if self._err is None:
                self._err = self._spool()
            self._err.write(event.file_bytes)
            return
        if self._out is None:
            self._out = self._spool()
        name = event.file_name
        if name != "stdout" and name != self._non_test_name:
            self._out.write(f"\n--- {name} ---\n".encode("utf-8", "surrogatepass"))
        self._non_test_name = name
        self._out.write(event.file_bytes)

    def _display(
        self, route_code: Optional[str], test_id: str, parent: Optional[str], depth=0
    ) -> Tuple[str, str]:
        """classname and name; a subtest is shown after its parent's name."""
        if parent is None or depth > 64 or parent == test_id:
            return split_id(test_id)
        grand = self._parents.get((route_code, parent))
        classname, name = self._display(route_code, parent, grand, depth + 1)
        if test_id.startswith(parent):
            return classname, name + test_id[len(parent) :]
        return classname, f"{name} / {test_id}"

    def _add_record(self, record: TestRecord) -> None:
        key = (record.route_code, record.test_id)
        parent = self._parents.pop(key, None) or record.parent_test_id
        if record.status == "exists":
            return
        if self._cases is None:
            self._cases = self._spool()
        self._cases.write(self._testcase(record, parent).encode("utf-8"))
        if record.start_time is not None and (
            self.first_timestamp is None or record.start_time < self.first_timestamp
        ):
            self.first_timestamp = record.start_time

    def _unique(self, classname: str, name: str) -> str:
        if self._seen.add(f"{classname}\x00{name}"):
            return name
        n = 2
        while not self._seen.add(f"{classname}\x00{name} #{n}"):
            n += 1
        return f"{name} #{n}"

    def _testcase(self, record: TestRecord, parent: Optional[str]) -> str:
        test_id = record.test_id
        status = record.status
        classname, name = self._display(record.route_code, test_id, parent)
        classname = classname or self.suite_name or "subunit"
        name = self._unique(classname, name)
        properties = []
        if join_id(classname, name) != test_id:
            properties.append((PROP_TEST_ID, test_id))
        if record.parent_test_id is not None:
            properties.append((PROP_PARENT, record.parent_test_id))
        if status in ("xfail", "uxsuccess", "inprogress"):
            properties.append((PROP_STATUS, status))
        milliseconds = _milliseconds(record)
        counts = self.counts
        counts.tests += 1
        counts.milliseconds += milliseconds
        attachments = dict(record.attachments)
        outcome = ""
        if status == "fail":
            counts.failures += 1
            found = attachments.pop("traceback", None)
            body = _decode(found) if found is not None else ""
            message, kind = _failure_summary(body)
            outcome = (
                f'<failure message="{attr(message)}" type="{attr(kind)}">'
                f"{text(body)}</failure>"
            )
        elif status == "uxsuccess":
            counts.failures += 1
            outcome = (
                '<failure message="unexpected success: the test was expected to '
                'fail" type="UnexpectedSuccess"/>'
            )
        elif status == "skip":
            counts.skipped += 1
            found = attachments.pop("reason", None)
            if found is not None:
                outcome = f'<skipped message="{attr(_decode(found))}"/>'
            else:
                outcome = "<skipped/>"
        elif status == "xfail" and self.xfail == "skipped":
            counts.skipped += 1
            outcome = '<skipped type="xfail" message="expected failure"/>'
        elif status == "inprogress":
            counts.errors += 1
            outcome = f'<error message="{INCOMPLETE_MESSAGE}" type="Incomplete"/>'
        parts = [
            f'    <testcase classname="{attr(classname)}" name="{attr(name)}" '
            f'time="{_seconds(milliseconds)}"'
        ]
        stdout, stderr = self._outputs(attachments)
        if not (properties or outcome or stdout or stderr):
            parts.append("/>\n")
            return "".join(parts)
        parts.append(">")
        if properties:
            parts.append("<properties>")
            for key, value in properties:
                parts.append(f'<property name="{key}" value="{attr(value)}"/>')
            parts.append("</properties>")
        parts.append(outcome)
        if stdout:
            parts.append(f"<system-out>{text(stdout)}</system-out>")
        if stderr:
            parts.append(f"<system-err>{text(stderr)}</system-err>")
        parts.append("</testcase>\n")
        return "".join(parts)

    @staticmethod
    def _outputs(attachments: Dict[str, Attachment]) -> Tuple[str, str]:
        """system-out and system-err text from the attachments left over."""
        out: List[str] = []
        err = ""
        for name, attachment in attachments.items():
            if name == "stderr":
                err = _decode(attachment)
            elif name == "stdout":
                out.insert(0, _decode(attachment))
            elif is_text(name, attachment.mime_type):
                mime = attachment.mime_type or "text/plain"
                out.append(f"\n--- attachment {name} ({mime}) ---\n")
                out.append(_decode(attachment))
            else:
                mime = attachment.mime_type or "application/octet-stream"
                size = len(attachment.content)
                out.append(
                    f"\n--- attachment {name} ({mime}): {size} bytes of binary "
                    "data, not included ---\n"
                )
        joined = "".join(out)
        if "stdout" not in attachments:
            joined = joined.lstrip("\n")
        return joined, err

    # -- the report ---------------------------------------------------------------

    def write_report(self, out: IO[bytes], partial: Optional[str] = None) -> None:
        """Write the whole report as it stands to the binary stream ``out``.

        ``partial`` (a reason) marks a snapshot or an interrupted run: tests still
        open are listed as errors, and one more error test case,
        ``subunit2junitxml`` / ``report incomplete``, says why, so a report of a run
        that never finished cannot look green.
        """
        with self.lock:
            self._write_report(out, partial)

    def _write_report(self, out: IO[bytes], partial: Optional[str]) -> None:
        counts = self.counts.copy()
        extra: List[str] = []
        if partial is not None:
            for _route, test_id in self._aggregator.pending:
                classname, name = split_id(test_id)
                classname = classname or self.suite_name or "subunit"
                extra.append(
                    f'    <testcase classname="{attr(classname)}" '
                    f'name="{attr(name)}" time="0.000"><properties>'
                    f'<property name="{PROP_TEST_ID}" value="{attr(test_id)}"/>'
                    f'<property name="{PROP_STATUS}" value="inprogress"/>'
                    "</properties><error message="
                    '"still running when this report was written" '
                    'type="Incomplete"/></testcase>\n'
                )
            extra.append(
                '    <testcase classname="subunit2junitxml" name="report incomplete" '
                f'time="0.000"><error message="{attr(partial)}" '
                'type="IncompleteReport"/></testcase>\n'
            )
            counts.tests += len(extra)
            counts.errors += len(extra)
        name = attr(self.suite_name)
        stamp = ""
        if self.first_timestamp is not None:
            utc = self.first_timestamp.astimezone(datetime.timezone.utc)
            stamp = f' timestamp="{utc.replace(tzinfo=None).isoformat("T", "seconds")}"'
        header = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="{name}" {counts.attributes()}>\n'
            f'  <testsuite name="{name}" {counts.attributes()}{stamp}>\n'
        )
        out.write(header.encode("utf-8"))
        self._copy(self._cases, out, raw=True)
        out.write("".join(extra).encode("utf-8"))
        for tag, spool in (("system-out", self._out), ("system-err", self._err)):
            if spool is not None:
                out.write(f"    <{tag}>".encode())
                self._copy(spool, out, raw=False)
                out.write(f"</{tag}>\n".encode())
        out.write(b"  </testsuite>\n</testsuites>\n")

    @staticmethod
    def _copy(spool: Optional[BinaryIO], out: IO[bytes], raw: bool) -> None:
        """Copy a spool to ``out``: as is, or decoded and escaped as XML text."""
        if spool is None:
            return
        spool.flush()
        end = spool.tell()
        spool.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        left = end
        try:
            while left > 0:
                chunk = spool.read(min(_COPY, left))
                if not chunk:
                    break
                left -= len(chunk)
                if raw:
                    out.write(chunk)
                else:
                    piece = decoder.decode(chunk, final=left <= 0)
                    out.write(text(piece).encode("utf-8"))
        finally:
            spool.seek(end)

    def close(self) -> None:
        """Remove the spool files."""
        for spool in (self._cases, self._out, self._err):
            if spool is not None:
                spool.close()
        self._cases = self._out = self._err = None

    def __enter__(self) -> JUnitXmlWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
