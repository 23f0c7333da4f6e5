"""Intermittent demand: Croston's method with the Syntetos-Boylan correction (SBA).

Partners who order every second or third month, in bursts and with pauses,
have histories with many zero months.  Smoothing models fitted to such a
history chase the last order; Croston's method instead smooths the *size*
of the orders and the *interval* between them separately and forecasts the
demand rate ``size / interval`` as a flat line.  The Syntetos-Boylan
approximation multiplies it by ``1 - alpha / 2`` to remove Croston's known
upward bias.  A few lines of numpy; no statsmodels.
"""

from __future__ import annotations

import numpy as np

from ._models import PERIOD, MemberFit

__all__ = ["ZERO_SHARE", "is_intermittent", "sba_rates", "fit_sba", "SBA_ALPHA"]

#: Smoothing constant for both the order sizes and the intervals (the usual
#: 0.1 of the intermittent-demand literature; small, because orders are few).
SBA_ALPHA = 0.1
#: A history is intermittent when at least this share of its active months
#: (from the first sale on) had no sales, and the empty months do not recur in
#: the same calendar months (see :func:`is_intermittent`).
ZERO_SHARE = 0.3
#: ... unless this share of the zero months fall in always-empty calendar months.
OFF_SEASON = 0.75


def is_intermittent(active: np.ndarray) -> bool:
    """At least ``ZERO_SHARE`` zero months, and fewer than ``OFF_SEASON`` of them
    in calendar months that were empty in every year of the history (seen at
    least twice).  A partner who orders only in season, or like clockwork in
    the same months each year, keeps the seasonal models, which repeat that
    pattern; random gaps rarely line up like that (with 70 % zero months and
    four years, about a third of the zeros fall in always-empty months)."""
    active = np.asarray(active, dtype=float)
    n = len(active)
    if n == 0:
        return False
    zero = active <= 0
    if zero.mean() < ZERO_SHARE:
        return False
    slot = np.arange(n) % PERIOD
    years = np.bincount(slot, minlength=PERIOD)
    empty = np.bincount(slot, weights=zero, minlength=PERIOD)
    off_season = (years >= 2) & (empty == years)
    return float(np.mean(off_season[slot[zero]])) < OFF_SEASON


def sba_rates(y: np.ndarray, alpha: float = SBA_ALPHA) -> np.ndarray:
    """SBA demand rate after observing each month: ``rates[t]`` forecasts
    every month after ``t``.

    Initialisation (before the first order, the rate is 0): at the first
    order the size estimate is that order and the interval estimate the
    months since the start of the history including that month.  At each
    later order of size ``q`` after an interval of ``k`` months (``k = 1``
    for consecutive months)::

        size     <- size     + alpha * (q - size)
        interval <- interval + alpha * (k - interval)

    Between orders both stay unchanged.  The rate is
    ``(1 - alpha / 2) * size / interval``.
    """
    y = np.asarray(y, dtype=float)
    rates = np.zeros(len(y))
    size = interval = None
    since = 0
    for t, value in enumerate(y):
        since += 1
        if value > 0:
            if size is None:
                size, interval = value, float(since)
            else:
                size += alpha * (value - size)
                interval += alpha * (since - interval)
            since = 0
        if size is not None:
            rates[t] = (1 - alpha / 2) * size / interval
    return rates


def fit_sba(y: np.ndarray, horizon: int, *, alpha: float = SBA_ALPHA) -> MemberFit:
    """Croston SBA as a :class:`MemberFit`: flat forecasts from every origin."""
    rates = sba_rates(y, alpha)
    paths = np.repeat(rates[:, None], horizon, axis=1)
    return MemberFit("croston_sba", f"alpha={alpha:g}", paths[-1].copy(), paths)
