"""The CSS and JavaScript that subunit2html inlines into every report.

Kept as plain strings so the report is one self-contained file.  The script reads
the data from ``<script type="application/json" id="report-data">`` and builds
every element with ``textContent`` (never ``innerHTML``), so nothing from the
stream is ever parsed as HTML.  The row list is virtualised: only the rows in
view (plus a margin) exist in the DOM, so 100k tests scroll smoothly.
"""

from __future__ import annotations

__all__ = ["CSS", "ERROR_HOOK", "SCRIPT"]

CSS = """
:root { --pass: #1a7f37; --fail: #cf222e; --skip: #8c6d1f; --xfail: #6e7781;
  --inc: #8250df; --line: #d0d7de; --bg2: #f6f8fa; --row: 24px; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1f2328; background: #fff; }
header { padding: 12px 20px 4px; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0 0 8px; }
h1 .verdict { font-size: 13px; padding: 2px 8px; border-radius: 10px;
  color: #fff; vertical-align: middle; margin-left: 8px; }
.verdict.passed { background: var(--pass); }
.verdict.failed { background: var(--fail); }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0 8px; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px;
  background: var(--bg2); min-width: 90px; }
.count b { display: block; font-size: 20px; }
.count.zero { opacity: .55; }
.meta { color: #57606a; font-size: 12px; margin-bottom: 6px; }
section { padding: 8px 20px; border-bottom: 1px solid var(--line); }
h2 { font-size: 14px; margin: 4px 0 6px; }
svg.timeline { width: 100%; height: auto; display: block; background: #fff; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #57606a; }
.toolbar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.toolbar button { font: inherit; padding: 3px 10px; border: 1px solid var(--line);
  background: #fff; border-radius: 6px; cursor: pointer; }
.toolbar button[aria-pressed="true"] { background: #0969da; color: #fff;
  border-color: #0969da; }
.toolbar input { font: inherit; padding: 3px 8px; border: 1px solid var(--line);
  border-radius: 6px; min-width: 260px; }
#shown { color: #57606a; }
#viewport { position: relative; overflow-y: auto; height: calc(100vh - 120px);
  min-height: 300px; border-top: 1px solid var(--line); }
#spacer { position: relative; }
.row { position: absolute; left: 0; right: 0; height: var(--row);
  display: grid; grid-template-columns: 96px 64px 84px 1fr; gap: 8px;
  align-items: center; padding: 0 20px; white-space: nowrap;
  border-bottom: 1px solid #f0f0f0; font-size: 13px; }
.row.has-files { cursor: pointer; }
.row:hover { background: var(--bg2); }
.row .name { overflow: hidden; text-overflow: ellipsis;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.row .dur { text-align: right; font-variant-numeric: tabular-nums; color: #57606a; }
.row .worker { color: #57606a; }
.row.context .name { color: #8c959f; }
.badge { font-size: 11px; font-weight: 600; padding: 1px 6px; border-radius: 4px;
  color: #fff; text-align: center; }
.s-success { background: var(--pass); }
.s-fail, .s-uxsuccess { background: var(--fail); }
.s-skip { background: var(--skip); } .s-xfail { background: var(--xfail); }
.s-inprogress { background: var(--inc); }
.files { position: absolute; left: 0; right: 0; overflow: auto; padding: 4px 20px 8px
  40px; background: var(--bg2); border-bottom: 1px solid var(--line); }
.files h3 { font-size: 12px; margin: 6px 0 2px; color: #57606a; }
.files pre { margin: 0; font: 12px/15px ui-monospace, Menlo, Consolas, monospace;
  white-space: pre-wrap; word-break: break-all; }
.note { color: #57606a; font-size: 12px; }
table.small { border-collapse: collapse; font-size: 12px; }
table.small td, table.small th { padding: 2px 10px 2px 0; text-align: left; }
details pre { max-height: 300px; overflow: auto; background: var(--bg2); padding: 6px; }
"""

#: Collects script errors so a test (or a curious user) can read them.
ERROR_HOOK = (
    "window.__reportErrors=[];window.addEventListener('error',function(e){"
    "window.__reportErrors.push(String(e.message||e));});"
)

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var rows = data.rows, files = data.attachments, statuses = data.statuses;
  var workers = data.workers;
  var ROW = 24, FILE_LINE = 15, FILE_HEAD = 22, FILE_MAX = 320, OVERSCAN = 12;
  var I_ID = 0, I_CUT = 1, I_STATUS = 2, I_WORKER = 3, I_DUR = 4, I_DEPTH = 5,
      I_FILES = 6, I_FLAG = 7;
  var viewport = document.getElementById("viewport");
  var spacer = document.getElementById("spacer");
  var shown = document.getElementById("shown");
  var search = document.getElementById("search");
  var buttons = {all: document.getElementById("show-all"),
                 failures: document.getElementById("show-failures")};
  var mode = "all", needle = "", view = [], offsets = new Float64Array(1);
  var expanded = new Map();  // row index -> detail height
  var scheduled = false;

  function label(status) {
    return {success: "PASS", fail: "FAIL", uxsuccess: "XPASS", xfail: "XFAIL",
            skip: "SKIP", inprogress: "INCOMPLETE"}[status] || status;
  }
  function duration(us) {
    if (us < 0) return "-";
    var s = us / 1e6;
    if (s < 100) return s.toFixed(3) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60).toFixed(1) + "s";
    return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
  }
  function detailHeight(index) {
    var list = files[rows[index][I_FILES]], h = 12;
    for (var i = 0; i < list.length; i++) {
      var text = list[i][2];
      var lines = text === null ? 1 : text.split("\n").length;
      h += FILE_HEAD + lines * FILE_LINE;
    }
    return Math.min(FILE_MAX, h);
  }
  function rebuild() {
    view = [];
    var lower = needle.toLowerCase();
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (mode === "failures" && r[I_FLAG] === 0) continue;
      if (lower && r[I_ID].toLowerCase().indexOf(lower) < 0) continue;
      view.push(i);
    }
    offsets = new Float64Array(view.length + 1);
    var y = 0;
    for (var k = 0; k < view.length; k++) {
      offsets[k] = y;
      y += ROW + (expanded.get(view[k]) || 0);
    }
    offsets[view.length] = y;
    spacer.style.height = y + "px";
    shown.textContent = "showing " + view.length + " of " + rows.length + " tests";
    document.body.setAttribute("data-shown", String(view.length));
    render();
  }
  function first(top) {
    var lo = 0, hi = view.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= top) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  function cell(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }
  function makeRow(k) {
    var index = view[k], r = rows[index], status = statuses[r[I_STATUS]];
    var el = document.createElement("div");
    el.className = "row" + (r[I_FILES] >= 0 ? " has-files" : "") +
        (mode === "failures" && r[I_FLAG] === 2 ? " context" : "");
    el.style.top = offsets[k] + "px";
    el.setAttribute("data-index", String(index));
    el.setAttribute("data-status", status);
    el.title = r[I_ID];
    el.appendChild(cell("badge s-" + status, label(status)));
    var w = r[I_WORKER];
    el.appendChild(cell("worker", w < 0 ? "-" : workers[w]));
    el.appendChild(cell("dur", duration(r[I_DUR])));
    var mark = r[I_FILES] < 0 ? "" : expanded.has(index) ? "\u25be " : "\u25b8 ";
    var name = cell("name", mark + r[I_ID].slice(r[I_CUT]));
    name.style.paddingLeft = (r[I_DEPTH] * 18) + "px";
    el.appendChild(name);
    return el;
  }
  function makeFiles(k) {
    var index = view[k], list = files[rows[index][I_FILES]];
    var box = document.createElement("div");
    box.className = "files";
    box.style.top = (offsets[k] + ROW) + "px";
    box.style.height = expanded.get(index) + "px";
    for (var i = 0; i < list.length; i++) {
      var f = list[i];
      var head = document.createElement("h3");
      var info = f[0] + " (" + (f[1] || "application/octet-stream") + ", " +
          f[3] + " bytes";
      if (f[4] > 0) info += ", " + f[4] + " bytes not kept";
      head.textContent = info + ")";
      box.appendChild(head);
      var pre = document.createElement("pre");
      pre.textContent = f[2] === null ? "(binary content not shown" +
          (f[5] ? "; starts " + f[5] : "") + ")" : f[2];
      box.appendChild(pre);
    }
    return box;
  }
  function render() {
    scheduled = false;
    var top = viewport.scrollTop, bottom = top + viewport.clientHeight;
    var start = Math.max(0, first(top) - OVERSCAN);
    var nodes = [];
    for (var k = start; k < view.length; k++) {
      if (offsets[k] > bottom + OVERSCAN * ROW) break;
      nodes.push(makeRow(k));
      if (expanded.has(view[k])) nodes.push(makeFiles(k));
    }
    spacer.replaceChildren.apply(spacer, nodes);
  }
  viewport.addEventListener("scroll", function () {
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(render); }
  }, {passive: true});
  window.addEventListener("resize", function () { render(); });
  spacer.addEventListener("click", function (event) {
    var rowEl = event.target.closest(".row");
    if (!rowEl) return;
    var index = Number(rowEl.getAttribute("data-index"));
    if (rows[index][I_FILES] < 0) return;
    if (expanded.has(index)) expanded.delete(index);
    else expanded.set(index, detailHeight(index));
    var keep = viewport.scrollTop;
    rebuild();
    viewport.scrollTop = keep;
  });
  function setMode(next) {
    mode = next;
    buttons.all.setAttribute("aria-pressed", String(next === "all"));
    buttons.failures.setAttribute("aria-pressed", String(next === "failures"));
    viewport.scrollTop = 0;
    rebuild();
  }
  buttons.all.addEventListener("click", function () { setMode("all"); });
  buttons.failures.addEventListener("click", function () { setMode("failures"); });
  var timer = null;
  search.addEventListener("input", function () {
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      needle = search.value; viewport.scrollTop = 0; rebuild();
    }, 150);
  });
  setMode(location.hash === "#failures" ? "failures" : "all");
  window.__reportRender = render;  // for benchmarks: draw the rows in view now
  window.__reportReadyAt = window.performance.now();
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
