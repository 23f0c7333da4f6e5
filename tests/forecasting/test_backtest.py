import numpy as np
import pandas as pd
import pytest

from forecasting import backtest, forecast
from forecasting._scores import mase, smape, window_mase

from .helpers import PATTERN, monthly


def test_mase_is_one_for_the_in_sample_naive_error_size():
    train = np.r_[np.arange(12.0), np.arange(12.0) + 2]  # naive in-sample MAE = 2
    assert mase([10, 10], [12, 8], train) == pytest.approx(1.0)
    assert np.isnan(mase([1], [1], np.arange(12.0)))  # no scale with one season


def test_smape_counts_zero_against_zero_as_perfect():
    assert smape([0, 100], [0, 100]) == 0
    assert smape([100], [0]) == pytest.approx(200)


def test_backtest_beats_seasonal_naive_on_a_trending_seasonal_series(rng):
    t = np.arange(96)
    values = np.tile(PATTERN, 8) * (1 + 0.01 * t) * (1 + rng.normal(0, 0.03, 96))
    bt = backtest(monthly(values), horizon=12, n_windows=3)
    assert bt.refit and len(bt.windows) == 3
    assert list(bt.windows.columns[:4]) == ["mase", "smape", "naive_mase", "naive_smape"]
    assert bt.mase < bt.naive_mase and bt.relative_mase < 0.8
    assert bt.windows.index.is_monotonic_increasing
    assert bt.cutoffs[-1] == monthly(values).index[-13]
    assert 0.5 <= bt.coverage[80] <= 1 and bt.coverage[95] >= bt.coverage[80]


def test_backtest_skips_windows_without_two_years_of_training(rng):
    values = np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.03, 48))
    bt = backtest(monthly(values), horizon=12, n_windows=5)
    assert len(bt.windows) == 2  # cutoffs leaving 36 and 24 training months


def test_backtest_of_a_too_short_history_raises():
    with pytest.raises(ValueError, match="too short"):
        backtest(monthly(np.arange(30.0) + 1), horizon=12)


def test_forecast_carries_a_cheap_backtest_marked_as_not_refitted(seasonal_history):
    fc = forecast(seasonal_history)
    assert fc.backtest is not None and not fc.backtest.refit
    assert len(fc.backtest.windows) == 3
    assert fc.backtest.mase < fc.backtest.naive_mase
    assert forecast(seasonal_history, backtest=False).backtest is None


def test_leading_zeros_do_not_change_the_backtest(rng):
    active = np.tile(PATTERN, 5) * (1 + rng.normal(0, 0.05, 60))
    without = backtest(monthly(active, start="2017-01-01"), horizon=12, n_windows=5)
    with_zeros = backtest(monthly(np.r_[np.zeros(24), active], start="2015-01-01"),
                          horizon=12, n_windows=5)
    pd.testing.assert_frame_equal(with_zeros.windows, without.windows)
    assert with_zeros.mase == without.mase and with_zeros.coverage == without.coverage
    assert len(without.windows) == 3  # cutoffs leaving 48, 36 and 24 active months


def test_a_history_with_too_few_active_months_cannot_be_backtested():
    values = np.r_[np.zeros(40), np.arange(30.0) + 1]
    with pytest.raises(ValueError, match="30 active months is too short"):
        backtest(monthly(values), horizon=12)


def test_backtest_arguments_are_checked(rng):
    history = monthly(np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.03, 48)))
    for n_windows in (0, -1):
        with pytest.raises(ValueError, match="n_windows must be at least 1"):
            backtest(history, n_windows=n_windows)
    with pytest.raises(TypeError, match="n_windows must be an int"):
        backtest(history, n_windows=2.0)
    with pytest.raises(ValueError, match="step must be at least 1"):
        backtest(history, step=0)
    with pytest.raises(TypeError, match="horizon must be an int"):
        backtest(history, horizon=True)


def test_window_mase_is_nan_without_a_window():
    short = np.arange(30.0) + 1  # no cutoff leaves 24 training months and 12 to test
    assert np.isnan(window_mase(short, np.ones((30, 12)), horizon=12))

