"""View benchmark: subunit-trace against subunit-stats, and subunit2html, on 100k tests.

    python bench/bench_views.py [--tests 100000] [--repeat 3] [--browser]

Writes the synthetic stream of streams.py (4 workers, 5% failing with 2 KiB
tracebacks) to a file, then runs each command on it in a child process with its
output redirected to a file, side by side, best of ``--repeat``:

* subunit-stats (the baseline: counting only; when filters/subunit_stats.py is
  missing, a Summary-only pass through read_stream stands in and the output says so),
* subunit-trace (one line per test, failures' tracebacks, the summary),
* subunit2html (the whole report).

It prints wall time and CPU time (user + system) of each, the trace/stats ratios
(the target is 2x at most), subunit2html's output size and the children's peak RSS.
``--browser`` also opens the report in headless Chromium (tests/browser.py) and
prints the time until the page is ready and the mean time per scrolled frame.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import streams  # noqa: E402

PEAK = (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
    "except SystemExit:\n"
    "    pass\n"
    "finally:\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('PEAK ' + line.split()[1] + '\\n')\n"
)

PROXY = (
    "import sys\n"
    "from subunit2 import read_stream\n"
    "from subunit2.summary import Summary\n"
    "s = Summary(); s.startTestRun()\n"
    "read_stream(open(sys.argv[1], 'rb'), s); s.stopTestRun()\n"
    "print(s.counts, s.wasSuccessful())\n"
)


def child(argv, out_path):
    """Run argv with stdout to out_path; (wall s, cpu s, peak KiB or None)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = None
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("PEAK "):
            peak = int(line.split()[1])
    if done.returncode not in (0, 1):
        sys.exit(f"{argv} failed ({done.returncode}): {done.stderr[-500:]!r}")
    return wall, cpu, peak


def best(repeat, argv, out_path):
    runs = [child(argv, out_path) for _ in range(repeat)]
    peaks = [p for _, _, p in runs if p is not None]
    return (
        min(w for w, _, _ in runs),
        min(c for _, c, _ in runs),
        max(peaks) if peaks else None,
    )


def module(name, *args):
    return [sys.executable, "-c", PEAK, name, *args]


def browser_figures(page: str) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
    from browser import Browser, find_chromium

    found = find_chromium()
    if found is None:
        print("browser: chromium/chromedriver not installed, skipped")
        return
    with Browser(*found, timeout=120) as browser:
        start = time.perf_counter()
        browser.get("file://" + os.path.abspath(page))
        if not browser.wait_for(
            "return document.documentElement.getAttribute('data-ready')", 120
        ):
            sys.exit("browser: the report did not get ready")
        loaded = time.perf_counter() - start
        ready_at = browser.execute("return window.__reportReadyAt")
        frame = browser.execute(
            "var v = document.getElementById('viewport'), t0 = performance.now();"
            "for (var n = 0; n < 100; n++) {"
            "  v.scrollTop = (n * 7919 % 100) / 100 * v.scrollHeight;"
            "  window.__reportRender(); void document.body.offsetHeight;"
            "}"
            "return (performance.now() - t0) / 100;"
        )
        t0 = time.perf_counter()
        browser.click(browser.find("#show-failures"))
        browser.click(browser.find("#show-all"))
        refilter = (time.perf_counter() - t0) / 2
        errors = browser.execute("return window.__reportErrors")
    print(
        f"browser: ready {ready_at / 1000:.2f}s after navigation start"
        f" ({loaded:.2f}s seen by the driver); random jumps: {frame:.1f} ms each"
        f" to draw the rows in view (100 jumps); switching the filter:"
        f" {refilter * 1000:.0f} ms; script errors: {len(errors)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    root = os.path.dirname(HERE)
    have_stats = os.path.exists(os.path.join(root, "filters", "subunit_stats.py"))
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "run.subunit")
        size = streams.write_stream(stream, args.tests)
        print(f"stream: {args.tests} tests, {size / 2**20:.1f} MiB")
        if have_stats:
            label = "subunit-stats"
            base_argv = module("subunit2.filters.subunit_stats", stream)
        else:
            label = "Summary pass (proxy: subunit-stats missing)"
            base_argv = [sys.executable, "-c", PROXY, stream]
        sinks = {k: os.path.join(tmp, k) for k in ("stats", "trace", "report.html")}
        sinks["html"] = sinks.pop("report.html")
        base = best(args.repeat, base_argv, sinks["stats"])
        trace = best(
            args.repeat,
            module("subunit2.filters.subunit_trace", stream),
            sinks["trace"],
        )
        html = best(
            args.repeat,
            module("subunit2.filters.subunit2html", stream, "-o", sinks["html"]),
            os.path.join(tmp, "html.stdout"),
        )
        rows = [
            (label, base),
            ("subunit-trace > file", trace),
            ("subunit2html -o file", html),
        ]
        print(f"{'':44}{'wall':>8}{'cpu':>8}{'peak RSS':>11}")
        for name, (wall, cpu, peak) in rows:
            rss = f"{peak / 1024:.0f} MiB" if peak else "-"
            print(f"{name:44}{wall:7.2f}s{cpu:7.2f}s{rss:>11}")
        print(
            f"subunit-trace / {label}: wall {trace[0] / base[0]:.2f}x,"
            f" cpu {trace[1] / base[1]:.2f}x (target: at most 2x)"
        )
        trace_size = os.path.getsize(sinks["trace"])
        html_size = os.path.getsize(sinks["html"])
        print(f"subunit-trace output: {trace_size / 2**20:.1f} MiB")
        print(f"subunit2html output: {html_size / 2**20:.1f} MiB")
        if args.browser:
            browser_figures(sinks["html"])


if __name__ == "__main__":
    main()
