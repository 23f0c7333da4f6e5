"""Member models of the combination, fitted with statsmodels.

Each ``fit_*`` function returns a :class:`MemberFit` holding the forecast
from the end of the history *and* ``paths``: the forecasts the fitted model
would have made from every earlier month (origin), computed in closed form
from the smoothed states.  The paths feed interval calibration and the cheap
backtest stored on each forecast, so nothing is refitted per origin.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from statsmodels.tools.eval_measures import aicc
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.stattools import acf

PERIOD = 12

__all__ = ["MemberFit", "PERIOD", "fit_ets", "fit_theta", "fit_damped", "is_seasonal"]


@dataclass(frozen=True)
class MemberFit:
    name: str
    spec: str
    forecast: np.ndarray  # (horizon,)
    paths: np.ndarray  # (nobs, horizon); paths[t, h-1] forecasts y[t + h]


def is_seasonal(y: np.ndarray, period: int = PERIOD) -> bool:
    """Theta's 90 % autocorrelation test for seasonality at lag ``period``."""
    if len(y) < 2 * period or np.ptp(y) == 0:
        return False
    rho = acf(y, nlags=period, fft=True)
    stat = len(y) * rho[-1] ** 2 / np.sum(rho[:-1] ** 2)
    return bool(stat > 2.705543454095404)


def _smoothing_paths(level, trend, season, *, phi, seasonal, horizon, period=PERIOD):
    """Closed-form h-step forecasts from the state at every origin.

    ``level[t]``, ``trend[t]``, ``season[t]`` are the states after observing
    ``y[t]`` (the statsmodels convention for ``ETSModel`` and Holt-Winters).
    """
    n = len(level)
    steps = np.arange(1, horizon + 1)
    out = np.repeat(level[:, None], horizon, axis=1).astype(float)
    if trend is not None:
        damp = np.cumsum(phi ** steps) if phi != 1.0 else steps.astype(float)
        out = out + trend[:, None] * damp[None, :]
    if season is not None:
        lag = period * np.ceil(steps / period).astype(int)
        idx = np.arange(n)[:, None] + steps[None, :] - lag[None, :]
        valid = idx >= 0
        s = np.where(valid, season[np.clip(idx, 0, None)], np.nan)
        out = out * s if seasonal == "mul" else out + s
    return out


def _ets_configs(positive: bool, seasonal_ok: bool, family: str = "full",
                 seasonal: bool | None = None):
    """ETS configurations to compare.

    ``"full"``: R's ``forecast::ets`` default family (no multiplicative trend,
    no additive error with multiplicative season), 15 models.  ``"lean"``:
    point forecasts hardly depend on the error type, so multiplicative error
    is used only where it is required (multiplicative season), 9 models.
    ``seasonal=True``/``False`` keeps only the seasonal / non-seasonal ones
    (the answer of :func:`is_seasonal`; ``None``: both).
    """
    errors = ("add", "mul") if positive else ("add",)
    trends = ((None, False), ("add", False), ("add", True))
    seasonals = [None]
    if seasonal_ok and seasonal is not False:
        seasonals += ["add", "mul"] if positive else ["add"]
        if seasonal:
            seasonals.remove(None)
    for error, (trend, damped), seasonal in itertools.product(errors, trends, seasonals):
        if error == "add" and seasonal == "mul":
            continue  # numerically unstable; excluded as in R's forecast::ets
        if family == "lean" and error == "mul" and seasonal != "mul":
            continue
        yield error, trend, damped, seasonal


def _spec(error, trend, damped, seasonal) -> str:
    letter = {None: "N", "add": "A", "mul": "M"}
    return f"{letter[error]},{letter[trend]}{'d' if damped else ''},{letter[seasonal]}"


#: Which ETS family :func:`fit_ets` searches ("full" or "lean", see _ets_configs;
#: "reuse": the full family, its multiplicative-error twins judged at the
#: additive-error optimum and only the most promising one optimised).
ETS_FAMILY = "reuse"
#: L-BFGS-B's stopping tolerance for the ETS likelihood (scipy's ``factr``: stop when the
#: relative change of the objective is below ``factr`` times machine epsilon, 2e-6 here;
#: scipy's default 1e7 is 2e-9).  Issue 11: 15 % fewer likelihood evaluations per forecast
#: over the benchmark, and its MASE unchanged to the third decimal at every history length.
ETS_FACTR = 1e10


def fit_ets(y: np.ndarray, horizon: int, *, family: str | None = None,
            season: bool | None = None) -> MemberFit:
    """ETS chosen by AICc (see :func:`_ets_configs`; multiplicative parts only
    when ``y > 0``).  Candidates are compared on their optimised likelihood;
    only the winner is turned into a full statsmodels results object.
    ``season`` (the seasonality test's answer) limits the search to seasonal or
    non-seasonal models; ``None`` searches both."""
    positive = bool(np.min(y) > 0)
    family = family or ETS_FAMILY
    best_aicc, best = np.inf, None

    # statsmodels' heuristic initial states depend only on the data and the trend and season
    # types, and "heuristic" and "known" states are treated alike from there on (both fixed,
    # not estimated): work them out once per (trend, season) instead of once per candidate,
    # which was a fifth of the search's time.
    starts: dict[tuple, tuple] = {}

    def model_for(error, trend, damped, seasonal):
        shape = dict(error=error, trend=trend, damped_trend=damped, seasonal=seasonal,
                     seasonal_periods=PERIOD if seasonal else None)
        if (trend, seasonal) not in starts:
            model = ETSModel(y, **shape, initialization_method="heuristic")
            starts[trend, seasonal] = (model.initial_level, model.initial_trend, model.initial_seasonal)
            return model
        level, slope, season = starts[trend, seasonal]
        return ETSModel(y, **shape, initialization_method="known", initial_level=level,
                        initial_trend=slope, initial_seasonal=np.array(season, copy=True) if seasonal else None)

    def score(model, params):
        return aicc(model.loglike(params), len(y), len(params) + 1)

    twins = []  # (aicc at the additive-error optimum, cfg, model, params)
    search = "lean" if family == "reuse" else family
    for cfg in _ets_configs(positive, len(y) >= 2 * PERIOD, search, season):
        try:
            model = model_for(*cfg)
            params = model.fit(disp=False, return_params=True, factr=ETS_FACTR)
            value = score(model, params)
            if family == "reuse" and positive and cfg[0] == "add":
                # The multiplicative-error twin has the same parameters: judge it at the
                # additive optimum first and optimise it only if it could win.
                twin_cfg = ("mul", *cfg[1:])
                twin = model_for(*twin_cfg)
                twins.append((score(twin, params), twin_cfg, twin, params))
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            continue
        if np.isfinite(value) and value < best_aicc:
            best_aicc, best = value, (cfg, model, params)
    finite = [t for t in twins if np.isfinite(t[0])]
    if finite:
        guess, cfg, model, start = min(finite, key=lambda t: t[0])
        if guess < best_aicc:
            try:
                params = model.fit(start_params=start, disp=False, return_params=True,
                                   factr=ETS_FACTR)
                value = score(model, params)
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                value = np.inf
            if np.isfinite(value) and value < best_aicc:
                best_aicc, best = value, (cfg, model, params)
    if best is None:
        raise RuntimeError("no ETS model could be fitted")
    (error, trend, damped, seasonal), model, params = best
    res = model.smooth(params)
    paths = _smoothing_paths(
        res.level, res.slope if trend else None, res.season if seasonal else None,
        phi=float(res.damping_trend) if damped else 1.0, seasonal=seasonal, horizon=horizon,
    )
    return MemberFit("ets", _spec(*best[0]), np.asarray(res.forecast(horizon)), paths)


def fit_damped(y: np.ndarray, horizon: int, *, seasonal: str | None) -> MemberFit:
    """Holt-Winters with a damped additive trend (least squares)."""
    res = ExponentialSmoothing(
        y, trend="add", damped_trend=True, seasonal=seasonal,
        seasonal_periods=PERIOD if seasonal else None, initialization_method="heuristic"
        if seasonal else "estimated",
    ).fit(use_brute=False)
    paths = _smoothing_paths(
        res.level, res.trend, res.season if seasonal else None,
        phi=float(res.params["damping_trend"]), seasonal=seasonal, horizon=horizon,
    )
    spec = "A,Ad," + {None: "N", "add": "A", "mul": "M"}[seasonal]
    # The forecast is the last row of the closed-form paths: statsmodels'
    # Holt-Winters ``forecast`` reuses a seasonal state one cycle too old at
    # step ``PERIOD`` (steps 1..11 agree to machine precision).
    return MemberFit("damped", spec, paths[-1].copy(), paths)


def fit_theta(y: np.ndarray, horizon: int, *, seasonal: bool | None = None) -> MemberFit:
    """Standard Theta method (theta = 2) on the seasonally adjusted series.

    ``seasonal=None`` lets statsmodels' own 90 % autocorrelation test decide
    whether to deseasonalise; ``True``/``False`` decides instead of it."""
    if seasonal is None:
        model = ThetaModel(y, period=PERIOD)
    else:
        model = ThetaModel(y, period=PERIOD, deseasonalize=seasonal, use_test=False)
    res = model.fit()
    forecast = np.asarray(res.forecast(horizon))
    alpha, b0 = float(res.params["alpha"]), float(res.params["b0"])
    n = len(y)
    multiplicative = res.model.method.startswith("mul")
    # Seasonal indices by position in the cycle, from the public components:
    # out-of-sample step k uses index (n + k) % PERIOD.
    components = res.forecast_components(PERIOD)["seasonal"].to_numpy()
    seasonal = np.empty(PERIOD)
    seasonal[(len(y) + np.arange(PERIOD)) % PERIOD] = components
    if np.allclose(seasonal, 1.0 if multiplicative else 0.0):
        seasonal = seasonal[:0]  # not deseasonalized
    steps = np.arange(1, horizon + 1)
    if seasonal.size:
        tiled = seasonal[np.arange(n) % PERIOD]
        x = y / tiled if multiplicative else y - tiled
    else:
        x = y.astype(float)
    # SES one-step forecasts: ses[t] forecasts x[t+1] after seeing x[0..t].
    ses = np.empty(n)
    prev = x[0]
    for t in range(n):
        prev = alpha * x[t] + (1 - alpha) * prev
        ses[t] = prev
    nobs = np.arange(1, n + 1)[:, None]
    drift = steps[None, :] - 1.0
    if alpha > 0:
        drift = drift + 1 / alpha - (1 - alpha) ** nobs / alpha
    paths = ses[:, None] + 0.5 * b0 * drift
    if seasonal.size:
        s = seasonal[(np.arange(n)[:, None] + steps[None, :]) % PERIOD]
        paths = paths * s if multiplicative else paths + s
    spec = ("M" if multiplicative else "A") if seasonal.size else "N"
    return MemberFit("theta", spec, forecast, paths)
