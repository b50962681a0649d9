"""Codec benchmark: subunit2 (compiled and pure Python) against python-subunit.

    python bench/bench_codec.py [--tests 100000] [--repeat 3] [--memory]

Decodes the same synthetic stream (see streams.py: 4 workers, 5% failing with 2 KiB
tracebacks, timestamps and tags on every event) into a do-nothing result with
subunit2's compiled decoder (when built), its pure-Python decoder and python-subunit's,
and encodes the same events with each writer; prints the best time of each, the
ratios to python-subunit, and where subunit2's decode time goes (decoding alone vs
delivering the status() calls).  All sides run in the same process run, so the
ratios hold on a noisy machine.  ``--memory`` also decodes 100k- and 1M-test
streams from files in child processes and prints each one's peak RSS.  Needs
python-subunit and testtools installed (the test extra); they are compared, never
used by subunit2 itself.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import streams  # noqa: E402


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


class Counter:
    """A do-nothing result that counts status() calls (both APIs' keywords)."""

    def __init__(self) -> None:
        self.count = 0

    def startTestRun(self) -> None:
        pass

    def stopTestRun(self) -> None:
        pass

    def status(self, **kwargs) -> None:
        self.count += 1


def implementation() -> str:
    from subunit2 import _accel

    return _accel.IMPLEMENTATION


def compare(tests: int, repeat: int) -> None:
    import subunit

    from subunit2 import StreamWriter, read_stream
    from subunit2.decoder import Decoder as ActiveDecoder
    from subunit2.decoder import PyDecoder
    from subunit2.encoder import PyEncoder
    from subunit2.event import deliver_all as py_deliver_all
    from subunit2.reader import deliver_all

    events = list(streams.events(tests))
    out = io.BytesIO()
    writer = StreamWriter(out)
    for kwargs in events:
        writer.status(**kwargs)
    data = out.getvalue()
    active = implementation()
    print(
        f"stream: {tests} tests, {len(events)} packets, {len(data) / 2**20:.1f} MiB; "
        f"active subunit2 codec: {active}"
    )
    counters = []

    def counted():
        counter = Counter()
        counters.append(counter)
        return counter

    def decode_active():
        read_stream(io.BytesIO(data), counted())

    def decode_pure():
        # read_stream's loop with the pure-Python decoder and delivery.
        source, result, decoder = io.BytesIO(data), counted(), PyDecoder()
        while True:
            chunk = source.read(65536)
            if not chunk:
                break
            py_deliver_all(decoder.feed(chunk), result)
        py_deliver_all(decoder.close(), result)

    def decode_theirs():
        subunit.ByteStreamToStreamResult(
            io.BytesIO(data), non_subunit_name="stdout"
        ).run(counted())

    def encode_active():
        w = StreamWriter(io.BytesIO())
        for kwargs in events:
            w.status(**kwargs)

    def encode_pure():
        w = StreamWriter(io.BytesIO())
        w.__dict__.pop("status", None)  # the Python status() of the class
        w._encode = PyEncoder().encode
        for kwargs in events:
            w.status(**kwargs)

    def encode_theirs():
        w = subunit.StreamResultToBytes(io.BytesIO())
        for kwargs in events:
            w.status(**kwargs)

    def feed(decoder_class):
        def run():
            decoder = decoder_class()
            for start in range(0, len(data), 65536):
                decoder.feed(data[start : start + 65536])
            decoder.close()

        return run

    decoded = ActiveDecoder().feed(data)

    rows = []
    for name, sides in (
        ("decode", (decode_active, decode_pure, decode_theirs)),
        ("encode", (encode_active, encode_pure, encode_theirs)),
    ):
        mine, pure, peer = (best_of(repeat, side) for side in sides)
        rows.append((name, mine, pure, peer))
    if any(c.count != len(events) for c in counters):
        sys.exit(f"event counts differ: {sorted({c.count for c in counters})}")
    print(
        f"{'':8}{'subunit2':>10}{'(' + active + ')':>9}{'pure':>9}"
        f"{'python-subunit':>16}{'ratio':>8}{'pure ratio':>12}{'events/s':>12}"
    )
    for name, mine, pure, peer in rows:
        print(
            f"{name:8}{mine:17.3f}s{pure:8.3f}s{peer:15.3f}s{peer / mine:7.1f}x"
            f"{peer / pure:11.1f}x{len(events) / mine:12,.0f}"
        )
    parts = [
        ("decoding only (feed/close)", best_of(repeat, feed(ActiveDecoder))),
        ("  the same, pure Python", best_of(repeat, feed(PyDecoder))),
        (
            "delivering only (status() calls)",
            best_of(repeat, lambda: deliver_all(decoded, Counter())),
        ),
        (
            "  the same, pure Python",
            best_of(repeat, lambda: py_deliver_all(decoded, Counter())),
        ),
    ]
    print("where subunit2's decode time goes:")
    for label, seconds in parts:
        print(f"  {label:34}{seconds:7.3f}s{seconds * 1e9 / len(events):8.0f} ns/event")


def peak_rss_child(path: str) -> None:
    """Child mode: decode ``path`` into a do-nothing result, print peak RSS in KiB."""
    from subunit2 import read_stream

    result = Counter()
    with open(path, "rb") as f:
        read_stream(f, result)
    print(f"{peak_rss_kib()} {result.count}")


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    Linux's VmHWM belongs to the address space exec created; ru_maxrss would carry
    over the peak of the (large) benchmark process that forked this one.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(sizes=(100_000, 1_000_000)) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures = []
        for tests in sizes:
            path = os.path.join(tmp, f"{tests}.subunit")
            size = streams.write_stream(path, tests)
            out = subprocess.run(
                [sys.executable, __file__, "--peak-rss", path],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            figures.append((tests, size, int(out[0]), int(out[1])))
            os.unlink(path)
    for tests, size, peak, count in figures:
        print(
            f"decode {tests:>9,} tests ({size / 2**20:6.1f} MiB, {count:,} events): "
            f"peak RSS {peak / 1024:6.1f} MiB"
        )
    growth = (figures[-1][2] - figures[0][2]) / 1024
    print(f"peak growth from {sizes[0]:,} to {sizes[-1]:,} tests: {growth:+.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--peak-rss", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_rss:
        peak_rss_child(args.peak_rss)
        return
    compare(args.tests, args.repeat)
    if args.memory:
        memory()


if __name__ == "__main__":
    main()
