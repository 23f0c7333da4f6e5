"""Shared helpers for the forecasting tests."""

import numpy as np
import pandas as pd

PATTERN = np.array([80, 85, 100, 110, 120, 140, 150, 145, 120, 105, 90, 130], dtype=float)


def monthly(values, start="2015-01-01") -> pd.Series:
    """A Series indexed by month starts."""
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(start, periods=len(values), freq="MS"))


def _rebuild_crash_key(name):
    """Unpickling a CrashInWorker in a worker process kills that process."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return CrashInWorker(name)


class CrashInWorker:
    """A forecast_many key whose arrival in a worker process crashes the worker."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return _rebuild_crash_key, (self.name,)

    def __eq__(self, other):
        return isinstance(other, CrashInWorker) and other.name == self.name

    def __hash__(self):
        return hash(("CrashInWorker", self.name))
