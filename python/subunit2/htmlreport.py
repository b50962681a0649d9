"""subunit2html's model and renderer: one self-contained HTML report from a stream.

:class:`ReportBuilder` is a result: read a stream into it, then call
:meth:`ReportBuilder.build` for a :class:`Report` (the numbers, the rows in tree
order, the timeline) and :func:`render_html` to write the page.

The page needs no network: CSS and script are inline (:mod:`subunit2.htmlassets`),
the timeline is inline SVG, and a Content-Security-Policy allows only those two
scripts (by hash), no other source of anything.  Every string from the stream is
untrusted: it reaches the page either HTML-escaped in the static parts, or inside
the JSON data block with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and the
script puts it in the page with ``textContent`` only.

Memory: one small row per test, plus the attachments kept.  Kept are the
attachments of failing tests (fail, uxsuccess, incomplete) and of skips, each
capped at :data:`ATTACHMENT_LIMIT` bytes (the head and the tail are kept), all of
them together at :data:`ATTACHMENT_BUDGET`; the attachments of other tests are
dropped unless ``all_attachments`` is set (the caps still apply).  Binary
attachments are summarised: mime type, size and the first bytes in hex.  Output
outside any test is kept up to :data:`OUTPUT_LIMIT` bytes (the head).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, TextIO, Tuple

from .aggregate import INCOMPLETE, TestRecord
from .event import Event
from .htmlassets import CSS, ERROR_HOOK, SCRIPT
from .result import BatchResult
from .trace import (
    NAMES,
    OUTCOMES,
    Gatherer,
    attachment_text,
    format_duration,
    is_failure,
)

__all__ = [
    "ATTACHMENT_BUDGET",
    "ATTACHMENT_LIMIT",
    "OUTPUT_LIMIT",
    "Report",
    "ReportBuilder",
    "json_for_script",
    "render_html",
    "timeline_svg",
]

#: Most bytes kept of one attachment: the first quarter and the last three.
ATTACHMENT_LIMIT = 64 * 1024
#: Most attachment bytes kept for the whole report.
ATTACHMENT_BUDGET = 64 * 1024 * 1024
#: Most bytes of output outside any test kept.
OUTPUT_LIMIT = 256 * 1024
#: Bytes of a binary attachment shown (in hex) in its summary.
PREVIEW_BYTES = 32

#: Columns of the timeline (one per horizontal pixel of its plot at full size).
TIMELINE_COLUMNS = 1000
#: Most workers drawn as lanes; more are listed in a note.
TIMELINE_LANES = 64

SEPARATOR = " \u00b7 "

# Kept attachment: (name, mime, text or None, size, bytes not kept, hex preview)
Kept = Tuple[str, Optional[str], Optional[str], int, int, str]


@dataclass
class Row:
    """One test run as the report keeps it."""

    test_id: str
    status: str
    route_code: Optional[str]
    start: Optional[datetime.datetime]
    stop: Optional[datetime.datetime]
    parent_test_id: Optional[str]
    attachments: List[Kept] = field(default_factory=list)

    @property
    def seconds(self) -> Optional[float]:
        if self.start is None or self.stop is None:
            return None
        return (self.stop - self.start).total_seconds()


@dataclass
class Report:
    """Everything the page shows, computed from the rows."""

    rows: List[Row]
    #: Row indexes in display order (parents before their subtests).
    order: List[int]
    depth: List[int]
    #: Per row: 1 failing, 2 an ancestor of a failing subtest, 0 otherwise.
    flag: List[int]
    #: Per row: index of its parent row, or -1.
    parent: List[int]
    counts: Dict[str, int]
    workers: List[Optional[str]]
    not_run: int
    output: bytes
    output_size: int
    notes: List[str]
    first: Optional[datetime.datetime]
    last: Optional[datetime.datetime]

    @property
    def failing(self) -> int:
        """Failed, unexpectedly successful and incomplete tests."""
        c = self.counts
        return c["fail"] + c["uxsuccess"] + c[INCOMPLETE]

    @property
    def wall_time(self) -> Optional[float]:
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).total_seconds()


class ReportBuilder(BatchResult):
    """Collects a stream into report rows; see the module docstring for memory."""

    def __init__(
        self,
        *,
        all_attachments: bool = False,
        attachment_limit: int = ATTACHMENT_LIMIT,
        attachment_budget: int = ATTACHMENT_BUDGET,
        output_limit: int = OUTPUT_LIMIT,
    ) -> None:
        self.all_attachments = all_attachments
        self.attachment_limit = attachment_limit
        self.attachment_budget = attachment_budget
        self.output_limit = output_limit
        self._gatherer = Gatherer(self._record, self._non_test)
        #: Takes a batch of decoded events (faster than ``status()`` per event).
        self.consume = self._gatherer.consume
        self._reset()

    def _reset(self) -> None:
        self.rows: List[Row] = []
        self.counts: Dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self._enumerated: set = set()
        self._output = bytearray()
        self.output_size = 0
        self.kept_bytes = 0
        self.dropped_files = 0
        self.over_budget = 0

    def startTestRun(self) -> None:
        self._reset()
        self._gatherer.reset()

    def stopTestRun(self) -> None:
        self._gatherer.flush()

    def _non_test(self, event: Event) -> None:
        data = event.file_bytes
        if not data:
            return
        self.output_size += len(data)
        room = self.output_limit - len(self._output)
        if room > 0:
            self._output += data[:room]

    def _record(self, record: TestRecord) -> None:
        status = record.status or INCOMPLETE
        if status == "exists":
            self._enumerated.add(record.test_id)
            return
        self._enumerated.discard(record.test_id)
        if status in self.counts:
            self.counts[status] += 1
        kept: List[Kept] = []
        if record.attachments:
            if self.all_attachments or is_failure(status) or status == "skip":
                for name, attachment in record.attachments.items():
                    kept.append(self._keep(name, attachment))
            else:
                self.dropped_files += len(record.attachments)
        self.rows.append(
            Row(
                record.test_id,
                status,
                record.route_code,
                record.start_time,
                record.stop_time,
                record.parent_test_id,
                kept,
            )
        )

    def _keep(self, name: str, attachment) -> Kept:
        content = attachment.content
        size = len(content)
        mime = attachment.mime_type
        text = attachment_text(name, attachment)
        if text is None:
            preview = content[:PREVIEW_BYTES].hex(" ")
            return (name, mime, None, size, size, preview)
        limit = self.attachment_limit
        dropped = 0
        if size > limit:
            head = limit // 4
            dropped = size - limit
            text = (
                content[:head].decode("utf-8", "replace")
                + f"\n\u2026 {dropped} bytes not kept \u2026\n"
                + content[size - (limit - head) :].decode("utf-8", "replace")
            )
        kept = size - dropped
        if self.kept_bytes + kept > self.attachment_budget:
            self.over_budget += 1
            return (
                name,
                mime,
                "(not kept: the report's attachment budget is spent)",
                size,
                size,
                "",
            )
        self.kept_bytes += kept
        return (name, mime, text, size, dropped, "")

    def build(self) -> Report:
        """The report of what was read (call after ``stopTestRun``)."""
        rows = self.rows
        order, depth, parent = _tree(rows)
        flag = [0] * len(rows)
        for index, row in enumerate(rows):
            if is_failure(row.status):
                flag[index] = 1
        for index in range(len(rows)):
            if flag[index] == 1:
                up = parent[index]
                while up >= 0 and flag[up] == 0:
                    flag[up] = 2
                    up = parent[up]
        workers: Dict[Optional[str], None] = {}
        first = last = None
        for row in rows:
            workers.setdefault(row.route_code, None)
            if row.start is not None:
                if first is None or row.start < first:
                    first = row.start
                if last is None or row.stop > last:
                    last = row.stop
        notes = []
        if self.dropped_files:
            notes.append(
                f"{self.dropped_files} attachments of passing tests were not kept"
                " (subunit2html --all-attachments keeps them)."
            )
        if self.over_budget:
            notes.append(
                f"{self.over_budget} attachments were not kept: the report keeps at"
                f" most {self.attachment_budget} bytes of attachments."
            )
        if self.output_size > len(self._output):
            notes.append(
                f"Output outside any test: the first {len(self._output)} of"
                f" {self.output_size} bytes are shown."
            )
        ordered_workers = sorted(workers, key=lambda r: (r is None, r or ""))
        return Report(
            rows=rows,
            order=order,
            depth=depth,
            flag=flag,
            parent=parent,
            counts=dict(self.counts),
            workers=ordered_workers,
            not_run=len(self._enumerated),
            output=bytes(self._output),
            output_size=self.output_size,
            notes=notes,
            first=first,
            last=last,
        )


def _tree(rows: List[Row]) -> Tuple[List[int], List[int], List[int]]:
    """Display order (depth first), depth and parent index of every row.

    A subtest hangs under the row of its parent id, preferring one on the same
    route code and otherwise the latest; a parent id matching no row (or a
    cycle) leaves the subtest at the top level.
    """
    by_id: Dict[str, List[int]] = {}
    for index, row in enumerate(rows):
        by_id.setdefault(row.test_id, []).append(index)
    parent = [-1] * len(rows)
    children: Dict[int, List[int]] = {}
    for index, row in enumerate(rows):
        if row.parent_test_id is None:
            continue
        candidates = by_id.get(row.parent_test_id)
        if not candidates:
            continue
        chosen = candidates[-1]
        for candidate in candidates:
            if rows[candidate].route_code == row.route_code:
                chosen = candidate
        if chosen != index:
            parent[index] = chosen
            children.setdefault(chosen, []).append(index)
    order: List[int] = []
    depth = [0] * len(rows)
    seen = [False] * len(rows)

    def walk(root: int) -> None:
        stack = [(root, 0)]
        while stack:
            index, level = stack.pop()
            if seen[index]:
                continue
            seen[index] = True
            order.append(index)
            depth[index] = level
            for child in reversed(children.get(index, ())):
                stack.append((child, level + 1))

    for index in range(len(rows)):
        if parent[index] == -1:
            walk(index)
    for index in range(len(rows)):  # members of a parent cycle
        if not seen[index]:
            parent[index] = -1
            walk(index)
    return order, depth, parent


def json_for_script(value) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes (no ``</script>`` or
    ``<!--`` can appear), and so are U+2028 and U+2029.  These characters only
    ever occur inside JSON strings, where the escapes mean the same thing.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def page_data(report: Report) -> dict:
    """The JSON the page's script renders rows from."""
    statuses = list(OUTCOMES)
    status_index = {s: i for i, s in enumerate(statuses)}
    worker_index = {w: i for i, w in enumerate(report.workers)}
    rows = report.rows
    files: List[list] = []
    out_rows = []
    for index in report.order:
        row = rows[index]
        cut = 0
        up = report.parent[index]
        if up >= 0:
            parent_id = rows[up].test_id
            name = row.test_id
            if name.startswith(parent_id) and len(name) > len(parent_id):
                rest = name[len(parent_id) :]
                cut = (
                    _utf16_len(parent_id) + _utf16_len(rest) - _utf16_len(rest.lstrip())
                )
        seconds = row.seconds
        file_index = -1
        if row.attachments:
            file_index = len(files)
            files.append([list(kept) for kept in row.attachments])
        worker = row.route_code
        out_rows.append(
            [
                row.test_id,
                cut,
                status_index.get(row.status, status_index[INCOMPLETE]),
                -1 if worker is None else worker_index[worker],
                -1 if seconds is None else round(seconds * 1e6),
                report.depth[index],
                file_index,
                report.flag[index],
            ]
        )
    return {
        "statuses": statuses,
        "workers": ["-" if w is None else w for w in report.workers],
        "rows": out_rows,
        "attachments": files,
        "failing": report.failing,
    }


def timeline_svg(
    report: Report, columns: int = TIMELINE_COLUMNS, lanes: int = TIMELINE_LANES
) -> str:
    """Tests per worker over time as inline SVG, one aggregated column per pixel.

    Each lane is a worker; a column's shade is how busy the worker was in that
    slice of the run (tests' time in it over its length, in eighths), so idle
    gaps show white.  Columns in which a test failed get a red mark under the
    lane.  Only top-level tests are drawn (subtests run inside their parent).
    """
    if report.first is None or report.last is None:
        return '<p class="note">No timestamps in the stream: no timeline.</p>'
    span = max((report.last - report.first).total_seconds(), 1e-6)
    shown = [w for w in report.workers][:lanes]
    lane_of = {w: i for i, w in enumerate(shown)}
    busy = [[0.0] * columns for _ in shown]
    failed = [bytearray(columns) for _ in shown]
    tests = [0] * len(shown)
    seconds_busy = [0.0] * len(shown)
    first = report.first
    scale = columns / span
    for index, row in enumerate(report.rows):
        lane = lane_of.get(row.route_code)
        if lane is None or row.start is None or report.parent[index] >= 0:
            continue
        a = (row.start - first).total_seconds() * scale
        b = (row.stop - first).total_seconds() * scale
        tests[lane] += 1
        seconds_busy[lane] += (b - a) / scale
        c0 = min(int(a), columns - 1)
        c1 = min(int(b), columns - 1)
        cells = busy[lane]
        if c0 == c1:
            cells[c0] += b - a
        else:
            cells[c0] += c0 + 1 - a
            for c in range(c0 + 1, c1):
                cells[c] += 1.0
            cells[c1] += b - c1
        if is_failure(row.status):
            marks = failed[lane]
            for c in range(c0, c1 + 1):
                marks[c] = 1
    label_w, lane_h, gap, axis_h = 80, 18, 6, 18
    height = len(shown) * (lane_h + gap) + axis_h
    width = label_w + columns + 10
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="tests per worker over time">'
    ]
    for lane, worker in enumerate(shown):
        y = lane * (lane_h + gap)
        name = "-" if worker is None else worker
        parts.append(
            f"<g><title>worker {_esc(name)}: {tests[lane]} tests, busy"
            f" {_esc(format_duration(seconds_busy[lane]))}</title>"
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
            f"{_esc(_shorten(name, 12))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{columns}" height="{lane_h}"'
            f' fill="#f6f8fa"/>'
        )
        parts.extend(_runs(busy[lane], label_w, y, lane_h))
        start = None
        marks = failed[lane]
        for c in range(columns + 1):
            on = c < columns and marks[c]
            if on and start is None:
                start = c
            elif not on and start is not None:
                parts.append(
                    f'<rect x="{label_w + start}" y="{y + lane_h}" width="{c - start}"'
                    f' height="3" fill="#cf222e"/>'
                )
                start = None
        parts.append("</g>")
    axis_y = len(shown) * (lane_h + gap) + 12
    for k in range(5):
        x = label_w + columns * k / 4
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        parts.append(
            f'<text x="{x:.0f}" y="{axis_y}" text-anchor="{anchor}">'
            f"{_esc(format_duration(span * k / 4))}</text>"
        )
    parts.append("</svg>")
    if len(report.workers) > lanes:
        parts.append(
            f'<p class="note">{len(report.workers) - lanes} more workers not drawn.</p>'
        )
    return "".join(parts)


def _runs(cells: List[float], x0: int, y: int, h: int) -> List[str]:
    """Rectangles for runs of columns with the same busy level (eighths)."""
    out = []
    start, level = 0, 0
    for c in range(len(cells) + 1):
        now = min(8, round(cells[c] * 8)) if c < len(cells) else -1
        if cells and c < len(cells) and now == 0 and cells[c] > 0:
            now = 1  # a short test still shows
        if now != level:
            if level > 0:
                out.append(
                    f'<rect x="{x0 + start}" y="{y}" width="{c - start}" height="{h}"'
                    f' fill="#0969da" fill-opacity="{level / 8:.3f}"/>'
                )
            start, level = c, now
    return out


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "\u2026"


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_html(report: Report, out: TextIO, *, title: str = "Test report") -> None:
    """Write the self-contained page for ``report`` to the text stream ``out``."""
    counts = report.counts
    ran = sum(counts.values())
    verdict = "passed" if report.failing == 0 else "failed"
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {_csp_hash(ERROR_HOOK)} {_csp_hash(SCRIPT)}"
    )
    w = out.write
    w('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n')
    w(f'<meta http-equiv="Content-Security-Policy" content="{_esc(csp)}">\n')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    w(f"<title>{_esc(title)}</title>\n<script>{ERROR_HOOK}</script>\n")
    w(f"<style>{CSS}</style>\n</head><body>\n<header>\n")
    w(
        f'<h1>{_esc(title)}<span class="verdict {verdict}" id="verdict">'
        f"{verdict.upper()}</span></h1>\n"
    )
    w('<div class="counts">')
    w(f'<div class="count"><span>tests</span><b id="total">{ran}</b></div>')
    for status in OUTCOMES:
        n = counts[status]
        zero = " zero" if n == 0 else ""
        w(
            f'<div class="count{zero}"><span>{_esc(NAMES[status])}</span>'
            f'<b data-outcome="{status}">{n}</b></div>'
        )
    w("</div>\n")
    meta = []
    wall = report.wall_time
    if wall is not None:
        meta.append(f"wall time {format_duration(wall)}")
        meta.append(f"from {report.first.isoformat()} to {report.last.isoformat()}")
    meta.append(f"{len(report.workers)} workers")
    if report.not_run:
        meta.append(f"{report.not_run} enumerated tests not run")
    w(f'<div class="meta">{_esc(SEPARATOR.join(meta))}</div>\n')
    for note in report.notes:
        w(f'<div class="note">{_esc(note)}</div>\n')
    w("</header>\n")
    w("<section><h2>Timeline: tests per worker</h2>\n")
    w(timeline_svg(report))
    w("\n")
    w(_tables(report))
    if report.output:
        text = report.output.decode("utf-8", "replace")
        w(
            f"<details><summary>Output outside any test ({report.output_size}"
            f" bytes)</summary><pre>{_esc(text)}</pre></details>\n"
        )
    w("</section>\n")
    w(
        '<section class="toolbar">'
        '<button id="show-all" type="button" aria-pressed="true">All</button>'
        '<button id="show-failures" type="button" aria-pressed="false">'
        "Failures only</button>"
        '<input id="search" type="search" placeholder="filter by test id"'
        ' aria-label="filter by test id">'
        '<span id="shown"></span>'
        '<span class="note">click a test with \u25b8 to see its attachments</span>'
        "</section>\n"
    )
    w('<div id="viewport"><div id="spacer"></div></div>\n')
    w('<script type="application/json" id="report-data">')
    w(json_for_script(page_data(report)))
    w("</script>\n")
    w(f"<script>{SCRIPT}</script>\n</body></html>\n")


def _tables(report: Report) -> str:
    """The per-worker table and the slowest tests, as static HTML."""
    stats: Dict[Optional[str], List[float]] = {w: [0, 0.0, 0] for w in report.workers}
    slow: List[Tuple[float, int]] = []
    for index, row in enumerate(report.rows):
        if report.parent[index] >= 0:
            continue
        item = stats[row.route_code]
        item[0] += 1
        seconds = row.seconds
        if seconds is not None:
            item[1] += seconds
            slow.append((seconds, -index))
        if is_failure(row.status):
            item[2] += 1
    parts = ["<details><summary>Workers and slowest tests</summary>"]
    parts.append(
        '<table class="small"><tr><th>worker</th><th>tests</th><th>busy</th>'
        "<th>failing</th></tr>"
    )
    for worker in report.workers:
        tests, busy, failing = stats[worker]
        name = "-" if worker is None else worker
        parts.append(
            f"<tr><td>{_esc(name)}</td><td>{int(tests)}</td>"
            f"<td>{_esc(format_duration(busy))}</td><td>{int(failing)}</td></tr>"
        )
    parts.append("</table>")
    slow.sort(reverse=True)
    if slow:
        parts.append(
            '<table class="small"><tr><th>slowest</th><th>worker</th><th>test</th></tr>'
        )
        for seconds, neg in slow[:10]:
            row = report.rows[-neg]
            name = "-" if row.route_code is None else row.route_code
            parts.append(
                f"<tr><td>{_esc(format_duration(seconds))}</td><td>{_esc(name)}</td>"
                f"<td>{_esc(row.test_id)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</details>\n")
    return "".join(parts)
