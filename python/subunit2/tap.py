"""TAP (versions 12, 13 and 14) to subunit events, streaming and sans-IO.

:class:`TapConverter` takes TAP bytes as they arrive (:meth:`~TapConverter.feed`) and
calls ``status()`` on a result for every test it can settle; :meth:`~TapConverter.close`
ends the input.  The rules, in short (docs/tap-and-go.md has them in full):

* ``ok``/``not ok`` lines are tests.  The id is the description (``\\#`` and ``\\\\``
  unescaped); the test number only when there is no description.  A repeated id gets
  `` [N]`` (N the test number) so every id is unique.
* ``# SKIP`` gives ``skip`` (``not ok ... # SKIP`` stays a failure, as prove counts
  it); ``ok ... # TODO`` gives ``uxsuccess`` and ``not ok ... # TODO`` gives
  ``xfail``.  Directives are case-insensitive; their text is the ``reason`` file.
* A YAML block (``---`` ... ``...`` indented under a test line) becomes that test's
  ``diagnostics`` file; ``#`` comments and blank lines after a test line become its
  ``comments`` file.  A test is emitted when the next TAP line arrives (or at the end).
* TAP 14 child streams (4-space indented, optionally announced by ``# Subtest: name``)
  are subtests: the parent's id is the announced name (else the parent's test number),
  children's ids are ``parent/child`` and carry ``parent_test_id``.  The parent's
  status comes from the ``ok``/``not ok`` line that closes the child stream.
* Plans: ``1..0 # reason`` skips the stream (a ``[plan]`` test with status ``skip``);
  tests promised but never reported fail under their number, with a reason; a missing
  plan or more tests than planned fail a ``[plan]`` test.
* ``Bail out!`` fails a ``[bail out]`` test, then every open subtest and every planned
  test not yet reported; the rest of the input passes through untouched.
* Version lines and pragmas are read and dropped.  Every other line (text that is not
  TAP, or TAP-looking text too long or too deeply nested) is passed through as bytes
  with no test id and file name ``stdout``, exactly as it came.
"""

from __future__ import annotations

import hashlib
import re
from typing import List, Optional, Set, Tuple

from .lines import AttachmentSink, LineSplitter, feed_all
from .result import as_target

__all__ = [
    "MAX_DEPTH",
    "MAX_LINE",
    "MAX_NAME",
    "TapConverter",
    "convert_stream",
    "parse_test_line",
    "unescape",
]

#: Longest line read as TAP, in bytes; a longer line is passed through as text (or,
#: inside a YAML block, kept in the ``diagnostics`` file as it is).
MAX_LINE = 65536
#: Deepest subtest nesting read as TAP; deeper lines are passed through as text.
MAX_DEPTH = 64
#: Longest name used in an id, in characters; a longer description is cut (ending in
#: "...") and attached in full as the test's ``description`` file.
MAX_NAME = 1000
#: How many distinct ids are remembered to keep ids unique (about 100 bytes each).
MAX_IDS = 1_000_000
#: How many never-reported planned tests are failed one by one; the rest in one test.
MAX_MISSING = 100

TEXT = "text/plain;charset=utf8"
YAML = "text/yaml;charset=utf8"

_TEST = re.compile(
    r"(not ok|ok)(?=[ \t]|\Z)(?:[ \t]+(\d{1,18})(?![^ \t]))?(.*)\Z", re.S
)
_PLAN = re.compile(r"1\.\.(\d{1,18})[ \t]*(?:#[ \t]*(.*?))?[ \t]*\Z", re.S)
_SKIP_WORD = re.compile(r"skip\S*\s*", re.I)
_VERSION = re.compile(r"TAP version \d{1,9}[ \t]*\Z", re.I)
_PRAGMA = re.compile(r"pragma[ \t]+[+-]\S", re.S)
_BAIL = re.compile(r"Bail out!(.*)\Z", re.I | re.S)
_SUBTEST = re.compile(r"#[ \t]*Subtest(?:[ \t]*:[ \t]*(.*?))?[ \t]*\Z", re.S)
_DIRECTIVE = re.compile(
    r"[ \t]*(?:(skip)\S*|(todo)(?=\s|\Z))(?:\s+(.*?))?\s*\Z", re.I | re.S
)


def unescape(text: str) -> str:
    """TAP 14 escapes: ``\\\\`` is a backslash, ``\\#`` a hash; others stay."""
    if "\\" not in text:
        return text
    return re.sub(r"\\([\\#])", r"\1", text)


def parse_test_line(
    text: str,
) -> Optional[Tuple[bool, Optional[int], str, Optional[str], str, str]]:
    """Split a test line into (ok, number, description, directive, reason, note).

    ``directive`` is ``"skip"``, ``"todo"`` or None.  The description ends at the
    first unescaped ``#``; it has its leading ``-`` removed and escapes undone.
    ``note`` is any other text after that ``#`` (node-tap's ``# time=12ms``).  None
    when ``text`` is not a test line.
    """
    match = _TEST.match(text)
    if match is None:
        return None
    word, number, rest = match.groups()
    directive = None
    reason = ""
    first = _unescaped_hash(rest, 0)
    description = rest if first < 0 else rest[:first]
    note = ""
    index = first
    while index >= 0:
        found = _DIRECTIVE.match(rest, index + 1)
        if found is not None:
            directive = "skip" if found.group(1) else "todo"
            reason = unescape(found.group(3) or "")
            break
        index = _unescaped_hash(rest, index + 1)
    if first >= 0 and index != first:
        note = rest[first + 1 : index if index >= 0 else len(rest)].strip()
    description = description.strip()
    if description.startswith("-") and description[1:2] in ("", " ", "\t"):
        description = description[1:].strip()
    return (
        word == "ok",
        int(number) if number is not None else None,
        unescape(description),
        directive,
        reason,
        unescape(note),
    )


def _unescaped_hash(text: str, start: int) -> int:
    """Index of the next ``#`` at or after ``start`` not escaped by a backslash."""
    while True:
        index = text.find("#", start)
        if index < 0:
            return -1
        slashes = 0
        before = index - 1
        while before >= 0 and text[before] == "\\":
            slashes += 1
            before -= 1
        if slashes % 2 == 0:
            return index
        start = index + 1


def _text(data: bytes) -> str:
    """Bytes as text for ids and reasons: bad UTF-8 and NUL become U+FFFD."""
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")


class _Ids:
    """Hands out unique test ids, remembering digests of the ones given."""

    def __init__(self, limit: int = MAX_IDS) -> None:
        self._used: Set[bytes] = set()
        self._next: dict = {}
        self._limit = limit

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()

    def _claim(self, text: str) -> bool:
        key = self._key(text)
        if key in self._used:
            return False
        if len(self._used) < self._limit:
            self._used.add(key)
        return True

    def make(self, prefix: str, name: str, number: Optional[int]) -> str:
        base = prefix + name
        if self._claim(base):
            return base
        tag = str(number) if number is not None else "2"
        candidate = f"{base} [{tag}]"
        if self._claim(candidate):
            return candidate
        key = self._key(candidate)
        count = self._next.get(key, 2)
        while True:
            again = f"{base} [{tag}.{count}]"
            count += 1
            if self._claim(again):
                if len(self._next) < self._limit:
                    self._next[key] = count
                return again


class _Level:
    """One TAP stream: the top level, or a child stream (a subtest's body)."""

    __slots__ = (
        "closing",
        "count",
        "depth",
        "numbers",
        "parent_id",
        "plan",
        "plan_reason",
        "prefix",
        "saw_tap",
    )

    def __init__(self, depth: int, parent_id: Optional[str]) -> None:
        self.depth = depth
        self.parent_id = parent_id  # the subtest this stream is the body of
        self.prefix = "" if parent_id is None else parent_id + "/"
        self.count = 0  # test points seen
        self.numbers: Set[int] = set()  # their numbers (up to MAX_IDS of them)
        self.plan: Optional[int] = None
        self.plan_reason = ""
        self.saw_tap = False
        self.closing: Optional[str] = None  # a finished child awaiting its test point


class _Pending:
    """A test point read but not yet emitted: its comments and YAML may follow."""

    __slots__ = ("indent", "parent_id", "reason", "status", "test_id")

    def __init__(
        self,
        test_id: str,
        status: str,
        parent_id: Optional[str],
        reason: str,
        indent: int,
    ) -> None:
        self.test_id = test_id
        self.status = status
        self.parent_id = parent_id
        self.reason = reason
        self.indent = indent


class TapConverter:
    """Converts TAP bytes into ``status()`` calls on ``result`` as they arrive.

    Memory is bounded by ``max_line`` plus one attachment chunk, plus a few dozen
    bytes per distinct test id (to keep ids unique) and per open subtest level.  No
    input makes it raise.  The caller brackets the run (``startTestRun`` /
    ``stopTestRun``).
    """

    def __init__(self, result, *, max_line: int = MAX_LINE) -> None:
        target = as_target(result)
        self._status = target.status
        self._sink = AttachmentSink(target)
        self._splitter = LineSplitter(max_line)
        self._levels: List[_Level] = [_Level(0, None)]
        self._ids = _Ids()
        self._pending: Optional[_Pending] = None
        self._yaml_indent: Optional[int] = None
        self._blanks = bytearray()  # blank lines after the pending test
        self._long_mode: Optional[str] = None
        self._bailed = False
        self._closed = False

    # -- input -------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Read more input; events for everything it settles are delivered."""
        for piece, start, end in self._splitter.feed(data):
            self._piece(piece, start, end)
        self._sink.flush()

    def close(self) -> None:
        """End of input: settle pending tests, plans and open subtests."""
        if self._closed:
            return
        self._closed = True
        for piece, start, end in self._splitter.close():
            self._piece(piece, start, end)
        if not self._bailed:
            self._finalize()
            while len(self._levels) > 1:
                self._close_level("the input ended inside this subtest")
            top = self._levels[0]
            self._orphan(top, "the input ended before its test point")
            self._check_plan(top, None)
        self._sink.flush()

    def _piece(self, piece: bytes, start: bool, end: bool) -> None:
        if start and end:
            self._line(piece)
            return
        # A line over the cap: kept in the YAML block it is in, else passed through.
        if start:
            if self._yaml_indent is not None and not self._bailed:
                self._long_mode = "yaml"
            else:
                self._long_mode = "text"
                if not self._bailed:
                    self._finalize()
        if self._long_mode == "yaml" and self._pending is not None:
            self._attach(self._pending, "diagnostics", piece, YAML)
        else:
            self._passthrough(piece)

    def _line(self, raw: bytes) -> None:
        if self._bailed:
            self._passthrough(raw)
            return
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        body = line.lstrip(b" ")
        indent = len(line) - len(body)
        pending = self._pending
        if self._yaml_indent is not None and pending is not None:
            if not body.strip():
                self._attach(pending, "diagnostics", b"\n", YAML)
                return
            if indent >= self._yaml_indent:
                if body.rstrip() == b"...":
                    self._yaml_indent = None
                else:
                    self._attach(
                        pending, "diagnostics", line[self._yaml_indent :] + b"\n", YAML
                    )
                return
            self._yaml_indent = None  # an unterminated block: read the line as TAP
        if not body.strip():
            if pending is None:
                self._passthrough(raw)
                return
            # Held: kept with the test if a comment follows, else passed through.
            self._blanks += raw
            if len(self._blanks) > MAX_LINE:
                self._finalize()
            return
        if (
            pending is not None
            and not self._blanks
            and body.rstrip() == b"---"
            and indent > pending.indent
        ):
            self._yaml_indent = indent
            return
        text = _text(body)
        depth = indent // 4 if indent % 4 == 0 else None
        if text.startswith("#"):
            match = _SUBTEST.match(text)
            if match is not None and depth is not None and self._subtest(depth, match):
                return
            self._comment(raw, body)
            return
        if depth is None or depth >= MAX_DEPTH:
            self._junk(raw)
            return
        bail = _BAIL.match(text)
        if bail is not None:
            self._bail(bail.group(1).strip())
            return
        test = parse_test_line(text) if text.startswith(("ok", "not ok")) else None
        plan = _PLAN.match(text) if test is None else None
        if test is None and plan is None:
            if _VERSION.match(text) or _PRAGMA.match(text):
                self._finalize()
                self._enter(depth).saw_tap = True
                return
            self._junk(raw)
            return
        self._finalize()
        level = self._enter(depth)
        level.saw_tap = True
        if test is not None:
            self._test(level, test, indent)
            return
        if level.plan is not None:  # a second plan is not TAP: keep it as text
            self._passthrough(raw)
            return
        self._orphan(level, "the next line after the subtest was not its test point")
        level.plan = int(plan.group(1))
        reason = plan.group(2) or ""
        level.plan_reason = _SKIP_WORD.sub("", reason, count=1) if reason else ""

    # -- structure ---------------------------------------------------------------

    def _enter(self, depth: int) -> _Level:
        """Close or open levels so the innermost one is at ``depth``."""
        levels = self._levels
        while levels[-1].depth > depth:
            self._close_level("its stream ended before its test point")
        while levels[-1].depth < depth:
            self._open_child(None)
        return levels[-1]

    def _open_child(self, name: Optional[str]) -> None:
        parent = self._levels[-1]
        self._orphan(parent, "another subtest began before its test point")
        parent.saw_tap = True
        number = parent.count + 1
        test_id = self._ids.make(
            parent.prefix, self._name(name) if name else str(number), number
        )
        self._levels.append(_Level(parent.depth + 1, test_id))

    def _close_level(self, why: str) -> None:
        level = self._levels.pop()
        self._orphan(level, why)
        self._check_plan(level, None)
        parent = self._levels[-1]
        self._orphan(parent, why)
        parent.closing = level.parent_id

    def _subtest(self, depth: int, match: re.Match[str]) -> bool:
        """A ``# Subtest`` comment: open the child stream it announces."""
        top = self._levels[-1]
        # node-tap writes it at the parent's indentation, Test::More at the child's.
        child_depth = depth if depth == top.depth + 1 else depth + 1
        if child_depth >= MAX_DEPTH:
            return False
        self._finalize()
        self._enter(child_depth - 1)
        self._open_child(match.group(1) or None)
        return True

    def _name(self, name: str) -> str:
        return name if len(name) <= MAX_NAME else name[:MAX_NAME] + "..."

    # -- lines -------------------------------------------------------------------

    def _test(self, level: _Level, parsed, indent: int) -> None:
        ok, number, description, directive, reason, note = parsed
        level.count += 1
        if number is None:
            number = level.count
        if len(level.numbers) < MAX_IDS:
            level.numbers.add(number)
        if level.closing is not None:
            test_id = level.closing
            level.closing = None
        else:
            name = self._name(description) if description else str(number)
            test_id = self._ids.make(level.prefix, name, number)
        if directive == "skip":
            status = "skip" if ok else "fail"
            if not ok:
                reason = "not ok with a SKIP directive" + (
                    f": {reason}" if reason else ""
                )
        elif directive == "todo":
            status = "uxsuccess" if ok else "xfail"
        else:
            status = "success" if ok else "fail"
        pending = _Pending(test_id, status, level.parent_id, reason, indent)
        if len(description) > MAX_NAME:
            self._attach(pending, "description", description.encode("utf-8"), TEXT)
        if note:
            self._attach(pending, "comments", f"# {note}\n".encode(), TEXT)
        self._pending = pending

    def _comment(self, raw: bytes, body: bytes) -> None:
        pending = self._pending
        if pending is not None:
            if self._blanks:
                self._attach(pending, "comments", bytes(self._blanks), TEXT)
                self._blanks.clear()
            self._attach(pending, "comments", body.rstrip(b"\r\n") + b"\n", TEXT)
            return
        level = self._levels[-1]
        if level.parent_id is not None:
            parent = self._levels[-2].parent_id
            self._sink.add(
                level.parent_id,
                "comments",
                body.rstrip(b"\r\n") + b"\n",
                mime_type=TEXT,
                parent_test_id=parent,
            )
            return
        self._passthrough(raw)

    def _junk(self, raw: bytes) -> None:
        self._finalize()
        self._passthrough(raw)

    def _bail(self, message: str) -> None:
        self._finalize()
        level = self._levels[-1]
        reason = "Bail out!" + (f" {message}" if message else "")
        self._emit(
            self._ids.make(level.prefix, "[bail out]", None),
            "fail",
            level.parent_id,
            reason,
        )
        note = f"not run: the stream bailed out ({reason})"
        while True:
            level = self._levels[-1]
            self._check_plan(level, note)
            self._orphan(level, note)
            if len(self._levels) == 1:
                break
            self._levels.pop()
            parent = self._levels[-1]
            self._emit(level.parent_id, "fail", parent.parent_id, note)
        self._bailed = True

    # -- checks ------------------------------------------------------------------

    def _check_plan(self, level: _Level, bailed: Optional[str]) -> None:
        """Fail what the plan of a finished ``level`` promised and did not get."""
        plan = level.plan
        parent = level.parent_id
        if plan is None:
            if level.saw_tap and bailed is None:
                self._emit(
                    self._ids.make(level.prefix, "[plan]", None),
                    "fail",
                    parent,
                    f"no plan: {level.count} test(s) reported but no 1..N line",
                )
            return
        if plan == 0:
            status, why = "skip", level.plan_reason or "1..0: no tests to run"
            if level.count:
                status, why = "fail", f"the plan was 1..0 but {level.count} test(s) ran"
            self._emit(
                self._ids.make(level.prefix, "[plan]", None), status, parent, why
            )
            return
        if level.count > plan:
            self._emit(
                self._ids.make(level.prefix, "[plan]", None),
                "fail",
                parent,
                f"the plan was 1..{plan} but {level.count} tests ran",
            )
            return
        why = bailed or f"planned (1..{plan}) but never reported"
        seen = level.numbers
        missing = 0
        expected = plan - len([n for n in seen if 1 <= n <= plan])
        number = 0
        while missing < expected and missing < MAX_MISSING and number < plan:
            number += 1
            if number in seen:
                continue
            missing += 1
            self._emit(
                self._ids.make(level.prefix, str(number), number), "fail", parent, why
            )
        if missing < expected:
            rest = expected - missing
            self._emit(
                self._ids.make(level.prefix, "[plan]", None),
                "fail",
                parent,
                f"{rest} more test(s) after number {number} {why}",
            )

    def _orphan(self, level: _Level, why: str) -> None:
        """A child stream ended but no test point for its parent came: fail it."""
        if level.closing is not None:
            test_id = level.closing
            level.closing = None
            self._emit(test_id, "fail", level.parent_id, f"subtest incomplete: {why}")

    # -- output ------------------------------------------------------------------

    def _finalize(self) -> None:
        """Emit the pending test: nothing more can attach to it."""
        pending = self._pending
        self._yaml_indent = None
        if pending is None:
            return
        self._pending = None
        self._emit(pending.test_id, pending.status, pending.parent_id, pending.reason)
        if self._blanks:
            self._passthrough(bytes(self._blanks))
            self._blanks.clear()

    def _attach(self, pending: _Pending, name: str, data: bytes, mime: str) -> None:
        self._sink.add(
            pending.test_id,
            name,
            data,
            mime_type=mime,
            parent_test_id=pending.parent_id,
        )

    def _passthrough(self, data: bytes) -> None:
        self._sink.add(None, "stdout", data)

    def _emit(
        self, test_id: str, status: str, parent: Optional[str], reason: str = ""
    ) -> None:
        self._sink.flush()
        if reason:
            self._status(
                test_id=test_id,
                test_status=status,
                file_name="reason",
                file_bytes=reason.encode("utf-8"),
                eof=True,
                mime_type=TEXT,
                parent_test_id=parent,
            )
        else:
            self._status(test_id=test_id, test_status=status, parent_test_id=parent)


def convert_stream(source, result) -> None:
    """Convert everything ``source`` (a binary file object) yields into ``result``."""
    feed_all(source, TapConverter(result))
