"""Seeded synthetic monthly series for the forecasting tests."""

import numpy as np
import pytest

from .helpers import PATTERN, monthly


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


@pytest.fixture
def seasonal_history(rng):
    """Eight years of a fixed seasonal pattern with 2 % noise."""
    values = np.tile(PATTERN, 8) * (1 + rng.normal(0, 0.02, 96))
    return monthly(values)
