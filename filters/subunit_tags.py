"""subunit-tags: add or remove tags on every test event of a v2 stream.

``subunit-tags worker-0 -flaky`` adds ``worker-0`` and removes ``flaky``.  A word
with a leading ``-`` is a tag to remove, not an option, unless it is exactly one of
the options below; everything after ``--`` is a tag.  The tagging itself is
:class:`subunit2.tagging.Tagger` (latest-set-wins semantics, bounded memory).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

from subunit2 import cli
from subunit2.reader import read_stream
from subunit2.tagging import Tagger
from subunit2.writer import StreamWriter

USAGE = (
    "%(prog)s [-h] [-o FILE] [-i FILE] [--add TAG] [--remove TAG] [--] [TAG|-TAG ...]"
)
DESCRIPTION = """\
Add or remove tags on every test event of a subunit v2 stream (standard input,
or -i FILE) and write the stream out. Every other field, and non-test data,
passes unchanged.

  subunit-tags worker-0 py311       add two tags
  subunit-tags -flaky               remove the tag "flaky"
  subunit-tags ci -- -o             add "ci", remove the tag "o"

Words are tags, so the input file is given with -i. A word starting with "-"
is a tag to remove, unless it is exactly one of the options -h, --help, -o,
--output, -i, --input, --add, --remove, --version (an option taking a value
takes the next word as it is, or is spelled --output=FILE). After "--" every
word is a tag: "-x" removes x, anything else is added. --add TAG and
--remove TAG say the same explicitly. A tag may not be both added and removed.

Events that carry a tag set get (set - removed) | added. An event without a
tag set ("no change") keeps it when nothing is added; when tags are added it
gets the test's last set plus the added ones, so no earlier tag is forgotten."""

_FLAGS = {"-h", "--help", "--version"}
_WITH_VALUE = {"-o", "--output", "-i", "--input", "--add", "--remove"}


def _tag_option(word: str) -> str:
    if word.startswith("-") and word != "-":
        return "--remove=" + word[1:]
    return "--add=" + word


def spell_tags_as_options(argv: Sequence[str]) -> List[str]:
    """``argv`` with every tag word rewritten as ``--add=TAG``/``--remove=TAG``,
    so argparse never mistakes ``-TAG`` for an option."""
    words = iter(argv)
    rewritten: List[str] = []
    for word in words:
        if word == "--":
            rewritten.extend(_tag_option(tag) for tag in words)
        elif word in _FLAGS:
            rewritten.append(word)
        elif word in _WITH_VALUE:
            value = next(words, None)
            if value is None:
                rewritten.append(word)  # argparse reports the missing value
            elif word.startswith("--"):
                rewritten.append(f"{word}={value}")
            else:
                rewritten.append(word + value)  # -oFILE: value may start with "-"
        elif word.startswith("--"):
            rewritten.append(word)  # --output=FILE, or an unknown option
        else:
            rewritten.append(_tag_option(word))
    return rewritten


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-tags", DESCRIPTION, input=False)
    parser.usage = USAGE
    parser.allow_abbrev = False  # "--out" must not swallow the next word
    parser.add_argument(
        "-i",
        "--input",
        metavar="FILE",
        help="file to read (default: standard input)",
    )
    parser.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="TAG",
        help="add TAG to every test event (repeatable; same as a bare TAG)",
    )
    parser.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="TAG",
        help="remove TAG from every test event (repeatable; same as -TAG)",
    )
    return parser


def _check(tags: List[str]) -> None:
    for tag in tags:
        if not tag or "\x00" in tag:
            raise cli.CliError(f"invalid tag {tag!r}", cli.EXIT_USAGE)


def retag(args: argparse.Namespace) -> None:
    """Copy ``args.input`` to ``args.output`` through a Tagger."""
    _check(args.add)
    _check(args.remove)
    both = sorted(set(args.add) & set(args.remove))
    if both:
        raise cli.CliError(
            f"tag both added and removed: {', '.join(both)}", cli.EXIT_USAGE
        )
    with (
        cli.open_input(args.input) as source,
        cli.open_output(args.output, binary=True) as out,
    ):
        writer = StreamWriter(out, flush=cli.is_live(out))
        tagger = Tagger(writer, add=args.add, remove=args.remove)
        tagger.startTestRun()
        try:
            read_stream(source, tagger)
        finally:
            tagger.stopTestRun()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-tags`` command; returns its exit code."""
    if argv is None:
        argv = sys.argv[1:]
    return cli.run(make_parser(), retag, spell_tags_as_options(argv))


if __name__ == "__main__":
    sys.exit(main())
