"""Any non-negative history gives a finite, ordered, non-negative forecast."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecasting import forecast

from .helpers import monthly

values = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
histories = st.integers(min_value=0, max_value=60).flatmap(
    lambda n: arrays(np.float64, n, elements=values))


# Statistical checks: `make test` runs them, `make test-fast` skips them.
pytestmark = pytest.mark.slow


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, nan_share=st.floats(0, 0.3), seed=st.integers(0, 2**16))
def test_any_non_negative_history_gives_finite_ordered_output(history, nan_share, seed):
    rng = np.random.default_rng(seed)
    holed = np.where(rng.random(len(history)) < nan_share, np.nan, history)
    fc = forecast(monthly(holed), horizon=12, level=(80, 95), end="2024-12")
    assert len(fc.mean) == 12
    mean = fc.mean.to_numpy()
    assert np.isfinite(mean).all() and (mean >= 0).all()
    lo80, hi80 = fc.lower[80].to_numpy(), fc.upper[80].to_numpy()
    lo95, hi95 = fc.lower[95].to_numpy(), fc.upper[95].to_numpy()
    for arr in (lo80, hi80, lo95, hi95):
        assert np.isfinite(arr).all() and (arr >= 0).all()
    assert (lo80 <= mean).all() and (mean <= hi80).all()
    assert (lo95 <= lo80).all() and (hi80 <= hi95).all()
    total, lower, upper = fc.total(80)
    assert np.isfinite([total, lower, upper]).all() and 0 <= lower <= total <= upper
    assert fc.status in {"ok", "fallback", "insufficient_history"}


@settings(max_examples=15, deadline=None)
@given(level=st.floats(1, 60), seed=st.integers(0, 2**16), months=st.integers(24, 72))
def test_noisy_seasonal_histories_keep_the_full_method(level, seed, months):
    rng = np.random.default_rng(seed)
    season = 1 + 0.3 * np.sin(np.arange(months) * np.pi / 6)
    sales = rng.poisson(level * season).astype(float) + 1
    fc = forecast(monthly(sales))
    assert fc.status == "ok"
    assert np.isfinite(fc.mean).all() and fc.mean.sum() <= 3 * sales[-12:].sum() + 1e-6
