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
        Point forecast for the ``horizon`` months after the history (empty for
        ``status="error"`` and for an empty history without ``end``).
    lower, upper : dict
        Level (percent) -> Series of interval bounds, ``lower <= mean <= upper``
        (empty dicts for ``status="error"``).
    model : str
        Short name of what produced the forecast: ``"combo(ets,theta,damped)"``
        (the default, and ``method="combo"``) or ``"median(ets,theta,damped)"``
        (``method="median"``, or the default when one member strayed), or
        ``"median(<members>)"``/``"combo(<members>)"`` when a member failed,
        ``"croston_sba"`` (intermittent history), ``"ets(M,Ad,M)"``
        (ETS with its error,trend,season letters), ``"theta"``, ``"damped"``,
        ``"seasonal_naive"``, ``"level"``, ``"constant"``, ``"zero"``, or
        ``"none"`` (only with ``status="error"``).
    status : str
        One of exactly four values (the portal's forecast batch is to store
        them as they are):

        ``"ok"``
            The full method ran (24+ active months): ``model`` is the
            combination, the one member that fitted, or ``croston_sba`` for
            an intermittent history.  ``reason`` is ``None`` unless
            a member model failed and was dropped, one member strayed (the
            default then took the median), the forecast was capped or
            the history is intermittent (it then gives the share of empty months).
        ``"fallback"``
            A simpler model was used, ``reason`` says why: ``seasonal_naive``
            for 12-23 active months or when every member model failed to fit,
            ``croston_sba`` for an intermittent history of 12-23 months,
            ``constant`` for a constant history, ``zero`` for a partner
            treated as inactive (no recent sales).
        ``"insufficient_history"``
            Fewer than 12 active months (and not inactive): ``level`` (the
            mean of the active months), or ``zero`` for an empty or all-zero
            history.
        ``"error"``
            Only from :func:`forecasting.forecast_many`: forecasting this
            series raised (e.g. not a Series, not indexed by month, negative
            sales) or its result could not be sent back from a worker
            process, so there is no forecast: ``mean`` is empty, ``lower`` and
            ``upper`` are empty dicts, ``model`` is ``"none"``, ``backtest`` is
            ``None`` and ``reason`` is ``"<ExceptionType>: <message>"``.
            :func:`forecasting.forecast` itself raises instead.
    reason : str or None
        Why a fallback happened, a member model was dropped or the forecast
        was capped, or (``status="error"``) the exception; else ``None``.
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
        the sum of the monthly bounds.  A measured total uses a Student-t
        quantile with ``total_df`` degrees of freedom: its number of
        whole-horizon total errors over the horizon (the independent ones), at
        least 3; a total from the monthly deviations of a history under 36
        months uses the number of errors behind the last step.  See
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
