"""subunit2disk: one directory per test, never anything outside the target."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys

import pytest

from subunit2 import Event, encode
from subunit2.disk import MAX_NAME, DiskWriter, safe_name
from subunit2.filters import subunit2disk

MODULE = "subunit2.filters.subunit2disk"
UTC = datetime.timezone.utc


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def stream(*events: Event) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def at(second: int) -> datetime.datetime:
    return datetime.datetime(2024, 5, 6, 7, 8, second, tzinfo=UTC)


def index(target) -> list:
    return [
        json.loads(line)
        for line in (target / "index.jsonl").read_text().split("\n")
        if line
    ]


def record(target, line: dict) -> dict:
    return json.loads((target / line["dir"] / "test.json").read_text())


def all_paths(root) -> set:
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def test_layout_records_attachments_and_stream_data(tmp_path):
    target = tmp_path / "out"
    data = b"collecting\n" + stream(
        Event(test_id="pkg.test_a", test_status="inprogress", timestamp=at(1)),
        Event(
            test_id="pkg.test_a",
            file_name="traceback",
            file_bytes=b"Traceback...\n\xff",
            mime_type="text/x-traceback",
            eof=True,
        ),
        Event(
            test_id="pkg.test_a",
            test_status="fail",
            timestamp=at(3),
            test_tags={"slow"},
            route_code="1",
        ),
        Event(file_name="stderr", file_bytes=b"run-level", mime_type="text/plain"),
    )
    # route code 1 on the final event: a different test from the inprogress one
    result = run("-d", str(target), stdin=data)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    lines = index(target)
    assert [(line["test_id"], line["route_code"]) for line in lines] == [
        ("pkg.test_a", "1"),
        ("pkg.test_a", None),
    ]
    assert lines[0]["dir"] == "tests/pkg.test_a"
    assert lines[1]["dir"] == "tests/pkg.test_a-2"
    failed = record(target, lines[0])
    assert failed["status"] == "fail" and failed["tags"] == ["slow"]
    assert failed["start_time"] == "2024-05-06T07:08:03.000000Z"
    open_one = record(target, lines[1])
    assert open_one["status"] == "inprogress"
    assert open_one["duration"] == 0.0
    assert open_one["attachments"] == [
        {
            "name": "traceback",
            "path": "files/traceback",
            "mime_type": "text/x-traceback",
            "eof": True,
            "size": 14,
        }
    ]
    assert (target / lines[1]["dir"] / "files/traceback").read_bytes() == (
        b"Traceback...\n\xff"
    )
    assert (target / "stream/stdout").read_bytes() == b"collecting\n"
    assert (target / "stream/stderr").read_bytes() == b"run-level"
    assert json.loads((target / "stream.json").read_text()) == {
        "stdout": {"path": "stream/stdout", "mime_type": None},
        "stderr": {"path": "stream/stderr", "mime_type": "text/plain"},
    }


def test_enumerated_then_run_is_one_record(tmp_path):
    target = tmp_path / "out"
    data = stream(
        Event(test_id="t.listed", test_status="exists", runnable=False),
        Event(test_id="t.run", test_status="exists", test_tags={"db"}),
        Event(test_id="t.run", test_status="exists", test_tags={"db"}),
        Event(test_id="t.run", test_status="inprogress", timestamp=at(1)),
        Event(test_id="t.run", test_status="success", timestamp=at(2)),
        Event(test_id="t.run", test_status="inprogress"),
        Event(test_id="t.run", test_status="success"),
    )
    assert run("-d", str(target), stdin=data).returncode == 0
    lines = index(target)
    assert [line["dir"] for line in lines] == [
        "tests/t.listed",
        "tests/t.run",
        "tests/t.run-2",
    ]
    listed, first, again = (record(target, line) for line in lines)
    assert (listed["status"], listed["enumerated"], listed["runnable"]) == (
        "exists",
        True,
        False,
    )
    assert (first["status"], first["enumerated"], first["tags"]) == (
        "success",
        True,
        ["db"],
    )
    assert first["duration"] == 1.0
    assert (again["status"], again["enumerated"]) == ("success", False)
    assert sorted(os.listdir(target / "tests")) == ["t.listed", "t.run", "t.run-2"]


HOSTILE = [
    "..",
    ".",
    "../../escape",
    "../" * 40 + "etc/passwd",
    "/tmp/absolute-subunit2disk-probe",
    "a/../../b",
    "C:\\Windows\\win.ini",
    "\\\\server\\share",
    "x" * 5000,
    "ü" * 300,
    "CON",
    "con.txt",
    "NUL",
    "lpt1.log",
    "Case",
    "case",
    "CASE",
    "a b",
    "a_b",
    "a?b",
    "a*b",
    "trailing.",
    "-rf",
    "",
    " ",
    "dup",
    "dup",
]


def test_hostile_ids_and_file_names_stay_inside_the_target(tmp_path):
    target = tmp_path / "sandbox" / "out"
    target.parent.mkdir()
    events = []
    for number, test_id in enumerate(HOSTILE):
        events.append(Event(test_id=test_id, file_name="../escape", file_bytes=b"!"))
        events.append(
            Event(
                test_id=test_id,
                test_status="success",
                file_name=HOSTILE[-number - 1],
                file_bytes=str(number).encode(),
                eof=True,
            )
        )
    events.append(Event(file_name="../../stream-escape", file_bytes=b"?"))
    result = run("-d", str(target), stdin=stream(*events))
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == ["sandbox"]
    assert os.listdir(tmp_path / "sandbox") == ["out"]
    assert not os.path.exists("/tmp/absolute-subunit2disk-probe")
    lines = index(target)
    assert [line["test_id"] for line in lines] == HOSTILE
    folders = [line["dir"] for line in lines]
    assert len({f.casefold() for f in folders}) == len(HOSTILE)
    for number, line in enumerate(lines):
        name = line["dir"].split("/", 1)[1]
        assert "/" not in name and "\\" not in name and name not in (".", "..")
        assert len(name.encode()) <= 255
        assert name.split(".")[0].upper() not in ("CON", "NUL", "LPT1")
        document = record(target, line)
        assert document["test_id"] == HOSTILE[number]
        paths = {a["name"]: a["path"] for a in document["attachments"]}
        assert set(paths) == {HOSTILE[-number - 1], "../escape"}
        content = (target / line["dir"] / paths[HOSTILE[-number - 1]]).read_bytes()
        assert content == str(number).encode()
    for path in all_paths(target):
        resolved = os.path.realpath(target / path)
        assert resolved.startswith(str(target) + os.sep)


def test_nul_and_separators_in_ids_given_in_process(tmp_path):
    writer = DiskWriter(str(tmp_path / "out"))
    writer.startTestRun()
    writer.status(test_id="a\x00b/../c", test_status="success", file_name="\x00")
    writer.stopTestRun()
    (folder,) = os.listdir(tmp_path / "out" / "tests")
    assert "\x00" not in folder and "/" not in folder
    assert os.listdir(tmp_path) == ["out"]


def test_safe_name_keeps_plain_names_and_tags_rewritten_ones():
    assert safe_name("pkg.Test.test_one") == "pkg.Test.test_one"
    rewritten = safe_name("pkg.T.test (i=1)")
    assert rewritten.startswith("pkg.T.test__i_1_-") and len(rewritten) == 17 + 12
    assert safe_name("a b") != safe_name("a_b") != safe_name("a?b")
    assert len(safe_name("y" * 1000)) == MAX_NAME + 13
    assert safe_name("..").startswith("_-")
    assert safe_name("com1").startswith("_com1-")


def test_symlinks_in_the_target_are_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text("keep")
    target = tmp_path / "out"
    target.mkdir()
    os.symlink(victim, target / "index.jsonl")
    data = stream(Event(test_id="t", test_status="success"))
    result = run("-d", str(target), stdin=data)
    assert result.returncode == 3
    assert (
        result.stderr.startswith(b"subunit2disk: ")
        and b"Traceback" not in result.stderr
    )
    assert victim.read_text() == "keep"
    os.unlink(target / "index.jsonl")
    shutil.rmtree(target / "tests")
    os.symlink(outside, target / "tests")
    result = run("-d", str(target), stdin=data)
    assert result.returncode == 3
    assert os.listdir(outside) == ["victim"]


def test_a_second_run_into_the_same_directory_adds_never_overwrites(tmp_path):
    target = tmp_path / "out"
    data = stream(Event(test_id="t", test_status="fail"))
    assert run("-d", str(target), stdin=data).returncode == 0
    assert run("-d", str(target), stdin=data).returncode == 0
    assert [line["dir"] for line in index(target)] == ["tests/t", "tests/t-2"]


def test_help_documents_the_layout_and_usage_errors(tmp_path):
    text = run("--help").stdout.decode()
    for needle in ("index.jsonl", "test.json", "files/FILE", "stream/FILE", "SHA-256"):
        assert needle in text
    missing = run()
    assert missing.returncode == 2 and b"Traceback" not in missing.stderr
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = run("-d", str(blocked))
    assert result.returncode == 3 and result.stderr.count(b"\n") == 1


def test_main_runs_in_process(tmp_path):
    source = tmp_path / "in.subunit"
    source.write_bytes(stream(Event(test_id="t", test_status="skip")))
    assert subunit2disk.main([str(source), "-o", str(tmp_path / "out")]) == 0
    assert record(tmp_path / "out", index(tmp_path / "out")[0])["status"] == "skip"


@pytest.mark.parametrize("name", ["Case", "case"])
def test_names_differing_in_case_get_distinct_directories(tmp_path, name):
    writer = DiskWriter(str(tmp_path))
    writer.startTestRun()
    for test_id in (name, name.swapcase(), name.upper()):
        writer.status(test_id=test_id, test_status="success")
    writer.stopTestRun()
    assert len({n.casefold() for n in os.listdir(tmp_path / "tests")}) == 3
