"""Sample unittest package run by tests/test_run*.py and tests/test_server*.py."""
