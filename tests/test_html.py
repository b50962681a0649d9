"""subunit2html: the report model, the safe page, the timeline, the command."""

from __future__ import annotations

import base64
import datetime
import hashlib
import html.parser
import io
import json
import re
import subprocess
import sys

from subunit2 import Event, encode
from subunit2.htmlreport import (
    ReportBuilder,
    json_for_script,
    page_data,
    render_html,
    timeline_svg,
)
from subunit2.reader import deliver_all
from subunit2.summary import Summary

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
MODULE = "subunit2.filters.subunit2html"
EVIL = "</script><script>alert(1)</script>"


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def run_test(test_id, status, route, start, stop, files=(), parent=None):
    common = dict(test_id=test_id, route_code=route, parent_test_id=parent)
    out = [Event(test_status="inprogress", timestamp=at(start), **common)]
    for name, data, mime in files:
        out.append(
            Event(file_name=name, file_bytes=data, mime_type=mime, eof=True, **common)
        )
    out.append(Event(test_status=status, timestamp=at(stop), **common))
    return out


def sample_events():
    events = [Event(test_id=f"t.{n}", test_status="exists") for n in range(7)]
    events += run_test("t.0", "success", "0", 0, 1, files=[("stdout", b"chatty", None)])
    events += run_test(
        "t.1", "fail", "1", 0, 2, files=[("traceback", b"Boom <b>x</b>", "text/plain")]
    )
    events += run_test("t.2 [a]", "success", "0", 1, 1.5, parent="t.2")
    events += run_test("t.2 [b]", "fail", "0", 1.5, 2, parent="t.2")
    events += run_test("t.2", "fail", "0", 1, 2)
    events += run_test("t.3", "skip", "1", 2, 2, files=[("reason", b"later", None)])
    events += run_test("t.4", "xfail", "0", 2, 3)
    events += run_test("t.5", "uxsuccess", "1", 2, 3)
    events.append(Event(file_name="stdout", file_bytes=b"<i>stray</i>\n"))
    events.append(Event(test_id="t.6", test_status="inprogress", route_code="1"))
    return events


def build(events, **options):
    builder = ReportBuilder(**options)
    builder.startTestRun()
    deliver_all(events, builder)
    builder.stopTestRun()
    return builder.build()


def page(events, **options) -> str:
    out = io.StringIO()
    render_html(build(events, **options), out)
    return out.getvalue()


class Scripts(html.parser.HTMLParser):
    """Collects script elements (type, text) and counts elements per tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list = []
        self.tags: dict = {}
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
        if tag == "script":
            self._in = [dict(attrs), ""]

    def handle_data(self, data):
        if self._in is not None:
            self._in[1] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in is not None:
            self.scripts.append(tuple(self._in))
            self._in = None


def parse(text: str) -> Scripts:
    parser = Scripts()
    parser.feed(text)
    parser.close()
    return parser


def data_of(text: str) -> dict:
    (data,) = [s for a, s in parse(text).scripts if a.get("type") == "application/json"]
    return json.loads(data)


# -- the model ---------------------------------------------------------------------


def test_counts_match_summary_and_incomplete_is_counted():
    events = sample_events()
    report = build(events)
    summary = Summary()
    summary.startTestRun()
    deliver_all(events, summary)
    summary.stopTestRun()
    for status in ("success", "fail", "skip", "xfail", "uxsuccess"):
        assert report.counts[status] == summary.counts[status]
    assert report.counts["inprogress"] == len(summary.incomplete) == 1
    assert report.failing == summary.failure_count == 5
    assert report.not_run == 0


def test_rows_are_in_tree_order_with_subtests_under_parents():
    report = build(sample_events())
    ids = [(report.depth[i], report.rows[i].test_id) for i in report.order]
    assert ids == [
        (0, "t.0"),
        (0, "t.1"),
        (0, "t.2"),
        (1, "t.2 [a]"),
        (1, "t.2 [b]"),
        (0, "t.3"),
        (0, "t.4"),
        (0, "t.5"),
        (0, "t.6"),
    ]


def test_failure_flags_mark_failing_rows_and_their_ancestors():
    events = run_test("p [x]", "fail", "0", 0, 1, parent="p")
    events += run_test("p [y]", "success", "0", 0, 1, parent="p")
    events += run_test("p", "success", "0", 0, 1)
    events += run_test("q", "success", "0", 0, 1)
    report = build(events)
    flags = {report.rows[i].test_id: report.flag[i] for i in range(len(report.rows))}
    assert flags == {"p [x]": 1, "p [y]": 0, "p": 2, "q": 0}


def test_unknown_parent_and_parent_cycles_stay_at_top_level():
    events = run_test("a", "success", None, 0, 1, parent="b")
    events += run_test("b", "success", None, 0, 1, parent="a")
    events += run_test("c", "success", None, 0, 1, parent="nobody")
    report = build(events)
    assert sorted(report.rows[i].test_id for i in report.order) == ["a", "b", "c"]
    assert sum(1 for d in report.depth if d == 0) >= 2
    assert report.parent[2] == -1


def test_attachments_kept_for_failures_and_skips_dropped_for_passes():
    report = build(sample_events())
    by_id = {row.test_id: row for row in report.rows}
    assert by_id["t.0"].attachments == []
    assert by_id["t.1"].attachments == [
        ("traceback", "text/plain", "Boom <b>x</b>", 13, 0, "")
    ]
    assert by_id["t.3"].attachments[0][2] == "later"
    assert any(
        "1 attachments of passing tests were not kept" in n for n in report.notes
    )
    kept = build(sample_events(), all_attachments=True)
    assert {r.test_id: r for r in kept.rows}["t.0"].attachments[0][2] == "chatty"


def test_long_attachment_keeps_head_and_tail_within_the_cap():
    content = b"H" * 1000 + b"M" * 5000 + b"T" * 1000
    events = run_test("f", "fail", None, 0, 1, files=[("log", content, "text/plain")])
    (row,) = build(events, attachment_limit=2000).rows
    name, mime, text, size, dropped, _ = row.attachments[0]
    assert size == 7000 and dropped == 5000
    assert text.startswith("H" * 500) and text.endswith("T" * 1000)
    assert "5000 bytes not kept" in text
    assert len(text) < 2100


def test_binary_attachment_is_summarised_with_a_hex_preview():
    data = bytes(range(256))
    events = run_test("f", "fail", None, 0, 1, files=[("core", data, "image/png")])
    (row,) = build(events).rows
    assert row.attachments == [
        ("core", "image/png", None, 256, 256, data[:32].hex(" "))
    ]


def test_attachment_budget_caps_the_total_kept():
    events = []
    for n in range(5):
        events += run_test(
            f"f{n}", "fail", None, 0, 1, files=[("stdout", b"x" * 100, None)]
        )
    report = build(events, attachment_budget=250)
    texts = [row.attachments[0][2] for row in report.rows]
    assert texts[:2] == ["x" * 100] * 2
    assert all("budget" in t for t in texts[2:])
    assert any("3 attachments were not kept" in n for n in report.notes)


def test_output_outside_tests_is_kept_up_to_its_limit():
    events = [Event(file_name="stdout", file_bytes=b"a" * 100) for _ in range(3)]
    report = build(events, output_limit=150)
    assert report.output == b"a" * 150 and report.output_size == 300


# -- the page ----------------------------------------------------------------------


def test_json_for_script_escapes_markup_and_line_separators():
    value = {"id": EVIL + "&<!-- \u2028\u2029 é 🙂"}
    text = json_for_script(value)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == value
    assert "é" in text  # not ASCII-escaped: smaller pages


def test_hostile_test_ids_and_attachments_never_become_markup():
    hostile = '<img src=x onerror="window.__xss=1">'
    events = run_test(
        EVIL, "fail", EVIL, 0, 1, files=[(hostile, EVIL.encode(), "text/plain")]
    )
    events += run_test(hostile, "success", "0", 0, 1, parent=EVIL)
    events.append(Event(file_name="stdout", file_bytes=EVIL.encode()))
    text = page(events, all_attachments=True)
    parsed = parse(text)
    # Exactly the report's own three scripts, no img, no event handler attributes.
    types = [a.get("type") for a, _ in parsed.scripts]
    assert types == [None, "application/json", None]
    assert "img" not in parsed.tags
    assert text.count("<script>alert(1)") == 0
    data = data_of(text)
    assert data["rows"][0][0] == EVIL
    assert EVIL in data["workers"]
    assert data["attachments"][0][0][:3] == [hostile, "text/plain", EVIL]


def test_content_security_policy_allows_only_the_reports_scripts():
    text = page(sample_events())
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy
    executable = [s for a, s in parse(text).scripts if "type" not in a]
    assert len(executable) == 2
    for script in executable:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text


def test_headline_counts_are_static_html():
    text = page(sample_events())
    shown = dict(re.findall(r'<b data-outcome="(\w+)">(\d+)</b>', text))
    assert shown == {
        "success": "2",
        "fail": "3",
        "uxsuccess": "1",
        "xfail": "1",
        "skip": "1",
        "inprogress": "1",
    }
    assert '<b id="total">9</b>' in text
    assert 'class="verdict failed"' in text


def test_page_data_rows_carry_worker_duration_depth_and_short_names():
    report = build(sample_events())
    data = page_data(report)
    rows = {row[0]: row for row in data["rows"]}
    statuses, workers = data["statuses"], data["workers"]
    test_id, cut, status, worker, micros, depth, files, flag = rows["t.2 [b]"]
    assert test_id[cut:] == "[b]"
    assert statuses[status] == "fail" and workers[worker] == "0"
    assert micros == 500000 and depth == 1 and files == -1 and flag == 1
    assert rows["t.6"][4] == -1  # no timestamps
    assert statuses[rows["t.6"][2]] == "inprogress"
    assert data["attachments"][rows["t.1"][6]][0][2] == "Boom <b>x</b>"


def test_short_name_cut_counts_utf16_units_like_javascript():
    events = run_test("🙂p x", "success", None, 0, 1, parent="🙂p")
    events += run_test("🙂p", "success", None, 0, 1)
    rows = {r[0]: r for r in page_data(build(events))["rows"]}
    # "🙂" is two UTF-16 units; JavaScript's slice(4) leaves "x".
    assert rows["🙂p x"][1] == 4


def test_nonsubunit_output_is_shown_escaped():
    text = page(sample_events())
    assert "&lt;i&gt;stray&lt;/i&gt;" in text
    assert "<i>stray" not in text


# -- the timeline ------------------------------------------------------------------


def lane_rects(svg: str, y: int):
    return [
        (int(x), int(w), float(o))
        for x, yy, w, o in re.findall(
            r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="18" fill="#0969da"'
            r' fill-opacity="([\d.]+)"/>',
            svg,
        )
        if int(yy) == y
    ]


def test_timeline_shows_busy_and_idle_time_per_worker():
    # Worker 0 busy the whole 10 s; worker 1 busy for the first 2 s only.
    events = run_test("a", "success", "0", 0, 10)
    events += run_test("b", "success", "1", 0, 2)
    svg = timeline_svg(build(events), columns=100)
    assert lane_rects(svg, 0) == [(80, 100, 1.0)]
    assert lane_rects(svg, 24) == [(80, 20, 1.0)]
    assert "worker 1: 1 tests, busy 2.000s" in svg


def test_timeline_marks_failures_and_is_bounded_by_columns():
    events = []
    for n in range(2000):  # many short tests, every 10th failing
        status = "fail" if n % 10 == 0 else "success"
        events += run_test(f"t{n}", status, str(n % 3), n * 0.01, n * 0.01 + 0.004)
    svg = timeline_svg(build(events), columns=200)
    assert svg.count("<rect") <= 3 * (200 + 200 + 1)
    assert svg.count('fill="#cf222e"') >= 3
    # Each worker is busy 4 ms in every 30 ms: 1/8 shade over the whole run.
    assert {o for _, _, o in lane_rects(svg, 0)} == {0.125}
    assert sum(w for _, w, _ in lane_rects(svg, 0)) >= 199


def test_timeline_without_timestamps_says_so():
    report = build([Event(test_id="a", test_status="success")])
    assert "No timestamps" in timeline_svg(report)


def test_timeline_escapes_worker_names():
    svg = timeline_svg(build(run_test("a", "success", "<w&>", 0, 1)))
    assert "&lt;w&amp;&gt;" in svg and "<w&>" not in svg


# -- the command -------------------------------------------------------------------


def stream(events) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def run(*args, stdin=b""):
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_command_writes_a_page_and_exit_code_follows_the_verdict(tmp_path):
    target = tmp_path / "report.html"
    result = run(
        "-o", str(target), "--title", "<Nightly>", stdin=stream(sample_events())
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == b"" and result.stdout == b""
    text = target.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>&lt;Nightly&gt;</title>" in text
    assert run("--no-verdict", stdin=stream(sample_events())).returncode == 0
    passing = run(stdin=stream(run_test("a", "success", "0", 0, 1)))
    assert passing.returncode == 0
    assert b'class="verdict passed"' in passing.stdout


def test_command_errors_follow_the_contract(tmp_path):
    missing = run(str(tmp_path / "missing"))
    assert missing.returncode == 3
    assert missing.stderr.decode().startswith("subunit2html: ")
    assert run("--nope").returncode == 2
    helped = run("--help")
    assert helped.returncode == 0 and b"exit codes:" in helped.stdout


def test_command_on_garbage_input_still_writes_a_page():
    result = run(stdin=b"not a stream \xb3\x29\x01 at all\n")
    assert result.returncode == 1  # the parser error counts as a failure
    assert b"not a stream" in result.stdout
    assert b"subunit.parser" in result.stdout
