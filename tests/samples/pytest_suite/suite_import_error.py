"""A module that cannot be imported: collection must report it as a failing test."""

import a_module_that_does_not_exist  # noqa: F401


def test_never_runs():
    pass
