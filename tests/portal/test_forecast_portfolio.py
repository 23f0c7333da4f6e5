"""Portfolio forecast figures on constructed partners: the interval of a sum, alerts, and
forecast against actual."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from portal.core.access import SYSTEM, Actor
from portal.core.types import utc_now
from portal.models import ForecastAdjustment, ForecastMonth, ForecastRun, PartnerForecast
from portal.workspace import forecast_portfolio, monthly_sales, portfolio
from portal.workspace.forecast_portfolio import Z80
from tests.portal.forecast_helpers import TZ

D = Decimal


def _run(db, first_month: date, finished: datetime, rows: dict) -> ForecastRun:
    """A complete run; rows: partner id -> (total, sd, status) with 12 equal months."""
    run = ForecastRun(status="complete", first_month=first_month, started_at=finished,
                      finished_at=finished, partner_count=len(rows), settings={"horizon": 12})
    db.add(run)
    db.flush()
    for pid, (total, sd, status) in rows.items():
        half = D(str(round(Z80 * sd, 2)))
        row = PartnerForecast(run_id=run.id, partner_id=pid, status=status, library_status=status,
                              model="theta", reason="boom" if status == "failed" else "")
        if status != "failed":
            row.total, row.total_lower_80, row.total_upper_80 = D(total), max(D(0), D(total) - half), D(total) + half
            row.total_lower_95, row.total_upper_95 = row.total_lower_80, row.total_upper_80
            row.mase, row.naive_mase = 0.8, 1.0
            for i in range(12):
                month = first_month + relativedelta(months=i)
                mean = D(total) / 12
                row.months.append(ForecastMonth(month=month, mean=mean, lower_80=mean, upper_80=mean,
                                                lower_95=mean, upper_95=mean))
        db.add(row)
    db.commit()
    return run


def test_the_portfolio_interval_is_the_interval_of_the_sum(db, f):
    partners = [f.partner() for _ in range(4)]
    _run(db, date(2026, 12, 1), utc_now(), {p.id: ("1000.00", 100.0, "ok") for p in partners})
    figures = forecast_portfolio.portfolio_forecast(db, SYSTEM)
    assert figures.total == D("4000.00")
    half = Z80 * 200  # √(4 · 100²)
    assert abs(figures.lower_80 - D(str(4000 - half))) < D("0.02")
    assert abs(figures.upper_80 - D(str(4000 + half))) < D("0.02")
    # Narrower than adding the partners' bounds (which assumes they all miss together).
    low, high = figures.sum_of_intervals
    assert low < figures.lower_80 and high > figures.upper_80
    assert abs((high - low) / (figures.upper_80 - figures.lower_80) - 2) < D("0.001")  # √4
    # The same as simulating independent partners.
    rng = random.Random(7)
    sums = sorted(sum(rng.gauss(1000, 100) for _ in range(4)) for _ in range(20000))
    assert abs(sums[2000] - float(figures.lower_80)) < 8 and abs(sums[18000] - float(figures.upper_80)) < 8
    assert {fig.trust for fig in figures.partners.values()} == {"better"}
    assert portfolio.forecast_figures(db, SYSTEM).total == figures.total


def test_adjusted_and_failed_partners_in_the_total_and_the_alerts(db, f):
    manager = f.user(role="account_manager")
    a, b, c = (f.partner(account_manager_id=manager.id) for _ in range(3))
    other = f.partner()
    now = utc_now()
    _run(db, date(2026, 11, 1), now - timedelta(days=30),
         {a.id: ("1000.00", 50.0, "ok"), b.id: ("3000.00", 50.0, "ok"), other.id: ("5.00", 1.0, "ok")})
    _run(db, date(2026, 12, 1), now, {a.id: ("900.00", 50.0, "ok"), b.id: ("1200.00", 50.0, "ok"),
                                      c.id: ("0", 0.0, "failed"), other.id: ("1.00", 1.0, "ok")})
    db.add(ForecastAdjustment(partner_id=a.id, amount=D("2000.00"), note="New shop", created_at=now))
    db.commit()
    figures = forecast_portfolio.portfolio_forecast(db, Actor.of(manager))
    assert set(figures.partners) == {a.id, b.id, c.id}  # never another manager's partner
    assert figures.total == D("3200.00") and figures.statistical_total == D("2100.00")
    assert figures.partners[a.id].adjusted_total == D("2000.00")
    assert [fall.partner_id for fall in figures.falls] == [b.id, a.id]
    assert figures.falls[0].change == D("-1800.00")
    assert [(pid, reason) for pid, _name, reason in figures.failed] == [(c.id, "boom")]


def test_forecast_against_actual_and_how_each_managers_forecasts_did(db, f):
    manager = f.user(role="account_manager")
    p = f.partner(account_manager_id=manager.id)
    this_month = monthly_sales.local_month(utc_now(), TZ)
    first = this_month - relativedelta(months=3)
    _run(db, first, datetime(first.year, first.month, 2, tzinfo=UTC), {p.id: ("1200.00", 10.0, "ok")})
    # An adjustment in effect before the second month began: that month is judged on it too.
    second = first + relativedelta(months=1)
    db.add(ForecastAdjustment(partner_id=p.id, month=second, amount=D("150.00"), note="promo",
                              created_at=datetime(first.year, first.month, 3, tzinfo=UTC)))
    for month in (first, second):
        f.order(p, status="delivered", created_at=datetime(month.year, month.month, 10, tzinfo=UTC))
    db.commit()
    from sqlalchemy import update

    from portal.models import Order

    db.execute(update(Order).values(total=D("120.00")).where(Order.created_at < datetime(
        second.year, second.month, 1, tzinfo=UTC)))
    db.execute(update(Order).values(total=D("140.00")).where(Order.created_at >= datetime(
        second.year, second.month, 1, tzinfo=UTC)))
    db.commit()
    rows = forecast_portfolio.outcomes(db, [p.id], time_zone=TZ, today_month=this_month)
    assert [(o.month, o.forecast, o.adjusted, o.actual) for o in rows] == [
        (first, D("100.00"), D("100.00"), D("120.00")),
        (second, D("100.00"), D("150.00"), D("140.00")),
        (first + relativedelta(months=2), D("100.00"), D("100.00"), D("0.00")),
    ]
    assert rows[0].error == D("20.00") and rows[1].adjusted_error == D("-10.00")
    [acc] = forecast_portfolio.manager_accuracy(db, Actor.of(manager), time_zone=TZ, today_month=this_month)
    assert acc.manager_id == manager.id and acc.months == 3 and acc.adjusted_months == 1
    assert acc.statistical_error == D(20 + 40 + 100) / D(260)
    assert acc.adjusted_error == D(20 + 10 + 100) / D(260)
