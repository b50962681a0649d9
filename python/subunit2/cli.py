"""Plumbing shared by every subunit2 command: exit codes, options, streams, errors.

Exit codes, the same for every command::

    0    success
    1    the stream shows failing tests (only commands that render a verdict; each
         of them has a flag to report without judging)
    2    usage error: bad arguments
    3    input or output error: a file cannot be opened, read or written, or the
         input is malformed in a way the command cannot convert (e.g. bad JSON)
    130  interrupted (Ctrl-C)
    141  the downstream reader closed the pipe: the command stops quietly

A command is a thin ``main()``::

    def main(argv=None) -> int:
        parser = cli.make_parser("subunit2json", "Decode a stream to JSON lines.")
        return cli.run(parser, convert, argv)

    def convert(args) -> None:
        with cli.open_input(args.input) as source, cli.open_output(args.output) as out:
            ...

:func:`run` turns every expected failure into its exit code and at most one line on
stderr, ``<prog>: <message>``; bad input and bad arguments never show a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import stat
import sys
from typing import (
    IO,
    BinaryIO,
    Callable,
    Iterator,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)

from . import __version__

__all__ = [
    "ArgumentParser",
    "EXIT_FAILING",
    "EXIT_INTERRUPTED",
    "EXIT_IO",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "VERDICT_ON_REQUEST",
    "CliError",
    "exit_codes_help",
    "is_live",
    "make_parser",
    "open_input",
    "open_output",
    "run",
]

EXIT_OK = 0
EXIT_FAILING = 1
EXIT_USAGE = 2
EXIT_IO = 3
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141

#: ``make_parser(verdict=...)`` for commands that judge only when asked (converters).
VERDICT_ON_REQUEST = "on request"


class CliError(Exception):
    """An expected failure: :func:`run` prints ``message`` and exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_IO) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def exit_codes_help(verdict: bool = False) -> str:
    """The exit-code table for a ``--help`` epilog; ``verdict`` adds code 1."""
    lines = ["exit codes:", "  0    success"]
    if verdict:
        lines.append("  1    the stream shows failing tests")
    lines += [
        "  2    usage error (bad arguments)",
        "  3    input or output error (unreadable/unwritable file, malformed input)",
        "  130  interrupted",
        "  141  downstream closed the pipe (stops quietly)",
    ]
    return "\n".join(lines)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the project's error contract: a usage error is one line on
    stderr, ``<prog>: <message> (see --help)``, and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def make_parser(
    prog: str,
    description: str,
    *,
    verdict: Union[bool, str] = False,
    input: bool = True,
    output: bool = True,
) -> argparse.ArgumentParser:
    """An argument parser with the options every command shares.

    Adds ``FILE`` (positional, default standard input; ``-`` also means stdin) when
    ``input`` is true, ``-o/--output FILE`` (default standard output) when ``output``
    is true, and always ``--version``.  ``verdict=True``: the command judges the
    stream, and ``--no-verdict``/``--exit-zero`` (``args.no_verdict``) turn that
    off; ``verdict=VERDICT_ON_REQUEST``: it judges only with ``--verdict``
    (``args.verdict``).  The exit codes are listed under ``--help``.
    """
    parser = ArgumentParser(
        prog=prog,
        description=description,
        epilog=exit_codes_help(bool(verdict)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if input:
        parser.add_argument(
            "input",
            nargs="?",
            metavar="FILE",
            help="file to read (default: standard input)",
        )
    if output:
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="file to write (default: standard output)",
        )
    if verdict == VERDICT_ON_REQUEST:
        parser.add_argument(
            "--verdict",
            action="store_true",
            help="exit 1 when the stream shows failing tests (fail, uxsuccess or "
            "incomplete); by default the exit code only says whether it worked",
        )
    elif verdict:
        parser.add_argument(
            "--no-verdict",
            "--exit-zero",
            dest="no_verdict",
            action="store_true",
            help="report without judging: exit 0 even when tests failed",
        )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s (subunit2) {__version__}"
    )
    return parser


def _is_std(path: Optional[str]) -> bool:
    return path is None or path == "-"


@contextlib.contextmanager
def open_input(path: Optional[str] = None) -> Iterator[BinaryIO]:
    """Open ``path`` for binary reading; None or ``-`` is standard input.

    A file is closed on exit; standard input is left open.  An unopenable file
    raises :class:`OSError`, which :func:`run` reports as exit code 3.
    """
    if _is_std(path):
        if sys.stdin is None:
            raise CliError("standard input is closed")
        yield getattr(sys.stdin, "buffer", sys.stdin)
        return
    with open(path, "rb") as stream:
        yield stream


@contextlib.contextmanager
def open_output(
    path: Optional[str] = None, *, binary: bool = False, encoding: str = "utf-8"
) -> Iterator[IO]:
    """Open ``path`` for writing (text in ``encoding``, or binary); None or ``-``
    is standard output.

    A file is closed on exit; standard output is flushed and left open.  A closed
    pipe downstream raises :class:`BrokenPipeError` (exit 141 under :func:`run`),
    after pointing standard output at the null device so nothing complains later.
    """
    if not _is_std(path):
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": encoding, "newline": "\n"}
        with open(path, mode, **kwargs) as stream:
            yield stream
        return
    if sys.stdout is None:
        raise CliError("standard output is closed")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a plain text object (tests, embedding)
        yield sys.stdout
        return
    if binary:
        try:
            yield buffer
        finally:
            _finish(buffer.flush)
        return
    # Our own text layer, so the encoding is ours; detached (never closed) at the
    # end so standard output stays usable.
    wrapper = io.TextIOWrapper(buffer, encoding=encoding, newline="\n")
    try:
        yield wrapper
    finally:
        _finish(wrapper.detach)


def _finish(flush: Callable[[], object]) -> None:
    """Flush standard output; on a closed pipe, silence stdout then re-raise."""
    try:
        flush()
    except BrokenPipeError:
        _silence_stdout()
        with contextlib.suppress(OSError, ValueError):
            flush()  # now into the null device, so nothing is left pending
        raise


def _silence_stdout() -> None:
    """Point file descriptor 1 at the null device.

    Data still buffered for a closed pipe would otherwise make the interpreter print
    "Exception ignored ... BrokenPipeError" at exit.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def is_live(stream) -> bool:
    """True when ``stream`` is a terminal, pipe or socket: someone may be reading
    as we write, so output should be flushed per record."""
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return True
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _complain(prog: str, message: str) -> None:
    """One line on stderr, ``<prog>: <message>``."""
    text = " ".join(str(message).split("\n"))
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"{prog}: {text}\n")
        sys.stderr.flush()


def _describe(error: OSError) -> str:
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return error.strerror or str(error)


def run(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], Optional[int]],
    argv: Optional[Sequence[str]] = None,
    *,
    input_errors: Tuple[Type[BaseException], ...] = (),
) -> int:
    """Parse ``argv``, call ``body(args)`` and return the exit code.

    ``body`` returns None (success) or an exit code.  Failures map to the contract
    in this module's docstring: :class:`CliError` to its own code, :class:`OSError`
    and any of ``input_errors`` to 3, a closed pipe to 141 (silently),
    KeyboardInterrupt to 130 (silently).  Argument errors exit 2 via argparse.
    """
    prog = parser.prog
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help, --version, or a usage error
            code = stop.code
        else:
            code = body(args)
        if sys.stdout is not None:
            _finish(sys.stdout.flush)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        # Ctrl-C often ends the whole pipeline: leave nothing to fail at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            _finish(sys.stdout.flush)
        return EXIT_INTERRUPTED
    except CliError as error:
        _complain(prog, error.message)
        return error.code
    except OSError as error:
        _complain(prog, _describe(error))
        return EXIT_IO
    except input_errors as error:
        _complain(prog, str(error))
        return EXIT_IO
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    raise SystemExit(code)  # a message given to sys.exit: let Python print it
