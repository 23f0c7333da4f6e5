"""Short and odd histories: each gets a sensible, documented result."""

import numpy as np
import pandas as pd
import pytest

from forecasting import forecast

from .helpers import PATTERN, monthly


def assert_sane(fc, horizon=12):
    assert len(fc.mean) == horizon
    for lv in (80, 95):
        assert np.isfinite(fc.lower[lv]).all() and np.isfinite(fc.upper[lv]).all()
        assert (fc.lower[lv] >= 0).all()
        assert (fc.lower[lv] <= fc.mean).all() and (fc.mean <= fc.upper[lv]).all()
    assert np.isfinite(fc.mean).all() and (fc.mean >= 0).all()


def test_empty_history_gives_an_empty_insufficient_forecast():
    fc = forecast(pd.Series([], dtype=float, index=pd.DatetimeIndex([])))
    assert fc.status == "insufficient_history"
    assert len(fc.mean) == 0 and "end=" in fc.reason
    assert fc.total() == (0.0, 0.0, 0.0)


def test_empty_history_with_end_forecasts_zero_after_end():
    fc = forecast(pd.Series([], dtype=float, index=pd.DatetimeIndex([])), end="2024-06")
    assert_sane(fc)
    assert fc.mean.index[0] == pd.Timestamp("2024-07-01")
    assert (fc.mean == 0).all() and fc.status == "insufficient_history"


def test_all_zero_history_forecasts_zero():
    fc = forecast(monthly(np.zeros(48)))
    assert_sane(fc)
    assert (fc.mean == 0).all() and (fc.upper[95] == 0).all()
    assert fc.status == "insufficient_history" and fc.reason == "no sales in the history"


def test_constant_history_repeats_the_constant_with_no_spread():
    fc = forecast(monthly(np.full(36, 250.0)))
    assert_sane(fc)
    assert (fc.mean == 250).all() and (fc.upper[95] == 250).all()
    assert fc.status == "fallback" and fc.model == "constant"


def test_one_spike_in_a_flat_history_is_not_repeated_at_full_height(rng):
    values = 100 + rng.normal(0, 3, 48)
    values[30] = 1000
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "ok"
    assert fc.mean.max() < 400  # the spike month is not forecast to recur in full
    assert fc.total()[0] == pytest.approx(1200, rel=0.25)


def test_a_single_order_is_averaged_over_the_active_months():
    values = np.zeros(36)
    values[30] = 600.0  # first and only order six months ago
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "insufficient_history" and fc.model == "level"
    np.testing.assert_allclose(fc.mean, 100.0)  # 600 over 6 active months


def test_partner_who_stopped_ordering_is_forecast_zero(rng):
    values = np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.05, 48))
    values[-8:] = 0
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert (fc.mean == 0).all()
    assert fc.status == "fallback" and "inactive" in fc.reason


def test_missing_recent_months_count_as_zero_when_end_is_given(rng):
    history = monthly(np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.05, 36)))
    fc = forecast(history, end="2018-09")  # nine empty months after Dec 2017
    assert fc.mean.index[0] == pd.Timestamp("2018-10-01")
    assert (fc.mean == 0).all() and "inactive" in fc.reason


def test_seasonal_off_months_do_not_mark_a_partner_inactive(rng):
    year = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 500, 400], dtype=float)
    values = np.tile(year, 4)[:-3] * (1 + rng.normal(0, 0.05, 45))  # ends in September
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "ok"
    assert fc.mean.iloc[1] > 300  # November is still forecast as a strong month


def test_leading_zeros_are_ignored(rng):
    active = np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.03, 36))
    with_zeros = forecast(monthly(np.r_[np.zeros(24), active], start="2013-01-01"))
    without = forecast(monthly(active))
    assert_sane(with_zeros)
    np.testing.assert_allclose(with_zeros.mean.to_numpy(), without.mean.to_numpy())
    assert with_zeros.status == without.status == "ok"


def test_nan_holes_and_missing_months_count_as_zero_sales(rng):
    values = np.tile(PATTERN, 4) * (1 + rng.normal(0, 0.03, 48))
    holed = monthly(values)
    holed.iloc[[10, 20]] = np.nan
    dropped = holed.drop(holed.index[[10, 20]])
    zeros = monthly(np.where(np.isnan(holed.to_numpy()), 0.0, values))
    a, b, c = forecast(holed), forecast(dropped), forecast(zeros)
    assert_sane(a)
    np.testing.assert_allclose(a.mean.to_numpy(), c.mean.to_numpy())
    np.testing.assert_allclose(b.mean.to_numpy(), c.mean.to_numpy())


def test_negative_months_are_treated_as_zero_and_noted(rng):
    values = np.tile(PATTERN, 3)
    values[5] = -40
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert any("negative" in w for w in fc.warnings)


@pytest.mark.parametrize("months", [1, 2, 5, 11])
def test_under_a_year_gives_a_level_forecast(months, rng):
    values = 50 + rng.normal(0, 5, months)
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "insufficient_history" and fc.model == "level"
    np.testing.assert_allclose(fc.mean, values.mean())
    assert fc.backtest is None


@pytest.mark.parametrize("months", [12, 18, 23])
def test_one_to_two_years_repeat_last_year(months, rng):
    values = np.tile(PATTERN, 2)[:months] * (1 + rng.normal(0, 0.03, months))
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "fallback" and fc.model == "seasonal_naive"
    assert "24 needed" in fc.reason
    np.testing.assert_allclose(fc.mean.to_numpy(), np.resize(values[-12:], 12))


def test_two_years_use_the_full_method_without_a_backtest(rng):
    values = np.tile(PATTERN, 2) * (1 + rng.normal(0, 0.03, 24))
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "ok" and fc.backtest is None
