"""JUnit XML benchmark: subunit2junitxml and junitxml2subunit, time and peak memory.

    python bench/bench_junitxml.py [--tests 100000 1000000]

For each size, writes the synthetic stream of streams.py (4 workers, 5% failing with
2 KiB tracebacks) to a temporary file, then runs, each in a fresh child process that
reports its own peak RSS:

* ``subunit2junitxml`` (ours) stream -> XML file;
* python-subunit's ``subunit2junitxml`` on the same stream, when it can run in this
  environment (it needs the ``junitxml`` package, which the test extra does not
  install; the line says so when it is missing);
* ``junitxml2subunit`` (ours) on our XML -> stream.

Prints wall-clock and CPU seconds (CPU is the steadier figure on a busy machine), peak
RSS and the ratios.  The target is at most 64 MiB at 1M tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import streams  # noqa: E402

PROBE = """
import resource, sys, time
start = time.perf_counter()
kind = sys.argv[1]
if kind == "ours":
    from subunit2.filters import subunit2junitxml
    code = subunit2junitxml.main([sys.argv[2], "-o", sys.argv[3], "--no-verdict"])
elif kind == "reader":
    from subunit2.filters import junitxml2subunit
    code = junitxml2subunit.main([sys.argv[2], "-o", sys.argv[3]])
else:
    from subunit.filter_scripts.subunit2junitxml import main as theirs
    sys.argv = ["subunit2junitxml", "-o", sys.argv[3], sys.argv[2]]
    try:
        code = theirs()
    except SystemExit as stop:
        code = stop.code
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(code, elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def python_subunit_available() -> str:
    """'' when python-subunit's converter can run here, else why not."""
    try:
        import subunit  # noqa: F401
    except ImportError:
        return "python-subunit is not installed"
    try:
        import junitxml  # noqa: F401
    except ImportError:
        return (
            "python-subunit's subunit2junitxml needs the 'junitxml' package, "
            "which is not installed"
        )
    return ""


def measure(kind: str, source: str, target: str):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, kind, source, target],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not result.stdout.strip():
        return None, result.stderr.strip().splitlines()[-1:] or ["failed"]
    code, elapsed, cpu, peak_kib = result.stdout.split()
    return (float(elapsed), int(peak_kib) / 1024, float(cpu)), None


def mib(path: str) -> float:
    return os.path.getsize(path) / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, nargs="+", default=[100000, 1000000])
    args = parser.parse_args()
    missing = python_subunit_available()
    workdir = tempfile.mkdtemp(prefix="bench-junitxml-")
    try:
        for tests in args.tests:
            stream_path = os.path.join(workdir, f"run-{tests}.subunit")
            start = time.perf_counter()
            streams.write_stream(stream_path, tests)
            print(
                f"\n{tests} tests: stream {mib(stream_path):.1f} MiB "
                f"(made in {time.perf_counter() - start:.1f}s)"
            )
            ours_xml = os.path.join(workdir, f"ours-{tests}.xml")
            ours, error = measure("ours", stream_path, ours_xml)
            if ours is None:
                print(f"  subunit2junitxml (subunit2): failed: {error}")
                continue
            print(
                f"  subunit2junitxml (subunit2):       {ours[0]:7.2f}s "
                f"(CPU {ours[2]:.2f}s) peak RSS {ours[1]:7.1f} MiB  "
                f"-> {mib(ours_xml):.1f} MiB XML"
            )
            if missing:
                print(f"  subunit2junitxml (python-subunit): not run: {missing}")
            else:
                theirs_xml = os.path.join(workdir, f"theirs-{tests}.xml")
                theirs, error = measure("theirs", stream_path, theirs_xml)
                if theirs is None:
                    print(f"  subunit2junitxml (python-subunit): failed: {error}")
                else:
                    print(
                        f"  subunit2junitxml (python-subunit): {theirs[0]:7.2f}s "
                        f"(CPU {theirs[2]:.2f}s) peak RSS {theirs[1]:7.1f} MiB"
                    )
                    print(
                        f"  ratio python-subunit/subunit2: time "
                        f"{theirs[0] / ours[0]:.2f}x, memory "
                        f"{theirs[1] / ours[1]:.2f}x"
                    )
            back = os.path.join(workdir, f"back-{tests}.subunit")
            reader, error = measure("reader", ours_xml, back)
            if reader is None:
                print(f"  junitxml2subunit (subunit2): failed: {error}")
            else:
                print(
                    f"  junitxml2subunit (subunit2):       {reader[0]:7.2f}s "
                    f"(CPU {reader[2]:.2f}s) peak RSS {reader[1]:7.1f} MiB  "
                    f"-> {mib(back):.1f} MiB stream"
                )
            for path in (stream_path, ours_xml, back):
                if os.path.exists(path):
                    os.unlink(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
