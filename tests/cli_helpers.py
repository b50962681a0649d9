"""Running this project's commands in tests, and the streams they are fed.

Commands run as ``[sys.executable, "-m", "subunit2.filters.<module>"]`` (never from
PATH: python-subunit installs same-named scripts) or in-process through ``main``.
"""

from __future__ import annotations

import datetime
import io
import os
import select
import subprocess
import sys
import sysconfig
import time
from typing import Iterable, List, Optional

from subunit2 import Event, decode_bytes, encode

UTC = datetime.timezone.utc
FILTER = "subunit2.filters.subunit_filter"
STATS = "subunit2.filters.subunit_stats"
LS = "subunit2.filters.subunit_ls"


def stamp(second: int, micro: int = 0) -> datetime.datetime:
    return datetime.datetime(2025, 1, 2, 3, 4, second, micro, tzinfo=UTC)


def run(
    module: str, *args: str, stdin: bytes = b"", timeout: int = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def pipeline(stdin: bytes, *commands) -> subprocess.CompletedProcess:
    """Run ``commands`` (each ``(module, *args)``) joined by real pipes; returns
    the last one's result, with ``codes`` set to every command's exit code."""
    procs = []
    source = subprocess.PIPE
    for module, *args in commands:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if procs:
            procs[-1].stdout.close()  # only the next command holds the pipe
        procs.append(proc)
        source = proc.stdout
    procs[0].stdin.write(stdin)
    procs[0].stdin.close()
    out = procs[-1].stdout.read()
    errors = [p.stderr.read() for p in procs]
    codes = [p.wait(timeout=60) for p in procs]
    result = subprocess.CompletedProcess(procs[-1].args, codes[-1], out, errors[-1])
    result.codes = codes
    result.errors = errors
    return result


def written(events: Iterable[Event]) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def a_test(
    test_id: str,
    final: Optional[str],
    *,
    route: Optional[str] = None,
    parent: Optional[str] = None,
    tags=None,
    start: int = 1,
    end: int = 2,
    attachment: Optional[bytes] = None,
) -> list:
    """A test's events: inprogress, an optional traceback, the final status."""
    events = [
        Event(
            test_id=test_id,
            test_status="inprogress",
            route_code=route,
            parent_test_id=parent,
            test_tags=tags,
            timestamp=stamp(start),
        )
    ]
    if attachment is not None:
        events.append(
            Event(
                test_id=test_id,
                file_name="traceback",
                file_bytes=attachment,
                eof=True,
                mime_type="text/plain;charset=utf8",
                route_code=route,
                parent_test_id=parent,
                timestamp=stamp(end),
            )
        )
    if final is not None:
        events.append(
            Event(
                test_id=test_id,
                test_status=final,
                route_code=route,
                parent_test_id=parent,
                test_tags=tags,
                timestamp=stamp(end),
            )
        )
    return events


def assert_one_line_error(stderr: bytes, *needles: str) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, text
    return text


def installed_script_is_ours(name: str, module: str) -> None:
    path = os.path.join(sysconfig.get_path("scripts"), name)
    assert os.path.exists(path), f"{name} is not installed"
    with open(path, "rb") as script:
        assert f"subunit2.filters.{module}".encode() in script.read()


def truncated(events) -> bytes:
    """``events`` written, with the last packet cut short by 3 bytes."""
    data = written(events)
    return data[:-3]


def read_events_until(proc, wanted: str) -> List[Event]:
    """Read the live output of ``proc`` until an event for ``wanted`` decodes."""
    data = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, "output ended early"
            data += chunk
            events = decode_bytes(data)
            if any(e.test_id == wanted for e in events):
                return events
    raise AssertionError(f"no event for {wanted!r} while the input was open")


def python_subunit_tests(data: bytes) -> List[dict]:
    """The tests python-subunit (with testtools' StreamToDict) reads in ``data``."""
    import subunit
    import testtools

    found: List[dict] = []
    theirs = testtools.StreamToDict(found.append)
    theirs.startTestRun()
    subunit.ByteStreamToStreamResult(io.BytesIO(data), non_subunit_name="stdout").run(
        theirs
    )
    theirs.stopTestRun()
    return found


def convert_events(converter_class, data: bytes, chunk: Optional[int] = None):
    """Run a sans-IO converter (``feed``/``close`` onto a result) over ``data``, fed
    ``chunk`` bytes at a time, encode what it emits and decode it again."""
    from subunit2 import StreamWriter

    out = io.BytesIO()
    converter = converter_class(StreamWriter(out, flush=False))
    step = chunk or max(1, len(data))
    for start in range(0, len(data), step):
        converter.feed(data[start : start + step])
    converter.close()
    return decode_bytes(out.getvalue())
