"""Input cleaning: turn a messy monthly history into a dense float array.

Everything downstream works on a plain ``numpy`` array of monthly values
plus the ``PeriodIndex`` it belongs to; this module is the only place that
knows about the shapes a caller may hand in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Prepared", "prepare", "future_index", "check_horizon"]


@dataclass(frozen=True)
class Prepared:
    """A cleaned history.

    ``values`` covers every month from the first to the last month of the
    history (or ``end``); missing months and NaN are 0, negatives are 0 when
    ``negatives="clip"`` (by default they raise).
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


#: What :func:`prepare` may do with negative months.
NEGATIVES = ("raise", "clip")


def _even_month_step(index: pd.DatetimeIndex) -> int | None:
    """The common gap in calendar months between sorted rows, or None if uneven.

    Computed by hand rather than with ``pd.infer_freq``, whose return type changes
    between pandas 2 and 3 (and warns about it on 3.x).
    """
    months = np.unique(index.year.to_numpy() * 12 + index.month.to_numpy())
    if len(months) < 3:
        return None
    gaps = np.unique(np.diff(months))
    return int(gaps[0]) if len(gaps) == 1 else None


def _months_per_step(offset) -> float:
    """Average calendar months one step of a pandas offset spans (1 for monthly)."""
    start = pd.Timestamp("2000-01-15")
    end = start + 24 * offset
    return (end.to_period("M") - start.to_period("M")).n / 24


def _to_periods(index: pd.Index, notes: list) -> tuple[pd.PeriodIndex, bool]:
    if isinstance(index, pd.PeriodIndex):
        if index.freqstr not in ("M",):
            raise ValueError(
                f"history must be monthly; got a PeriodIndex with freq {index.freqstr!r}")
        return index, False
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None and _months_per_step(index.freq) > 1.5:
            raise ValueError(
                f"history must be monthly; got a DatetimeIndex with freq {index.freqstr!r} "
                "(coarser than a month): pass monthly sales")
        if index.freq is None and len(index) >= 3:
            step = _even_month_step(index)
            if step is not None and step > 1:
                # Sparse monthly rows (only months with orders) may be evenly spaced too,
                # so this is a note, not an error; an explicit coarse freq is an error.
                notes.append(
                    f"rows are evenly spaced (every {step} months): read as monthly sales "
                    "with 0 in the months between (if they are quarterly or yearly totals, "
                    "pass monthly data instead)")
        if index.tz is not None:
            zone = str(index.tz)
            local = index.tz_localize(None).to_period("M")
            index = index.tz_convert("UTC").tz_localize(None)
            moved = int((local != index.to_period("M")).sum())
            if moved:
                notes.append(
                    f"{moved} timestamp(s) fall in a different month in UTC than in {zone}; "
                    "months are taken in UTC")
        return index.to_period("M"), True
    if len(index) == 0:
        return pd.PeriodIndex([], freq="M"), True
    raise TypeError(
        "history must be indexed by month: a DatetimeIndex (month start) or a monthly "
        f"PeriodIndex, not {type(index).__name__}"
    )


def prepare(history: pd.Series, *, end=None, negatives: str = "raise") -> Prepared:
    """Clean ``history`` without mutating it (see :func:`forecasting.forecast`)."""
    if not isinstance(history, pd.Series):
        raise TypeError(f"history must be a pandas Series, not {type(history).__name__}")
    if negatives not in NEGATIVES:
        raise ValueError(f"negatives must be one of {NEGATIVES}, got {negatives!r}")
    notes: list[str] = []
    periods, as_timestamps = _to_periods(history.index, notes)
    values = pd.to_numeric(pd.Series(np.asarray(history.array), copy=True), errors="raise")
    values = values.to_numpy(dtype=float, na_value=np.nan)

    bad = ~np.isfinite(values) & ~np.isnan(values)
    if bad.any():
        notes.append(f"{int(bad.sum())} infinite value(s) in history treated as missing (0)")
    values = np.where(np.isfinite(values), values, 0.0)
    negative = values < 0
    if negative.any():
        if negatives == "raise":
            first = periods[int(np.flatnonzero(negative)[0])]
            raise ValueError(
                f"history has {int(negative.sum())} negative month(s) (first: {first}); sales "
                "must be non-negative. Pass negatives='clip' to count them as 0")
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


def check_horizon(horizon) -> int:
    """Return ``horizon`` as an int >= 1; reject bools, floats and other types."""
    if isinstance(horizon, (bool, np.bool_)) or not isinstance(horizon, (int, np.integer)):
        raise TypeError(f"horizon must be an int (months), got {horizon!r}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    return int(horizon)


def future_index(prepared: Prepared, horizon: int) -> pd.Index:
    """The ``horizon`` months after the history, in the caller's index kind."""
    if len(prepared.periods) == 0:
        periods = pd.PeriodIndex([], freq="M")
    else:
        periods = pd.period_range(prepared.periods[-1] + 1, periods=horizon, freq="M")
    if prepared.as_timestamps:
        return periods.to_timestamp(how="start").rename(None)
    return periods
