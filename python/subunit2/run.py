"""``python -m subunit2.run``: run unittest tests and write a subunit v2/2.1 stream.

Arguments as unittest's: test names, or ``discover [-s START] [-p PATTERN] [-t TOP]``
(no names: discovery from the current directory).  ``--list`` enumerates the tests
as ``exists`` events; ``--load-list FILE`` runs only the ids in FILE; ``--server``
keeps the process and serves commands on standard input (see
:mod:`subunit2.server`).  The work is done in :mod:`subunit2.unittest_runner`,
:mod:`subunit2.unittest_result` and :mod:`subunit2.server`.
"""

from __future__ import annotations

import argparse
import sys
from typing import BinaryIO, List, Optional, Sequence

from . import cli
from .unittest_result import UnittestStreamResult
from .unittest_runner import (
    LoadSpec,
    LockedResult,
    TestCatalog,
    announce,
    claim_stdout,
    list_tests,
    read_id_list,
    route_stray_output,
    run_batch,
)
from .writer import StreamWriter

PROG = "python -m subunit2.run"

DESCRIPTION = """\
Run unittest tests and write their results as a subunit v2/2.1 stream on standard
output (binary, flushed per event; every event timestamped). Each test's stdout and
stderr are captured and sent as its attachments; subtests are reported as tests of
their own with parent_test_id naming their test. Modules that fail to import are
reported as failing tests named after the module.

  python -m subunit2.run [options] [NAME ...]
  python -m subunit2.run [options] discover [-s START] [-p PATTERN] [-t TOP]

With --server the process loads the tests once and serves commands (list, run,
reload, ping, stop; input for a running test) read as v2 packets on standard input;
see docs/server-protocol.md."""

# Options that take a value, so a value equal to "discover" is not the subcommand.
_VALUED = {"-o", "--output", "--load-list", "-k", "--route-code"}


def _add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running")
    group.add_argument(
        "--list", action="store_true", help="report the tests as exists events only"
    )
    group.add_argument(
        "--load-list", metavar="FILE", help="run only the test ids listed in FILE"
    )
    group.add_argument(
        "--enumerate",
        action="store_true",
        help="announce the tests to run as exists events first, so live views "
        "(subunit-trace) can show progress against a total",
    )
    group.add_argument(
        "-f", "--failfast", action="store_true", help="stop at the first failure"
    )
    group.add_argument(
        "--locals", action="store_true", help="show local variables in tracebacks"
    )
    group.add_argument(
        "-k",
        dest="patterns",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only tests whose name matches (substring or fnmatch pattern)",
    )
    group.add_argument(
        "--no-capture",
        action="store_true",
        help="leave the tests' stdout/stderr uncaptured (non-test stdout events)",
    )
    group.add_argument(
        "--v2-only", action="store_true", help="drop parent_test_id (plain v2)"
    )
    group.add_argument(
        "--route-code", metavar="CODE", help="put CODE on every test event"
    )
    group = parser.add_argument_group("test server")
    group.add_argument(
        "--server",
        action="store_true",
        help="load once, then serve commands read from standard input",
    )
    group.add_argument(
        "--watch",
        action="store_true",
        help="with --server: reload edited modules before each list or run",
    )


def make_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parser for test names, and the one for ``discover``."""
    main = cli.make_parser(PROG, DESCRIPTION, verdict=True, input=False)
    _add_options(main)
    main.add_argument("names", nargs="*", metavar="NAME", help="tests to load")
    disc = cli.make_parser(f"{PROG} discover", DESCRIPTION, verdict=True, input=False)
    _add_options(disc)
    disc.add_argument("-s", "--start-directory", dest="start", default=None)
    disc.add_argument("-p", "--pattern", dest="pattern", default=None)
    disc.add_argument("-t", "--top-level-directory", dest="top", default=None)
    disc.add_argument("positional", nargs="*", metavar="START [PATTERN [TOP]]")
    return main, disc


def _discover_at(argv: List[str]) -> Optional[int]:
    for index, arg in enumerate(argv):
        if arg == "discover" and (index == 0 or argv[index - 1] not in _VALUED):
            return index
        if arg == "--":
            return None
    return None


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """Parse the command line (``discover`` anywhere selects discovery)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    main, disc = make_parsers()
    at = _discover_at(argv)
    if at is None:
        args = main.parse_args(argv)
        args.spec = LoadSpec(names=args.names, patterns=args.patterns)
        return args
    args = disc.parse_args(argv[:at] + argv[at + 1 :])
    extra = list(args.positional)
    if len(extra) > 3:
        disc.error("discover takes at most START, PATTERN and TOP")
    extra += [None] * (3 - len(extra))
    args.spec = LoadSpec(
        discover=True,
        start=args.start or extra[0] or ".",
        pattern=args.pattern or extra[1] or "test*.py",
        top=args.top or extra[2],
        patterns=args.patterns,
    )
    return args


def execute(args: argparse.Namespace, stream: Optional[BinaryIO] = None) -> int:
    """Run (or list, or serve) as ``args`` say, writing the stream to ``stream``,
    ``-o FILE``, or the claimed standard output."""
    if stream is not None:
        return _execute(args, stream, claimed=False)
    if args.output and args.output != "-":
        with open(args.output, "wb") as out:
            return _execute(args, out, claimed=False)
    return _execute(args, claim_stdout(), claimed=True)


def _execute(args: argparse.Namespace, stream: BinaryIO, claimed: bool) -> int:
    out = LockedResult(StreamWriter(stream, v2_only=args.v2_only))
    if claimed:
        route_stray_output(out)
    options = dict(
        capture=not args.no_capture,
        tb_locals=args.locals,
        failfast=args.failfast,
        route_code=args.route_code,
    )
    if args.server:
        from .server import TestServer, claim_stdin

        TestServer(args.spec, out, claim_stdin(), watch=args.watch, **options).serve()
        return cli.EXIT_OK
    ids = None
    if args.load_list:
        ids = read_id_list(args.load_list)
    catalog = TestCatalog(args.spec)
    try:
        catalog.load()
    except Exception as exc:  # unittest's loader: bad name, bad start dir
        raise cli.CliError(
            f"cannot load tests: {type(exc).__name__}: {exc}", cli.EXIT_USAGE
        ) from None
    result = UnittestStreamResult(out, **options)
    if args.list:
        list_tests(catalog, result)
    elif ids is None:
        if args.enumerate:
            announce(catalog.tests, result)
        run_batch([catalog.suite], [], result)  # as loaded: custom suites kept
    else:
        tests, missing = catalog.select(ids)
        if args.enumerate:
            announce(tests, result)
        run_batch(tests, missing, result)
    stream.flush()
    if result.failing and not args.no_verdict:
        return cli.EXIT_FAILING
    return cli.EXIT_OK


def main(
    argv: Optional[Sequence[str]] = None, *, stream: Optional[BinaryIO] = None
) -> int:
    """The command; ``stream`` (a binary file) replaces standard output in-process."""
    parser, _ = make_parsers()
    try:
        args = parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error
        return stop.code if isinstance(stop.code, int) else cli.EXIT_USAGE
    return cli.run(parser, lambda _: execute(args, stream), [])


if __name__ == "__main__":
    sys.exit(main())
