"""CsvWriter writes plain rows itself: its lines must be the csv module's exactly."""

from __future__ import annotations

import csv
import datetime
import io

from hypothesis import given
from hypothesis import strategies as st

from subunit2.csvreport import HEADER, CsvWriter
from subunit2.event import Event

# Characters that matter to CSV quoting, mixed with ordinary and non-ASCII text.
_TEXT = st.text(
    alphabet=st.sampled_from(list('ab ,"\r\n\t\x00\x1f\u2028é€𝄞.:-_[]()')),
    max_size=12,
)
_UTC = datetime.timezone.utc


def _csv_module_lines(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


# Mostly text rows (the fast way), now and then one with a number or None in it.
_ROW = st.one_of(
    st.lists(_TEXT, min_size=7, max_size=7),
    st.lists(_TEXT | st.integers() | st.none(), min_size=7, max_size=7),
)


@given(st.lists(_ROW))
def test_rows_are_written_as_the_csv_module_writes_them(rows):
    out = io.StringIO()
    writer = CsvWriter(out)
    writer._emit([tuple(row) for row in rows])
    assert out.getvalue() == _csv_module_lines(rows)
    assert writer.rows == len(rows)


@given(st.lists(st.tuples(_TEXT, st.sampled_from(["success", "fail"]), _TEXT, _TEXT)))
def test_consumed_events_give_the_csv_module_rows(tests):
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=_UTC)
    events = []
    for test_id, status, route, parent in tests:
        fields = dict(test_id=test_id, route_code=route or None, timestamp=when)
        events.append(Event(test_status="inprogress", **fields))
        events.append(
            Event(test_status=status, parent_test_id=parent or None, **fields)
        )
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.startTestRun()
    writer.consume(events)
    writer.stopTestRun()
    stamp = "2024-01-02T03:04:05.123456Z"
    expected = [HEADER]
    for test_id, status, route, parent in tests:
        expected.append(
            (test_id, status, stamp, stamp, "0.000000", route or "", parent or "")
        )
    assert out.getvalue() == _csv_module_lines(expected)
