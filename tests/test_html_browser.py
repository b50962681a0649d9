"""subunit2html end to end: the report opened in a real headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver``.  Without them the test is
skipped locally, but fails under CI (``CI=true``), where they must be installed.
Set ``SUBUNIT2_SCREENSHOT=docs/images/subunit2html.png`` to also write the
screenshot there (it is always written under the test's tmp dir).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest
from browser import Browser, find_chromium

from subunit2 import Event, encode
from subunit2.reader import decode_bytes, deliver_all
from subunit2.summary import Summary

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
EVIL = "</script><script>alert(1)</script>"
HOSTILE = '<img src=x onerror="window.__xss=1">'
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "tests/test_orders.py", line 88, in test_refund\n'
    "    self.assertEqual(total, 90)\n"
    "AssertionError: 100 != 90 <not markup>\n"
)
FAILING = ("fail", "uxsuccess", "inprogress")


def browser_paths():
    found = find_chromium()
    if found is None:
        reason = (
            "chromium and chromedriver are needed for the browser test"
            " (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail("under CI the browser test must run: " + reason)
        pytest.skip(reason)
    return found


def example_stream() -> bytes:
    """A run over 4 workers with every outcome, subtests, an idle worker, a slow
    worker, and hostile test ids."""
    events = []
    clock = {"0": 0.0, "1": 0.0, "2": 0.0, "3": 0.0}

    def run(test_id, status, worker, seconds, files=(), parent=None, end=True):
        start = clock[worker]
        clock[worker] += seconds
        common = dict(test_id=test_id, route_code=worker, parent_test_id=parent)
        stamp = T0 + datetime.timedelta(seconds=start)
        events.append(Event(test_status="inprogress", timestamp=stamp, **common))
        for name, data in files:
            events.append(
                Event(
                    file_name=name,
                    file_bytes=data,
                    mime_type="text/plain; charset=utf8",
                    eof=True,
                    **common,
                )
            )
        if end:
            stamp = T0 + datetime.timedelta(seconds=clock[worker])
            events.append(Event(test_status=status, timestamp=stamp, **common))

    modules = ["orders", "billing", "search", "accounts", "shipping"]
    for n in range(1200):
        worker = str(n % 3)
        test_id = f"shop.tests.test_{modules[n % 5]}.Test{n // 40}.test_case_{n}"
        if n % 97 == 13:
            run(
                test_id, "fail", worker, 0.05, files=[("traceback", TRACEBACK.encode())]
            )
        elif n % 151 == 7:
            run(test_id, "skip", worker, 0.001, files=[("reason", b"needs network")])
        elif n % 211 == 3:
            run(test_id, "xfail", worker, 0.02)
        else:
            run(test_id, "success", worker, 0.004 + (n % 7) * 0.003)
        if n == 300:  # worker 2 goes idle for a while
            clock["2"] += 2.0
    # A parametrised test with subtests, one of which fails.
    for k in range(4):
        status = "fail" if k == 2 else "success"
        files = [("traceback", TRACEBACK.encode())] if k == 2 else ()
        run(
            f"shop.tests.test_grid (size={k})",
            status,
            "0",
            0.01,
            files,
            "shop.tests.test_grid",
        )
    run("shop.tests.test_grid", "fail", "0", 0.0)
    # Worker 3: a few slow tests, one unexpected success, one that never ends.
    for k in range(5):
        run(f"shop.tests.test_slow.TestBatch.test_nightly_{k}", "success", "3", 1.1)
    run("shop.tests.test_slow.TestBatch.test_fixed_bug", "uxsuccess", "3", 0.2)
    run(EVIL, "fail", "1", 0.01, files=[(HOSTILE, EVIL.encode())])
    run(HOSTILE, "success", "1", 0.01)
    run("shop.tests.test_slow.TestBatch.test_hangs", None, "3", 0.5, end=False)
    packets = [encode(**e.kwargs()) for e in events]
    packets.insert(50, b"stray output from a worker <b>not markup</b>\n")
    return b"".join(packets)


def expected(stream: bytes):
    """Counts per outcome and the rows the failures filter must show."""
    events = decode_bytes(stream)
    summary = Summary()
    summary.startTestRun()
    deliver_all(events, summary)
    summary.stopTestRun()
    counts = {k: v for k, v in summary.counts.items() if k != "exists"}
    counts["inprogress"] = len(summary.incomplete)
    failing = set()
    parents = {}
    finals = {}
    for e in events:
        if e.test_id is None:
            continue
        if e.parent_test_id is not None:
            parents[e.test_id] = e.parent_test_id
        if e.test_status not in (None, "inprogress"):
            finals[e.test_id] = e.test_status
    for test_id, _ in summary.incomplete:
        finals[test_id] = "inprogress"
    for test_id, status in finals.items():
        if status in FAILING:
            failing.add(test_id)
    shown = set(failing)
    for test_id in failing:  # failing subtests bring their parents along
        while test_id in parents:
            test_id = parents[test_id]
            shown.add(test_id)
    return counts, len(finals), len(shown)


SCRIPT_STATE = """
return {
  ready: document.documentElement.getAttribute("data-ready"),
  errors: window.__reportErrors,
  xss: window.__xss === undefined ? null : window.__xss,
  shown: document.getElementById("shown").textContent,
  rows: Array.from(document.querySelectorAll("#spacer .row")).map(function (r) {
    return [r.getAttribute("data-status"), r.querySelector(".name").textContent,
            r.classList.contains("context")];
  }),
  counts: Object.fromEntries(Array.from(
    document.querySelectorAll("[data-outcome]")).map(function (b) {
      return [b.getAttribute("data-outcome"), Number(b.textContent)];
  })),
};
"""


def test_report_renders_counts_filters_and_resists_injection(tmp_path):
    chromium, driver = browser_paths()
    stream = example_stream()
    counts, total, failing_rows = expected(stream)
    page = tmp_path / "report.html"
    made = subprocess.run(
        [sys.executable, "-m", "subunit2.filters.subunit2html", "-o", str(page)],
        input=stream,
        capture_output=True,
        timeout=60,
    )
    assert made.returncode == 1, made.stderr  # the run has failures
    with Browser(chromium, driver) as browser:
        browser.get(page.as_uri())
        assert browser.wait_for(
            "return document.documentElement.getAttribute('data-ready')"
        )
        state = browser.execute(SCRIPT_STATE)
        assert state["errors"] == []
        severe = [e for e in browser.console() if e.get("level") == "SEVERE"]
        assert severe == []
        assert browser.alert_text() is None
        assert state["xss"] is None
        assert state["counts"] == counts
        assert state["shown"] == f"showing {total} of {total} tests"
        # Virtualised: only about a screenful of rows exists in the DOM.
        assert 10 < len(state["rows"]) < 120

        browser.click(browser.find("#show-failures"))
        state = browser.execute(SCRIPT_STATE)
        assert state["shown"] == f"showing {failing_rows} of {total} tests"
        assert len(state["rows"]) == failing_rows  # few enough to all be drawn
        for status, name, context in state["rows"]:
            assert status in FAILING or context, (status, name)
        names = [name for _, name, _ in state["rows"]]
        assert any(name.endswith(EVIL) for name in names)  # shown as text
        assert any(name.endswith("(size=2)") for name in names)  # a nested subtest

        # Expand a failure: its traceback appears as text, not markup.
        browser.click(browser.find('#spacer .row[data-status="fail"]'))
        pre = browser.execute(
            "return document.querySelector('#spacer .files pre').textContent"
        )
        assert pre == TRACEBACK

        browser.click(browser.find("#show-all"))
        browser.execute(
            "var v = document.getElementById('viewport');"
            " v.scrollTop = v.scrollHeight; v.dispatchEvent(new Event('scroll'));"
        )
        last = browser.wait_for(
            "var rows = document.querySelectorAll('#spacer .row');"
            " var r = rows[rows.length - 1];"
            " return r && r.querySelector('.name').textContent.indexOf('test_hangs')"
            " >= 0 ? r.getAttribute('data-status') : null;"
        )
        assert last == "inprogress"
        browser.execute("document.getElementById('viewport').scrollTop = 0;")
        browser.click(browser.find("#show-failures"))
        state = browser.execute(SCRIPT_STATE)
        assert state["errors"] == [] and state["xss"] is None
        png = browser.screenshot()
    assert png.startswith(b"\x89PNG")
    shot = tmp_path / "subunit2html.png"
    shot.write_bytes(png)
    print(f"screenshot: {shot}")
    extra = os.environ.get("SUBUNIT2_SCREENSHOT")
    if extra:
        with open(extra, "wb") as out:
            out.write(png)
