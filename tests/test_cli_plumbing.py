"""The shared CLI plumbing: exit codes, common options, streams, error reporting."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap

import pytest

from subunit2 import __version__, cli


def test_exit_code_contract():
    assert (cli.EXIT_OK, cli.EXIT_FAILING, cli.EXIT_USAGE, cli.EXIT_IO) == (0, 1, 2, 3)
    assert (cli.EXIT_INTERRUPTED, cli.EXIT_PIPE) == (130, 141)
    for code in ("0", "1", "2", "3", "130", "141"):
        assert re.search(rf"^    {code} +\S", cli.__doc__, re.MULTILINE), code


def test_parser_common_options():
    parser = cli.make_parser("tool", "Does a thing.")
    args = parser.parse_args([])
    assert (args.input, args.output) == (None, None)
    args = parser.parse_args(["in.bin", "-o", "out.txt"])
    assert (args.input, args.output) == ("in.bin", "out.txt")
    assert parser.parse_args(["--output", "x"]).output == "x"
    bare = cli.make_parser("tool", "x", input=False, output=False)
    assert vars(bare.parse_args([])) == {}


def test_help_lists_exit_codes(capsys):
    assert cli.run(cli.make_parser("tool", "Does a thing."), None, ["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tool")
    assert "Does a thing." in out and "exit codes:" in out
    assert "  1 " not in out and "  141 " in out
    cli.run(cli.make_parser("tool", "x", verdict=True), None, ["--help"])
    assert "  1    the stream shows failing tests" in capsys.readouterr().out


def test_version(capsys):
    assert cli.run(cli.make_parser("tool", "x"), None, ["--version"]) == 0
    assert capsys.readouterr().out == f"tool (subunit2) {__version__}\n"


def test_bad_arguments_exit_2_with_one_line(capsys):
    called = []
    code = cli.run(cli.make_parser("tool", "x"), called.append, ["--bogus"])
    assert code == 2 and called == []
    err = capsys.readouterr().err
    assert err == "tool: unrecognized arguments: --bogus (see --help)\n"


def run_body(body, capsys, **options):
    code = cli.run(cli.make_parser("tool", "x"), body, [], **options)
    captured = capsys.readouterr()
    return code, captured.err


def raiser(error):
    def body(args):
        raise error

    return body


def test_body_result_is_the_exit_code(capsys):
    assert run_body(lambda args: None, capsys) == (0, "")
    assert run_body(lambda args: cli.EXIT_FAILING, capsys) == (1, "")


def test_cli_error_gives_its_code_and_one_line(capsys):
    code, err = run_body(raiser(cli.CliError("cannot do it")), capsys)
    assert (code, err) == (3, "tool: cannot do it\n")
    code, err = run_body(raiser(cli.CliError("two\nlines", 4)), capsys)
    assert (code, err) == (4, "tool: two lines\n")


def test_os_errors_are_exit_3_with_the_file_named(capsys, tmp_path):
    missing = str(tmp_path / "missing")

    def body(args):
        with cli.open_input(missing):
            pass

    code, err = run_body(body, capsys)
    assert code == 3
    assert err == f"tool: {missing}: No such file or directory\n"
    code, err = run_body(raiser(OSError(28, "No space left on device")), capsys)
    assert (code, err) == (3, "tool: No space left on device\n")


def test_declared_input_errors_are_exit_3(capsys):
    body = raiser(ValueError("line 3: invalid JSON"))
    code, err = run_body(body, capsys, input_errors=(ValueError,))
    assert (code, err) == (3, "tool: line 3: invalid JSON\n")


def test_undeclared_exceptions_are_bugs_and_propagate(capsys):
    with pytest.raises(ZeroDivisionError):
        run_body(raiser(ZeroDivisionError()), capsys)


def test_interrupt_is_130_quietly(capsys):
    assert run_body(raiser(KeyboardInterrupt()), capsys) == (130, "")


def test_broken_pipe_is_141_quietly(capsys, monkeypatch):
    silenced = []
    monkeypatch.setattr(cli, "_silence_stdout", lambda: silenced.append(1))
    assert run_body(raiser(BrokenPipeError()), capsys) == (141, "")
    assert silenced


def test_open_input_file_and_stdin(tmp_path, monkeypatch):
    path = tmp_path / "data"
    path.write_bytes(b"\xb3bytes")
    with cli.open_input(str(path)) as stream:
        assert stream.read() == b"\xb3bytes"
    assert stream.closed
    stdin = io.TextIOWrapper(io.BytesIO(b"\xb3in"), encoding="ascii")
    monkeypatch.setattr(sys, "stdin", stdin)
    for name in (None, "-"):
        stdin.buffer.seek(0)
        with cli.open_input(name) as stream:
            assert stream is stdin.buffer
            assert stream.read() == b"\xb3in"
        assert not stdin.closed


def test_open_output_files(tmp_path):
    path = tmp_path / "out"
    with cli.open_output(str(path)) as stream:
        stream.write("tëxt\n")
    assert stream.closed
    assert path.read_bytes() == "tëxt\n".encode()
    with cli.open_output(str(path), binary=True) as stream:
        stream.write(b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"


def test_open_output_stdout_is_utf8_and_stays_open(monkeypatch):
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    for name in (None, "-"):
        with cli.open_output(name) as stream:
            stream.write("✓\n")
        with cli.open_output(name, binary=True) as stream:
            assert stream is stdout.buffer
            stream.write(b"\xff")
    assert not stdout.closed
    assert stdout.buffer.getvalue() == ("✓\n".encode() + b"\xff") * 2


def test_is_live():
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as reader, os.fdopen(write_fd, "wb") as writer:
        assert cli.is_live(writer) and cli.is_live(reader)
    assert not cli.is_live(io.BytesIO())
    with open(os.devnull, "wb") as devnull:
        assert not cli.is_live(devnull)


TOOL = textwrap.dedent(
    """
    import sys
    from subunit2 import cli

    def body(args):
        with cli.open_output(args.output, binary=MODE) as out:
            for i in range(200000):
                out.write(LINE)

    sys.exit(cli.run(cli.make_parser("tool", "spam"), body))
    """
)


@pytest.mark.parametrize(
    "mode, line", [("False", "'spam spam spam\\n'"), ("True", "b'spam spam\\n'")]
)
def test_closed_pipe_in_a_real_process(mode, line):
    source = TOOL.replace("MODE", mode).replace("LINE", line)
    proc = subprocess.Popen(
        [sys.executable, "-c", source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.read(10)
    proc.stdout.close()
    try:
        assert proc.stderr.read() == b""
        assert proc.wait(timeout=60) == 141
    finally:
        proc.kill()


def test_closed_standard_streams_are_exit_3(capsys, monkeypatch):
    def body(args):
        with cli.open_input(args.input) as source, cli.open_output(args.output):
            source.read()

    monkeypatch.setattr(sys, "stdin", None)
    assert run_body(body, capsys) == (3, "tool: standard input is closed\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO()))
    monkeypatch.setattr(sys, "stdout", None)
    assert run_body(body, capsys) == (3, "tool: standard output is closed\n")
