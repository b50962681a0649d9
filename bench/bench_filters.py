"""Filter benchmark: subunit2's commands against python-subunit's, side by side.

    python bench/bench_filters.py [--tests 100000] [--repeat 3] [--pure-python]
                                  [--memory-tests 1000000] [--compare-memory]

Writes the synthetic streams of streams.py (4 workers, 5% failing with 2 KiB
tracebacks) to bench/out/, then runs each command of both projects as a child
process on the same file (standard input from the file, standard output to
/dev/null) and prints the best wall time of each, the ratio, and each child's peak
RSS (``os.wait4``'s ``ru_maxrss``).  python-subunit's commands are run through
their Python API (``from subunit.filter_scripts.<name> import main; main()``) so
the same-named console scripts on PATH cannot be confused with ours.

``--memory-tests`` (default 1M; 0 skips it) runs our commands once more on a stream
of that many tests and prints their peak RSS against the 64 MiB target;
``--compare-memory`` runs python-subunit's there too (slow: about half a minute
per command).  Our commands use the compiled codec when it is built;
``--pure-python`` forces the pure-Python one (the header says which ran).
Commands another part of the project has not written yet are listed as skipped.
The benchmark process itself imports neither project, and streams are generated
in a child, so each child's ``ru_maxrss`` is its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import List, NamedTuple, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
SPEED_TARGET = 5.0
MEMORY_TARGET_MIB = 64.0


class Tool(NamedTuple):
    name: str
    ours: str  # module in subunit2.filters
    theirs: str  # module in subunit.filter_scripts
    args: Tuple[str, ...] = ()


TOOLS = [
    Tool("subunit-stats", "subunit_stats", "subunit_stats"),
    Tool("subunit-ls", "subunit_ls", "subunit_ls"),
    Tool("subunit-filter", "subunit_filter", "subunit_filter"),
    Tool("subunit-filter -s", "subunit_filter", "subunit_filter", ("-s",)),
    Tool("subunit2csv", "subunit2csv", "subunit2csv"),
    Tool("subunit-2to1", "subunit_2to1", "subunit_2to1"),
]


class Run(NamedTuple):
    seconds: float
    peak_mib: float
    code: int


def stream_file(tests: int) -> str:
    """The stream of ``tests`` tests in bench/out/, written (by a child) if absent."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"stream-{tests}.subunit")
    if not os.path.exists(path):
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import streams; "
            "streams.write_stream(sys.argv[2] + '.part', int(sys.argv[3]))"
        )
        subprocess.run([sys.executable, "-c", code, HERE, path, str(tests)], check=True)
        os.replace(path + ".part", path)
    return path


def command(package: str, module: str, args: Tuple[str, ...]) -> List[str]:
    code = f"import sys; from {package}.{module} import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


def run_once(argv: List[str], path: str) -> Run:
    """Run ``argv`` with ``path`` as standard input; wall time and peak RSS."""
    with open(path, "rb") as source, open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=source, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024.0, proc.returncode)


def available(module: str) -> bool:
    """Whether our command ``module`` has been written (checked without importing
    anything, so this process stays small)."""
    return os.path.exists(os.path.join(HERE, os.pardir, "filters", module + ".py"))


def codec() -> str:
    """Which codec our commands use in a child with this environment."""
    code = "from subunit2.decoder import IMPLEMENTATION as I; print(I)"
    try:
        found = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return found.stdout.strip() or "python"


def compare(tests: int, repeat: int) -> None:
    path = stream_file(tests)
    size = os.path.getsize(path) / 2**20
    print(
        f"{tests:,} tests, {size:.1f} MiB ({path}); best of {repeat}; "
        f"speed target {SPEED_TARGET:g}x; subunit2 codec: {codec()}"
    )
    print()
    print(
        "| command | subunit2 | python-subunit | ratio "
        "| peak RSS ours | theirs | note |"
    )
    print("|---|---|---|---|---|---|---|")
    for tool in TOOLS:
        if not available(tool.ours):
            print(
                f"| {tool.name} | - | - | - | - | - | skipped: "
                f"subunit2.filters.{tool.ours} does not exist yet |"
            )
            continue
        # Interleave the two sides so drift in machine load hits both alike.
        ours_runs, theirs_runs = [], []
        for _ in range(repeat):
            ours_runs.append(
                run_once(command("subunit2.filters", tool.ours, tool.args), path)
            )
            theirs_runs.append(
                run_once(
                    command("subunit.filter_scripts", tool.theirs, tool.args), path
                )
            )
        ours = Run(
            min(r.seconds for r in ours_runs),
            max(r.peak_mib for r in ours_runs),
            ours_runs[-1].code,
        )
        theirs = Run(
            min(r.seconds for r in theirs_runs),
            max(r.peak_mib for r in theirs_runs),
            theirs_runs[-1].code,
        )
        ratio = theirs.seconds / ours.seconds
        notes = []
        if ours.code not in (0, 1):
            notes.append(f"ours exited {ours.code}")
        if theirs.code not in (0, 1):
            notes.append(f"theirs exited {theirs.code}")
        notes.append("meets target" if ratio >= SPEED_TARGET else "BELOW TARGET")
        print(
            f"| {tool.name} | {ours.seconds:.3f} s | {theirs.seconds:.3f} s | "
            f"{ratio:.1f}x | {ours.peak_mib:.1f} MiB | {theirs.peak_mib:.1f} MiB | "
            f"{'; '.join(notes)} |"
        )


def memory(tests: int, both: bool) -> None:
    path = stream_file(tests)
    size = os.path.getsize(path) / 2**20
    print()
    print(
        f"Peak RSS on {tests:,} tests ({size:.1f} MiB); "
        f"target {MEMORY_TARGET_MIB:g} MiB for ours"
    )
    print()
    print("| command | subunit2 | python-subunit | note |")
    print("|---|---|---|---|")
    seen = set()
    for tool in TOOLS:
        if tool.ours in seen and not tool.args:
            continue
        seen.add(tool.ours)
        if not available(tool.ours):
            print(f"| {tool.name} | - | - | skipped: not written yet |")
            continue
        ours = run_once(command("subunit2.filters", tool.ours, tool.args), path)
        theirs: Optional[Run] = None
        if both:
            theirs = run_once(
                command("subunit.filter_scripts", tool.theirs, tool.args), path
            )
        within = ours.peak_mib <= MEMORY_TARGET_MIB
        print(
            f"| {tool.name} | {ours.peak_mib:.1f} MiB ({ours.seconds:.1f} s) | "
            + (f"{theirs.peak_mib:.1f} MiB ({theirs.seconds:.1f} s)" if theirs else "-")
            + f" | {'meets target' if within else 'ABOVE TARGET'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-tests", type=int, default=1_000_000)
    parser.add_argument("--compare-memory", action="store_true")
    parser.add_argument(
        "--pure-python",
        action="store_true",
        help="run our commands with the pure-Python codec (SUBUNIT2_PURE_PYTHON=1)",
    )
    args = parser.parse_args()
    if args.pure_python:
        os.environ["SUBUNIT2_PURE_PYTHON"] = "1"  # inherited by every child
    if args.tests < 1 or args.repeat < 1 or args.memory_tests < 0:
        parser.error("--tests and --repeat must be positive, --memory-tests >= 0")
    compare(args.tests, args.repeat)
    if args.memory_tests:
        memory(args.memory_tests, args.compare_memory)


if __name__ == "__main__":
    main()
