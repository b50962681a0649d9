"""junitxml2subunit: JUnit XML reports in, one subunit v2/2.1 stream out.

Files and directories are read in the order given; a directory is walked
recursively for every ``*.xml`` file (any case), read in the order of their
paths sorted component by component (symbolic links to directories are not
followed).  The library side is :mod:`subunit2.junit_reader`; ``docs/junitxml.md``
has the rules.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence

from subunit2 import cli
from subunit2.encoder import EncodeError
from subunit2.junit_reader import MAX_TEXT, JUnitError, JUnitReader
from subunit2.writer import StreamWriter

#: Test id of the failing test that reports a document that could not be read.
PARSER_TEST_ID = "junitxml.parser"

DESCRIPTION = """\
Convert JUnit XML reports (files; directories, walked recursively for *.xml
files read in sorted path order; or standard input) into one subunit v2
stream. Each <testcase> becomes a test with id classname.name (or its
subunit.test_id property); failure/error -> fail with the body as a traceback
attachment; skipped -> skip with its reason; system-out/err -> stdout/stderr
attachments; Surefire flaky/rerun elements -> attachments. Timestamps come from
the suite's timestamp plus each case's time.

Unsafe or broken XML (DOCTYPE and entity declarations, external entities, a tag
or text run over 16 MiB, malformed or truncated documents, a root that is not
<testsuites>/<testsuite>) is refused: the test cases read before the problem are
kept, a failing test "junitxml.parser" with a "Parser Error" attachment goes
into the stream so it cannot look green, the remaining files are still read,
and the exit status is 3. Failing tests do not change the exit status."""


def _walk(path: str) -> List[str]:
    """``path`` itself, or the ``*.xml`` files under it sorted by path components."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for root, _dirs, files in os.walk(path, onerror=_raise):
        relative = os.path.relpath(root, path)
        parts = () if relative == os.curdir else tuple(relative.split(os.sep))
        for name in files:
            if name.lower().endswith(".xml"):
                found.append((*parts, name))
    return [os.path.join(path, *parts) for parts in sorted(found)]


def _raise(error: OSError) -> None:
    raise error


def _convert_one(path: Optional[str], writer: StreamWriter, max_text: int) -> None:
    reader = JUnitReader(writer, max_text=max_text)
    with cli.open_input(path) as source:
        while True:
            data = source.read(65536)
            if not data:
                break
            reader.feed(data)
    reader.close()


def _report(writer: StreamWriter, where: str, message: str) -> None:
    writer.status(test_id=PARSER_TEST_ID, test_status="inprogress")
    writer.status(
        test_id=PARSER_TEST_ID,
        file_name="Parser Error",
        file_bytes=f"{where}: {message}\n".encode("utf-8", "backslashreplace"),
        mime_type="text/plain; charset=utf8",
        eof=True,
    )
    writer.status(test_id=PARSER_TEST_ID, test_status="fail")


def convert(args: argparse.Namespace) -> Optional[int]:
    """Convert every input into one stream on ``args.output``."""
    if args.max_text <= 0:
        raise cli.CliError("--max-text must be positive", cli.EXIT_USAGE)
    inputs: List[Optional[str]] = list(args.inputs) or [None]
    failed: List[str] = []
    with cli.open_output(args.output, binary=True) as out:
        writer = StreamWriter(out, flush=cli.is_live(out))
        writer.startTestRun()
        try:
            for given in inputs:
                paths = [None] if given in (None, "-") else _walk(given)
                for path in paths:
                    where = path or "<stdin>"
                    try:
                        _convert_one(path, writer, args.max_text)
                    except (JUnitError, EncodeError) as error:
                        _report(writer, where, str(error))
                        failed.append(f"{where}: {error}")
        finally:
            writer.stopTestRun()
    if failed:
        extra = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise cli.CliError(failed[0] + extra)
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``junitxml2subunit`` command; returns its exit code."""
    parser = cli.make_parser("junitxml2subunit", DESCRIPTION, input=False)
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="PATH",
        help="JUnit XML files or directories (default: standard input; - too)",
    )
    parser.add_argument(
        "--max-text",
        type=int,
        default=MAX_TEXT,
        metavar="CHARS",
        help="characters of text kept per test case; the rest is cut with a note "
        f"(default {MAX_TEXT})",
    )
    return cli.run(parser, convert, argv)


if __name__ == "__main__":
    sys.exit(main())
