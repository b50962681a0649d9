"""subunit-tags: TAG adds, -TAG removes, on every test event; options still work."""

from __future__ import annotations

import subprocess
import sys

import pytest

from subunit2 import Event, decode_bytes, encode
from subunit2.filters.subunit_tags import main, spell_tags_as_options

MODULE = "subunit2.filters.subunit_tags"

STREAM = b"".join(
    [
        encode(test_id="a", test_status="inprogress", test_tags={"old", "keep"}),
        b"not subunit\n",
        encode(
            test_id="a",
            file_name="log",
            file_bytes=b"x",
            route_code="1",
            parent_test_id="p",
            runnable=False,
            mime_type="text/plain",
        ),
        encode(test_id="a", test_status="success", test_tags={"old"}),
    ]
)


def run(*args: str, stdin: bytes = STREAM) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def in_process(tmp_path, *args: str, stream: bytes = STREAM):
    source = tmp_path / "in.subunit"
    source.write_bytes(stream)
    target = tmp_path / "out.subunit"
    code = main(["-i", str(source), "-o", str(target), *args])
    return code, decode_bytes(target.read_bytes()) if target.exists() else None


def test_bare_words_add_and_dash_words_remove(tmp_path):
    code, events = in_process(tmp_path, "new", "-old")
    assert code == 0
    assert events == [
        Event("a", "inprogress", {"keep", "new"}),
        Event(file_name="stdout", file_bytes=b"not subunit\n"),
        Event(
            "a",
            test_tags={"new"},  # added to a "no change" event in another route
            runnable=False,
            file_name="log",
            file_bytes=b"x",
            mime_type="text/plain",
            route_code="1",
            parent_test_id="p",
        ),
        Event("a", "success", {"new"}),
    ]


def test_double_dash_makes_every_word_a_tag_even_option_names(tmp_path):
    # "-o" removes the tag "o" (it takes no file), "--help" removes "-help".
    code, events = in_process(tmp_path, "--", "-o", "-keep", "--help", "added")
    assert code == 0
    assert events[0].test_tags == {"old", "added"}
    assert events[-1].test_tags == {"old", "added"}


def test_explicit_add_and_remove_options(tmp_path):
    code, events = in_process(tmp_path, "--add", "-weird", "--remove=old")
    assert code == 0
    assert events[0].test_tags == {"keep", "-weird"}


def test_rewriting_of_arguments():
    assert spell_tags_as_options(["a", "-b", "-o", "-out", "--", "-c", "d"]) == [
        "--add=a",
        "--remove=b",
        "-o-out",
        "--remove=c",
        "--add=d",
    ]
    assert spell_tags_as_options(["--output=f", "-i", "x", "--input", "y"]) == [
        "--output=f",
        "-ix",
        "--input=y",
    ]


def test_stdin_to_stdout_and_no_tags_passes_the_stream_through():
    done = run("-gone")
    assert done.returncode == 0
    assert decode_bytes(done.stdout)[0].test_tags == {"old", "keep"}
    same = run()
    assert same.returncode == 0
    assert decode_bytes(same.stdout) == decode_bytes(STREAM)


@pytest.mark.parametrize(
    "args, message",
    [
        (["x", "-x"], "tag both added and removed: x"),
        (["--add="], "invalid tag ''"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["-o"], "expected one argument"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unreadable_input_exits_3(capsys):
    assert main(["-i", "/no/such/file", "t"]) == 3
    assert (
        capsys.readouterr().err
        == "subunit-tags: /no/such/file: No such file or directory\n"
    )


def test_help_documents_dash_tags_and_exit_codes():
    done = run("--help")
    assert done.returncode == 0
    assert b"-TAG" in done.stdout and b'"--"' in done.stdout
    assert b"exit codes:" in done.stdout
