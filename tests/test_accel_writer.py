"""StreamWriter's compiled status() behaves as the Python one: bytes, errors, flush."""

from __future__ import annotations

import datetime
import io

import pytest

from subunit2 import EncodeError, StreamWriter
from subunit2.encoder import py_encode

speedups = pytest.importorskip("subunit2._speedups")

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)


class Flushes(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def test_status_writer_writes_the_python_bytes_and_flushes_each_event():
    out = Flushes()
    write = speedups.StatusWriter(out.write, out.flush)
    write(test_id="t", test_status="fail", timestamp=WHEN, test_tags={"a"})
    write("t2", "success", None, False)
    assert out.getvalue() == py_encode(
        test_id="t", test_status="fail", timestamp=WHEN, test_tags={"a"}
    ) + py_encode("t2", "success", None, False)
    assert out.flushes == 2


def test_status_writer_raises_before_writing_anything():
    out = Flushes()
    write = speedups.StatusWriter(out.write, out.flush)
    with pytest.raises(EncodeError, match="test_status 'passed' is not a known"):
        write(test_id="t", test_status="passed")
    assert out.getvalue() == b"" and out.flushes == 0


def test_status_writer_v2_only_drops_parent_ids():
    out = io.BytesIO()
    speedups.StatusWriter(out.write, None, True)(test_id="t", parent_test_id="p")
    assert out.getvalue() == py_encode(test_id="t")


def test_a_subclass_that_overrides_status_keeps_its_override():
    calls = []

    class Counting(StreamWriter):
        def status(self, **kwargs):
            calls.append(kwargs)
            super().status(**kwargs)

    out = io.BytesIO()
    Counting(out).status(test_id="t")
    assert calls == [{"test_id": "t"}]
    assert out.getvalue() == py_encode(test_id="t")
