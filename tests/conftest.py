"""Shared test configuration: the hypothesis profile, and ``tests/`` on sys.path so
test modules can ``import strategies`` whatever pytest's import mode."""

from __future__ import annotations

import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# CI runs on a small shared machine: modest example counts and no deadline (timing
# there is noisy).  HYPOTHESIS_PROFILE=thorough runs many more examples locally.
settings.register_profile(
    "subunit2",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", parent=settings.get_profile("subunit2"), max_examples=2000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "subunit2"))
