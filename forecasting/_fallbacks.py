"""Fallbacks: what :func:`forecasting.forecast` does when the full method cannot run.

Empty, all-zero, short, constant and inactive histories get a simple forecast
here (:func:`fallback_plan`); :func:`seasonal_naive_plan` also stands in when
every member model of the full method fails to fit.  Each returns a
:class:`Plan` whose ``status``/``reason`` say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._intermittent import is_intermittent
from ._intervals import correlated_total_sd, z_value
from ._models import PERIOD
from ._prepare import Prepared

__all__ = ["Plan", "fallback_plan", "seasonal_naive_plan", "INACTIVE_MONTHS", "INACTIVE_ALWAYS",
           "MIN_SEASONAL", "MIN_FULL"]

#: This many trailing months without sales mark a partner as inactive, unless
#: the same calendar months were also empty a year earlier (seasonal partner).
INACTIVE_MONTHS = 6
#: This many trailing months without sales mark a partner as inactive whatever
#: its seasonality (a 12-month gap cannot be an off-season).
INACTIVE_ALWAYS = PERIOD
#: Active months needed for seasonal naive and for the full method.
MIN_SEASONAL, MIN_FULL = PERIOD, 2 * PERIOD


@dataclass
class Plan:
    """What a method produced, before it is wrapped in a :class:`Forecast`."""

    mean: np.ndarray
    sd: np.ndarray
    sd_total: float
    model: str
    status: str
    reason: str | None = None
    backtest: object = None
    #: Student-t degrees of freedom per step and of the total; None = normal.
    df: np.ndarray | None = None
    df_total: float | None = None


def _level_plan(active: np.ndarray, horizon: int, reason: str) -> Plan:
    """Flat forecast at the mean of the active months (iid months around a level)."""
    n = len(active)
    level = float(active.mean()) if n else 0.0
    if n >= 3:
        sd = float(active.std(ddof=1))
    else:
        sd = level  # one or two months say nothing about spread: assume CV = 1
    per_month = sd * np.sqrt(1 + 1 / max(n, 1))
    total = sd * np.sqrt(horizon + horizon**2 / max(n, 1))
    status = "insufficient_history"
    return Plan(np.full(horizon, level), np.full(horizon, per_month), float(total), "level",
                 status, reason)


def _zero_plan(horizon: int, model: str, status: str, reason: str) -> Plan:
    return Plan(np.zeros(horizon), np.zeros(horizon), 0.0, model, status, reason)


def seasonal_naive_plan(active: np.ndarray, horizon: int, reason: str | None = None) -> Plan:
    """Repeat the last 12 months; spread from year-on-year differences.

    The per-month deviation is the RMS of the year-on-year differences (the
    errors seasonal naive made on the history), growing like the square root
    of the number of years ahead; the total's deviation combines them with the
    correlation ``TOTAL_RHO`` (a year that is off tends to be off every month).
    """
    last_year = active[-PERIOD:]
    mean = np.resize(last_year, horizon).astype(float)
    diffs = active[PERIOD:] - active[:-PERIOD]
    sd = float(np.sqrt(np.mean(diffs**2))) if diffs.size else float(last_year.std())
    years = np.ceil(np.arange(1, horizon + 1) / PERIOD)
    per_month = sd * np.sqrt(years)
    return Plan(mean, per_month, correlated_total_sd(per_month), "seasonal_naive", "fallback",
                 reason)


def _trailing_zeros(y: np.ndarray) -> int:
    nonzero = np.flatnonzero(y > 0)
    return len(y) if nonzero.size == 0 else len(y) - 1 - int(nonzero[-1])


def _is_inactive(y: np.ndarray) -> bool:
    """No sales for INACTIVE_ALWAYS months; or for INACTIVE_MONTHS, unless the same
    calendar months a year earlier were also empty (a partner who only orders in
    season is not gone)."""
    k = _trailing_zeros(y)
    if k >= INACTIVE_ALWAYS:
        return True
    if k < INACTIVE_MONTHS:
        return False
    a_year_before = y[-k - PERIOD: -PERIOD] if len(y) >= k + PERIOD else y[:0]
    return not (a_year_before.size == k and np.all(a_year_before == 0))


def _longest_gap_with_return(active: np.ndarray) -> int:
    """Longest run of zero months inside ``active`` that was followed by a sale."""
    longest = run = 0
    for value in active:
        if value > 0:
            longest, run = max(longest, run), 0
        else:
            run += 1
    return longest


def _inactive_plan(active: np.ndarray, horizon: int) -> Plan:
    """Forecast 0 for a partner who stopped ordering.

    The mean is the no-return scenario.  If the partner came back before after
    a gap at least as long as the current one, a return is plausible: the
    upper bounds then allow it, with a return to the average month of the
    year before the gap at the edge of the 95 % interval (the total's 95 %
    bound is ``horizon`` such months: a return lasts).  Otherwise the
    intervals are zero-width.
    """
    gap = _trailing_zeros(active)
    before = active[: len(active) - gap]
    reason = (f"no sales in the last {gap} months: partner treated as inactive (forecast 0)")
    if _longest_gap_with_return(before) >= gap:
        former = float(before[-PERIOD:].mean())
        per_month = former / z_value(95)
        reason += (f"; it came back after a gap as long before, so the upper bounds allow a "
                   f"return to its former {former:,.0f} a month")
        return Plan(np.zeros(horizon), np.full(horizon, per_month), horizon * per_month,
                     "zero", "fallback", reason)
    return _zero_plan(horizon, "zero", "fallback", reason)


def fallback_plan(prepared: Prepared, horizon: int) -> Plan | None:
    """The fallback for a history the full method should not be run on, else ``None``.

    Checked in this order: empty history, no sales at all, inactive partner,
    fewer than ``MIN_SEASONAL`` active months, constant history, an intermittent
    history (``None``: :mod:`forecasting._core` runs Croston SBA on it, whatever
    its length from ``MIN_SEASONAL`` on), fewer than ``MIN_FULL`` active months.
    """
    y = prepared.values
    active = prepared.active
    n = len(active)
    if len(prepared.periods) == 0:
        return _zero_plan(0, "zero", "insufficient_history",
                          "empty history: pass end= to place a zero forecast in time")
    if n == 0:
        return _zero_plan(horizon, "zero", "insufficient_history", "no sales in the history")
    if _is_inactive(y):
        return _inactive_plan(active, horizon)
    if n < MIN_SEASONAL:
        return _level_plan(active, horizon,
                           f"only {n} month(s) of sales history; {MIN_SEASONAL} needed for a "
                           "seasonal forecast, so the forecast is their average")
    if np.ptp(active) == 0:
        plan = _level_plan(active, horizon, "constant history: forecast repeats it")
        plan.status, plan.model = "fallback", "constant"
        return plan
    if is_intermittent(active):
        return None  # the intermittent-demand method, see forecasting._core
    if n < MIN_FULL:
        return seasonal_naive_plan(
            active, horizon,
            f"only {n} months of sales history; {MIN_FULL} needed for the full method, "
            "so last year's months are repeated")
    return None
