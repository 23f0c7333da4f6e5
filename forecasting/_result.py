"""Result types: :class:`Forecast` and :class:`Backtest`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ._intervals import normalize_level, z_value

__all__ = ["Forecast", "Backtest"]


@dataclass(frozen=True)
class Backtest:
    """Accuracy of the method on rolling origins.

    Attributes
    ----------
    horizon : int
        Months forecast from each cutoff.
    windows : pandas.DataFrame
        One row per cutoff (the last month of training data), oldest first,
        with columns ``mase``, ``smape``, ``naive_mase``, ``naive_smape`` and
        ``coverage_<level>`` (share of actual months inside the interval).
    mase, smape : float
        Mean over windows for the method (MASE scaled by the in-sample
        seasonal-naive MAE of each window's training data; sMAPE in percent).
    naive_mase, naive_smape : float
        The same for the seasonal-naive benchmark.
    coverage : dict
        Level (percent) -> empirical coverage over all windows (0..1).
    refit : bool
        ``True`` when every window was refitted on its own training data
        (:func:`forecasting.backtest`); ``False`` for the cheap backtest stored
        on a :class:`Forecast`, which re-filters the history with the
        parameters of the final fit (slightly optimistic).
    """

    horizon: int
    windows: pd.DataFrame
    mase: float
    smape: float
    naive_mase: float
    naive_smape: float
    coverage: dict
    refit: bool

    @property
    def cutoffs(self) -> tuple:
        """Last training month of each window."""
        return tuple(self.windows.index)

    @property
    def relative_mase(self) -> float:
        """MASE of the method divided by that of seasonal naive (< 1 is better)."""
        if not self.naive_mase or math.isnan(self.naive_mase):
            return math.nan
        return self.mase / self.naive_mase


@dataclass(frozen=True)
class Forecast:
    """A monthly forecast with intervals and a verdict on how far to trust it.

    Attributes
    ----------
    mean : pandas.Series
        Point forecast for the ``horizon`` months after the history.
    lower, upper : dict
        Level (percent) -> Series of interval bounds, ``lower <= mean <= upper``.
    model : str
        Short name of what produced the forecast: ``"combo(ets,theta,damped)"``,
        ``"ets(M,Ad,M)"`` (ETS with its error,trend,season letters),
        ``"theta"``, ``"damped"``, ``"seasonal_naive"``, ``"level"``,
        ``"constant"`` or ``"zero"``.
    status : str
        ``"ok"`` (full method), ``"fallback"`` (simpler model, see ``reason``)
        or ``"insufficient_history"`` (fewer than 12 active months).
    reason : str or None
        Why a fallback happened or the forecast was capped, else ``None``.
    backtest : Backtest or None
        Cheap rolling-origin backtest (``refit=False``); ``None`` when the
        history is too short or ``backtest=False`` was passed.
    warnings : tuple of str
        Warnings raised while fitting (statsmodels convergence etc.) and
        notes about cleaned input, captured instead of emitted.
    """

    mean: pd.Series
    lower: dict
    upper: dict
    model: str
    status: str
    reason: str | None
    backtest: Backtest | None
    warnings: tuple
    total_sd: float = field(default=0.0, repr=False)
    total_df: float | None = field(default=None, repr=False)

    @property
    def level(self) -> tuple:
        """The interval levels available in ``lower`` and ``upper``."""
        return tuple(self.lower)

    def total(self, level: float = 80) -> tuple[float, float, float]:
        """Mean and interval of the sum over the horizon (e.g. next-year sales).

        The interval comes from the spread of the errors of whole-horizon
        totals when forecasting the history itself (histories with at least
        31 active months); for shorter histories and the seasonal-naive
        fallback, from the monthly deviations with a fixed correlation
        between months (``forecasting._intervals.TOTAL_RHO``).  It is never
        the sum of the monthly bounds.  Histories of fewer than 36 active
        months use a Student-t quantile (``total_df`` degrees of freedom, the
        number of errors behind the deviation) instead of a normal one.  See
        ``docs/forecasting.md``.

        Parameters
        ----------
        level : float, default 80
            Interval level in percent, in [1, 100) (the same rule as
            :func:`forecasting.forecast`; it need not be one of ``self.level``).

        Returns
        -------
        tuple of float
            ``(mean, lower, upper)`` with ``0 <= lower <= mean <= upper``.

        Raises
        ------
        ValueError
            If ``level`` is not a single percentage in [1, 100) (e.g. ``150``,
            or ``0.8`` meant as a fraction).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from forecasting import forecast
        >>> months = pd.date_range("2021-01-01", periods=36, freq="MS")
        >>> sales = pd.Series(100 + 20 * np.sin(np.arange(36) * np.pi / 6), index=months)
        >>> mean, lower, upper = forecast(sales).total(level=95)
        >>> bool(lower <= mean <= upper) and round(mean, -2)
        1200.0
        """
        level = normalize_level(level)
        mean = float(self.mean.sum())
        half = z_value(level, self.total_df) * self.total_sd
        return mean, max(0.0, mean - half), mean + half
