"""subunit-output: write subunit v2 events from the command line.

For shell scripts that produce streams::

    subunit-output --inprogress t1
    make check > log 2>&1; rc=$?
    subunit-output --status $([ $rc = 0 ] && echo success || echo fail) \\
        --test-id t1 --attach-file log --mimetype text/plain

An attached file (or standard input) is read and sent in chunks, one packet each,
so its size does not matter; a final status goes on the last packet, ``inprogress``
on the first.  python-subunit's spellings (``--success ID``, ``--attach-file``,
``--file-name``, ``--mimetype``, ``--tag``) are accepted.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import BinaryIO, Iterator, Optional, Sequence, Tuple

from subunit2 import cli
from subunit2.encoder import EncodeError
from subunit2.isotime import parse_timestamp
from subunit2.status import STATUSES
from subunit2.timestamping import utc_now
from subunit2.writer import StreamWriter

DESCRIPTION = """\
Write subunit v2 events built from the command line, so shell scripts can
produce streams. One invocation reports one thing: a test's status, tags or
attachment, or a file that belongs to the whole run (no test id).

  subunit-output --inprogress pkg.test_a
  subunit-output --success pkg.test_a --tag slow --route-code 0
  subunit-output --fail pkg.test_a --attach-file tb.txt --file-name traceback \\
                 --mimetype "text/plain; charset=utf8"
  some-command | subunit-output --test-id pkg.test_a --attach-file - \\
                 --file-name stdout
  subunit-output --attach-file build.log        (a file of the run, no test)

A status is given either as --status STATUS --test-id ID or, as in
python-subunit, as --STATUS ID (--exists, --inprogress, --success, --fail,
--skip, --xfail, --uxsuccess). The attachment is read in chunks of
--chunk-size bytes and sent as one packet per chunk, never held whole: a final
status rides on the last packet (with eof), "inprogress" on the first; every
packet carries the test id, tags, route code, parent and timestamp. The file
name defaults to the file's base name ("stdin" for -). The timestamp is now
unless --timestamp gives one (ISO 8601, e.g. 2024-01-02T03:04:05.5Z; no zone
means UTC) or --no-timestamp leaves it out."""

#: Bytes read from an attached file per packet, by default.
CHUNK_SIZE = 1024 * 1024
_MAX_CHUNK = 4 * 1024 * 1024 - 64 * 1024  # fits one packet with room for fields


class _StatusShortcut(argparse.Action):
    """``--success ID``: a status and a test id in one option."""

    def __call__(self, parser, namespace, value, option_string=None):
        if namespace.status is not None:
            parser.error(f"argument {option_string}: only one status may be given")
        namespace.status = self.const
        if namespace.test_id is not None and namespace.test_id != value:
            parser.error(f"argument {option_string}: test id given twice")
        namespace.test_id = namespace.shortcut_id = value


def _status_name(value: str) -> str:
    if value not in STATUSES:
        raise argparse.ArgumentTypeError(
            f"unknown status {value!r} (choose from {', '.join(STATUSES)})"
        )
    return value


def _when(value: str) -> datetime.datetime:
    if value == "now":
        return utc_now()
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _chunk_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= size <= _MAX_CHUNK:
        raise argparse.ArgumentTypeError(f"must be between 1 and {_MAX_CHUNK}")
    return size


def make_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-output", DESCRIPTION, input=False)
    parser.set_defaults(status=None, test_id=None, shortcut_id=None)
    test = parser.add_argument_group("the test")
    test.add_argument(
        "--status",
        type=_status_name,
        metavar="STATUS",
        help=f"the test's status: {', '.join(STATUSES)}",
    )
    test.add_argument("--test-id", "--id", metavar="ID", help="the test's id")
    for status in STATUSES:
        test.add_argument(
            f"--{status}",
            action=_StatusShortcut,
            const=status,
            metavar="ID",
            help=f"same as --status {status} --test-id ID",
        )
    test.add_argument(
        "--tag",
        action="append",
        dest="tags",
        metavar="TAG",
        help="a tag of the test (repeatable)",
    )
    test.add_argument("--route-code", metavar="CODE", help="the route code")
    test.add_argument(
        "--parent-test-id",
        "--parent",
        metavar="ID",
        help="the test this one is a subtest of (protocol 2.1)",
    )
    test.add_argument(
        "--not-runnable",
        dest="runnable",
        action="store_false",
        help="mark the test as not runnable on its own (e.g. a fixture)",
    )
    when = test.add_mutually_exclusive_group()
    when.add_argument(
        "--timestamp",
        type=_when,
        metavar="WHEN",
        help='ISO 8601 time, or "now" (the default)',
    )
    when.add_argument(
        "--no-timestamp",
        action="store_true",
        help="send no timestamp",
    )
    files = parser.add_argument_group("attachment")
    files.add_argument(
        "--attach-file",
        metavar="FILE",
        help='file to attach, read in chunks; "-" reads standard input',
    )
    files.add_argument(
        "--file-name",
        metavar="NAME",
        help='name of the attachment (default: the file\'s base name, or "stdin")',
    )
    files.add_argument(
        "--mimetype",
        "--mime-type",
        metavar="TYPE",
        help="mime type of the attachment (default: none, meaning binary)",
    )
    files.add_argument(
        "--chunk-size",
        type=_chunk_size,
        default=CHUNK_SIZE,
        metavar="BYTES",
        help=f"bytes per packet (default {CHUNK_SIZE})",
    )
    return parser


def _check(args: argparse.Namespace) -> None:
    usage = cli.EXIT_USAGE
    if args.shortcut_id is not None and args.test_id != args.shortcut_id:
        raise cli.CliError("test id given twice", usage)
    if args.status is not None and args.test_id is None:
        raise cli.CliError("--status needs --test-id", usage)
    if args.attach_file is None:
        if args.file_name is not None or args.mimetype is not None:
            raise cli.CliError("--file-name and --mimetype need --attach-file", usage)
        if args.test_id is None:
            raise cli.CliError(
                "nothing to write: give a status, --test-id or --attach-file", usage
            )


def _chunks(source: BinaryIO, size: int) -> Iterator[Tuple[bytes, bool]]:
    """(chunk, is_last) pairs; at least one, empty for an empty file."""
    this = source.read(size)
    while True:
        following = source.read(size) if this else b""
        if not following:
            yield this, True
            return
        yield this, False
        this = following


def write_events(args: argparse.Namespace, out) -> None:
    """Write the events ``args`` describe on the binary stream ``out``."""
    writer = StreamWriter(out, flush=cli.is_live(out))
    timestamp = None
    if not args.no_timestamp:
        timestamp = args.timestamp or utc_now()
    common = dict(
        test_id=args.test_id,
        test_tags=set(args.tags) if args.tags else None,
        runnable=args.runnable,
        route_code=args.route_code,
        timestamp=timestamp,
        parent_test_id=args.parent_test_id,
    )
    status = args.status
    writer.startTestRun()
    if args.attach_file is None:
        writer.status(test_status=status, **common)
    else:
        path = args.attach_file
        name = args.file_name
        if name is None:
            name = "stdin" if path == "-" else os.path.basename(path) or path
        with cli.open_input(path) as source:
            first = True
            for chunk, last in _chunks(source, args.chunk_size):
                if status == "inprogress":
                    this_status = status if first else None
                else:
                    this_status = status if last else None
                writer.status(
                    test_status=this_status,
                    file_name=name,
                    file_bytes=chunk,
                    eof=last,
                    mime_type=args.mimetype,
                    **common,
                )
                first = False
    writer.stopTestRun()


def output(args: argparse.Namespace) -> None:
    _check(args)
    with cli.open_output(args.output, binary=True) as out:
        try:
            write_events(args, out)
        except EncodeError as error:  # e.g. a NUL in an id: nothing was written
            raise cli.CliError(str(error), cli.EXIT_USAGE) from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-output`` command; returns its exit code."""
    return cli.run(make_parser(), output, argv)


if __name__ == "__main__":
    sys.exit(main())
