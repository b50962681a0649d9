"""A small unittest suite for `make demo`: one of each outcome, subtests, output.

One test fails on purpose so the demo shows how failures are reported.
"""
