"""Forecast figures over many partners: the portfolio's next-year total with its interval, the
per-partner figures of the portfolio table, the alerts, and forecast against actual.

**The portfolio interval is the interval of a sum, not the sum of intervals.** Each partner's
stored 80 % interval of its next-year total is ``mean ± z·sd`` (``forecasting`` builds it so,
before flooring the lower bound at zero), so ``sd = (upper_80 − mean) / z₀.₈₀`` recovers its
standard deviation. Assuming partners' errors are independent, the portfolio's deviation is
``√Σ sdᵢ²`` and its 80 % interval ``Σ meanᵢ ± z₀.₈₀·√Σ sdᵢ²`` (lower bound floored at 0). A
partner with an adjusted total contributes the adjusted mean with its statistical deviation;
a failed partner contributes nothing and is listed among the alerts. Independence is
optimistic when a common shock hits everyone; the sum of the partners' intervals (what one
would get by adding bounds) is the fully-correlated extreme and is always wider.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access
from portal.core.access import Actor
from portal.core.money import ZERO, to_money
from portal.workspace import forecast_store, monthly_sales
from portal.workspace.forecast_models import ForecastAdjustment, ForecastMonth, ForecastRun, PartnerForecast

Z80 = 1.2815515655446004  # the normal quantile of 90 %: a central 80 % interval
ALERTS = 5


@dataclass(frozen=True)
class PartnerFigure:
    """One partner's line of the portfolio table."""

    partner_id: int
    status: str
    total: Decimal | None           # statistical
    lower_80: Decimal | None
    upper_80: Decimal | None
    adjusted_total: Decimal | None  # None without an adjustment
    trust: str                      # better / no_better / unknown
    reason: str = ""                # why it failed or fell back (the library's words)

    @property
    def expected(self) -> Decimal | None:
        """What the portfolio counts: the adjusted total if any, else the statistical one."""
        return self.adjusted_total if self.adjusted_total is not None else self.total

    @property
    def sd(self) -> float:
        if self.total is None or self.upper_80 is None:
            return 0.0
        return max(0.0, float(self.upper_80 - self.total)) / Z80


@dataclass(frozen=True)
class Fall:
    partner_id: int
    name: str
    previous: Decimal
    current: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous

    @property
    def share(self) -> Decimal | None:
        return self.change / self.previous if self.previous else None


@dataclass(frozen=True)
class PortfolioForecast:
    run: ForecastRun | None
    total: Decimal
    lower_80: Decimal
    upper_80: Decimal
    statistical_total: Decimal
    sum_of_intervals: tuple[Decimal, Decimal]  # for comparison only: never the interval shown
    partners: dict[int, PartnerFigure]
    falls: list[Fall]
    failed: list[tuple[int, str, str]]        # partner id, name, reason


def interval_of_sum(figures: list[PartnerFigure]) -> tuple[Decimal, Decimal, Decimal]:
    """(mean, lower, upper) of the portfolio total at 80 %, assuming independent partners."""
    mean = sum((f.expected for f in figures if f.expected is not None), ZERO)
    half = Z80 * math.sqrt(sum(f.sd ** 2 for f in figures))
    half_money = to_money(Decimal(str(round(half, 2))))
    return mean, max(ZERO, mean - half_money), mean + half_money


def _figures(session: Session, run: ForecastRun, ids: list[int]) -> dict[int, PartnerFigure]:
    """The partners' figures in the run, in three queries whatever their number (plain columns,
    no ORM objects: the portfolio page reads every partner's)."""
    rows = session.execute(select(
        PartnerForecast.partner_id, PartnerForecast.status, PartnerForecast.total, PartnerForecast.total_lower_80,
        PartnerForecast.total_upper_80, PartnerForecast.mase, PartnerForecast.naive_mase, PartnerForecast.reason)
        .where(PartnerForecast.run_id == run.id, PartnerForecast.partner_id.in_(ids))).all()
    adjustments: dict[int, list[ForecastAdjustment]] = defaultdict(list)
    for a in session.scalars(select(ForecastAdjustment).where(
            ForecastAdjustment.partner_id.in_(ids), ForecastAdjustment.cleared_at.is_(None))):
        adjustments[a.partner_id].append(a)
    adjusted_partners = select(ForecastAdjustment.partner_id).where(ForecastAdjustment.cleared_at.is_(None))
    months: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for partner_id, month, mean in session.execute(
            select(PartnerForecast.partner_id, ForecastMonth.month, ForecastMonth.mean)
            .join(ForecastMonth, ForecastMonth.forecast_id == PartnerForecast.id)
            .where(PartnerForecast.run_id == run.id, PartnerForecast.partner_id.in_(ids),
                   PartnerForecast.partner_id.in_(adjusted_partners))
            .order_by(ForecastMonth.month)):
        months[partner_id].append((month, mean))
    out = {}
    for partner_id, status, total, lower, upper, mase, naive_mase, reason in rows:
        adjusted = forecast_store.adjusted_months(months[partner_id], adjustments[partner_id]) \
            if partner_id in adjustments and months[partner_id] else None
        out[partner_id] = PartnerFigure(partner_id, status, total, lower, upper, adjusted[1] if adjusted else None,
                                        forecast_store.trust_of(mase, naive_mase), reason or "")
    return out


def portfolio_forecast(session: Session, actor: Actor, *, manager_id: int | None = None
                       ) -> PortfolioForecast:
    """The forecast figures of the actor's partners (an admin's: all, or one manager's)."""
    stmt = access.scope(select(Partner.id, Partner.name), actor, Partner.id)
    if manager_id is not None:
        stmt = stmt.where(Partner.account_manager_id == manager_id)
    return forecast_of(session, dict(session.execute(stmt).all()))


def forecast_of(session: Session, names: dict[int, str]) -> PortfolioForecast:
    """The forecast figures of these partners (id -> name), already scoped by the caller."""
    run = forecast_store.latest_run(session)
    if run is None or not names:
        return PortfolioForecast(run, ZERO, ZERO, ZERO, ZERO, (ZERO, ZERO), {}, [], [])
    figures = _figures(session, run, list(names))
    ok = [f for f in figures.values() if f.status != "failed"]
    mean, lower, upper = interval_of_sum(ok)
    statistical = sum((f.total for f in ok if f.total is not None), ZERO)
    summed = (sum((f.lower_80 or ZERO for f in ok), ZERO), sum((f.upper_80 or ZERO for f in ok), ZERO))
    failed = sorted((f.partner_id, names[f.partner_id], f.reason) for f in figures.values() if f.status == "failed")
    return PortfolioForecast(run, mean, lower, upper, statistical, summed, figures,
                             _falls(session, run, figures, names), failed)


def _falls(session: Session, run: ForecastRun, figures: dict[int, PartnerFigure],
           names: dict[int, str]) -> list[Fall]:
    """The partners whose statistical total fell most (in money) since the previous run."""
    previous = forecast_store.previous_run(session, run)
    if previous is None:
        return []
    before = dict(session.execute(select(PartnerForecast.partner_id, PartnerForecast.total).where(
        PartnerForecast.run_id == previous.id, PartnerForecast.partner_id.in_(list(names)),
        PartnerForecast.total.is_not(None))).all())
    falls = [Fall(pid, names[pid], before[pid], f.total) for pid, f in figures.items()
             if f.total is not None and pid in before and f.total < before[pid]]
    return sorted(falls, key=lambda fall: (fall.change, fall.partner_id))[:ALERTS]


@dataclass(frozen=True)
class MonthOutcome:
    partner_id: int
    month: date
    run_id: int
    forecast: Decimal
    adjusted: Decimal   # equals forecast when no adjustment was in effect
    actual: Decimal

    @property
    def error(self) -> Decimal:
        return self.actual - self.forecast

    @property
    def adjusted_error(self) -> Decimal:
        return self.actual - self.adjusted

    @property
    def was_adjusted(self) -> bool:
        return self.adjusted != self.forecast


def outcomes(session: Session, partner_ids: list[int], *, time_zone: str, today_month: date,
             months: int = 12) -> list[MonthOutcome]:
    """Forecast against actual for the months that have passed since a run (the last ``months``).

    Each passed month is judged on the latest complete run made in or before it, and on the
    adjustments in effect when that month began. A constant number of queries."""
    first = forecast_store._add_months(today_month, -months)
    runs = list(session.scalars(select(ForecastRun).where(
        ForecastRun.status == "complete", ForecastRun.first_month < today_month)
        .order_by(ForecastRun.first_month, ForecastRun.finished_at, ForecastRun.id)))
    chosen: dict[date, ForecastRun] = {}
    for month in monthly_sales.months_between(first, forecast_store._add_months(today_month, -1)):
        candidates = [r for r in runs if r.first_month <= month]
        if candidates:
            chosen[month] = candidates[-1]
    if not chosen or not partner_ids:
        return []
    run_ids = {run.id for run in chosen.values()}
    path: dict[tuple[int, int], list[tuple[date, Decimal]]] = defaultdict(list)
    for run_id, partner_id, month, mean in session.execute(
            select(PartnerForecast.run_id, PartnerForecast.partner_id, ForecastMonth.month, ForecastMonth.mean)
            .join(ForecastMonth, ForecastMonth.forecast_id == PartnerForecast.id)
            .where(PartnerForecast.run_id.in_(run_ids), PartnerForecast.partner_id.in_(partner_ids))
            .order_by(ForecastMonth.month)):
        path[(run_id, partner_id)].append((month, mean))
    adjustments: dict[int, list[ForecastAdjustment]] = defaultdict(list)
    for a in session.scalars(select(ForecastAdjustment).where(ForecastAdjustment.partner_id.in_(partner_ids))):
        adjustments[a.partner_id].append(a)
    sales = monthly_sales.monthly_sales(session, first=min(chosen), last=max(chosen),
                                        time_zone=time_zone, partner_ids=partner_ids)
    out = []
    for partner_id in partner_ids:
        for month, run in sorted(chosen.items()):
            line = path.get((run.id, partner_id))
            statistical = dict(line or [])
            if month not in statistical:
                continue
            effect = forecast_store.in_effect(adjustments[partner_id],
                                              monthly_sales.month_bound(month, time_zone))
            adjusted = forecast_store.adjusted_months(line, effect) if effect else None
            value = dict(adjusted[0])[month] if adjusted else statistical[month]
            out.append(MonthOutcome(partner_id, month, run.id, statistical[month], value,
                                    sales.get(partner_id, {}).get(month, ZERO)))
    return out


@dataclass(frozen=True)
class Accuracy:
    """How a manager's forecasts did: weighted absolute percentage errors (Σ|error| / Σ actual)."""

    manager_id: int | None
    name: str
    months: int
    adjusted_months: int
    statistical_error: Decimal | None
    adjusted_error: Decimal | None


def _wape(errors: list[Decimal], actuals: list[Decimal]) -> Decimal | None:
    base = sum(actuals, ZERO)
    return sum((abs(e) for e in errors), ZERO) / base if base else None


def manager_accuracy(session: Session, actor: Actor, *, time_zone: str, today_month: date
                     ) -> list[Accuracy]:
    """Per manager (a manager: only themselves), the statistical and the adjusted forecast's
    error over the passed months of their partners."""
    rows = session.execute(access.scope(select(Partner.id, Partner.account_manager_id), actor, Partner.id)).all()
    manager_of = dict(rows)
    results = outcomes(session, list(manager_of), time_zone=time_zone, today_month=today_month)
    names = {u.id: u.name or u.email for u in session.scalars(
        select(User).where(User.id.in_([m for m in manager_of.values() if m is not None])))}
    groups: dict[int | None, list[MonthOutcome]] = defaultdict(list)
    for outcome in results:
        groups[manager_of[outcome.partner_id]].append(outcome)
    out = []
    for manager_id, items in groups.items():
        actuals = [o.actual for o in items]
        out.append(Accuracy(manager_id, names.get(manager_id, ""), len(items),
                            sum(1 for o in items if o.was_adjusted),
                            _wape([o.error for o in items], actuals),
                            _wape([o.adjusted_error for o in items], actuals)))
    return sorted(out, key=lambda a: (a.manager_id is None, a.name))
