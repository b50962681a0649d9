"""Counters that outlive test modules' re-execution checks (imported once)."""

IMPORTS = 0
