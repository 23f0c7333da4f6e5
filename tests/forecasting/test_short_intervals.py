"""Small-sample widening of the intervals of 24-35-month histories."""

import numpy as np
import pytest

from forecasting import forecast
from forecasting._intervals import small_sample_df, z_value

from .helpers import PATTERN, monthly

# Statistical checks: `make test` runs them, `make test-fast` skips them.
pytestmark = pytest.mark.slow


SEEDS = range(24)


def _noisy(seed, n):
    rng = np.random.default_rng(seed)
    level = 100 + np.cumsum(rng.normal(0, 2, n))  # a wandering level
    return np.maximum(level * PATTERN[np.arange(n) % 12] / 115 + rng.normal(0, 12, n), 0)


def _coverage(level, n_train=30):
    """Coverage of a held-out year by the interval, and by the same interval
    with the former normal quantile (same forecasts, half-widths rescaled)."""
    df, _ = small_sample_df(n_train, 12)
    to_normal = z_value(level) / z_value(level, df)
    inside, inside_normal = [], []
    for seed in SEEDS:
        y = _noisy(seed, n_train + 12)
        fc = forecast(monthly(y[:n_train]), level=(80, 95), backtest=False)
        actual, mean = y[n_train:], fc.mean.to_numpy()
        half = fc.upper[level].to_numpy() - mean
        inside.append(np.mean(np.abs(actual - mean) <= half))
        inside_normal.append(np.mean(np.abs(actual - mean) <= half * to_normal))
    return float(np.mean(inside)), float(np.mean(inside_normal))


def test_short_history_uses_student_t_quantiles():
    fc = forecast(monthly(_noisy(0, 30)), level=(80, 95), backtest=False)
    assert fc.status == "ok"
    half = (fc.upper[95] - fc.mean).to_numpy()
    half80 = (fc.upper[80] - fc.mean).to_numpy()
    # 8 errors behind the later steps: t(8) 97.5 % quantile 2.31 vs normal 1.96.
    ratio = half[-1] / half80[-1]
    assert ratio == pytest.approx(z_value(95, 8) / z_value(80, 8), rel=1e-6)
    assert ratio > 1.05 * z_value(95) / z_value(80)


def test_short_history_95_interval_covers_a_held_out_year():
    widened, normal = _coverage(95)
    # Issue 11's widening by history length (1.25 below 60 months; 1.4 at first) lifts
    # both near the ceiling, so the t quantile's gain is smaller than the 1.5 points it
    # was when the widening was 1.1.
    assert widened >= normal
    assert widened >= 0.9


def test_long_history_keeps_normal_quantiles():
    fc = forecast(monthly(_noisy(1, 60)), level=(80, 95), backtest=False)
    half = (fc.upper[95] - fc.mean).to_numpy()
    half80 = (fc.upper[80] - fc.mean).to_numpy()
    ok = half80 > 0
    np.testing.assert_allclose(half[ok] / half80[ok], z_value(95) / z_value(80), rtol=1e-9)
    # The measured total is Student-t whatever the length (issue 11): 60 - 11 - 12 = 37
    # overlapping 12-month totals, about 3 independent years.
    assert fc.total_df == pytest.approx(37 / 12)
    mean, _, upper = fc.total(95)
    assert upper - mean == pytest.approx(z_value(95, 37 / 12) * fc.total_sd)
