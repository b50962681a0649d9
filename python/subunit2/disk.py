"""DiskWriter: a stream written out as a directory tree, one directory per test.

Layout under the target directory::

    index.jsonl              one line per test directory, in order of creation:
                             {"dir": "tests/NAME", "test_id": ..., "route_code": ...}
    tests/NAME/test.json     the test's record (see below)
    tests/NAME/files/FILE    each attachment's bytes, exactly as sent
    stream/FILE              data that belongs to no test (non-subunit bytes are
                             file "stdout"), appended in arrival order
    stream.json              {file name: {"path": "stream/FILE", "mime_type": ...}}

``test.json`` holds ``test_id``, ``status``, ``route_code``, ``parent_test_id``,
``tags`` (sorted list or null), ``runnable``, ``enumerated`` (the test was listed
with ``exists``), ``start_time``/``stop_time`` (ISO 8601 UTC or null),
``duration`` (seconds or null) and ``attachments``: a list of ``{"name",
"path", "mime_type", "eof", "size"}`` with ``path`` relative to the test directory.

Names: a test id or file name is used as is when it is made only of ASCII letters,
digits, ``.``, ``_`` and ``-``, does not start with ``.`` or ``-``, is at most 80
characters, and is not a Windows device name (CON, NUL, COM1, ...).  Anything else
is rewritten (other characters become ``_``, cut to 80) and gets ``-`` plus 12 hex
digits of the SHA-256 of the original appended, so distinct ids stay distinct.  A
name already taken (the same test run again, a name differing only in case, on
any file system, an existing directory) gets ``-2``, ``-3``, ...
Directories and files are created exclusively and never through symbolic links, so
nothing is ever written outside the target directory and nothing is overwritten,
whatever the stream holds.  The JSON files map every name back to the original.

A test that was enumerated (``exists``) and then run is one directory: the run's
record replaces the enumeration's, with ``enumerated`` true.  Attachments are held
in memory until their test completes (:class:`~subunit2.aggregate.Aggregator`), so
memory is bounded by the tests in flight, plus one hash per test directory name.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import stat
from typing import BinaryIO, Dict, Optional, Set, Tuple

from .aggregate import Aggregator, TestRecord
from .event import Event
from .result import StreamResult

__all__ = ["DiskWriter", "LAYOUT", "safe_name"]

#: The layout in brief, for ``--help``.
LAYOUT = """\
  DIR/index.jsonl            one line per test directory: dir, test_id, route_code
  DIR/tests/NAME/test.json   the test's record: status, times, tags, attachments...
  DIR/tests/NAME/files/FILE  each attachment's bytes
  DIR/stream/FILE            data outside any test (non-subunit bytes: stdout)
  DIR/stream.json            stream file name -> path and mime type"""

MAX_NAME = 80
_PLAIN = re.compile(r"[A-Za-z0-9._-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{kind}{n}" for kind in ("COM", "LPT") for n in "0123456789¹²³"]
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def _is_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def safe_name(text: str) -> str:
    """A single, portable path component for ``text`` (see the module docstring)."""
    if (
        _PLAIN.fullmatch(text)
        and len(text) <= MAX_NAME
        and text[0] not in ".-"
        and not text.endswith(".")
        and not _is_reserved(text)
    ):
        return text
    readable = _UNSAFE.sub("_", text)[:MAX_NAME].lstrip(".-").rstrip(".")
    if not readable or _is_reserved(readable):
        readable = "_" + readable
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}-{digest}"


def _time(when: Optional[datetime.datetime]) -> Optional[str]:
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds") + "Z"


def _json_bytes(value) -> bytes:
    return json.dumps(value).encode("utf-8") + b"\n"


def _real_directory(path: str) -> None:
    """Create ``path`` unless it is already a directory (never a symlink to one)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise NotADirectoryError(
                f"{path}: exists and is not a directory (or is a symbolic link)"
            ) from None


class DiskWriter(StreamResult):
    """Writes every test of the stream into ``directory`` (created if missing).

    See the module docstring for the layout and the naming rules.  OSError from
    the file system propagates (a full disk, no permission).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._aggregator = Aggregator(self._write_record, self._write_non_test)
        # (route_code, test_id) -> directory name of an enumerated test not yet run
        self._enumerated: Dict[Tuple[Optional[str], str], str] = {}
        self._taken: Set[int] = set()
        self._next_suffix: Dict[int, int] = {}
        self._stream_files: Dict[str, dict] = {}
        self._index: Optional[BinaryIO] = None
        #: Test directories created.
        self.tests = 0

    # The result protocol.
    def startTestRun(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        if not os.path.isdir(self.directory):
            raise NotADirectoryError(f"{self.directory}: not a directory")
        _real_directory(os.path.join(self.directory, "tests"))
        self._enumerated.clear()
        self._close_index()
        path = os.path.join(self.directory, "index.jsonl")
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW | _BINARY
        self._index = open(os.open(path, flags, 0o644), "wb")
        self._aggregator.startTestRun()

    def stopTestRun(self) -> None:
        try:
            self._aggregator.stopTestRun()
        finally:
            self._close_index()
        self._enumerated.clear()
        if self._stream_files:
            self._write_json(
                os.path.join(self.directory, "stream.json"), self._stream_files
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
        self._aggregator.status(
            test_id=test_id,
            test_status=test_status,
            test_tags=test_tags,
            runnable=runnable,
            file_name=file_name,
            file_bytes=file_bytes,
            eof=eof,
            mime_type=mime_type,
            route_code=route_code,
            timestamp=timestamp,
            parent_test_id=parent_test_id,
        )

    # Writing.
    def _create(self, parent: str, name: str, make, remember: bool = True) -> str:
        """Create ``parent/name`` (or ``name-2``, ...) with ``make(path)``, which
        must fail with FileExistsError when the path exists; return the name used.

        With ``remember`` (for directories shared by tests), names are also kept
        apart when they differ only in case, even on a case-sensitive file system,
        so the tree can be copied anywhere; a name's next suffix is remembered so a
        test run many times does not retry every taken name.  What is remembered is
        a hash per name (a hash collision costs only an unneeded suffix).
        """
        key = hash((parent, name.casefold())) if remember else 0
        if remember and key in self._taken:
            count = self._next_suffix.get(key, 2)
        else:
            count = 1
        while True:
            candidate = name if count == 1 else f"{name}-{count}"
            count += 1
            try:
                make(os.path.join(parent, candidate))
            except FileExistsError:
                continue
            if remember:
                self._taken.add(key)
                if count > 2:
                    self._next_suffix[key] = count
            return candidate

    @staticmethod
    def _write_new(path: str, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
        fd = os.open(path, flags, 0o644)
        with open(fd, "wb") as stream:
            stream.write(data)

    @staticmethod
    def _write_json(path: str, value) -> None:
        """Replace ``path`` with ``value`` as JSON; a symlink there is replaced,
        not followed."""
        temporary = path + ".tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _BINARY
        with open(os.open(temporary, flags, 0o644), "wb") as stream:
            stream.write(_json_bytes(value))
        os.replace(temporary, path)

    def _close_index(self) -> None:
        if self._index is not None:
            index, self._index = self._index, None
            index.close()

    def _append_index(self, line: dict) -> None:
        if self._index is None:
            raise ValueError("DiskWriter: startTestRun was not called")
        self._index.write(json.dumps(line).encode("utf-8") + b"\n")

    def _write_record(self, record: TestRecord) -> None:
        key = (record.route_code, record.test_id)
        tests = os.path.join(self.directory, "tests")
        name = self._enumerated.pop(key, None)
        enumerated = record.status == "exists"
        fresh = name is None
        if not fresh:
            enumerated = True
            if record.status == "exists":  # listed twice: keep the first directory
                self._enumerated[key] = name
        else:
            name = self._create(tests, safe_name(record.test_id), os.mkdir)
            self.tests += 1
            self._append_index(
                {
                    "dir": f"tests/{name}",
                    "test_id": record.test_id,
                    "route_code": record.route_code,
                }
            )
            if record.status == "exists":
                self._enumerated[key] = name
        folder = os.path.join(tests, name)
        attachments = []
        if record.attachments:
            files = os.path.join(folder, "files")
            _real_directory(files)
            for file_name, attachment in record.attachments.items():
                used = self._create(
                    files,
                    safe_name(file_name),
                    lambda path, a=attachment: self._write_new(path, a.content),
                    remember=False,
                )
                attachments.append(
                    {
                        "name": file_name,
                        "path": f"files/{used}",
                        "mime_type": attachment.mime_type,
                        "eof": attachment.eof,
                        "size": len(attachment.content),
                    }
                )
        duration = record.duration
        document = {
            "test_id": record.test_id,
            "status": record.status,
            "route_code": record.route_code,
            "parent_test_id": record.parent_test_id,
            "tags": None if record.tags is None else sorted(record.tags),
            "runnable": record.runnable,
            "enumerated": enumerated,
            "start_time": _time(record.start_time),
            "stop_time": _time(record.stop_time),
            "duration": None if duration is None else duration.total_seconds(),
            "attachments": attachments,
        }
        if not fresh and record.status != "exists":
            previous = os.path.join(folder, "test.json")
            if os.path.lexists(previous):  # the enumeration's record
                with open(previous, encoding="utf-8") as stream:
                    listed = json.load(stream)
                if document["tags"] is None:
                    document["tags"] = listed.get("tags")
                if listed.get("runnable") is False:
                    document["runnable"] = False
        record_path = os.path.join(folder, "test.json")
        if fresh:
            self._write_new(record_path, _json_bytes(document))
        else:  # the run replaces the enumeration's record
            self._write_json(record_path, document)

    def _write_non_test(self, event: Event) -> None:
        if event.file_name is None:
            return  # a bare status or timestamp: nothing to keep
        entry = self._stream_files.get(event.file_name)
        if entry is None:
            stream_dir = os.path.join(self.directory, "stream")
            _real_directory(stream_dir)
            used = self._create(
                stream_dir,
                safe_name(event.file_name),
                lambda path: self._write_new(path, b""),
            )
            entry = self._stream_files[event.file_name] = {
                "path": f"stream/{used}",
                "mime_type": event.mime_type,
            }
        elif entry["mime_type"] is None:
            entry["mime_type"] = event.mime_type
        if event.file_bytes:
            path = os.path.join(self.directory, *entry["path"].split("/"))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW | _BINARY)
            with open(fd, "wb") as stream:
                stream.write(event.file_bytes)
