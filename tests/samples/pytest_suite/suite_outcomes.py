"""A pytest suite with one test of each outcome, run by tests/test_pytest_plugin.py."""

import sys

import pytest


def test_passes():
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)


def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken"


@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfails():
    raise ValueError("still broken")


@pytest.mark.xfail(reason="maybe fixed")
def test_xpasses():
    pass


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup exploded")


def test_setup_error(broken_setup):
    pass


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown exploded")


def test_teardown_error(broken_teardown):
    pass


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n


def test_subtests(subtests):
    for i in range(3):
        with subtests.test(msg="check", i=i):
            assert i != 1, "one is odd"


def test_subtests_all_pass(subtests):
    with subtests.test(i=0):
        pass
