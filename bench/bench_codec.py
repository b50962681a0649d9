"""Codec benchmark: subunit2 against python-subunit, side by side in one run.

    python bench/bench_codec.py [--tests 100000] [--repeat 3] [--memory]

Decodes the same synthetic stream (see streams.py: 4 workers, 5% failing with 2 KiB
tracebacks, timestamps and tags on every event) into a do-nothing result with both
decoders, and encodes the same events with both writers; prints the best time of each
and the ratios.  ``--memory`` also decodes 100k- and 1M-test streams from files in child
processes and prints each one's peak RSS.  Needs python-subunit and testtools installed
(the test extra); they are compared, never used by subunit2 itself.
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
    import subunit2.decoder as decoder

    return getattr(decoder, "IMPLEMENTATION", "python")


def compare(tests: int, repeat: int) -> None:
    import subunit

    from subunit2 import StreamWriter, read_stream

    events = list(streams.events(tests))
    out = io.BytesIO()
    writer = StreamWriter(out)
    for kwargs in events:
        writer.status(**kwargs)
    data = out.getvalue()
    print(
        f"stream: {tests} tests, {len(events)} packets, {len(data) / 2**20:.1f} MiB; "
        f"subunit2 decoder: {implementation()}"
    )

    ours, theirs = Counter(), Counter()

    def decode_ours():
        ours.count = 0
        read_stream(io.BytesIO(data), ours)

    def decode_theirs():
        theirs.count = 0
        subunit.ByteStreamToStreamResult(
            io.BytesIO(data), non_subunit_name="stdout"
        ).run(theirs)

    def encode_ours():
        w = StreamWriter(io.BytesIO())
        for kwargs in events:
            w.status(**kwargs)

    def encode_theirs():
        w = subunit.StreamResultToBytes(io.BytesIO())
        for kwargs in events:
            w.status(**kwargs)

    rows = []
    for name, mine, peer in (
        ("decode", decode_ours, decode_theirs),
        ("encode", encode_ours, encode_theirs),
    ):
        t_peer = best_of(repeat, peer)
        t_mine = best_of(repeat, mine)
        rows.append((name, t_mine, t_peer))
    if ours.count != theirs.count or ours.count != len(events):
        sys.exit(f"event counts differ: {ours.count} vs {theirs.count}")
    print(f"{'':8}{'subunit2':>12}{'python-subunit':>16}{'ratio':>9}{'events/s':>12}")
    for name, t_mine, t_peer in rows:
        print(
            f"{name:8}{t_mine:11.3f}s{t_peer:15.3f}s{t_peer / t_mine:8.1f}x"
            f"{len(events) / t_mine:12,.0f}"
        )


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
