"""The staff partner page's forecast section, adjustments, and the chart (stored figures only)."""
from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

import forecasting
from portal.models import AuditEvent, ForecastAdjustment
from portal.workspace import chart, forecasts
from tests.portal.forecast_helpers import TZ, add_history
from tests.portal.helpers import sign_in


def _refresh(app, **kw):
    return forecasts.refresh(app.extensions["trellis.session_factory"], time_zone=TZ, **kw)


@pytest.fixture
def setup(app, db, f):
    manager = f.user(role="account_manager")
    other = f.user(role="account_manager")
    mine = f.partner(account_manager_id=manager.id)
    theirs = f.partner(account_manager_id=other.id)
    add_history(db, mine, 48)
    add_history(db, theirs, 14)
    run = _refresh(app)
    return {"manager": manager, "other": other, "mine": mine, "theirs": theirs, "run": run}


def _no_fitting(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was fitted during a request")

    for name in ("forecast", "forecast_many", "backtest"):
        monkeypatch.setattr(forecasting, name, refuse)
    from forecasting import _batch, _core

    monkeypatch.setattr(_batch, "forecast", refuse)
    monkeypatch.setattr(_core, "fit_members", refuse)


def test_the_partner_page_shows_the_stored_forecast_chart_table_and_trust(app, setup, monkeypatch):
    _no_fitting(monkeypatch)
    client = app.test_client()
    sign_in(client, setup["manager"])
    page = client.get(f"/manage/partners/{setup['mine'].id}")
    assert page.status_code == 200
    html = page.text
    assert 'id="forecast"' in html and "<svg" in html and "<title id=" in html and "<desc id=" in html
    assert 'class="band-80"' in html and 'class="band-95"' in html and 'class="actual"' in html
    assert "80 % range" in html and "than repeating last year" in html
    assert "Forecast made" in html
    # In Polish too.
    client.post("/language", data={"locale": "pl"}, follow_redirects=True)
    assert client.get(f"/manage/partners/{setup['mine'].id}").status_code == 200


def test_a_fallback_says_why_in_plain_words(app, setup):
    client = app.test_client()
    sign_in(client, setup["other"])
    html = client.get(f"/manage/partners/{setup['theirs'].id}").text
    assert "Fewer than two years of orders: last year&#39;s months are repeated." in html


def test_an_adjustment_needs_a_note_is_audited_counts_and_survives_a_refresh(app, db, setup):
    client = app.test_client()
    sign_in(client, setup["manager"])
    pid = setup["mine"].id
    url = f"/manage/partners/{pid}/forecast/adjustments"
    token = ""
    bad = client.post(url, data={"csrf_token": token, "target": "total", "amount": "50000", "note": ""})
    assert bad.status_code == 422
    ok = client.post(url, data={"csrf_token": token, "target": "total", "amount": "50000.00",
                                "note": "New shop opening in March"})
    assert ok.status_code == 302
    month = setup["run"].first_month.isoformat()
    assert client.post(url, data={"csrf_token": token, "target": month, "amount": "9000",
                                  "note": "Big spring order"}).status_code == 302
    assert client.post(url, data={"csrf_token": token, "target": "2001-01-01", "amount": "1",
                                  "note": "x"}).status_code == 422
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "forecast_adjusted"))
    assert event.actor_id == setup["manager"].id and event.partner_id == pid
    html = client.get(f"/manage/partners/{pid}").text
    assert "New shop opening in March" in html and 'class="adjusted"' in html
    # Carried into the portfolio total.
    from portal.core.access import Actor
    from portal.workspace import forecast_portfolio

    figures = forecast_portfolio.portfolio_forecast(db, Actor.of(setup["manager"]))
    assert figures.partners[pid].adjusted_total == Decimal("50000.00") and figures.total == Decimal("50000.00")
    # Kept across a refresh.
    _refresh(app)
    html = client.get(f"/manage/partners/{pid}").text
    assert "New shop opening in March" in html
    # Clearing asks first, then clears (audited).
    adjustment = db.scalar(select(ForecastAdjustment).where(ForecastAdjustment.month.is_(None)))
    clear = f"/manage/partners/{pid}/forecast/adjustments/{adjustment.id}/clear"
    assert "Clear this adjustment?" in client.get(clear).text
    assert client.post(clear, data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert db.get(ForecastAdjustment, adjustment.id).cleared_at is not None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "forecast_adjustment_cleared"))
    assert "New shop opening in March" not in client.get(f"/manage/partners/{pid}").text


def test_another_managers_partner_is_404_for_forecast_routes(app, setup):
    client = app.test_client()
    sign_in(client, setup["manager"])
    pid = setup["theirs"].id
    assert client.post(f"/manage/partners/{pid}/forecast/adjustments", data={}).status_code in (400, 404)
    assert client.get(f"/manage/partners/{pid}/forecast/adjustments/1/clear").status_code == 404


def test_the_forecasts_overview_shows_the_portfolio_and_accuracy(app, setup, monkeypatch):
    _no_fitting(monkeypatch)
    client = app.test_client()
    sign_in(client, setup["manager"])
    html = client.get("/manage/forecasts").text
    assert "Your partners, next 12 months" in html and "interval of the sum" in html


def _bands(n: int, start: date) -> list[chart.Band]:
    out = []
    for i in range(n):
        month = date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        out.append(chart.Band(month, Decimal(100), Decimal(80), Decimal(120), Decimal(60), Decimal(150)))
    return out


@pytest.mark.parametrize("history_months", [0, 1, 5, 36, 60])
def test_the_chart_is_built_for_long_short_and_empty_histories(history_months):
    history = [(date(2020 + i // 12, i % 12 + 1, 1), Decimal(100 + i)) for i in range(history_months)]
    start = date(2020 + history_months // 12, history_months % 12 + 1, 1)
    for bands in ([], _bands(12, start)):
        started = time.perf_counter()
        c = chart.build(history, bands, [(b.month, Decimal(110)) for b in bands] or None)
        assert time.perf_counter() - started < 0.1
        assert c.points == history_months + len(bands)
        if history_months == 0 and not bands:
            assert c.empty
        coordinates = [float(v) for part in (c.actual, c.forecast, c.band_95) for pair in part.split()
                       for v in pair.split(",")]
        assert all(0 <= v <= 640 for v in coordinates)
        if bands:
            assert c.band_80 and c.band_95 and c.adjusted


def test_a_partner_page_without_any_run_or_sales_renders(app, f):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    client = app.test_client()
    sign_in(client, manager)
    html = client.get(f"/manage/partners/{partner.id}").text
    assert "No forecast has been made yet" in html
