"""The forecast batch: monthly sales in the wholesaler's months, and refresh runs."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import forecasting
from portal.models import ForecastRun, PartnerForecast
from portal.workspace import forecasts, monthly_sales
from tests.portal.forecast_helpers import TZ, add_history


def _order(f, partner, when: datetime, total: str, status: str = "delivered"):
    order = f.order(partner, status=status, created_at=when)
    order.total = Decimal(total)
    f.session.commit()
    return order


def test_monthly_sales_use_warsaw_months_and_count_only_accepted_orders(db, f):
    p, q = f.partner(), f.partner()
    _order(f, p, datetime(2026, 1, 31, 22, 30, tzinfo=UTC), "100.00")   # 23:30 in Warsaw: January
    _order(f, p, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "10.00")    # 00:30 on 1 Feb: February
    _order(f, p, datetime(2026, 6, 30, 21, 30, tzinfo=UTC), "7.00")     # 23:30 CEST: June
    _order(f, p, datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "5.00")     # 00:30 CEST on 1 July
    _order(f, p, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "1.00", status="confirmed")  # DST day
    _order(f, p, datetime(2026, 3, 10, tzinfo=UTC), "2.00", status="shipped")
    _order(f, p, datetime(2026, 3, 11, tzinfo=UTC), "900.00", status="cancelled")
    _order(f, p, datetime(2026, 3, 12, tzinfo=UTC), "800.00", status="submitted")
    _order(f, q, datetime(2025, 12, 31, 23, 0, tzinfo=UTC), "3.00")     # New Year in Warsaw
    sales = monthly_sales.monthly_sales(db, first=date(2026, 1, 1), last=date(2026, 12, 1), time_zone=TZ)
    assert sales[p.id] == {date(2026, 1, 1): Decimal("100.00"), date(2026, 2, 1): Decimal("10.00"),
                           date(2026, 3, 1): Decimal("3.00"), date(2026, 6, 1): Decimal("7.00"),
                           date(2026, 7, 1): Decimal("5.00")}
    assert sales[q.id] == {date(2026, 1, 1): Decimal("3.00")}
    # Gaps are zero months; nothing outside the window.
    points = monthly_sales.series(sales[p.id], date(2026, 1, 1), date(2026, 7, 1))
    assert [v for _m, v in points] == [Decimal(x) for x in ("100.00", "10.00", "3.00", "0", "0", "7.00", "5.00")]
    only_q = monthly_sales.monthly_sales(db, first=date(2025, 12, 1), last=date(2025, 12, 1),
                                         time_zone=TZ, partner_ids=[q.id])
    assert only_q == {}


def test_the_sales_query_is_one_statement(db, f, app):
    p = f.partner()
    add_history(db, p, 30)
    from sqlalchemy import event

    statements = []
    engine = app.extensions["trellis.engine"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        monthly_sales.monthly_sales(db, first=date(2020, 1, 1), last=date(2030, 1, 1), time_zone=TZ)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def _refresh(app, **kw):
    return forecasts.refresh(app.extensions["trellis.session_factory"], time_zone=TZ, **kw)


def test_refresh_stores_a_run_and_a_failing_partner_does_not_stop_the_rest(app, db, f, monkeypatch):
    good, short, empty, bad = f.partner(), f.partner(), f.partner(), f.partner()
    add_history(db, good, 48)
    add_history(db, short, 14)
    add_history(db, bad, 30, level=4321.0)
    from forecasting import _batch

    real = _batch.forecast

    def flaky(history, **options):
        if len(history) and abs(float(history.iloc[0]) - 4321.0 * (1 + 0.25 * __import__("math").sin(
                2 * __import__("math").pi * history.index[0].month / 12))) < 1:
            raise RuntimeError("boom")
        return real(history, **options)

    monkeypatch.setattr(_batch, "forecast", flaky)
    run = _refresh(app)
    assert run.status == "complete" and run.partner_count == 4 and run.failed_count == 1
    assert run.library_version.startswith("forecasting") and run.finished_at >= run.started_at
    rows = {r.partner_id: r for r in db.scalars(select(PartnerForecast).where(PartnerForecast.run_id == run.id))}
    assert rows[bad.id].status == "failed" and "boom" in rows[bad.id].reason
    g = rows[good.id]
    assert g.status == "ok" and len(g.months) == 12 and g.months[0].month == run.first_month
    assert all(m.lower_95 <= m.lower_80 <= m.mean <= m.upper_80 <= m.upper_95 for m in g.months)
    assert g.total == sum(m.mean for m in g.months)
    assert g.total_lower_95 <= g.total_lower_80 <= g.total <= g.total_upper_80 <= g.total_upper_95
    assert g.mase is not None and g.naive_mase and 0 <= g.coverage_80 <= 1
    assert isinstance(g.total, Decimal)
    assert rows[short.id].status == "fallback" and rows[short.id].model == "seasonal_naive"
    assert rows[short.id].reason
    assert rows[empty.id].status == "fallback" and rows[empty.id].total == 0
    # A second run is a new run: the first stays as it was.
    monkeypatch.setattr(_batch, "forecast", real)
    second = _refresh(app, codes=[good.code])
    assert second.id != run.id and second.partner_count == 1
    db.expire_all()
    assert db.scalar(select(func.count(PartnerForecast.id)).where(PartnerForecast.run_id == run.id)) == 4
    assert db.scalar(select(func.count(ForecastRun.id))) == 2


def test_the_cli_refreshes_with_a_progress_bar_and_refuses_unknown_codes(app, db, f):
    p = f.partner()
    add_history(db, p, 26)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forecasts", "refresh", "--partners", f"{p.code},NOPE"])
    assert result.exit_code == 2 and "NOPE" in result.output
    result = runner.invoke(args=["forecasts", "refresh", "--partners", p.code, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "1 partners, 0 failed" in result.output
    assert db.scalar(select(ForecastRun.status)) == "complete"


def test_a_broken_run_is_marked_failed_and_never_shown(app, db, f, monkeypatch):
    p = f.partner()
    add_history(db, p, 26)

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(forecasting, "forecast_many", broken)
    with pytest.raises(MemoryError):
        _refresh(app)
    run = db.scalar(select(ForecastRun))
    assert run.status == "failed" and "out of memory" in run.error
    from portal.workspace import forecast_store

    assert forecast_store.latest_run(db) is None
