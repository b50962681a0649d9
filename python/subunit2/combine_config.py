"""The settings of ``subunit-combine``, from a TOML or JSON file and the command line.

A configuration file holds one table/object with these keys (all optional)::

    commands          list of commands; each a string (split like a POSIX shell
                      would, no shell is run) or a list of arguments
    list_option       argument appended to every command for --list ("--list")
    load_list_option  argument given before the id file for --load-list
                      ("--load-list")
    load_list_mode    "partition" (each child gets its share of the ids, dealt
                      round-robin) or "all" (every child gets the whole file)

TOML is read with :mod:`tomllib`, which exists on Python 3.11 and later; on older
Pythons a ``.toml`` file is refused with a message saying to use JSON.  A file whose
name does not end in ``.toml`` is read as JSON.  Any problem is a
:class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any, List, Optional

__all__ = ["ConfigError", "Settings", "load_file", "parse_command", "LOAD_LIST_MODES"]

LOAD_LIST_MODES = ("partition", "all")
_KEYS = ("commands", "list_option", "load_list_option", "load_list_mode")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message says where and why."""


@dataclass
class Settings:
    """What ``subunit-combine`` runs and how it passes ``--list``/``--load-list``."""

    commands: List[List[str]] = field(default_factory=list)
    list_option: str = "--list"
    load_list_option: str = "--load-list"
    load_list_mode: str = "partition"


def parse_command(value: Any, where: str) -> List[str]:
    """A command as an argument list: a string is split shell-style, a list of
    strings is taken as is.  ``where`` names the value in error messages."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as error:
            raise ConfigError(f"{where}: cannot split {value!r}: {error}") from None
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        argv = list(value)
    else:
        raise ConfigError(f"{where}: a command is a string or a list of strings")
    if not argv:
        raise ConfigError(f"{where}: empty command")
    return argv


def _tomllib() -> Optional[Any]:
    """The TOML reader, or None on Pythons before 3.11."""
    try:
        import tomllib
    except ImportError:
        return None
    return tomllib


def _parse(path: str, data: bytes) -> Any:
    if path.lower().endswith(".toml"):
        toml = _tomllib()
        if toml is None:
            raise ConfigError(
                f"{path}: TOML configuration needs Python 3.11 or later (tomllib);"
                " write it as JSON instead"
            )
        try:
            return toml.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, toml.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ConfigError(f"{path}: not valid JSON: {error}") from None


def load_file(path: str, settings: Optional[Settings] = None) -> Settings:
    """Read ``path`` into ``settings`` (a new :class:`Settings` by default).

    OSError (a missing file) propagates; a bad file raises :class:`ConfigError`.
    """
    settings = settings if settings is not None else Settings()
    with open(path, "rb") as stream:
        document = _parse(path, stream.read())
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a table/object at the top level")
    for key in document:
        if key not in _KEYS:
            known = ", ".join(_KEYS)
            raise ConfigError(f"{path}: unknown key {key!r} (known: {known})")
    commands = document.get("commands", [])
    if not isinstance(commands, list):
        raise ConfigError(f"{path}: 'commands' must be a list")
    settings.commands.extend(
        parse_command(value, f"{path}: commands[{n}]")
        for n, value in enumerate(commands)
    )
    for key in ("list_option", "load_list_option", "load_list_mode"):
        if key in document:
            value = document[key]
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: {key!r} must be a non-empty string")
            setattr(settings, key, value)
    if settings.load_list_mode not in LOAD_LIST_MODES:
        raise ConfigError(
            f"{path}: 'load_list_mode' must be one of {', '.join(LOAD_LIST_MODES)}"
        )
    return settings
