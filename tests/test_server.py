"""The test server (``python -m subunit2.run --server``), driven through pipes.

Every wait is bounded: the client's ``timeout`` for the server tests, and
``subprocess`` timeouts for the raw-pipe ones, so a hung server fails a test instead
of hanging CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from subunit2 import Summary, decode_bytes, deliver_all
from subunit2.client import ServerError, TestServerClient
from subunit2.commands import (
    REPLY_FILE,
    CommandAssembler,
    encode_command,
    encode_input,
    parse_body,
)

SAMPLES = os.path.join(os.path.dirname(__file__), "samples", "unittest_suite")
BASIC = os.path.join(SAMPLES, "basic")
INTERACTIVE = os.path.join(SAMPLES, "interactive")
DISCOVER = ["discover", "-s", ".", "-p", "sample_*.py"]
FIX = "samplepkg.sample_fixtures.WithClassFixture."
ASK = "sample_interactive.Interactive."
TIMEOUT = 30


def client(cwd: str = BASIC, *args: str) -> TestServerClient:
    return TestServerClient([*args, *DISCOVER], cwd=cwd, timeout=TIMEOUT)


def replies(stream: bytes):
    assembler = CommandAssembler(REPLY_FILE)
    found = []
    for event in decode_bytes(stream):
        found += [value for kind, value in assembler.feed(event) if kind == "message"]
    return found


@pytest.fixture(scope="module")
def basic():
    with client() as server:
        yield server


def test_hello_announces_the_process_and_its_tests(basic):
    assert basic.hello["ok"] is True
    assert basic.hello["pid"] == basic.pid
    assert basic.hello["protocol"] == 1
    assert basic.hello["tests"] == 17
    assert basic.hello["load_errors"] == ["samplepkg.sample_broken_import"]


def test_list_gives_the_same_ids_as_the_list_option(basic):
    listed = subprocess.run(
        [sys.executable, "-m", "subunit2.run", "--list", *DISCOVER],
        cwd=BASIC,
        capture_output=True,
        timeout=60,
    )
    expected = [
        e.test_id for e in decode_bytes(listed.stdout) if e.test_status == "exists"
    ]
    assert basic.list() == expected
    assert basic.last_reply["tests"] == 17


def test_batches_share_one_process_and_set_up_class_fixtures_once_each(basic):
    ids = [FIX + "test_one", FIX + "test_two", FIX + "test_three"]
    outputs = []
    for _ in range(2):
        batch = basic.run(ids)
        assert batch.reply["ok"] and batch.reply["ran"] == 3
        assert batch.final() == dict.fromkeys(ids, "success")
        outputs.append({batch.attachment(i, "stdout") for i in ids})
    assert basic.ping()["pid"] == basic.hello["pid"] == basic.pid
    # One import of the module for both batches; one setUpClass per batch.
    before = basic_setups(outputs[0])
    assert outputs[1] == {f"imports=1 setups={before + 1}\n".encode()}


def basic_setups(output: set) -> int:
    (line,) = output
    assert line.startswith(b"imports=1 setups=")
    return int(line.split(b"=")[-1])


def test_the_reply_comes_after_the_batchs_last_event(basic):
    seen = []
    events = basic.iter_run(["samplepkg.sample_outcomes.Subtests.test_mixed"])
    for event in events:
        seen.append(event)
    assert basic.last_reply["reply"] == "run"
    assert basic.last_reply["failing"] is True
    assert seen[-1].test_id == "samplepkg.sample_outcomes.Subtests.test_mixed"
    assert seen[-1].test_status == "fail"


def test_run_reports_unknown_ids_as_failing_tests(basic):
    batch = basic.run(["samplepkg.nothing.Here.test_x"])
    assert batch.reply["missing"] == ["samplepkg.nothing.Here.test_x"]
    assert batch.final() == {"samplepkg.nothing.Here.test_x": "fail"}


def test_bad_and_unknown_commands_get_error_replies(basic):
    batch = basic.command("frobnicate", check=False)
    assert batch.reply == {
        "reply": "frobnicate",
        "id": batch.reply["id"],
        "ok": False,
        "error": "unknown command 'frobnicate'",
    }
    with pytest.raises(ServerError, match="tests"):
        basic.command("run", tests="not a list")
    basic._send(b"this is not a packet\n")
    basic.send_input(b"x", route_code="no-such-test")
    basic.ping()  # replies are in order: the notices came before this one
    errors = [n["error"] for n in basic.notices]
    assert "21 bytes that are not packets ignored" in errors
    assert any("no test 'no-such-test'" in e for e in errors)


def test_input_reaches_a_test_calling_input():
    with client(INTERACTIVE) as server:
        chunks = []
        for event in server.iter_run([ASK + "test_input"]):
            if event.file_name == "stdout":
                chunks.append(event.file_bytes)
                if event.file_bytes.endswith(b"name? "):
                    # The prompt arrived while the test waits: the stream is live.
                    server.send_input("world\n")
        assert b"".join(chunks) == b"name? hello world\n"
        assert server.last_reply["failing"] is False


def test_an_eof_packet_ends_the_tests_input_once():
    with client(INTERACTIVE) as server:
        server.send_input(b"", eof=True)
        assert server.run([ASK + "test_eof"]).final() == {ASK + "test_eof": "success"}
        # Consumed: the next reader waits for new input instead of seeing EOF.
        events = server.iter_run([ASK + "test_input"])
        for event in events:
            if event.file_name == "stdout" and b"name?" in event.file_bytes:
                server.send_input("world\n", route_code=ASK + "test_input")
        assert server.last_reply["failing"] is False


def test_pdb_in_a_test_is_driven_through_the_stream():
    commands = ["p marker\n", "c\n"]
    output = b""
    with client(INTERACTIVE) as server:
        for event in server.iter_run([ASK + "test_pdb"]):
            if event.file_name != "stdout":
                continue
            output += event.file_bytes
            if output.endswith(b"(Pdb) ") and commands:
                server.send_input(commands.pop(0))
        assert server.last_reply["failing"] is False
    assert b"'pdb-marker-value'" in output
    assert output.endswith(b"after pdb\n")


MODULE = """\
import unittest

class Edited(unittest.TestCase):
    def test_value(self):
        print("version {version}")
        self.assertEqual({value}, 2)
"""


def write_module(folder, version: int, value: int) -> None:
    (folder / "sample_edit.py").write_text(
        textwrap.dedent(MODULE.format(version=version, value=value))
        + "#" * version  # sizes differ, whatever the clock's granularity
    )


@pytest.mark.parametrize("watch", [False, True])
def test_an_edited_module_is_reloaded_between_batches(tmp_path, watch):
    write_module(tmp_path, 1, 1)
    test_id = "sample_edit.Edited.test_value"
    args = ["--watch"] if watch else []
    with client(str(tmp_path), *args) as server:
        first = server.run([test_id])
        assert first.final() == {test_id: "fail"}
        assert first.attachment(test_id, "stdout") == b"version 1\n"
        write_module(tmp_path, 2, 2)
        if not watch:
            reply = server.reload()
            assert reply["changed"] == [os.path.realpath(tmp_path / "sample_edit.py")]
            assert "sample_edit" in reply["modules"]
        second = server.run([test_id])
        assert second.final() == {test_id: "success"}
        assert second.attachment(test_id, "stdout") == b"version 2\n"
        if watch:
            assert second.reply["reloaded"]["modules"] == ["sample_edit"]
        assert server.ping()["pid"] == server.hello["pid"]


def test_a_new_test_module_appears_after_reload(tmp_path):
    write_module(tmp_path, 1, 2)
    with client(str(tmp_path)) as server:
        assert server.list() == ["sample_edit.Edited.test_value"]
        shutil.copy(tmp_path / "sample_edit.py", tmp_path / "sample_more.py")
        assert server.reload()["tests"] == 2
        assert server.list() == [
            "sample_edit.Edited.test_value",
            "sample_more.Edited.test_value",
        ]


def test_raw_pipes_closing_stdin_ends_the_server_after_its_work():
    commands = (
        encode_command("list", id="a")
        + encode_command("run", id="b", tests=[FIX + "test_one"])
        + encode_command("ping", id="c")
    )
    proc = subprocess.run(
        [sys.executable, "-m", "subunit2.run", "--server", *DISCOVER],
        cwd=BASIC,
        input=commands,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    got = replies(proc.stdout)
    assert [(r["reply"], r.get("id")) for r in got] == [
        ("hello", None),
        ("list", "a"),
        ("run", "b"),
        ("ping", "c"),
    ]
    # A consumer that knows nothing of the channel still gets a valid stream.
    summary = Summary()
    summary.startTestRun()
    deliver_all(decode_bytes(proc.stdout), summary)
    summary.stopTestRun()
    assert summary.counts["exists"] == 17
    assert summary.counts["success"] == 1
    assert summary.wasSuccessful()


def test_stop_command_ends_the_server_with_input_still_open():
    proc = subprocess.Popen(
        [sys.executable, "-m", "subunit2.run", "--server", *DISCOVER],
        cwd=BASIC,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(encode_command("stop", id=9))
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert replies(out)[-1] == {"reply": "stop", "id": 9, "ok": True}


def test_a_server_that_cannot_load_keeps_serving_and_says_why(tmp_path):
    with TestServerClient(
        ["discover", "-s", "missing_dir", "-p", "sample_*.py"],
        cwd=str(tmp_path),
        timeout=TIMEOUT,
    ) as server:
        assert server.hello["ok"] is False
        assert "cannot load tests" in server.hello["error"]
        assert server.list() == []
        (tmp_path / "missing_dir").mkdir()
        write_module(tmp_path / "missing_dir", 1, 2)
        assert server.reload()["tests"] == 1


def test_command_bodies_may_span_packets_and_must_be_json():
    assembler = CommandAssembler()
    whole = decode_bytes(encode_command("run", id=1, tests=["a", "b"]))[0]
    head, tail = whole.file_bytes[:5], whole.file_bytes[5:]
    assert assembler.feed(whole._replace(file_bytes=head, eof=False)) == []
    assert assembler.feed(whole._replace(file_bytes=tail)) == [
        ("message", {"command": "run", "id": 1, "tests": ["a", "b"]})
    ]
    bad = whole._replace(file_bytes=b"[1, 2]")
    assert assembler.feed(bad) == [("error", "body is not a JSON object")]
    small = CommandAssembler(max_bytes=10)
    assert small.feed(whole)[0][0] == "error"
    # The assembler is ready for the next body after an oversized one.
    assert small.feed(whole._replace(file_bytes=b'{"command":"x"}'))[0][0] == "error"
    assert CommandAssembler(max_bytes=20).feed(
        whole._replace(file_bytes=b'{"command":"x"}')
    ) == [("message", {"command": "x"})]


def test_input_and_reply_packets_carry_no_test():
    (event,) = decode_bytes(encode_input(b"c\n", eof=True, route_code="0"))
    assert (event.test_id, event.test_status) == (None, None)
    assert (event.file_name, event.file_bytes, event.eof) == ("stdin", b"c\n", True)
    assert event.route_code == "0"
    assert event.timestamp is not None
    with pytest.raises(ValueError):
        parse_body(b'{"reply": 3}', "reply")


def test_abandoning_a_batch_early_does_not_leak_into_the_next(basic):
    ids = [FIX + "test_one", FIX + "test_two"]
    events = basic.iter_run(ids)
    next(events)
    events.close()
    assert basic.last_reply["ran"] == 2
    batch = basic.run([FIX + "test_three"])
    assert {e.test_id for e in batch.events} == {FIX + "test_three"}
