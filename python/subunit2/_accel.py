"""Which codec implementation is active: the compiled one or pure Python.

The compiled extension ``subunit2._speedups`` (built from libsubunit2's C sources
by ``pip install``) is used when it imports; ``SUBUNIT2_PURE_PYTHON=1`` in the
environment forces the pure-Python decoder and encoder, e.g. to test both.
:data:`IMPLEMENTATION` says which one is in use ("c" or "python").
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = ["IMPLEMENTATION", "PURE_PYTHON_ENV", "pure_python_requested", "speedups"]

#: The environment variable that forces the pure-Python codec when set to 1.
PURE_PYTHON_ENV = "SUBUNIT2_PURE_PYTHON"


def pure_python_requested() -> bool:
    """True when the environment asks for the pure-Python codec."""
    return os.environ.get(PURE_PYTHON_ENV, "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


def _load():
    if pure_python_requested():
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups


#: The compiled module, or None when pure Python is in use.
speedups: Optional[object] = _load()

#: "c" when the compiled decoder and encoder are active, else "python".
IMPLEMENTATION: str = "c" if speedups is not None else "python"
