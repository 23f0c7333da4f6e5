"""Shared helpers for the forecasting tests."""

import numpy as np
import pandas as pd

PATTERN = np.array([80, 85, 100, 110, 120, 140, 150, 145, 120, 105, 90, 130], dtype=float)


def monthly(values, start="2015-01-01") -> pd.Series:
    """A Series indexed by month starts."""
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(start, periods=len(values), freq="MS"))
