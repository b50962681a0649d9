"""Emit the stream of a small example test run on stdout (the demo's producer).

Two workers (route codes 0 and 1) run a handful of tests: passes, a failure with a
traceback, a skip with its reason, an expected failure, and a test with three subtests
(protocol 2.1 parent ids), plus a line of stray output that is not part of any packet.
It shows the writer API: one ``status()`` call per event.
"""

from __future__ import annotations

import datetime
import sys

from subunit2 import StreamWriter

UTC = datetime.timezone.utc


def main() -> None:
    out = StreamWriter(sys.stdout)
    clock = datetime.datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    def tick(ms: int = 7) -> datetime.datetime:
        nonlocal clock
        clock += datetime.timedelta(milliseconds=ms)
        return clock

    def run(test_id, status, worker, files=(), parent=None, ms=7):
        common = dict(test_id=test_id, route_code=worker, parent_test_id=parent)
        out.status(test_status="inprogress", timestamp=tick(1), **common)
        for name, data in files:
            out.status(
                file_name=name,
                file_bytes=data,
                mime_type="text/plain; charset=utf8",
                eof=True,
                timestamp=tick(0),
                **common,
            )
        out.status(test_status=status, timestamp=tick(ms), **common)

    out.startTestRun()
    for n in range(3):
        out.status(
            test_id=f"demo.test_math.TestAdd.test_small_{n}", test_status="exists"
        )
    run("demo.test_math.TestAdd.test_small_0", "success", "0")
    run("demo.test_math.TestAdd.test_small_1", "success", "1", ms=42)
    run(
        "demo.test_math.TestAdd.test_small_2",
        "fail",
        "0",
        files=[
            (
                "traceback",
                b"Traceback (most recent call last):\n"
                b'  File "demo/test_math.py", line 12, in test_small_2\n'
                b"    self.assertEqual(2 + 2, 5)\n"
                b"AssertionError: 4 != 5\n",
            )
        ],
    )
    sys.stdout.flush()
    sys.stdout.buffer.write(b"stray output from a worker, not in any packet\n")
    run(
        "demo.test_io.TestDisk.test_big_file",
        "skip",
        "1",
        files=[("reason", b"no disk")],
    )
    run("demo.test_io.TestDisk.test_known_bug", "xfail", "1")
    parent = "demo.test_grid.TestGrid.test_cells"
    out.status(
        test_id=parent, test_status="inprogress", route_code="0", timestamp=tick()
    )
    for i in range(3):
        run(f"{parent} (i={i})", "success", "0", parent=parent)
    out.status(test_id=parent, test_status="success", route_code="0", timestamp=tick())
    out.stopTestRun()


if __name__ == "__main__":
    main()
