"""Order rhythm and churn risk, from a partner's own history (pure functions, no queries).

A partner's *gaps* are the days between consecutive days it ordered on (several orders on one day
count as one). Its *usual gap* is the median gap; it is **overdue** when the days since its last
order are more than the 90th percentile of its own gaps (linear interpolation between the
closest ranks), so a partner that orders every week is overdue after a couple of quiet weeks and
one that orders every quarter only after a quiet quarter or so. A rhythm needs at least
``MIN_GAPS`` gaps (three order days); with fewer, nothing is called overdue.

A partner has **gone quiet** (the manager's dashboard, ``gone_quiet``) when it is overdue, or,
without a rhythm, when it has not ordered for more than ``NEW_MEDIUM_DAYS`` (or, never having
ordered, joined that long ago): so the dashboard and the portfolio's alerts never disagree.

Churn risk (``low`` / ``medium`` / ``high``), first rule that applies:

* no orders at all: no risk is given (``None``: a prospect, not a churning partner);
* **with a rhythm**: ``high`` when the days since the last order are more than twice the 90th
  percentile gap (a long lapse); ``medium`` when overdue, or when the last 12 months' net sales
  fell by ``DECLINE`` (30 %) or more against the 12 before; else ``low``;
* **without a rhythm** (one or two order days, a new partner): by the days since the last order
  alone: ``low`` up to ``NEW_MEDIUM_DAYS`` (90), ``medium`` up to ``NEW_HIGH_DAYS`` (180), then
  ``high``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MIN_GAPS = 2
OVERDUE_PERCENTILE = 0.9
LAPSE_FACTOR = 2
DECLINE = Decimal("-0.30")
NEW_MEDIUM_DAYS = 90
NEW_HIGH_DAYS = 180
RISKS = ("low", "medium", "high")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th quantile (0..1) of the values, linear between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Rhythm:
    order_days: int              # distinct days with an order
    last_order: date | None
    days_since: int | None       # today - the last order day
    usual_gap: float | None      # median gap in days (None: fewer than MIN_GAPS gaps)
    overdue_after: float | None  # the 90th percentile gap
    overdue: bool

    @property
    def has_rhythm(self) -> bool:
        return self.usual_gap is not None

    @property
    def days_overdue(self) -> int:
        """Days past the partner's own 90th percentile gap (0 when not overdue)."""
        if not self.overdue or self.days_since is None or self.overdue_after is None:
            return 0
        return int(self.days_since - self.overdue_after)


def gaps(days: Sequence[date]) -> list[int]:
    """Days between consecutive distinct order days, oldest first."""
    distinct = sorted(set(days))
    return [(b - a).days for a, b in zip(distinct, distinct[1:], strict=False)]


def rhythm(days: Sequence[date], today: date) -> Rhythm:
    """The partner's rhythm from the days it ordered on (any order; duplicates are fine)."""
    distinct = sorted(set(days))
    if not distinct:
        return Rhythm(0, None, None, None, None, False)
    last = distinct[-1]
    since = max(0, (today - last).days)
    between = gaps(distinct)
    if len(between) < MIN_GAPS:
        return Rhythm(len(distinct), last, since, None, None, False)
    usual = percentile(between, 0.5)
    limit = percentile(between, OVERDUE_PERCENTILE)
    return Rhythm(len(distinct), last, since, usual, limit, since > limit)


def churn_risk(r: Rhythm, growth: Decimal | None = None) -> str | None:
    """``low``, ``medium`` or ``high`` by the rules in this module's docstring; None without orders."""
    if r.days_since is None:
        return None
    if r.has_rhythm:
        if r.days_since > LAPSE_FACTOR * r.overdue_after:
            return "high"
        if r.overdue or (growth is not None and growth <= DECLINE):
            return "medium"
        return "low"
    if r.days_since > NEW_HIGH_DAYS:
        return "high"
    if r.days_since > NEW_MEDIUM_DAYS:
        return "medium"
    return "low"


def gone_quiet(r: Rhythm, days_since_joined: int, days_since_last_order: int | None = None
               ) -> tuple[int, float] | None:
    """``(days silent, the limit)`` when the partner has gone quiet, else None: overdue by its
    rhythm (the portfolio's alerts), or, without a rhythm, no order for more than
    ``NEW_MEDIUM_DAYS`` (where its churn risk turns medium). ``days_since_last_order`` counts
    from its last order ever, which ``r`` (the order days read) may not see; without any order,
    the days count from its joining."""
    if r.has_rhythm:
        return (r.days_since, r.overdue_after) if r.overdue else None
    silent = r.days_since
    if silent is None:
        silent = days_since_last_order if days_since_last_order is not None else days_since_joined
    return (silent, float(NEW_MEDIUM_DAYS)) if silent > NEW_MEDIUM_DAYS else None


def steady(days: Sequence[date], today: date, r: Rhythm | None = None) -> bool:
    """Twelve months of steady ordering: the first order at least 365 days ago, an order in each
    of the last four quarters (the 91-day stretches back from today), and not overdue."""
    distinct = sorted(set(days))
    if not distinct or (today - distinct[0]).days < 365:
        return False
    for quarter in range(4):
        start, end = 91 * (quarter + 1), 91 * quarter
        if not any(end <= (today - d).days < start for d in distinct):
            return False
    return not (r or rhythm(distinct, today)).overdue
