"""Noticing edited sources and forgetting their modules, between test batches.

A test server keeps its tests loaded; after an edit it must import the new code
without a new process.  :class:`ModuleWatcher` remembers the size and modification
time of every ``.py`` file under the test roots; :meth:`ModuleWatcher.changed` lists
what was edited, added or removed since, and :meth:`ModuleWatcher.forget_modules`
drops every module loaded from under the roots from ``sys.modules`` (and the stale
bytecode of edited files), so the next load imports them afresh.  Forgetting all of
them, not only the edited ones, means no module keeps a reference to an old version
of another.  Installed packages (anything under ``site-packages``) and subunit2 itself
are never forgotten.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Dict, Iterable, List, Tuple

__all__ = ["ModuleWatcher"]

#: Directory names never searched for sources.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build"})

Stamp = Tuple[int, int]


class ModuleWatcher:
    """Watches the ``.py`` files under ``roots`` (directories)."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.roots = [os.path.realpath(root) for root in roots]
        self._stamps: Dict[str, Stamp] = {}

    def _scan(self) -> Dict[str, Stamp]:
        stamps: Dict[str, Stamp] = {}
        for root in self.roots:
            for folder, dirs, files in os.walk(root):
                dirs[:] = [
                    d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                ]
                for name in files:
                    if not name.endswith(".py"):
                        continue
                    path = os.path.join(folder, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    stamps[path] = (info.st_mtime_ns, info.st_size)
        return stamps

    def snapshot(self) -> None:
        """Remember the current state of the sources."""
        self._stamps = self._scan()

    def changed(self) -> List[str]:
        """Sources edited, added or removed since the last :meth:`snapshot`."""
        now = self._scan()
        before = self._stamps
        return sorted(
            path for path in set(now) | set(before) if now.get(path) != before.get(path)
        )

    def _owns(self, path: str) -> bool:
        real = os.path.realpath(path)
        if "site-packages" in real.split(os.sep):
            return False
        return any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep)
            for root in self.roots
        )

    def forget_modules(self, changed: Iterable[str] = ()) -> List[str]:
        """Drop the modules loaded from under the roots; return their names.

        The cached bytecode of each ``changed`` file is deleted too: it is checked
        against the source's size and whole-second mtime, which an edit made within
        the same second and keeping the size would not change.
        """
        for path in changed:
            try:
                os.unlink(importlib.util.cache_from_source(path))
            except (OSError, NotImplementedError, ValueError):
                pass
        dropped = []
        for name, module in list(sys.modules.items()):
            if name == "__main__" or name.split(".")[0] == "subunit2":
                continue
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and self._owns(path):
                del sys.modules[name]
                dropped.append(name)
        importlib.invalidate_caches()
        return sorted(dropped)
