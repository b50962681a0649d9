"""subunit-combine with real child processes: live merging, input routing to the
right child only, --list/--load-list, configuration, failures and Ctrl-C."""

from __future__ import annotations

import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time

import pytest

from subunit2 import Decoder, Event, decode_bytes, encode

MODULE = "subunit2.filters.subunit_combine"

# One producer script for every child: argv[1] names the child, the rest says
# what to do.  It uses subunit2.StreamWriter, as a real test runner would.
CHILD = r"""
import os, signal, sys, time
from subunit2 import StreamWriter, read_stream
from subunit2.result import StreamResult

name, args = sys.argv[1], sys.argv[2:]
out = StreamWriter(sys.stdout)
if "--list" in args or "--collect" in args:
    for n in range(2):
        out.status(test_id=f"{name}.t{n}", test_status="exists")
    sys.exit(0)
option = "--ids" if "--ids" in args else "--load-list"
if option in args:
    with open(args[args.index(option) + 1], encoding="utf-8") as ids:
        for line in filter(None, ids.read().splitlines()):
            out.status(test_id=f"{name}:{line}", test_status="success")
    sys.exit(0)
if "echo" in args:  # report every packet that arrives on stdin
    out.status(test_id=f"{name}.ready", test_status="success")

    class Echo(StreamResult):
        def status(self, **event):
            seen = {k: v for k, v in event.items() if v not in (None, False, True)}
            seen["eof"] = event["eof"]
            seen["file_bytes"] = (event["file_bytes"] or b"").decode()
            out.status(
                test_id=f"{name}.got", test_status="success", file_name="seen",
                file_bytes=repr(sorted(seen.items())).encode(), eof=True,
            )

    read_stream(sys.stdin, Echo())
    out.status(test_id=f"{name}.done", test_status="success")
    sys.exit(0)
if "sleep" in args:
    out.status(test_id=f"{name}.pid-{os.getpid()}", test_status="success")
    time.sleep(60)
    sys.exit(0)
if "garbage" in args:
    sys.stdout.buffer.write(b"not a packet\n")
    bad = bytearray(__import__("subunit2").encode(test_id="x", test_status="success"))
    bad[-1] ^= 0xFF
    sys.stdout.buffer.write(bytes(bad))
    sys.stdout.flush()
if "kill" in args:
    out.status(test_id=f"{name}.before", test_status="inprogress")
    os.kill(os.getpid(), signal.SIGKILL)
for n in range(3):
    out.status(test_id=f"{name}.t{n}", test_status="inprogress")
    out.status(test_id=f"{name}.t{n}", test_status="success")
if "fail1" in args:  # a runner whose tests failed: says which, then exits 1
    out.status(test_id=f"{name}.broken", test_status="fail")
    sys.exit(1)
if "exit3" in args:
    sys.exit(3)
"""


@pytest.fixture()
def child(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    def command(*args: str) -> str:
        return shlex.join([sys.executable, str(script), *args])

    return command


def run(*args: str, stdin: bytes = b"", cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=cwd,
    )


def by_route(events) -> dict:
    routes: dict = {}
    for event in events:
        routes.setdefault(event.route_code, []).append(event)
    return routes


def ids(events) -> list:
    return [e.test_id for e in events if e.test_status not in (None, "inprogress")]


def test_children_are_merged_under_their_index(child):
    result = run("-c", child("a"), "-c", child("b"))
    assert (result.returncode, result.stderr) == (0, b"")
    routes = by_route(decode_bytes(result.stdout))
    assert set(routes) == {"0", "1"}
    assert ids(routes["0"]) == ["a.t0", "a.t1", "a.t2"]
    assert ids(routes["1"]) == ["b.t0", "b.t1", "b.t2"]


def read_until(process, decoder, seen: list, wanted, timeout: float = 20.0) -> None:
    """Decode combine's output as it arrives until ``wanted(seen)`` holds."""
    deadline = time.monotonic() + timeout
    fd = process.stdout.fileno()
    while not wanted(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; seen {[e.test_id for e in seen]}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data = os.read(fd, 65536)
            assert data, "combine ended early"
            seen.extend(decoder.feed(data))


def echoes(events, route: str) -> list:
    return [
        e.file_bytes.decode()
        for e in events
        if e.route_code == route and e.file_name == "seen"
    ]


def test_input_is_routed_live_to_the_addressed_child_only(child):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "-c",
            child("a", "echo"),
            "-c",
            child("b", "echo"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        decoder, seen = Decoder(), []
        # Both children are still running (they wait on their input), yet their
        # first events are already merged: the merge is live.
        read_until(
            process,
            decoder,
            seen,
            lambda s: {"a.ready", "b.ready"} <= {e.test_id for e in s},
        )
        packets = [
            Event(
                test_id="t1",
                file_name="stdin",
                file_bytes=b"continue\n",
                eof=True,
                route_code="0",
            ),
            Event(test_id="t2", file_name="stdin", file_bytes=b"p x", route_code="1/3"),
            Event(test_id="nowhere", file_name="stdin", file_bytes=b"?"),
            Event(test_id="t", file_name="stdin", file_bytes=b"?", route_code="7"),
            Event(test_id="t", file_name="stdin", file_bytes=b"?", route_code="x/1"),
        ]
        data = b"".join(encode(**p.kwargs()) for p in packets) + b"stray typing\n"
        process.stdin.write(data)
        process.stdin.flush()
        read_until(process, decoder, seen, lambda s: len(echoes(s, "0")) == 1)
        assert echoes(seen, "0") == [
            "[('eof', True), ('file_bytes', 'continue\\n'), ('file_name', 'stdin'),"
            " ('test_id', 't1')]"
        ]
        rest, errors = process.communicate(timeout=30)  # closes its stdin
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    events = seen + decoder.feed(rest) + decoder.close()
    assert process.returncode == 0, errors
    assert echoes(events, "0") == echoes(seen, "0")  # nothing more for child 0
    assert echoes(events, "1") == [
        "[('eof', False), ('file_bytes', 'p x'), ('file_name', 'stdin'),"
        " ('route_code', '3'), ('test_id', 't2')]"
    ]
    routes = by_route(events)
    assert ids(routes["0"])[-1] == "a.done" and ids(routes["1"])[-1] == "b.done"
    warnings = errors.decode().splitlines()
    assert len(warnings) == 4, warnings
    assert all(w.startswith("subunit-combine: warning: ") for w in warnings)
    assert "'nowhere' has no route code" in warnings[0]
    assert "'7'" in warnings[1] and "'x/1'" in warnings[2]
    assert "13 bytes of non-subunit input" in warnings[3]


def test_failed_children_are_reported_in_band_and_in_the_exit_code(child):
    result = run(
        "-c",
        child("ok"),
        "-c",
        child("bad", "exit3"),
        "-c",
        child("k", "kill"),
        "-c",
        "/nonexistent/runner --x",
    )
    assert result.returncode == 1
    assert result.stderr == b""
    events = decode_bytes(result.stdout)
    reports = {
        e.route_code: e.file_bytes.decode()
        for e in events
        if e.test_id
        and e.test_id.startswith("subunit-combine[")
        and e.file_name == "reason"
    }
    assert set(reports) == {"1", "2", "3"}
    assert "exited with status 3" in reports["1"] and "bad" in reports["1"]
    assert "killed by SIGKILL" in reports["2"]
    assert (
        "could not be started" in reports["3"] and "/nonexistent/runner" in reports["3"]
    )
    finals = {e.test_id: e.test_status for e in events if e.test_id and e.test_status}
    assert finals["subunit-combine[1]"] == "fail"
    assert finals["k.before"] == "inprogress"  # left incomplete, as it was
    assert ids(by_route(events)["1"])[:3] == ["bad.t0", "bad.t1", "bad.t2"]
    unjudged = run("--no-verdict", "-c", child("bad", "exit3"))
    assert unjudged.returncode == 0


def test_exit_1_explained_by_the_childs_failing_tests_adds_no_synthetic_test(child):
    result = run("-c", child("ok"), "-c", child("f", "fail1"))
    assert result.returncode == 1  # the run still fails
    finals = {
        e.test_id: e.test_status for e in decode_bytes(result.stdout) if e.test_status
    }
    assert finals["f.broken"] == "fail"
    assert not any(t.startswith("subunit-combine[") for t in finals)
    # exit 1 with no failing test of its own is still reported in band
    silent = run("-c", child("s", "exit3"))
    assert "subunit-combine[0]" in {e.test_id for e in decode_bytes(silent.stdout)}


def test_garbage_is_kept_in_band_or_dropped_with_no_passthrough(child):
    result = run("-c", child("g", "garbage"))
    assert result.returncode == 1  # the corrupt packet
    events = decode_bytes(result.stdout)
    stray = b"".join(
        e.file_bytes for e in events if e.test_id is None and e.file_name == "stdout"
    )
    assert stray.startswith(b"not a packet\n") and all(
        e.route_code == "0" for e in events
    )
    assert any(
        e.test_id == "subunit.parser" and e.test_status == "fail" for e in events
    )
    quiet = decode_bytes(run("--no-passthrough", "-c", child("g", "garbage")).stdout)
    assert not [e for e in quiet if e.test_id is None]
    assert ids(quiet)[-3:] == ["g.t0", "g.t1", "g.t2"]


def test_list_appends_the_list_option_to_each_child(child, tmp_path):
    result = run("--list", "-c", child("a"), "-c", child("b"))
    assert result.returncode == 0
    events = decode_bytes(result.stdout)
    assert {(e.test_id, e.test_status, e.route_code) for e in events} == {
        ("a.t0", "exists", "0"),
        ("a.t1", "exists", "0"),
        ("b.t0", "exists", "1"),
        ("b.t1", "exists", "1"),
    }
    other = run("--list", "--list-option=--collect", "-c", child("a"))
    assert ids(decode_bytes(other.stdout)) == ["a.t0", "a.t1"]


def test_load_list_partitions_round_robin_or_gives_all(child, tmp_path):
    id_file = tmp_path / "ids.txt"
    id_file.write_text("one\ntwo words\n\nthree\n")
    result = run("--load-list", str(id_file), "-c", child("a"), "-c", child("b"))
    assert result.returncode == 0, result.stderr
    routes = by_route(decode_bytes(result.stdout))
    assert ids(routes["0"]) == ["a:one", "a:three"]
    assert ids(routes["1"]) == ["b:two words"]
    everyone = run(
        "--load-list",
        str(id_file),
        "--load-list-mode",
        "all",
        "-c",
        child("a"),
        "-c",
        child("b"),
    )
    routes = by_route(decode_bytes(everyone.stdout))
    assert ids(routes["0"]) == ["a:one", "a:two words", "a:three"]
    assert ids(routes["1"]) == ["b:one", "b:two words", "b:three"]
    many = run(
        "--load-list", str(id_file), *sum((["-c", child(n)] for n in "pqrs"), [])
    )
    assert many.returncode == 0
    assert set(by_route(decode_bytes(many.stdout))) == {"0", "1", "2"}  # s: no share


def test_config_files_json_and_toml(child, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"commands": [child("a"), ["/nonexistent/x"]]}))
    result = run("--config", str(config), "-c", child("c"))
    routes = by_route(decode_bytes(result.stdout))
    assert ids(routes["0"]) == ["a.t0", "a.t1", "a.t2"]
    assert ids(routes["1"]) == ["subunit-combine[1]"]
    assert ids(routes["2"]) == ["c.t0", "c.t1", "c.t2"]
    pytest.importorskip("tomllib")
    toml = tmp_path / "c.toml"
    toml.write_text(
        f"commands = [{json.dumps(child('t'))}]\nlist_option = '--collect'\n"
    )
    listed = run("--config", str(toml), "--list")
    assert ids(decode_bytes(listed.stdout)) == ["t.t0", "t.t1"]


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (["--config", "{dir}/bad.json"], 2, "unknown key 'command'"),
        (["--config", "{dir}/missing.json"], 3, "missing.json"),
        (["-c", "a 'unbalanced"], 2, "cannot split"),
        (["--list"], 2, "need commands"),
        (["--load-list", "{dir}/none.txt", "-c", "x"], 3, "none.txt"),
        (["-", "-"], 2, "only once"),
        (["--bogus"], 2, "unrecognized"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, args, code, needle):
    (tmp_path / "bad.json").write_text('{"command": []}')
    result = run(*(a.format(dir=tmp_path) for a in args))
    assert result.returncode == code
    text = result.stderr.decode()
    assert needle in text and "Traceback" not in text
    assert text.startswith("subunit-combine: ") or text.startswith("usage:")


def test_stream_files_and_stdin_merge_like_children(tmp_path):
    first = tmp_path / "a.subunit"
    first.write_bytes(encode(test_id="a", test_status="success", route_code="2"))
    piped = encode(test_id="p", test_status="fail")
    result = run(str(first), "-", stdin=piped)
    assert result.returncode == 0
    merged = sorted((e.test_id, e.route_code) for e in decode_bytes(result.stdout))
    assert merged == [("a", "0/2"), ("p", "1")]
    alone = run(stdin=piped)
    assert [(e.test_id, e.route_code) for e in decode_bytes(alone.stdout)] == [
        ("p", "0")
    ]
    out = tmp_path / "merged.subunit"
    assert run(str(first), "-o", str(out)).returncode == 0
    assert decode_bytes(out.read_bytes())[0].route_code == "0/2"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_ctrl_c_stops_the_children_and_exits_130(child):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "-c",
            child("a", "sleep"),
            "-c",
            child("b", "sleep"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        decoder, seen = Decoder(), []
        read_until(process, decoder, seen, lambda s: len(s) == 2)
        pids = [int(e.test_id.rsplit("-", 1)[1]) for e in seen]
        assert all(alive(pid) for pid in pids)
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert b"Traceback" not in errors
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_help_documents_routing_and_selection():
    text = run("--help").stdout.decode()
    for needle in (
        "N/rest",
        '"stdin"',
        "--load-list",
        "partition",
        "TOML",
        "130",
    ):
        assert needle.lower() in text.lower()


def test_load_list_option_renames_the_option(child, tmp_path):
    id_file = tmp_path / "ids.txt"
    id_file.write_text("only\n")
    result = run(
        "--load-list", str(id_file), "--load-list-option=--ids", "-c", child("a")
    )
    assert ids(decode_bytes(result.stdout)) == ["a:only"]


def test_no_input_gives_children_an_empty_stdin_and_reads_nothing(child):
    packet = encode(test_id="t", file_name="stdin", file_bytes=b"x", route_code="0")
    result = run("--no-input", "-c", child("a", "echo"), stdin=packet + b"junk")
    assert (result.returncode, result.stderr) == (0, b"")
    events = decode_bytes(result.stdout)
    assert ids(events) == ["a.ready", "a.done"]
    routed = run("-c", child("a", "echo"), stdin=packet)
    assert ids(decode_bytes(routed.stdout)) == ["a.ready", "a.got", "a.done"]
