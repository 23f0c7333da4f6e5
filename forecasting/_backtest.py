"""The honest rolling-origin :func:`backtest` (refits the whole method per window).

The scores and the cheap no-refit backtest live in :mod:`forecasting._scores`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._core import forecast
from ._intervals import normalize_levels
from ._models import PERIOD
from ._prepare import check_horizon, prepare
from ._result import Backtest
from ._scores import MIN_TRAIN, summarize_windows, window_label, window_row

__all__ = ["backtest"]


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
        labels.append(window_label(prepared, offset + c))
        counted += horizon
    return summarize_windows(rows, labels, horizon=horizon, levels=levels, inside=inside,
                             counted=counted, refit=True)


def _count(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)

