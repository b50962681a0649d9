"""Several quick tests for running under pytest-xdist."""

import pytest


@pytest.mark.parametrize("n", range(8))
def test_many(n):
    assert n >= 0
