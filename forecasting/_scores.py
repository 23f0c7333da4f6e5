"""Accuracy measures and the cheap (no-refit) backtest stored on a forecast.

Used by :mod:`forecasting._core` (model selection, the stored backtest) and by
:mod:`forecasting._backtest` (the honest, refitting :func:`forecasting.backtest`);
it imports neither of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._intervals import bounds, error_scales
from ._models import PERIOD
from ._result import Backtest

__all__ = ["mase", "smape", "summarize_windows", "window_row", "window_label", "window_mase",
           "fast_backtest", "MIN_TRAIN"]

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


def window_label(prepared, position: int):
    """The cutoff month at ``position`` of ``prepared.periods``, in the input's index kind."""
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
        labels.append(window_label(prepared, offset + c))
        counted += horizon
    return summarize_windows(rows, labels, horizon=horizon, levels=levels, inside=inside,
                             counted=counted, refit=False)
