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
    assert "no sales in the last 8 months" in fc.reason


@pytest.mark.parametrize("gap", [12, 18, 24])
def test_a_year_or_more_without_sales_is_inactive_whatever_the_seasonality(gap, rng):
    # A seasonal partner (sales only in Oct-Dec) who then stopped: the same
    # months a year earlier are empty too, but a 12+ month gap is no off-season.
    year = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 500, 400], dtype=float)
    values = np.r_[np.tile(year, 4) * (1 + rng.normal(0, 0.05, 48)), np.zeros(gap)]
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "fallback" and fc.model == "zero"
    assert f"no sales in the last {gap} months" in fc.reason and "inactive" in fc.reason
    assert (fc.mean == 0).all()
    # It never came back from so long a gap before: no return is allowed for.
    assert (fc.upper[95] == 0).all() and fc.total(95) == (0.0, 0.0, 0.0)
    assert fc.backtest is None


@pytest.mark.parametrize("gap", [12, 18, 24])
def test_a_year_or_more_without_sales_is_inactive_for_a_steady_partner(gap, rng):
    values = np.r_[np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.05, 36)), np.zeros(gap)]
    fc = forecast(monthly(values))
    assert fc.status == "fallback" and (fc.mean == 0).all()
    assert f"no sales in the last {gap} months" in fc.reason


def test_inactive_partner_who_returned_before_gets_room_for_a_return(rng):
    active = np.tile(PATTERN, 2) * (1 + rng.normal(0, 0.05, 24))
    values = np.r_[active, np.zeros(15), active, np.zeros(12)]  # came back after 15 months
    fc = forecast(monthly(values))
    assert_sane(fc)
    assert fc.status == "fallback" and (fc.mean == 0).all()
    assert "no sales in the last 12 months" in fc.reason and "return" in fc.reason
    former = active[-12:].mean()
    np.testing.assert_allclose(fc.upper[95].to_numpy(), former, rtol=1e-9)
    assert (fc.upper[80] > 0).all() and (fc.upper[80] < fc.upper[95]).all()
    assert (fc.lower[95] == 0).all()
    mean, lower, upper = fc.total(95)
    assert mean == lower == 0 and upper == pytest.approx(12 * former)


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


def test_negative_months_raise_a_clear_error_by_default(rng):
    values = np.tile(PATTERN, 3)
    values[5] = -40
    with pytest.raises(ValueError, match=r"1 negative month.*2015-06.*negatives='clip'"):
        forecast(monthly(values))


def test_negative_months_are_treated_as_zero_and_noted_when_clipping(rng):
    values = np.tile(PATTERN, 3)
    values[5] = -40
    fc = forecast(monthly(values), negatives="clip")
    assert_sane(fc)
    assert any("negative" in w for w in fc.warnings)
    zeroed = values.copy()
    zeroed[5] = 0
    np.testing.assert_allclose(fc.mean.to_numpy(), forecast(monthly(zeroed)).mean.to_numpy())
    with pytest.raises(ValueError, match="negatives must be one of"):
        forecast(monthly(values), negatives="ignore")


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


def test_duplicate_months_are_summed(rng):
    values = np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.03, 36))
    history = monthly(values)
    split = pd.concat([history, pd.Series([10.0, 20.0], index=history.index[[3, 3]])])
    added = values.copy()
    added[3] += 30
    np.testing.assert_allclose(forecast(split).mean.to_numpy(),
                               forecast(monthly(added)).mean.to_numpy())


def test_mid_month_dates_are_read_as_their_month(rng):
    history = monthly(np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.03, 36)))
    mid = history.copy()
    mid.index = history.index + pd.Timedelta(days=14, hours=13)
    fc, ref = forecast(mid), forecast(history)
    pd.testing.assert_index_equal(fc.mean.index, ref.mean.index)  # month starts out
    np.testing.assert_allclose(fc.mean.to_numpy(), ref.mean.to_numpy())


def test_time_zone_aware_dates_take_their_month_in_utc(rng):
    history = monthly(np.tile(PATTERN, 3) * (1 + rng.normal(0, 0.03, 36)))
    ref = forecast(history)
    # Mid-month in any zone: same months as the naive history, no note.
    mid = history.copy()
    mid.index = (history.index + pd.Timedelta(days=14)).tz_localize("Europe/Warsaw")
    fc = forecast(mid)
    pd.testing.assert_index_equal(fc.mean.index, ref.mean.index)
    np.testing.assert_allclose(fc.mean.to_numpy(), ref.mean.to_numpy())
    assert not any("UTC" in w for w in fc.warnings)
    # 23:30 on the last day of the month in New York is already next month in UTC.
    late = history.copy()
    late.index = (history.index + pd.offsets.MonthEnd(0) + pd.Timedelta(hours=23, minutes=30)
                  ).tz_localize("America/New_York")
    fc = forecast(late)
    assert fc.mean.index[0] == ref.mean.index[0] + pd.DateOffset(months=1)
    np.testing.assert_allclose(fc.mean.to_numpy(), ref.mean.to_numpy())
    assert any("36 timestamp(s) fall in a different month in UTC" in w for w in fc.warnings)


def test_a_quarterly_index_is_rejected():
    quarters = pd.Series(np.arange(1.0, 21.0),
                         index=pd.date_range("2019-01-01", periods=20, freq="QS"))
    with pytest.raises(ValueError, match="monthly"):
        forecast(quarters)
    with pytest.raises(ValueError, match="monthly"):
        forecast(quarters.to_period("Q"))


def test_evenly_spaced_rows_without_a_freq_are_months_with_gaps():
    # Only the months with orders, every third month: a partner ordering quarterly.
    months = pd.DatetimeIndex(pd.date_range("2019-01-01", periods=12, freq="QS").to_list())
    assert months.freq is None
    fc = forecast(pd.Series(300.0, index=months))
    assert fc.mean.index[0] == pd.Timestamp("2021-11-01")  # month after the last row
    assert any("evenly spaced" in w for w in fc.warnings)
