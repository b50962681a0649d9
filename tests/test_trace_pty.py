"""subunit-trace on a real pseudo-terminal: progress line, colour, summary."""

from __future__ import annotations

import errno
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from subunit2 import Event, encode

pty = pytest.importorskip("pty")

MODULE = "subunit2.filters.subunit_trace"


def packets(events) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def one_test(test_id, status, route):
    return [
        Event(test_id=test_id, test_status="inprogress", route_code=route),
        Event(test_id=test_id, test_status=status, route_code=route),
    ]


FIRST = packets(
    [Event(test_id=f"t.test_{n}", test_status="exists") for n in range(4)]
    + one_test("t.test_0", "success", "0")
    + one_test("t.test_1", "fail", "1")
)
SECOND = packets(
    one_test("t.test_2", "success", "0") + one_test("t.test_3", "skip", "1")
)


def run_on_pty(env_extra: dict) -> tuple:
    """Run subunit-trace with stdout on a pty; feed the stream in two parts."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE],
        stdin=subprocess.PIPE,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    output = bytearray()

    def drain(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError as error:  # EIO: the child closed the terminal
                if error.errno != errno.EIO:
                    raise
                return
            if not chunk:
                return
            output.extend(chunk)

    os.set_blocking(master, True)
    try:
        proc.stdin.write(FIRST)
        proc.stdin.flush()
        # Quiet input: the progress line is still redrawn (elapsed time ticks).
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                output.extend(os.read(master, 65536))
        proc.stdin.write(SECOND)
        proc.stdin.close()
        code = proc.wait(timeout=60)
        drain(5)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read()
    proc.stderr.close()
    return code, bytes(output), stderr


def test_progress_line_colour_and_summary_on_a_terminal():
    code, out, err = run_on_pty({})
    assert err == b""
    assert code == 1  # one failure
    # The progress line: drawn after the first part, with bar, counts and total.
    assert b"\r\x1b[K" in out
    assert b"] 2/4  50%" in out
    assert b"\x1b[32mpass 1\x1b[0m \x1b[1;31mfail 1\x1b[0m" in out
    # Test lines in colour, then the summary; the bar is gone at the end.
    assert b"\x1b[1;31mFAIL\x1b[0m" in out
    assert b"\x1b[36mSKIP\x1b[0m" in out
    assert b"\x1b[1mSummary\x1b[0m" in out
    tail = out.rsplit(b"\r\x1b[K", 1)[1]
    assert b"Summary" in tail and b"%" not in tail
    assert out.rstrip().endswith(b"\x1b[1;31mFAILED (1 failing)\x1b[0m")


def test_no_color_env_turns_colour_off_but_keeps_progress():
    code, out, err = run_on_pty({"NO_COLOR": "1"})
    assert code == 1 and err == b""
    assert b"] 2/4  50%" in out
    assert b"\r\x1b[K" in out
    without_redraws = out.replace(b"\r\x1b[K", b"")
    assert b"\x1b" not in without_redraws
    assert b"FAILED (1 failing)" in out
