"""Read a subunit v2 stream on stdin and print a readable summary (the demo's end).

One line per completed test in completion order, subtests indented under their
parent, failure text right after a failure, then the counts and the verdict.  It is
built from the library's kit: an Aggregator gathers each test's events into a record,
a Summary counts outcomes and judges the run.  Exit status 1 when the run failed,
unless ``--exit-zero``.
"""

from __future__ import annotations

import sys

from subunit2 import StreamResult, read_stream
from subunit2.aggregate import Aggregator, TestRecord
from subunit2.fanout import FanOut
from subunit2.summary import Summary

LABELS = {
    "success": "PASS ",
    "fail": "FAIL ",
    "uxsuccess": "XPASS",
    "xfail": "XFAIL",
    "skip": "SKIP ",
    "inprogress": "INCOMPLETE",
}


class Printer(StreamResult):
    """Prints test records as they complete; subtests wait for their parent."""

    def __init__(self) -> None:
        self.children: dict = {}

    def record(self, record: TestRecord) -> None:
        if record.status == "exists":
            return  # enumeration only
        if record.parent_test_id is not None:
            self.children.setdefault(record.parent_test_id, []).append(record)
            return
        self.show(record, 0)

    def show(self, record: TestRecord, depth: int) -> None:
        duration = record.duration
        took = f" {duration.total_seconds() * 1000:.0f} ms" if duration else ""
        label = LABELS.get(record.status, record.status)
        name = record.test_id
        if depth and record.parent_test_id and name.startswith(record.parent_test_id):
            name = name[len(record.parent_test_id) :].strip()
        print(f"{'    ' * depth}{label}  {name}  [worker {record.route_code}]{took}")
        if record.status in ("fail", "uxsuccess", "skip", "inprogress"):
            for attachment_name, attachment in record.attachments.items():
                text = attachment.content.decode("utf-8", "replace").rstrip()
                for line in f"{attachment_name}: {text}".splitlines():
                    print(f"{'    ' * depth}        {line}")
        for child in self.children.pop(record.test_id, []):
            self.show(child, depth + 1)

    def non_test(self, event) -> None:
        if event.file_bytes:
            text = event.file_bytes.decode("utf-8", "replace").rstrip()
            print(f"(output outside any test) {text}")


def main() -> int:
    printer = Printer()
    summary = Summary()
    result = FanOut(Aggregator(printer.record, on_non_test=printer.non_test), summary)
    result.startTestRun()
    read_stream(sys.stdin, result)
    result.stopTestRun()
    for orphans in printer.children.values():  # subtests whose parent never ended
        for record in orphans:
            printer.show(record, 1)
    counts = summary.counts
    ran = sum(n for status, n in counts.items() if status != "exists")
    parts = [
        f"{n} {status}" for status, n in counts.items() if n and status != "exists"
    ]
    incomplete = len(summary.incomplete)
    if incomplete:
        parts.append(f"{incomplete} incomplete")
    wall = summary.wall_time
    print(f"\nRan {ran} tests ({', '.join(parts)})", end="")
    print(f" in {wall.total_seconds():.3f}s" if wall else "")
    print("PASSED" if summary.wasSuccessful() else "FAILED")
    if "--exit-zero" in sys.argv[1:]:
        return 0
    return 0 if summary.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
