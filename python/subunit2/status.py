"""The test status vocabulary of SPEC section 1, and which statuses end a test."""

from __future__ import annotations

from typing import Optional

#: Every status a ``status()`` event may carry, in wire-code order (code 1 upwards).
STATUSES: tuple[str, ...] = (
    "exists",
    "inprogress",
    "success",
    "uxsuccess",
    "skip",
    "fail",
    "xfail",
)

#: Statuses that end a test: no further status is expected for it.
FINAL_STATUSES: frozenset[str] = frozenset(
    {"exists", "success", "uxsuccess", "skip", "fail", "xfail"}
)

#: Statuses that leave a test open (``None`` means "no status change").
INTERIM_STATUSES: frozenset[Optional[str]] = frozenset({None, "inprogress"})

#: Final statuses that make a run unsuccessful.  A test left ``inprogress`` at the end
#: of a stream (incomplete) counts as a failure too; see :mod:`subunit2.summary`.
FAILING_STATUSES: frozenset[str] = frozenset({"fail", "uxsuccess"})


def is_final(status: Optional[str]) -> bool:
    """True when ``status`` ends a test."""
    return status in FINAL_STATUSES


def is_failing(status: Optional[str]) -> bool:
    """True when ``status`` counts against the run's verdict."""
    return status in FAILING_STATUSES
