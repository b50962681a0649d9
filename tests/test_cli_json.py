"""subunit2json and json2subunit, run as this project's modules in subprocesses."""

from __future__ import annotations

import datetime
import json
import os
import select
import signal
import subprocess
import sys
import sysconfig

import pytest

from subunit2 import Event, decode_bytes, encode
from subunit2.jsonlines import event_to_json

UTC = datetime.timezone.utc
TO_JSON = "subunit2.filters.subunit2json"
TO_SUBUNIT = "subunit2.filters.json2subunit"
KEYS = [
    "test_id",
    "test_status",
    "test_tags",
    "runnable",
    "file_name",
    "file_bytes",
    "eof",
    "mime_type",
    "route_code",
    "timestamp",
    "parent_test_id",
]


def run(module: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def stamp(micro: int) -> datetime.datetime:
    return datetime.datetime(2024, 5, 6, 7, 8, 9, micro, tzinfo=UTC)


EVENTS = [
    Event(test_id="pkg.T.test_a", test_status="exists", test_tags={"slow", "db"}),
    Event(test_id="pkg.T.test_b", test_status="exists", runnable=False),
    Event(test_id="pkg.T.test_a", test_status="inprogress", timestamp=stamp(1)),
    Event(
        test_id="pkg.T.test_a",
        file_name="stdout",
        file_bytes=b"hello \xff\x00 world\n",
        mime_type="text/plain;charset=utf8",
        route_code="0",
        timestamp=stamp(123456),
    ),
    Event(
        test_id="pkg.T.test_a (i=1)",
        test_status="fail",
        parent_test_id="pkg.T.test_a",
        file_name="traceback",
        file_bytes=b"Traceback...\n",
        eof=True,
        route_code="0/1",
        test_tags=set(),
        timestamp=stamp(999999),
    ),
    Event(test_id="pkg.T.test_a", test_status="success", test_tags={"worker-0"}),
    Event(
        test_id="pkg.T.test_b",
        test_status="skip",
        file_name="reason",
        file_bytes=b"no db",
        eof=True,
        mime_type="text/plain",
    ),
    Event(test_id="ünïcode ✓", test_status="xfail", route_code="1"),
    Event(test_id="u", test_status="uxsuccess"),
    Event(file_name="stderr", file_bytes=b"", eof=True),
    Event(timestamp=stamp(0)),
]


def written(events, **options) -> bytes:
    """The bytes this project's writer produces for ``events``."""
    return b"".join(encode(**e.kwargs(), **options) for e in events)


STREAM = written(EVENTS)


def json_lines(stdout: bytes) -> list:
    return [json.loads(line) for line in stdout.decode("utf-8").splitlines()]


def test_subunit2json_one_object_per_event_with_exact_keys():
    result = run(TO_JSON, stdin=STREAM)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout.endswith(b"\n")
    objects = json_lines(result.stdout)
    assert [list(obj) for obj in objects] == [KEYS] * len(EVENTS)
    assert objects == [event_to_json(e) for e in EVENTS]
    assert objects[4]["timestamp"] == "2024-05-06T07:08:09.999999Z"
    assert objects[4]["test_tags"] == []
    assert objects[0]["test_tags"] == ["db", "slow"]
    assert objects[3]["file_bytes"] == "aGVsbG8g/wAgd29ybGQK"
    assert b" " not in result.stdout.split(b"\n")[1]  # compact separators


def test_round_trip_is_byte_for_byte():
    as_json = run(TO_JSON, stdin=STREAM)
    back = run(TO_SUBUNIT, stdin=as_json.stdout)
    assert back.returncode == 0, back.stderr
    assert back.stderr == b""
    assert back.stdout == STREAM


def test_round_trip_of_a_split_attachment():
    big = bytes(range(256)) * (4_300_000 // 256)
    stream = written([Event(test_id="t", file_name="log", file_bytes=big, eof=True)])
    assert len(decode_bytes(stream)) == 2  # larger than one packet
    as_json = run(TO_JSON, stdin=stream)
    assert len(json_lines(as_json.stdout)) == 2
    assert run(TO_SUBUNIT, stdin=as_json.stdout).stdout == stream


def test_mixed_input_keeps_every_byte_as_events():
    corrupt = bytearray(encode(test_id="x", test_status="success"))
    corrupt[-1] ^= 0xFF
    mixed = b"collecting...\n" + STREAM + b"\xb3 stray\n" + bytes(corrupt) + b"end"
    as_json = run(TO_JSON, stdin=mixed)
    assert as_json.returncode == 0
    objects = json_lines(as_json.stdout)
    assert objects[0]["file_name"] == "stdout" and objects[0]["test_id"] is None
    assert objects[0]["file_bytes"] == "Y29sbGVjdGluZy4uLgo="
    back = run(TO_SUBUNIT, stdin=as_json.stdout)
    assert back.returncode == 0
    assert decode_bytes(back.stdout) == decode_bytes(mixed)


def test_v2_only_drops_parent_ids():
    as_json = run(TO_JSON, stdin=STREAM).stdout
    back = run(TO_SUBUNIT, "--v2-only", stdin=as_json)
    assert back.returncode == 0
    assert back.stdout == written(EVENTS, v2_only=True)
    assert all(e.parent_test_id is None for e in decode_bytes(back.stdout))


def test_files_and_output_option(tmp_path):
    stream_file = tmp_path / "in.subunit"
    stream_file.write_bytes(STREAM)
    json_file = tmp_path / "out.jsonl"
    result = run(TO_JSON, str(stream_file), "-o", str(json_file))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert json_lines(json_file.read_bytes()) == [event_to_json(e) for e in EVENTS]
    back_file = tmp_path / "back.subunit"
    result = run(TO_SUBUNIT, "--output", str(back_file), str(json_file))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert back_file.read_bytes() == STREAM
    result = run(TO_SUBUNIT, "-", stdin=json_file.read_bytes())  # - is stdin
    assert result.stdout == STREAM


def test_empty_input_is_empty_output():
    for module in (TO_JSON, TO_SUBUNIT):
        result = run(module)
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def three_lines_bad_third() -> bytes:
    good = "".join(
        json.dumps(event_to_json(test_id=f"t{i}", test_status="success")) + "\n"
        for i in (1, 2)
    )
    return (good + '{"test_id": "t3", \n' + '{"test_id": "t4"}\n').encode()


def assert_one_line_error(stderr: bytes, *needles: str) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, text
    return text


def test_bad_json_line_3_to_stdout():
    result = run(TO_SUBUNIT, stdin=three_lines_bad_third())
    assert result.returncode == 3
    text = assert_one_line_error(result.stderr, "json2subunit: ", "line 3")
    assert "JSON" in text
    assert [e.test_id for e in decode_bytes(result.stdout)] == ["t1", "t2"]


def test_bad_json_line_3_to_file(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(three_lines_bad_third())
    out = tmp_path / "out.subunit"
    result = run(TO_SUBUNIT, str(source), "-o", str(out))
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "line 3")
    assert [e.test_id for e in decode_bytes(out.read_bytes())] == ["t1", "t2"]


@pytest.mark.parametrize(
    "line, needles",
    [
        ('{"test_id": "a", "stauts": "fail"}', ["line 2", "stauts", "unknown key"]),
        ('{"test_status": "passed"}', ["line 2", "test_status"]),
        ('{"test_tags": "a,b"}', ["line 2", "test_tags"]),
        ('{"runnable": "yes"}', ["line 2", "runnable"]),
        ('{"file_name": "x", "file_bytes": "%%%"}', ["line 2", "file_bytes"]),
        ('{"timestamp": "2024-01-02 03:04"}', ["line 2", "timestamp"]),
        ('{"file_bytes": "AA=="}', ["line 2", "file_name"]),
        ('{"test_id": "a\\u0000b"}', ["line 2", "test_id"]),
        ('["not", "an", "object"]', ["line 2", "JSON object"]),
    ],
)
def test_bad_fields_name_line_and_key(line, needles):
    result = run(TO_SUBUNIT, stdin=('{"test_id": "ok"}\n' + line + "\n").encode())
    assert result.returncode == 3
    assert_one_line_error(result.stderr, *needles)
    assert result.stdout == encode(test_id="ok")


@pytest.mark.parametrize(
    "module, name", [(TO_JSON, "subunit2json"), (TO_SUBUNIT, "json2subunit")]
)
def test_missing_file_is_exit_3_one_line(module, name, tmp_path):
    missing = str(tmp_path / "nope")
    result = run(module, missing)
    assert result.returncode == 3
    assert_one_line_error(result.stderr, f"{name}: ", missing, "No such file")
    assert result.stdout == b""


@pytest.mark.parametrize("module", [TO_JSON, TO_SUBUNIT])
def test_unwritable_output_is_exit_3(module, tmp_path):
    result = run(module, "-o", str(tmp_path / "no" / "such" / "dir"))
    assert result.returncode == 3
    assert_one_line_error(result.stderr, "No such file")


@pytest.mark.parametrize("module", [TO_JSON, TO_SUBUNIT])
def test_bad_option_is_exit_2(module):
    result = run(module, "--no-such-option")
    assert result.returncode == 2
    assert b"--no-such-option" in result.stderr
    assert b"Traceback" not in result.stderr
    result = run(module, "a", "b")  # one input file at most
    assert result.returncode == 2


@pytest.mark.parametrize(
    "module, name", [(TO_JSON, "subunit2json"), (TO_SUBUNIT, "json2subunit")]
)
def test_help_and_version(module, name):
    result = run(module, "--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.startswith(f"usage: {name}")
    assert "exit codes" in text
    for code in ("0 ", "2 ", "3 ", "141"):
        assert f"  {code}" in text
    result = run(module, "--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith(f"{name} (subunit2) ")


def closed_pipe(module: str, source) -> tuple:
    """Run ``module`` on ``source``, read a little of its output, then hang up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.read(20)
    proc.stdout.close()
    try:
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    return first, proc.returncode, stderr


@pytest.fixture(scope="module")
def long_stream(tmp_path_factory) -> tuple:
    """Files holding a stream and its JSON lines, far larger than a pipe buffer."""
    path = tmp_path_factory.mktemp("long")
    stream = written(
        Event(test_id=f"test_{i}", test_status="success", timestamp=stamp(i))
        for i in range(6000)
    )
    (path / "s").write_bytes(stream)
    (path / "j").write_bytes(run(TO_JSON, stdin=stream).stdout)
    return path / "s", path / "j"


@pytest.mark.parametrize("module, which", [(TO_JSON, 0), (TO_SUBUNIT, 1)])
def test_closed_pipe_downstream_is_141_and_quiet(module, which, long_stream):
    with open(long_stream[which], "rb") as source:
        first, code, stderr = closed_pipe(module, source)
    assert first
    assert code == 141
    assert stderr == b""


LIVE_EVENT = Event(test_id="live", test_status="inprogress")


@pytest.mark.parametrize("module", [TO_JSON, TO_SUBUNIT])
def test_output_is_live_on_a_pipe(module):
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    packet = encode(**LIVE_EVENT.kwargs())
    try:
        if module == TO_JSON:
            proc.stdin.write(packet)
            expected = (
                json.dumps(event_to_json(LIVE_EVENT), separators=(",", ":")) + "\n"
            ).encode()
        else:
            proc.stdin.write(json.dumps(event_to_json(LIVE_EVENT)).encode() + b"\n")
            expected = packet
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "no output while the input is still open"
        assert os.read(proc.stdout.fileno(), 1000) == expected
        # Interrupted while waiting for input: exit 130, quietly.
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert proc.stderr.read() == b""
    finally:
        proc.kill()
        proc.stdin.close()


@pytest.mark.parametrize("name", ["subunit2json", "json2subunit"])
def test_installed_console_scripts_are_ours(name):
    scripts = sysconfig.get_path("scripts")
    path = os.path.join(scripts, name)
    assert os.path.exists(path), f"{name} is not installed in {scripts}"
    with open(path, "rb") as script:
        content = script.read()
    assert f"subunit2.filters.{name}".encode() in content
