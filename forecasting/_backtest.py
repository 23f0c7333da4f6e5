"""Accuracy measures and rolling-origin backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._intervals import bounds, normalize_levels
from ._models import PERIOD
from ._result import Backtest

__all__ = ["mase", "smape", "backtest", "summarize_windows"]

#: Training months a window needs before its cutoff (the full method's minimum).
MIN_TRAIN = 2 * PERIOD


def mase(actual, predicted, train, period: int = PERIOD) -> float:
    """Mean absolute error scaled by the in-sample seasonal-naive MAE of ``train``.

    Returns NaN when the scale is undefined (fewer than ``period + 1`` training
    months) or zero (a perfectly repeating training history).
    """
    train = np.asarray(train, dtype=float)
    if len(train) <= period:
        return float("nan")
    scale = np.mean(np.abs(train[period:] - train[:-period]))
    if scale == 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))) / scale)


def smape(actual, predicted) -> float:
    """Symmetric MAPE in percent (0..200); months where both are 0 count as 0."""
    a, f = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    denom = np.abs(a) + np.abs(f)
    safe = np.where(denom > 0, denom, 1.0)
    terms = np.where(denom > 0, 2 * np.abs(a - f) / safe, 0.0)
    return float(100 * np.mean(terms))


def _mean(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def summarize_windows(rows: list[dict], labels: list, *, horizon: int, levels: tuple,
                      inside: dict, counted: int, refit: bool) -> Backtest:
    """Assemble per-window rows into a :class:`Backtest`."""
    windows = pd.DataFrame(rows, index=pd.Index(labels, name="cutoff"))
    coverage = {lv: (inside[lv] / counted if counted else float("nan")) for lv in levels}
    return Backtest(
        horizon=horizon,
        windows=windows,
        mase=_mean(windows["mase"]),
        smape=_mean(windows["smape"]),
        naive_mase=_mean(windows["naive_mase"]),
        naive_smape=_mean(windows["naive_smape"]),
        coverage=coverage,
        refit=refit,
    )


def window_row(actual, mean, naive, train, lower: dict, upper: dict, inside: dict) -> dict:
    """Scores of one window; adds the months inside each interval to ``inside``."""
    row = {
        "mase": mase(actual, mean, train),
        "smape": smape(actual, mean),
        "naive_mase": mase(actual, naive, train),
        "naive_smape": smape(actual, naive),
    }
    for lv in lower:
        hit = (actual >= lower[lv] - 1e-9) & (actual <= upper[lv] + 1e-9)
        inside[lv] = inside.get(lv, 0) + int(hit.sum())
        row[f"coverage_{lv}"] = float(hit.mean())
    return row


def backtest(history: pd.Series, *, horizon: int = 12, n_windows: int = 3,
             step: int | None = None, level=(80, 95), negatives: str = "raise") -> Backtest:
    """Honest rolling-origin backtest of :func:`forecasting.forecast`.

    Leading zeros (partner not yet active) are dropped first, as
    :func:`forecasting.forecast` does, so they neither count as training
    months nor flatter the scores.  The active history is cut at
    ``n_windows`` cutoffs ``step`` months apart (the latest leaves exactly
    ``horizon`` months to test on), the whole method is refitted on each
    training part and its forecast is compared with what happened, next to
    the seasonal-naive forecast from the same cutoff.

    Parameters
    ----------
    history : pandas.Series
        Monthly sales, as for :func:`forecasting.forecast`.
    horizon : int, default 12
        Months forecast from each cutoff.
    n_windows : int, default 3
        Number of cutoffs (at least 1).  Cutoffs that would leave fewer than
        24 active months of training data are skipped.
    step : int, optional
        Months between cutoffs; defaults to ``horizon`` (non-overlapping tests).
    level : sequence of float, default (80, 95)
        Interval levels (percent) whose empirical coverage is measured.
    negatives : {"raise", "clip"}, default "raise"
        As for :func:`forecasting.forecast`.

    Returns
    -------
    Backtest
        Per-window and overall MASE/sMAPE of the method and of seasonal naive,
        and interval coverage, with ``refit=True``.

    Raises
    ------
    ValueError
        If the active history is too short for even one window (fewer than
        ``horizon + 24`` months from the first sale), or ``n_windows`` or
        ``step`` is below 1.
    TypeError
        If ``horizon``, ``n_windows`` or ``step`` is not an int.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from forecasting import backtest
    >>> rng = np.random.default_rng(0)
    >>> months = pd.date_range("2015-01-01", periods=96, freq="MS")
    >>> pattern = 100 + 30 * np.sin(np.arange(96) * np.pi / 6)
    >>> sales = pd.Series(pattern + rng.normal(0, 5, 96), index=months)
    >>> bt = backtest(sales, horizon=12, n_windows=3)
    >>> len(bt.windows), bt.refit, bool(bt.mase < 2)
    (3, True, True)
    """
    from ._core import forecast  # local import: _core uses this module too
    from ._prepare import check_horizon, prepare

    horizon = check_horizon(horizon)
    n_windows = _count("n_windows", n_windows)
    step = horizon if step is None else _count("step", step)
    levels = normalize_levels(level)
    prepared = prepare(history, negatives=negatives)
    y = prepared.active  # score the months forecast() would use, not leading zeros
    offset = len(prepared.values) - len(y)
    n = len(y)
    cutoffs = [n - 1 - horizon - k * step for k in range(n_windows)]
    cutoffs = sorted(c for c in cutoffs if c + 1 >= MIN_TRAIN)
    if not cutoffs:
        raise ValueError(
            f"history of {n} active months is too short to backtest a {horizon}-month horizon "
            f"(need at least {horizon + MIN_TRAIN} from the first sale)"
        )
    rows, labels, inside, counted = [], [], {}, 0
    for c in cutoffs:
        train = pd.Series(y[: c + 1], index=prepared.periods[offset: offset + c + 1])
        fc = forecast(train, horizon=horizon, level=levels, backtest=False)
        actual = y[c + 1: c + 1 + horizon]
        naive = np.resize(y[c + 1 - PERIOD: c + 1], horizon)
        lower = {lv: fc.lower[lv].to_numpy() for lv in levels}
        upper = {lv: fc.upper[lv].to_numpy() for lv in levels}
        rows.append(window_row(actual, fc.mean.to_numpy(), naive, y[: c + 1], lower, upper, inside))
        labels.append(_label(prepared, offset + c))
        counted += horizon
    return summarize_windows(rows, labels, horizon=horizon, levels=levels, inside=inside,
                             counted=counted, refit=True)


def _count(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def _label(prepared, position: int):
    period = prepared.periods[position]
    return period.to_timestamp(how="start") if prepared.as_timestamps else period


def _fast_cutoffs(n: int, horizon: int, n_windows: int) -> list[int]:
    return sorted(c for c in (n - 1 - horizon * k for k in range(1, n_windows + 1))
                  if c + 1 >= MIN_TRAIN)


def window_mase(y: np.ndarray, paths: np.ndarray, *, horizon: int, n_windows: int = 3) -> float:
    """Mean MASE of origin forecasts ``paths`` over the cheap backtest's windows
    (NaN when the history is too short for any window)."""
    scores = [mase(y[c + 1: c + 1 + horizon], np.maximum(paths[c], 0.0), y[: c + 1])
              for c in _fast_cutoffs(len(y), horizon, n_windows)]
    return _mean(scores)


def fast_backtest(prepared, offset: int, y: np.ndarray, paths: np.ndarray, *, horizon: int,
                  levels: tuple, n_windows: int = 3) -> Backtest | None:
    """Backtest from fixed-parameter origin forecasts (no refitting).

    ``y`` is the active part of the history, starting ``offset`` months into
    ``prepared.values``; ``paths`` are the method's forecasts from every origin.
    """
    from ._intervals import error_scales

    cutoffs = _fast_cutoffs(len(y), horizon, n_windows)
    if not cutoffs:
        return None
    rows, labels, inside, counted = [], [], {}, 0
    for c in cutoffs:
        mean = np.maximum(paths[c], 0.0)
        sd, _ = error_scales(y, paths, upto=c)
        lower, upper = bounds(mean, sd, levels)
        actual = y[c + 1: c + 1 + horizon]
        naive = np.resize(y[c + 1 - PERIOD: c + 1], horizon)
        rows.append(window_row(actual, mean, naive, y[: c + 1], lower, upper, inside))
        labels.append(_label(prepared, offset + c))
        counted += horizon
    return summarize_windows(rows, labels, horizon=horizon, levels=levels, inside=inside,
                             counted=counted, refit=False)
