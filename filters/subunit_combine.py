"""subunit-combine: run producer commands in parallel, or read stream files, and
merge their subunit streams live into one, each input under its own route code."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from typing import List, Optional, Sequence

from subunit2 import cli
from subunit2.combine import Combiner
from subunit2.combine_config import (
    LOAD_LIST_MODES,
    ConfigError,
    Settings,
    load_file,
    parse_command,
)
from subunit2.writer import StreamWriter

DESCRIPTION = f"""\
Run every COMMAND (-c, or "commands" in a --config file) in parallel and merge
their subunit streams into one as packets arrive, each event's route code prefixed
with its input's index: "N", or "N/<its own route code>". Inputs are numbered from
0: the commands in order, then the FILEs (merged the same way; "-" is standard
input). With no COMMAND and no FILE, standard input is the one input.

Children's standard error is passed through to ours. Their non-subunit output goes
into the merged stream as "stdout" data on route code N (--no-passthrough drops
it). A child that cannot be started, exits nonzero or is killed becomes a failed
test "subunit-combine[N]" on route code N with a "reason" attachment; such
children and corrupt packets make the exit status 1 (unless --no-verdict).
Ctrl-C terminates the children and exits 130.

Input for the children: standard input (unless it is a terminal, a FILE is "-",
or --no-input) is read as a subunit v2 stream. A packet with route code N or
N/rest goes to child N's standard input only, re-encoded with route code "rest"
(none for plain N); a test's input uses file name "stdin", eof at its end.
Packets without a usable route code and non-subunit bytes are dropped with a
warning. When standard input ends, every child's standard input is closed.

testr-style selection: --list appends the list option ("--list") to every command.
--load-list IDS reads test ids (one per line) and, in mode "partition" (the
default), deals them round-robin to the children, each getting its share in a
temporary file after the load-list option ("--load-list"); a child whose share is
empty is not started. In mode "all" every child gets IDS itself. Give option
names that start with "-" as --list-option=OPT.

Configuration file (--config): JSON, or TOML when the name ends in .toml (needs
Python 3.11+). Keys: commands (strings, split shell-style, or argument lists),
list_option, load_list_option, load_list_mode ({" or ".join(LOAD_LIST_MODES)}).
Command-line options override it; -c commands come after its commands."""


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("subunit-combine", DESCRIPTION, verdict=True, input=False)
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="FILE",
        help="stream files to merge after the commands ('-' is standard input)",
    )
    parser.add_argument(
        "-c",
        "--command",
        action="append",
        default=[],
        metavar="COMMAND",
        help="a producer command, split shell-style (no shell); repeatable",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML or JSON settings")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument(
        "--list", action="store_true", help="append the list option to each command"
    )
    selection.add_argument(
        "--load-list", metavar="IDS", help="run only the test ids in file IDS"
    )
    parser.add_argument(
        "--load-list-mode",
        choices=LOAD_LIST_MODES,
        help="partition the ids among the children (default) or give all to each",
    )
    parser.add_argument("--list-option", metavar="OPT", help='default "--list"')
    parser.add_argument(
        "--load-list-option", metavar="OPT", help='default "--load-list"'
    )
    parser.add_argument(
        "--no-input",
        action="store_true",
        help="do not read standard input; children get no input",
    )
    parser.add_argument(
        "--no-passthrough",
        action="store_true",
        help="drop the children's non-subunit output instead of merging it in",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    try:
        settings = load_file(args.config) if args.config else Settings()
        settings.commands.extend(
            parse_command(value, f"-c {value!r}") for value in args.command
        )
    except ConfigError as error:
        raise cli.CliError(str(error), cli.EXIT_USAGE) from None
    for name in ("list_option", "load_list_option", "load_list_mode"):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, name, value)
    if (args.list or args.load_list) and not settings.commands:
        raise cli.CliError("--list and --load-list need commands", cli.EXIT_USAGE)
    return settings


def _read_ids(path: str) -> List[str]:
    with open(path, "rb") as stream:
        data = stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise cli.CliError(f"{path}: not UTF-8 text: {error}") from None
    return [line for line in text.splitlines() if line.strip()]


def _commands(
    settings: Settings, args: argparse.Namespace, scratch: str
) -> List[Optional[List[str]]]:
    """Each child's argument list after --list/--load-list (None: nothing to run)."""
    commands: List[Optional[List[str]]] = [list(c) for c in settings.commands]
    if args.list:
        return [c + [settings.list_option] for c in commands]
    if not args.load_list:
        return commands
    if settings.load_list_mode == "all":
        _read_ids(args.load_list)  # fail early on a missing or unreadable file
        return [c + [settings.load_list_option, args.load_list] for c in commands]
    ids = _read_ids(args.load_list)
    shares = [ids[n :: len(commands)] for n in range(len(commands))]
    result: List[Optional[List[str]]] = []
    for index, (command, share) in enumerate(zip(commands, shares)):
        if not share:
            result.append(None)
            continue
        path = os.path.join(scratch, f"ids-{index}.txt")
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            stream.write("".join(f"{test_id}\n" for test_id in share))
        result.append(command + [settings.load_list_option, path])
    return result


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is None or os.isatty(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def combine(args: argparse.Namespace) -> int:
    """Run and merge what ``args`` describe; returns the exit code."""
    settings = _settings(args)
    if args.inputs.count("-") > 1:
        raise cli.CliError("standard input can be given only once", cli.EXIT_USAGE)
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="combine-"))
        commands = _commands(settings, args, scratch)
        names = args.inputs or ([] if commands else ["-"])
        files = [stack.enter_context(cli.open_input(name)) for name in names]
        routing = None
        if commands and not args.no_input and "-" not in names:
            if not _stdin_is_terminal():
                routing = getattr(sys.stdin, "buffer", sys.stdin)
        out = stack.enter_context(cli.open_output(args.output, binary=True))
        writer = StreamWriter(out, flush=cli.is_live(out))
        combiner = Combiner(
            commands,
            writer,
            files=files,
            routing=routing,
            passthrough=not args.no_passthrough,
        )
        writer.startTestRun()
        problems = combiner.run()
        writer.stopTestRun()
    if problems and not args.no_verdict:
        return cli.EXIT_FAILING
    return cli.EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``subunit-combine`` command; returns its exit code."""
    return cli.run(build_parser(), combine, argv)


if __name__ == "__main__":
    sys.exit(main())
