"""Shared pytest configuration.

Hypothesis runs a modest number of examples per property (the whole suite must stay
fast on a shared 2-core machine) and without deadlines (timings there are noisy).
Set HYPOTHESIS_PROFILE=thorough for a longer local run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "xent", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "xent"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so every test sees the same numbers."""
    return np.random.default_rng(0)
