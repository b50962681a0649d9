"""Synthetic test-run streams for the benchmarks.

A run of N tests spread over 4 workers (route codes "0".."3"): each test has an
``inprogress`` event and a final one; 5% fail with a 2 KiB traceback attachment sent as
its own packet before the ``fail``.  Every event is timestamped and tagged, so the
decoder builds every kind of Python object it must.  100k tests make ~205k packets.
"""

from __future__ import annotations

import datetime
from typing import Iterator

WORKERS = 4
FAIL_EVERY = 20  # 5%
TRACEBACK = (
    b"Traceback (most recent call last):\n"
    + b'  File "tests/test_module.py", line 42, in test_something\n'
    + b"    self.assertEqual(expected, observed)\n" * 40
)[:2048]
_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
_STEP = datetime.timedelta(microseconds=1731)


def events(tests: int) -> Iterator[dict]:
    """Keyword arguments of each status() call of a run of ``tests`` tests."""
    now = _START
    tags = {"worker-0"}
    for n in range(tests):
        worker = str(n % WORKERS)
        test_id = f"package.module{n // 1000}.TestCase{n // 50}.test_method_{n}"
        tags = {f"worker-{worker}", "unit"}
        yield dict(
            test_id=test_id,
            test_status="inprogress",
            test_tags=tags,
            route_code=worker,
            timestamp=now,
        )
        now += _STEP
        if n % FAIL_EVERY == FAIL_EVERY - 1:
            yield dict(
                test_id=test_id,
                file_name="traceback",
                file_bytes=TRACEBACK,
                mime_type="text/x-traceback; charset=utf8",
                eof=True,
                test_tags=tags,
                route_code=worker,
                timestamp=now,
            )
            status = "fail"
        else:
            status = "success"
        yield dict(
            test_id=test_id,
            test_status=status,
            test_tags=tags,
            route_code=worker,
            timestamp=now,
        )
        now += _STEP


def write_stream(path: str, tests: int) -> int:
    """Write the stream of ``tests`` tests to ``path``; returns its size in bytes."""
    from subunit2.encoder import encode

    size = 0
    with open(path, "wb") as out:
        batch = []
        for kwargs in events(tests):
            batch.append(encode(**kwargs))
            if len(batch) >= 10000:
                data = b"".join(batch)
                size += len(data)
                out.write(data)
                batch.clear()
        data = b"".join(batch)
        size += len(data)
        out.write(data)
    return size
