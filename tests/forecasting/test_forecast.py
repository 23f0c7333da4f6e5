import doctest
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

import forecasting
from forecasting import Forecast, forecast
from forecasting._intervals import correlated_total_sd, small_sample_df, z_value
from forecasting._models import fit_damped, fit_ets, fit_theta

from .helpers import PATTERN, monthly


@pytest.mark.parametrize("method", ["auto", "combo", "median"])
def test_pure_seasonal_pattern_is_repeated(seasonal_history, method):
    fc = forecast(seasonal_history, horizon=12, method=method)
    assert fc.status == "ok"
    np.testing.assert_allclose(fc.mean.to_numpy(), PATTERN, rtol=0.06)


def test_combo_method_always_reports_the_combination(seasonal_history):
    fc = forecast(seasonal_history, method="combo")
    assert fc.model == "combo(ets,theta,damped)" and fc.reason is None


def test_default_is_the_mean_of_the_members(seasonal_history):
    fc = forecast(seasonal_history)
    assert fc.model == "combo(ets,theta,damped)" and fc.reason is None
    y = seasonal_history.to_numpy()
    members, _ = forecasting._core.fit_members(y, 12)
    expected = np.mean([m.forecast for m in members], axis=0)
    np.testing.assert_allclose(fc.mean.to_numpy(), np.maximum(expected, 0), rtol=1e-9)
    np.testing.assert_allclose(forecast(seasonal_history, method="combo").mean, fc.mean)


def test_median_method_outvotes_one_member_gone_astray(monkeypatch, rng):
    # Make Theta useless from every origin: the median must follow the other two.
    history = monthly(np.tile(PATTERN, 6) * (1 + rng.normal(0, 0.03, 72)))
    real_fit = forecasting._models.fit_theta

    def bad_theta(y, horizon, **kwargs):
        m = real_fit(y, horizon, **kwargs)
        return type(m)(m.name, m.spec, m.forecast * 3, m.paths * 3)

    monkeypatch.setattr(forecasting._core, "fit_theta", bad_theta)
    median = forecast(history, method="median")
    assert median.model == "median(ets,theta,damped)"
    np.testing.assert_allclose(median.mean.to_numpy(), PATTERN, rtol=0.08)
    assert forecast(history, method="combo").mean.sum() > 1.4 * median.mean.sum()
    default = forecast(history)  # Theta strays by far more than half: the default outvotes it too
    assert default.model == "median(ets,theta,damped)" and default.reason.startswith("theta forecast")
    np.testing.assert_allclose(default.mean.to_numpy(), median.mean.to_numpy())


def test_linear_trend_is_continued(rng):
    t = np.arange(72)
    history = monthly(500 + 10 * t + rng.normal(0, 5, 72))
    fc = forecast(history, horizon=12)
    expected = 500 + 10 * np.arange(72, 84)
    np.testing.assert_allclose(fc.mean.to_numpy(), expected, rtol=0.03)
    assert fc.mean.iloc[-1] > fc.mean.iloc[0] + 80  # still rising, not flattened


def test_step_change_forecasts_the_new_level(rng):
    values = np.r_[np.full(48, 100.0), np.full(24, 300.0)] + rng.normal(0, 3, 72)
    fc = forecast(monthly(values), horizon=12)
    np.testing.assert_allclose(fc.mean.to_numpy(), 300, rtol=0.1)


def test_forecast_starts_the_month_after_the_history(seasonal_history):
    fc = forecast(seasonal_history, horizon=18)
    expected = pd.date_range("2023-01-01", periods=18, freq="MS")
    pd.testing.assert_index_equal(fc.mean.index, expected)
    for lv in (80, 95):
        pd.testing.assert_index_equal(fc.lower[lv].index, expected)
        pd.testing.assert_index_equal(fc.upper[lv].index, expected)


def test_period_index_in_gives_period_index_out(seasonal_history):
    history = seasonal_history.to_period("M")
    fc = forecast(history, horizon=12)
    assert isinstance(fc.mean.index, pd.PeriodIndex)
    assert fc.mean.index[0] == pd.Period("2023-01", freq="M")
    dt = forecast(seasonal_history, horizon=12)
    np.testing.assert_allclose(fc.mean.to_numpy(), dt.mean.to_numpy())


def test_history_is_not_mutated(seasonal_history):
    history = seasonal_history.copy()
    history.iloc[[5, 30]] = np.nan
    history.iloc[40] = -10
    before = history.copy()
    forecast(history, negatives="clip")
    pd.testing.assert_series_equal(history, before)


def test_intervals_nest_around_the_mean(seasonal_history):
    fc = forecast(seasonal_history, level=(50, 80, 95))
    assert fc.level == (50, 80, 95)
    assert (fc.lower[95] <= fc.lower[80]).all() and (fc.lower[80] <= fc.lower[50]).all()
    assert (fc.lower[50] <= fc.mean).all() and (fc.mean <= fc.upper[50]).all()
    assert (fc.upper[50] <= fc.upper[80]).all() and (fc.upper[80] <= fc.upper[95]).all()
    assert (fc.upper[95] > fc.lower[95]).all()


def test_noisier_history_gets_wider_intervals(rng):
    base = np.tile(PATTERN, 6)
    quiet = forecast(monthly(base * (1 + rng.normal(0, 0.02, 72))))
    noisy = forecast(monthly(base * (1 + rng.normal(0, 0.15, 72))))
    quiet_width = (quiet.upper[80] - quiet.lower[80]).mean()
    noisy_width = (noisy.upper[80] - noisy.lower[80]).mean()
    assert noisy_width > 3 * quiet_width


@pytest.mark.slow
def test_intervals_cover_new_data_from_the_same_process(rng):
    # 40 histories from one noisy seasonal process: the 80 % interval should
    # catch roughly 80 % of the following year's months.
    inside80 = inside95 = 0
    for _ in range(40):
        values = np.tile(PATTERN, 7) * (1 + rng.normal(0, 0.08, 84))
        fc = forecast(monthly(values[:72]), backtest=False)
        actual = values[72:]
        inside80 += int(((actual >= fc.lower[80]) & (actual <= fc.upper[80])).sum())
        inside95 += int(((actual >= fc.lower[95]) & (actual <= fc.upper[95])).sum())
    assert 0.68 <= inside80 / 480 <= 0.92
    assert 0.88 <= inside95 / 480 <= 0.995


def test_total_interval_is_narrower_than_summed_monthly_bounds(seasonal_history):
    fc = forecast(seasonal_history)
    mean, lower, upper = fc.total(80)
    assert mean == pytest.approx(fc.mean.sum())
    assert lower < mean < upper
    assert upper - lower < (fc.upper[80] - fc.lower[80]).sum()
    _, lower95, upper95 = fc.total(95)
    assert lower95 <= lower and upper95 >= upper


def test_total_rejects_a_level_that_is_not_a_percentage(seasonal_history):
    fc = forecast(seasonal_history)
    for bad in (150, 100, 0.8, 0, -5, float("nan"), (80, 95), True, None):
        with pytest.raises(ValueError, match="level"):
            fc.total(bad)
    assert fc.total(90)[1] > fc.total(95)[1]  # any valid percentage, not only fc.level


def _half_widths(fc, lv=80):
    """Monthly and total upper half-widths (the upper side is never floored)."""
    monthly_half = (fc.upper[lv] - fc.mean).to_numpy()
    mean, _, upper = fc.total(lv)
    return monthly_half, upper - mean


@pytest.mark.parametrize("months", [24, 27, 30])
def test_total_interval_of_a_two_year_history_is_not_the_sum_of_monthly_ones(months, rng):
    values = np.tile(PATTERN, 3)[:months] * (1 + rng.normal(0, 0.08, months))
    fc = forecast(monthly(values))
    assert fc.status == "ok"
    monthly_half, total_half = _half_widths(fc)
    summed = monthly_half.sum()
    independent = np.sqrt(np.sum(monthly_half**2))
    assert independent * 1.5 < total_half < 0.95 * summed
    # Student-t quantiles below 36 months: per step, and the last step's for the total.
    df, df_total = small_sample_df(months, 12)
    monthly_sd = monthly_half / z_value(80, df)
    np.testing.assert_allclose(total_half, z_value(80, df_total) * correlated_total_sd(monthly_sd),
                               rtol=1e-9)


@pytest.mark.parametrize("months", [13, 18, 23])
def test_seasonal_naive_total_interval_allows_for_correlated_months(months, rng):
    values = np.tile(PATTERN, 2)[:months] * (1 + rng.normal(0, 0.08, months))
    fc = forecast(monthly(values))
    assert fc.model == "seasonal_naive"
    monthly_half, total_half = _half_widths(fc)
    assert np.sqrt(np.sum(monthly_half**2)) * 1.5 < total_half < 0.95 * monthly_half.sum()
    np.testing.assert_allclose(total_half, correlated_total_sd(monthly_half), rtol=1e-9)


def test_horizon_must_be_an_int():
    history = monthly(np.tile(PATTERN, 3))
    for bad in (True, 12.0, 1.5, "12", None):
        with pytest.raises(TypeError, match="horizon must be an int"):
            forecast(history, horizon=bad)
    assert len(forecast(history, horizon=np.int64(6)).mean) == 6


def test_absurd_growth_is_capped_and_says_so(monkeypatch, rng):
    history = monthly(100 + rng.normal(0, 5, 60))
    real_fit = forecasting._models.fit_ets

    def exploding(y, horizon):
        member = real_fit(y, horizon)
        return type(member)(member.name, member.spec, member.forecast * 100, member.paths)

    monkeypatch.setattr(forecasting._core, "fit_ets", exploding)
    fc = forecast(history, method="combo")
    last_year = history.iloc[-12:].sum()
    assert fc.mean.sum() == pytest.approx(3 * last_year, rel=1e-6)
    assert "capped" in fc.reason


def test_cap_applies_to_every_year_of_the_horizon(monkeypatch, rng):
    # A forecast that is sane in year 1 and absurd in years 2 and 3 (partial).
    history = monthly(100 + rng.normal(0, 5, 60))
    real_fit = forecasting._models.fit_ets

    def exploding_later(y, horizon):
        member = real_fit(y, horizon)
        boost = np.where(np.arange(horizon) >= 12, 100.0, 1.0)
        return type(member)(member.name, member.spec, member.forecast * boost, member.paths)

    monkeypatch.setattr(forecasting._core, "fit_ets", exploding_later)
    fc = forecast(history, horizon=30, method="combo")
    last_year = history.iloc[-12:].sum()
    year1, year2, year3 = fc.mean.iloc[:12], fc.mean.iloc[12:24], fc.mean.iloc[24:]
    assert year1.sum() < 1.5 * last_year  # untouched
    assert year2.sum() == pytest.approx(3 * last_year, rel=1e-6)
    assert year3.mean() * 12 == pytest.approx(3 * last_year, rel=1e-6)  # annualised
    assert "capped" in fc.reason and "year 2" in fc.reason and "year 1 " not in fc.reason
    assert (fc.upper[95] >= fc.mean).all() and (fc.upper[95] <= 4 * fc.mean).all()


def test_failing_member_is_dropped_and_named(monkeypatch, seasonal_history):
    def broken(y, horizon, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(forecasting._core, "fit_theta", broken)
    fc = forecast(seasonal_history, method="combo")
    assert fc.model == "combo(ets,damped)"
    assert "theta: boom" in fc.reason
    np.testing.assert_allclose(fc.mean.to_numpy(), PATTERN, rtol=0.06)


def test_statsmodels_warnings_are_captured_on_the_result(monkeypatch, seasonal_history):
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    real_fit = forecasting._models.fit_theta

    def noisy(y, horizon, **kwargs):
        warnings.warn("optimizer did not converge", ConvergenceWarning, stacklevel=1)
        return real_fit(y, horizon, **kwargs)

    monkeypatch.setattr(forecasting._core, "fit_theta", noisy)
    fc = forecast(seasonal_history)  # the suite runs with -W error: a leak would raise
    assert fc.warnings == ("ConvergenceWarning: optimizer did not converge",)


def test_closed_form_origin_forecasts_match_statsmodels(seasonal_history, rng):
    y = seasonal_history.to_numpy()
    trend = 50 + np.arange(60.0) + rng.normal(0, 2, 60)
    with_zeros = np.tile(PATTERN, 4) - 80  # additive season, zeros present
    with warnings.catch_warnings(record=True):  # members called directly, outside forecast()
        warnings.simplefilter("always")
        for series in (y, trend, with_zeros):
            for member in (fit_ets(series, 12), fit_theta(series, 12),
                           fit_theta(series, 12, seasonal=True), fit_theta(series, 12, seasonal=False)):
                np.testing.assert_allclose(member.paths[-1], member.forecast, rtol=1e-8,
                                           atol=1e-8)
        damped = fit_damped(y, 12, seasonal="mul")
        reference = ExponentialSmoothing(
            y, trend="add", damped_trend=True, seasonal="mul", seasonal_periods=12,
            initialization_method="heuristic").fit(use_brute=False).forecast(12)
    # statsmodels reuses a stale seasonal state at step 12 only; steps 1-11 agree.
    np.testing.assert_allclose(damped.forecast[:11], reference[:11], rtol=1e-8)


def test_bad_arguments_raise_clear_errors(seasonal_history):
    with pytest.raises(TypeError, match="pandas Series"):
        forecast([1, 2, 3])
    with pytest.raises(TypeError, match="indexed by month"):
        forecast(pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="horizon"):
        forecast(seasonal_history, horizon=0)
    with pytest.raises(TypeError, match="horizon"):
        forecast(seasonal_history, horizon=12.0)
    with pytest.raises(ValueError, match="percentage"):
        forecast(seasonal_history, level=0.8)
    with pytest.raises(ValueError, match="method"):
        forecast(seasonal_history, method="best")


def test_public_names_and_result_type(seasonal_history):
    assert sorted(forecasting.__all__) == sorted(
        ["forecast", "forecast_many", "backtest", "Forecast", "Backtest"])
    fc = forecast(seasonal_history)
    assert isinstance(fc, Forecast)
    with pytest.raises(AttributeError):
        fc.model = "other"  # frozen


def test_package_does_not_import_the_portal():
    import pathlib

    for path in pathlib.Path(forecasting.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "import flask" not in text and "from flask" not in text, path
        assert "import portal" not in text and "from portal" not in text, path


def _imported_modules(module: str) -> set:
    """Sibling modules ``forecasting.<module>`` imports anywhere (functions included)."""
    import ast
    import pathlib

    path = pathlib.Path(forecasting.__file__).parent / f"{module}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module)
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("forecasting."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("forecasting."))
    return found


def test_core_and_the_backtest_do_not_import_each_other():
    assert "_backtest" not in _imported_modules("_core")
    assert "_core" in _imported_modules("_backtest")
    assert {"_core", "_backtest"}.isdisjoint(_imported_modules("_scores"))


@pytest.mark.parametrize("module", ["_core", "_backtest", "_batch", "_result"])
def test_docstring_examples_run(module):
    mod = getattr(forecasting, module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("multiplicative", [False, True])
def test_ets_search_reuses_initial_states_without_changing_the_fit(monkeypatch, rng, multiplicative):
    """fit_ets works statsmodels' heuristic initial states out once per (trend, season) and
    passes them to the other candidates as known: the chosen model and its forecast must be
    exactly those of letting every candidate work them out itself."""
    months = np.arange(72)
    season = 1 + 0.3 * np.sin(2 * np.pi * months / 12)
    level = 200 + 1.5 * months
    y = level * season * rng.lognormal(0, 0.05, 72) if multiplicative else level + 40 * season + rng.normal(0, 5, 72)
    shared = fit_ets(y, 12)
    original = forecasting._models.ETSModel

    def heuristic_everywhere(endog, **kwargs):
        for name in ("initial_level", "initial_trend", "initial_seasonal"):
            kwargs.pop(name, None)
        return original(endog, **{**kwargs, "initialization_method": "heuristic"})

    monkeypatch.setattr(forecasting._models, "ETSModel", heuristic_everywhere)
    alone = fit_ets(y, 12)
    assert shared.spec == alone.spec
    np.testing.assert_array_equal(shared.forecast, alone.forecast)
    np.testing.assert_array_equal(shared.paths, alone.paths)
