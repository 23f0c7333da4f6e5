"""Input cleaning: turn a messy monthly history into a dense float array.

Everything downstream works on a plain ``numpy`` array of monthly values
plus the ``PeriodIndex`` it belongs to; this module is the only place that
knows about the shapes a caller may hand in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Prepared", "prepare", "future_index"]


@dataclass(frozen=True)
class Prepared:
    """A cleaned history.

    ``values`` covers every month from the first to the last month of the
    history (or ``end``); missing months and NaN are 0, negatives are 0.
    ``periods`` is the matching monthly ``PeriodIndex`` (empty when there is
    no month to anchor the forecast on).  ``as_timestamps`` records whether
    the caller used a ``DatetimeIndex`` so the output can use the same kind.
    """

    values: np.ndarray
    periods: pd.PeriodIndex
    as_timestamps: bool
    notes: tuple[str, ...]

    @property
    def active(self) -> np.ndarray:
        """Values from the first month with sales onwards (leading zeros dropped)."""
        nonzero = np.flatnonzero(self.values > 0)
        if nonzero.size == 0:
            return self.values[:0]
        return self.values[nonzero[0]:]


def _to_periods(index: pd.Index) -> tuple[pd.PeriodIndex, bool]:
    if isinstance(index, pd.PeriodIndex):
        if index.freqstr not in ("M",):
            raise ValueError(
                f"history must be monthly; got a PeriodIndex with freq {index.freqstr!r}")
        return index, False
    if isinstance(index, pd.DatetimeIndex):
        if index.tz is not None:
            index = index.tz_localize(None)
        return index.to_period("M"), True
    if len(index) == 0:
        return pd.PeriodIndex([], freq="M"), True
    raise TypeError(
        "history must be indexed by month: a DatetimeIndex (month start) or a monthly "
        f"PeriodIndex, not {type(index).__name__}"
    )


def prepare(history: pd.Series, *, end=None) -> Prepared:
    """Clean ``history`` without mutating it (see :func:`forecasting.forecast`)."""
    if not isinstance(history, pd.Series):
        raise TypeError(f"history must be a pandas Series, not {type(history).__name__}")
    periods, as_timestamps = _to_periods(history.index)
    values = pd.to_numeric(pd.Series(np.asarray(history.array), copy=True), errors="raise")
    values = values.to_numpy(dtype=float, na_value=np.nan)
    notes: list[str] = []

    bad = ~np.isfinite(values) & ~np.isnan(values)
    if bad.any():
        notes.append(f"{int(bad.sum())} infinite value(s) in history treated as missing (0)")
    values = np.where(np.isfinite(values), values, 0.0)
    negative = values < 0
    if negative.any():
        notes.append(f"{int(negative.sum())} negative month(s) in history treated as 0")
        values = np.where(negative, 0.0, values)

    end_period = None if end is None else pd.Period(end, freq="M")
    if len(periods) == 0:
        if end_period is None:
            return Prepared(np.zeros(0), pd.PeriodIndex([], freq="M"), as_timestamps, tuple(notes))
        one_month = pd.period_range(end_period, periods=1, freq="M")
        return Prepared(np.zeros(1), one_month, as_timestamps, tuple(notes))

    # Sum duplicate months, then fill the calendar: missing months are 0 sales.
    monthly = pd.Series(values, index=periods).groupby(level=0).sum()
    last = monthly.index.max()
    if end_period is not None:
        if end_period < last:
            monthly = monthly[monthly.index <= end_period]
            notes.append(f"months after end={end_period} ignored")
        last = end_period
    first = monthly.index.min() if len(monthly) else last
    full = pd.period_range(first, last, freq="M")
    dense = monthly.reindex(full, fill_value=0.0).to_numpy(dtype=float)
    return Prepared(dense, full, as_timestamps, tuple(notes))


def future_index(prepared: Prepared, horizon: int) -> pd.Index:
    """The ``horizon`` months after the history, in the caller's index kind."""
    if len(prepared.periods) == 0:
        periods = pd.PeriodIndex([], freq="M")
    else:
        periods = pd.period_range(prepared.periods[-1] + 1, periods=horizon, freq="M")
    if prepared.as_timestamps:
        return periods.to_timestamp(how="start").rename(None)
    return periods
