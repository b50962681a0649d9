"""subunit-filter: keep or drop whole tests of a subunit v2/2.1 stream.

A thin command over :class:`subunit2.filtering.TestFilter`; the option spellings
follow python-subunit's subunit-filter where it has one.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import List, Optional, Sequence

from subunit2 import cli
from subunit2.batches import feed_batches
from subunit2.encoder import EncodeError
from subunit2.filtering import (
    DEFAULT_KEEP,
    GENUINE_FAILURES,
    TestFilter,
    read_test_list,
)
from subunit2.writer import StreamWriter

DESCRIPTION = """\
Keep or drop whole tests of a subunit v2/2.1 stream (FILE or standard input) and
write the kept ones as subunit to standard output (or -o FILE). By default
successes are dropped and everything else is kept. All events of a test (per
route code and test id) are kept or dropped together, when its final status
arrives; a test still without one at the end of the stream is "incomplete"."""

RULES = """\
selection:
  A test is kept when its final status is selected (after
  --fixup-expected-failures), its id matches some --with REGEX (if any) and no
  --without REGEX, and its tags (the union over its events) include every
  --with-tag and no --without-tag. REGEX is a Python regular expression searched
  anywhere in the id (prepend (?i) to ignore case); --match-attachments also
  searches the text of the test's attachments. Selection and the expected-failure
  list see ids as they arrive; --rename (regex substitution, applied in order)
  changes the id and parent id of every kept event, whatever its status.

subtests (protocol 2.1, parent_test_id):
  Every test is judged on its own: dropping a parent does not drop its subtests.
  A kept subtest keeps its parent: if the parent is still in flight when the
  subtest completes, the parent (and its ancestors) is kept whatever its own
  status, its events so far are written before the subtest's, and its later
  events pass straight through. A parent that completed before its subtest has
  already been judged on its own.

output:
  Kept events are written unchanged (route codes, timestamps, tags, runnable,
  attachments, exists events, parent ids), grouped per test at its completion.
  Events about no test are written at once. Non-subunit bytes in the input are
  passed through inside the output stream as subunit file data named "stdout"
  with no test id (never as raw bytes); --no-passthrough drops them. Memory is
  bounded by the tests in flight, not by the length of the stream."""

_STATUS_FLAGS = (
    # (status, keep flags, drop flags, help for keep)
    ("success", ["-s", "--success"], ["--no-success"], "keep successes"),
    ("fail", ["--failure"], ["-f", "--no-failure"], "keep failures (default)"),
    ("skip", ["--skip"], ["--no-skip"], "keep skips (default)"),
    ("xfail", ["--xfail"], ["--no-xfail"], "keep expected failures (default)"),
    (
        "uxsuccess",
        ["--uxsuccess"],
        ["--no-uxsuccess"],
        "keep unexpected successes (default)",
    ),
    ("exists", ["--exists"], ["--no-exists"], "keep enumerated tests (default)"),
    (
        "incomplete",
        ["--incomplete"],
        ["--no-incomplete"],
        "keep tests without a final status (default)",
    ),
)


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-filter", DESCRIPTION)
    parser.epilog = RULES + "\n\n" + parser.epilog
    statuses = parser.add_argument_group("by status")
    for status, keep, drop, help_text in _STATUS_FLAGS:
        statuses.add_argument(
            *keep, dest=status, action="store_true", default=None, help=help_text
        )
        statuses.add_argument(
            *drop,
            dest=status,
            action="store_false",
            default=None,
            help=f"drop them{' (default)' if status == 'success' else ''}",
        )
    statuses.add_argument(
        "-F",
        "--only-genuine-failures",
        action="store_true",
        help="keep only fail, uxsuccess and incomplete tests, and drop non-subunit "
        "input (--no-passthrough); status flags given too still apply",
    )
    statuses.add_argument(
        "--error",
        "-e",
        "--no-error",
        dest="error",
        action="store_true",
        help="accepted for compatibility and ignored: v2 has no separate error "
        "status (errors are failures)",
    )
    selection = parser.add_argument_group("by id and tags")
    selection.add_argument(
        "-m",
        "--with",
        dest="with_regexps",
        action="append",
        default=[],
        metavar="REGEX",
        help="keep only tests whose id matches (any of several)",
    )
    selection.add_argument(
        "--without",
        dest="without_regexps",
        action="append",
        default=[],
        metavar="REGEX",
        help="drop tests whose id matches",
    )
    selection.add_argument(
        "--match-attachments",
        action="store_true",
        help="--with/--without also search the test's attachment text",
    )
    selection.add_argument(
        "--with-tag",
        dest="with_tags",
        action="append",
        default=[],
        metavar="TAG",
        help="keep only tests that have this tag (repeat: must have all)",
    )
    selection.add_argument(
        "--without-tag",
        dest="without_tags",
        action="append",
        default=[],
        metavar="TAG",
        help="drop tests that have this tag (repeat: must have none)",
    )
    changes = parser.add_argument_group("changes")
    changes.add_argument(
        "--fixup-expected-failures",
        dest="fixups",
        action="append",
        default=[],
        metavar="FILE",
        help="file of test ids (one per line, # comments) expected to fail: "
        "their fail becomes xfail, their success uxsuccess",
    )
    changes.add_argument(
        "--rename",
        dest="renames",
        action="append",
        nargs=2,
        default=[],
        metavar=("FROM", "TO"),
        help="re.sub(FROM, TO) on every kept test id and parent id (repeatable)",
    )
    passing = parser.add_argument_group("non-subunit input")
    passing.add_argument(
        "--passthrough",
        dest="passthrough",
        action="store_true",
        default=None,
        help="pass it through as subunit file data named stdout (default)",
    )
    passing.add_argument(
        "--no-passthrough",
        dest="passthrough",
        action="store_false",
        help="drop it",
    )
    return parser


def _regexps(parser_option: str, patterns: List[str]) -> List[re.Pattern]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise cli.CliError(
                f"{parser_option} {pattern!r}: bad regular expression: {error}",
                cli.EXIT_USAGE,
            ) from None
    return compiled


def build_filter(args: argparse.Namespace, target) -> TestFilter:
    """The :class:`TestFilter` that ``args`` describe, writing to ``target``."""
    keep = set(GENUINE_FAILURES if args.only_genuine_failures else DEFAULT_KEEP)
    for status, *_ in _STATUS_FLAGS:
        chosen = getattr(args, status)
        if chosen is True:
            keep.add(status)
        elif chosen is False:
            keep.discard(status)
    expected: set = set()
    for path in args.fixups:
        with open(path, encoding="utf-8", errors="replace") as listing:
            expected.update(read_test_list(listing))
    renames = []
    for old, new in args.renames:
        (pattern,) = _regexps("--rename", [old])
        try:
            pattern.sub(new, "")
        except (re.error, IndexError) as error:
            raise cli.CliError(
                f"--rename {old!r} {new!r}: bad replacement: {error}", cli.EXIT_USAGE
            ) from None
        renames.append((pattern, new))
    return TestFilter(
        target,
        keep=keep,
        with_patterns=_regexps("--with", args.with_regexps),
        without_patterns=_regexps("--without", args.without_regexps),
        match_attachments=args.match_attachments,
        with_tags=args.with_tags,
        without_tags=args.without_tags,
        expected_failures=expected,
        renames=renames,
    )


def filter_stream(args: argparse.Namespace) -> None:
    """Filter ``args.input`` onto ``args.output``."""
    passthrough = args.passthrough
    if passthrough is None:
        passthrough = not args.only_genuine_failures
    with cli.open_input(args.input) as source:
        with cli.open_output(args.output, binary=True) as out:
            writer = StreamWriter(out, flush=False)
            selector = build_filter(args, writer)
            consume = selector.consume
            if cli.is_live(out):
                flush = writer.stream.flush

                def consume(events, _consume=selector.consume) -> None:
                    _consume(events)
                    flush()

            selector.startTestRun()
            try:
                feed_batches(
                    source,
                    consume,
                    non_subunit_name="stdout" if passthrough else None,
                )
            finally:
                selector.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-filter`` command; returns its exit code."""
    return cli.run(make_parser(), filter_stream, argv, input_errors=(EncodeError,))


if __name__ == "__main__":
    sys.exit(main())
