"""JUnit XML to subunit events, streaming and safe on hostile input.

:class:`JUnitReader` takes a document piece by piece (:meth:`~JUnitReader.feed`) and
calls ``status()`` on a result for each ``<testcase>`` as soon as its end tag
arrives; only the test case being read is held, within a text budget.  Parsing is
done by :class:`subunit2.safexml.StreamingParser` (no DOCTYPE, no entities, bounded
tokens and depth).  ``docs/junitxml.md`` has the rules; in brief:

* roots ``<testsuites>`` or ``<testsuite>``, nested to any depth;
* the test id is the ``subunit.test_id`` property when present (subunit2junitxml
  writes it when needed), else ``classname.name`` (``name`` alone without a
  classname); ``subunit.parent_test_id`` gives the parent;
* ``<failure>`` or ``<error>`` -> ``fail``, ``<skipped>`` -> ``skip``, else
  ``success``; a ``subunit.status`` property overrides (``inprogress`` means no
  final status at all, so the test stays incomplete);
* failure/error body -> ``traceback`` attachment, with ``type: message`` appended
  when the body does not already contain the message; skipped message -> ``reason``;
  ``<system-out>``/``<system-err>`` -> ``stdout``/``stderr``; Surefire's
  ``flakyFailure``, ``flakyError``, ``rerunFailure``, ``rerunError`` -> attachments
  named after the element and numbered (``rerunFailure-1``);
* timestamps: a test case starts at its suite's ``timestamp`` (or where the
  enclosing suite's clock is; the Unix epoch when no suite has one) plus the
  ``time`` of the cases before it, and ends ``time`` seconds later (missing or
  unreadable time is 0);
* a suite's own ``<system-out>``/``<system-err>`` become events without a test id
  (``stdout``/``stderr``), streamed as they are read.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Dict, List, Optional

from .junit_writer import PROP_PARENT, PROP_STATUS, PROP_TEST_ID, join_id
from .result import as_target
from .safexml import MAX_DEPTH, MAX_TOKEN, StreamingParser, XmlRefused

__all__ = [
    "MAX_NODES",
    "MAX_TEXT",
    "JUnitError",
    "JUnitReader",
    "parse_duration",
    "parse_timestamp",
    "read_junit",
]

#: Characters of text kept per test case (all its elements together).
MAX_TEXT = 16 * 1024 * 1024
#: Elements kept per test case; more are parsed but ignored.
MAX_NODES = 10000
#: Longest test case duration believed, in seconds (about three years).
MAX_SECONDS = 1e8
TEXT_MIME = "text/plain; charset=utf8"
TRACEBACK_MIME = "text/x-traceback; charset=utf8"
ROOTS = ("testsuites", "testsuite")
FLAKY = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
_UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_LATEST = datetime.datetime(2106, 1, 1, tzinfo=_UTC)
_STAMP = re.compile(
    r"\s*(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d\d:?\d\d)?\s*$",
    re.IGNORECASE,
)


class JUnitError(XmlRefused):
    """The document is not JUnit XML, or is malformed or refused as unsafe."""


def parse_timestamp(value: Optional[str]) -> Optional[datetime.datetime]:
    """An ISO 8601 date-time as an aware UTC datetime; naive means UTC.

    None when absent or unreadable.
    """
    if not value:
        return None
    match = _STAMP.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = _UTC
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = datetime.timezone(-offset if zone[0] == "-" else offset)
    try:
        stamp = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
        return stamp.astimezone(_UTC)
    except (ValueError, OverflowError):
        return None


def parse_duration(value: Optional[str]) -> float:
    """Seconds from a ``time`` attribute; 0 when absent, unreadable or negative.

    Thousands separators (``1,234.5``, as some Surefire versions write) are allowed.
    """
    if not value:
        return 0.0
    try:
        seconds = float(value.strip().replace(",", ""))
    except ValueError:
        return 0.0
    if not math.isfinite(seconds) or seconds < 0:
        return 0.0
    return min(seconds, MAX_SECONDS)


class _Node:
    """One element inside a test case: tag, attributes, text, children."""

    __slots__ = ("tag", "attrs", "parts", "dropped", "children")

    def __init__(self, tag: str, attrs: Dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parts: List[str] = []
        self.dropped = 0
        self.children: List[_Node] = []

    @property
    def text(self) -> str:
        body = "".join(self.parts)
        if self.dropped:
            body += (
                f"\n[junitxml2subunit: {self.dropped} more characters not kept "
                "(text limit)]\n"
            )
        return body

    def find_all(self, tag: str) -> List[_Node]:
        return [child for child in self.children if child.tag == tag]


class JUnitReader:
    """Feeds the test cases of a JUnit XML document to ``result`` as events.

    Call :meth:`feed` with the document's bytes as they come, then :meth:`close`.
    Both raise :class:`JUnitError` on a document that is malformed, not JUnit XML,
    or refused as unsafe; the test cases before the problem have been delivered.
    Does not call ``startTestRun``/``stopTestRun``.
    """

    def __init__(
        self,
        result,
        *,
        max_text: int = MAX_TEXT,
        max_token: int = MAX_TOKEN,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self._status = as_target(result).status
        self.max_text = max_text
        self._parser = StreamingParser(
            self._start,
            self._end,
            self._data,
            max_token=max_token,
            max_depth=max_depth,
        )
        self._seen_root = False
        self._clocks: List[datetime.datetime] = []
        #: Open elements inside the current test case (first is the testcase).
        self._case: List[_Node] = []
        self._budget = 0
        self._nodes = 0
        self._skip_depth = 0
        #: File name of the suite-level output element being streamed, if any.
        self._suite_output: Optional[str] = None
        #: Test cases delivered so far.
        self.testcases = 0

    # -- parser callbacks ---------------------------------------------------------

    def _start(self, tag: str, attrs: Dict[str, str]) -> None:
        if not self._seen_root:
            self._seen_root = True
            if tag not in ROOTS:
                raise JUnitError(
                    f"not a JUnit XML document: the root element is <{tag}>, not "
                    "<testsuites> or <testsuite>"
                )
        if self._case:
            if self._skip_depth or self._nodes >= MAX_NODES:
                self._skip_depth += 1
                return
            node = _Node(tag, attrs)
            self._nodes += 1
            self._case[-1].children.append(node)
            self._case.append(node)
            return
        if self._suite_output is not None:
            self._skip_depth += 1
            return
        if tag == "testcase":
            self._case.append(_Node(tag, attrs))
            self._budget = self.max_text
            self._nodes = 1
            self._skip_depth = 0
        elif tag == "testsuite":
            stamp = parse_timestamp(attrs.get("timestamp"))
            if stamp is None:
                stamp = self._clocks[-1] if self._clocks else EPOCH
            self._clocks.append(stamp)
        elif tag in ("system-out", "system-err"):
            self._suite_output = "stdout" if tag == "system-out" else "stderr"
            self._skip_depth = 0

    def _end(self, tag: str) -> None:
        if self._skip_depth:
            self._skip_depth -= 1
            return
        if self._case:
            node = self._case.pop()
            if not self._case:
                self._emit(node)
            return
        if self._suite_output is not None:
            self._suite_output = None
        elif tag == "testsuite" and self._clocks:
            inner = self._clocks.pop()
            if self._clocks and inner > self._clocks[-1]:
                self._clocks[-1] = inner

    def _data(self, value: str) -> None:
        if self._case:
            if self._skip_depth:
                return
            node = self._case[-1]
            keep = value[: self._budget]
            if keep:
                node.parts.append(keep)
                self._budget -= len(keep)
            node.dropped += len(value) - len(keep)
        elif self._suite_output is not None and not self._skip_depth and value:
            self._status(
                file_name=self._suite_output,
                file_bytes=value.encode("utf-8"),
                mime_type=TEXT_MIME,
            )

    # -- one test case ------------------------------------------------------------

    def _emit(self, case: _Node) -> None:
        attrs = case.attrs
        properties: Dict[str, str] = {}
        for group in case.find_all("properties"):
            for prop in group.find_all("property"):
                key = prop.attrs.get("name")
                if key is not None:
                    properties[key] = prop.attrs.get("value", prop.text)
        classname = attrs.get("classname") or attrs.get("class") or ""
        test_id = properties.get(PROP_TEST_ID) or join_id(
            classname, attrs.get("name", "")
        )
        if not test_id:
            test_id = f"(unnamed test case {self.testcases + 1})"
        parent = properties.get(PROP_PARENT) or None
        start = self._clocks[-1] if self._clocks else EPOCH
        try:
            stop = start + datetime.timedelta(seconds=parse_duration(attrs.get("time")))
        except OverflowError:
            stop = start
        if self._clocks:
            self._clocks[-1] = stop
        failures = [c for c in case.children if c.tag in ("failure", "error")]
        skips = case.find_all("skipped")
        declared = properties.get(PROP_STATUS)
        if declared in ("xfail", "uxsuccess", "inprogress"):
            status = declared
        elif failures:
            status = "fail"
        elif skips:
            status = "skip"
        else:
            status = "success"
        files: List[tuple] = []
        if declared is None and failures:
            files.append(("traceback", _traceback(failures), TRACEBACK_MIME))
        if status == "skip":
            reason = skips[0].attrs.get("message") or skips[0].text
            if reason:
                files.append(("reason", reason, TEXT_MIME))
        counters: Dict[str, int] = {}
        for child in case.children:
            if child.tag in FLAKY:
                counters[child.tag] = counters.get(child.tag, 0) + 1
                name = f"{child.tag}-{counters[child.tag]}"
                files.append((name, _flaky(child), TEXT_MIME))
        for tag, name in (("system-out", "stdout"), ("system-err", "stderr")):
            body = "".join(node.text for node in case.find_all(tag))
            if body:
                files.append((name, body, TEXT_MIME))
        emit = self._status
        start_stamp = start if EPOCH <= start < _LATEST else None
        stop_stamp = stop if EPOCH <= stop < _LATEST else None
        emit(
            test_id=test_id,
            test_status="inprogress",
            timestamp=start_stamp,
            parent_test_id=parent,
        )
        for name, body, mime in files:
            emit(
                test_id=test_id,
                file_name=name,
                file_bytes=body.encode("utf-8"),
                eof=True,
                mime_type=mime,
                parent_test_id=parent,
            )
        if status != "inprogress":
            emit(
                test_id=test_id,
                test_status=status,
                timestamp=stop_stamp,
                parent_test_id=parent,
            )
        self.testcases += 1

    # -- driving ------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse the next piece of the document, delivering finished test cases."""
        try:
            self._parser.feed(data)
        except JUnitError:
            raise
        except XmlRefused as error:
            raise JUnitError(str(error)) from None

    def close(self) -> None:
        """Check the document ended properly."""
        try:
            self._parser.close()
        except JUnitError:
            raise
        except XmlRefused as error:
            raise JUnitError(str(error)) from None
        if not self._seen_root:
            raise JUnitError("empty document")


def _summary(node: _Node) -> str:
    kind = node.attrs.get("type", "").strip()
    message = node.attrs.get("message", "").strip()
    if kind and message:
        return f"{kind}: {message}"
    return kind or message


def _traceback(failures: List[_Node]) -> str:
    """The bodies of failure/error elements, each followed by ``type: message``
    unless the body already holds the message."""
    pieces = []
    for node in failures:
        body = node.text
        message = node.attrs.get("message", "").strip()
        summary = _summary(node)
        if summary and not (message and message in body) and summary not in body:
            if body and not body.endswith("\n"):
                body += "\n"
            body += summary + "\n"
        pieces.append(body)
    return "\n".join(pieces)


def _flaky(node: _Node) -> str:
    """A Surefire flaky/rerun element as text: summary, stack trace, output."""
    lines = []
    summary = _summary(node)
    if summary:
        lines.append(summary + "\n")
    if node.text.strip():
        lines.append(node.text)
    for child in node.children:
        body = child.text
        if not body:
            continue
        if child.tag == "stackTrace":
            lines.append(body)
        else:
            lines.append(f"--- {child.tag} ---\n{body}")
    return "".join(piece if piece.endswith("\n") else piece + "\n" for piece in lines)


def read_junit(source, result, *, read_size: int = 65536, **limits) -> int:
    """Read a whole JUnit XML document from a binary file object into ``result``.

    Returns the number of test cases delivered; raises :class:`JUnitError`.
    """
    reader = JUnitReader(result, **limits)
    while True:
        data = source.read(read_size)
        if not data:
            break
        reader.feed(data)
    reader.close()
    return reader.testcases
