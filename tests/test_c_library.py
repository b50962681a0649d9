"""libsubunit2 used from C: its writer's streams and its reader's events.

The C library is built with ``make -C c`` (skipped when make or a C compiler is
missing).  ``c/tests/emit.c`` writes events described on its stdin with
su2_write_event; ``c/tests/decode.c`` prints what su2_reader delivers.  The writer's
bytes must be exactly the Python encoder's (so they decode to the intended events),
and the reader must agree with the Python decoder event for event.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import EPOCH, ev_bytes, events

from subunit2.decoder import PyDecoder
from subunit2.encoder import py_encode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C_DIR = os.path.join(ROOT, "c")
STATUS = {None: 0, "exists": 1, "inprogress": 2, "success": 3}
STATUS.update({"uxsuccess": 4, "skip": 5, "fail": 6, "xfail": 7})
NAMES = {code: name for name, code in STATUS.items()}


@pytest.fixture(scope="module")
def tools():
    if shutil.which("make") is None or sys.platform == "win32":
        pytest.skip("make is not available")
    built = subprocess.run(
        ["make", "-s", "-C", C_DIR, "build/emit", "build/decode"],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        pytest.skip(f"the C library does not build here: {built.stderr[-300:]}")
    return os.path.join(C_DIR, "build", "emit"), os.path.join(C_DIR, "build", "decode")


def record(code: str, data: bytes) -> bytes:
    return code.encode() + len(data).to_bytes(4, "big") + data


def describe(event) -> bytes:
    """emit's input for one event (see c/tests/emit.c)."""
    out = []
    if event.test_id is not None:
        out.append(record("i", event.test_id.encode()))
    out.append(record("s", bytes([STATUS[event.test_status]])))
    if event.test_tags is not None:
        out.append(record("G", b""))
        out.extend(record("g", tag.encode()) for tag in event.test_tags)
    out.append(record("r", bytes([event.runnable])))
    if event.file_name is not None:
        out.append(record("n", event.file_name.encode()))
        out.append(record("b", bytes(event.file_bytes)))
    out.append(record("e", bytes([event.eof])))
    for code, value in (
        ("m", event.mime_type),
        ("o", event.route_code),
        ("p", event.parent_test_id),
    ):
        if value is not None:
            out.append(record(code, value.encode()))
    if event.timestamp is not None:
        delta = event.timestamp - EPOCH
        seconds = delta.days * 86400 + delta.seconds
        nanos = delta.microseconds * 1000
        out.append(record("t", seconds.to_bytes(4, "big") + nanos.to_bytes(4, "big")))
    out.append(record("E", b""))
    return b"".join(out)


def c_write(emit: str, evs, v2_only: bool = False) -> bytes:
    argv = [emit] + (["--v2-only"] if v2_only else [])
    done = subprocess.run(
        argv, input=b"".join(map(describe, evs)), capture_output=True, check=True
    )
    return done.stdout


@settings(max_examples=60, deadline=None)
@given(st.lists(events(max_file_size=200), max_size=6), st.booleans())
def test_c_writer_writes_the_python_encoders_bytes(tools, evs, v2_only):
    expected = b"".join(ev_bytes(e, v2_only=v2_only) for e in evs)
    assert c_write(tools[0], evs, v2_only) == expected


def test_c_writer_stream_decodes_to_the_intended_events(tools):
    from subunit2 import Event

    big = random.Random(1).randbytes(5_000_000)
    when = EPOCH.replace(year=2026, microsecond=123456)
    evs = [
        Event(test_id="t1", test_status="inprogress", timestamp=when, route_code="0"),
        Event(test_id="t1 (i=2)", test_status="fail", parent_test_id="t1"),
        Event(test_id="t1", test_tags=frozenset({"b", "a"}), test_status="success"),
        Event(test_id="t2", file_name="log", file_bytes=big, eof=True),
    ]
    stream = c_write(tools[0], evs)
    decoder = PyDecoder()
    found = decoder.feed(stream) + decoder.close()
    assert found[:3] == evs[:3]
    # The 5 MB attachment is split; eof only on the last piece.
    assert b"".join(e.file_bytes for e in found[3:]) == big
    assert [e.eof for e in found[3:]] == [False, True]


def parse_line(line: str):
    """One line of decode's output as a comparable tuple."""

    def text(field):
        return None if field == "-" else bytes.fromhex(field[1:]).decode()

    def raw(field):
        return None if field == "-" else bytes.fromhex(field[1:])

    f = line.split("\t")
    tags = None
    if f[2] != "-":
        inner = f[2][1:-1]
        tags = frozenset(text(t) for t in inner.split(",")) if inner else frozenset()
    timestamp = None
    if f[9] != "-":
        seconds, nanos = (int(part) for part in f[9].split("."))
        timestamp = (seconds, nanos)
    return (
        text(f[0]),
        NAMES[int(f[1])],
        tags,
        f[3] == "1",
        text(f[4]),
        raw(f[5]),
        f[6] == "1",
        text(f[7]),
        text(f[8]),
        timestamp,
        text(f[10]),
    )


def python_side(event):
    """A PyDecoder event in decode's terms (timestamps to whole microseconds)."""
    timestamp = None
    if event.timestamp is not None:
        delta = event.timestamp - EPOCH
        timestamp = (delta.days * 86400 + delta.seconds, delta.microseconds)
    return tuple(event[:9]) + (timestamp, event.parent_test_id)


def c_read(decode: str, data: bytes, read_size: int):
    out = subprocess.run(
        [decode, str(read_size)], input=data, capture_output=True, check=True
    ).stdout.decode()
    lines = out.splitlines()
    assert lines[-1] == f"offset\t{len(data)}"
    found = []
    for line in lines[:-1]:
        event = parse_line(line)
        if event[9] is not None:
            seconds, nanos = event[9]
            micros, rest = divmod(nanos, 1000)
            if rest > 500 or (rest == 500 and micros & 1):
                micros += 1
            event = (
                event[:9]
                + ((seconds + micros // 10**6, micros % 10**6),)
                + (event[10],)
            )
        found.append(event)
    return found


def py_read(data: bytes, read_size: int):
    decoder = PyDecoder()
    found = []
    for start in range(0, len(data), read_size):
        found.extend(decoder.feed(data[start : start + read_size]))
    return [python_side(e) for e in found + decoder.close()]


def test_c_reader_program_agrees_with_the_python_decoder(tools):
    rng = random.Random(66)
    clean = b"".join(
        py_encode(
            test_id=f"pkg.t{n}",
            test_status="success",
            test_tags={"unit", f"w{n % 3}"},
            route_code=str(n % 3),
            timestamp=EPOCH.replace(year=2026, microsecond=n * 7),
            parent_test_id="pkg" if n % 5 == 0 else None,
        )
        for n in range(60)
    )
    clean += py_encode(test_id="big", file_name="log", file_bytes=b"z" * 40000)
    inputs = [clean, b"plain text \xc2\xb3 only", bytes(range(256)) * 8]
    for _ in range(12):
        data = bytearray(clean)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        cut = rng.randrange(len(data))
        inputs.append(bytes(data[:cut]) + b"noise\xb3\x29" + bytes(data[cut:]))
    for data in inputs:
        for read_size in (1 + rng.randrange(40), 4096, 65536):
            assert c_read(tools[1], data, read_size) == py_read(data, read_size)
