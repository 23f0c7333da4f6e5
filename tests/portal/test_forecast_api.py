"""The forecasts API, and no page or API call ever fits a model."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

import forecasting
from portal.models import AuditEvent, ForecastAdjustment
from portal.workspace import forecasts
from tests.portal.forecast_helpers import TZ, add_history
from tests.portal.helpers import bearer, issue, sign_in


@pytest.fixture
def api(app, db, f):
    manager = f.user(role="account_manager")
    other = f.user(role="account_manager")
    admin = f.user(role="admin")
    mine = f.partner(account_manager_id=manager.id)
    theirs = f.partner(account_manager_id=other.id)
    buyer = f.user(partner=mine)
    add_history(db, mine, 40)
    add_history(db, theirs, 8)
    run = forecasts.refresh(app.extensions["trellis.session_factory"], time_zone=TZ)
    client = app.test_client()
    return {"client": client, "manager": manager, "admin": admin, "buyer": buyer, "mine": mine,
            "theirs": theirs, "run": run, "token": issue(client, manager)}


def test_the_forecast_api_answers_the_latest_run_scoped_to_the_manager(api):
    c, token = api["client"], api["token"]
    got = c.get(f"/api/v1/partners/{api['mine'].id}/forecast", headers=bearer(token))
    assert got.status_code == 200
    body = got.json
    assert body["run"]["id"] == api["run"].id and body["status"] == "ok" and len(body["months"]) == 12
    month = body["months"][0]
    assert Decimal(month["lower_95"]) <= Decimal(month["mean"]) <= Decimal(month["upper_95"])
    assert body["backtest"]["trust"] in ("better", "no_better", "unknown") and body["adjustments"] == []
    assert c.get(f"/api/v1/partners/{api['theirs'].id}/forecast", headers=bearer(token)).status_code == 404
    assert c.get("/api/v1/partners/999999/forecast", headers=bearer(token)).status_code == 404
    buyer_token = issue(c, api["buyer"])
    assert c.get(f"/api/v1/partners/{api['mine'].id}/forecast", headers=bearer(buyer_token)).status_code == 403


def test_an_adjustment_through_the_api_needs_a_note_and_a_key_and_replays(api):
    c, token = api["client"], api["token"]
    url = f"/api/v1/partners/{api['mine'].id}/forecast/adjustments"
    headers = {**bearer(token), "Idempotency-Key": "adj-1"}
    assert c.post(url, json={"amount": "1000.00"}, headers=headers).status_code == 422
    assert c.post(url, json={"amount": "1000.00", "note": "  "}, headers=headers).status_code == 422
    assert c.post(url, json={"amount": "1000.00", "note": "x"}, headers=bearer(token)).status_code == 422
    made = c.post(url, json={"amount": "1000.00", "note": "Lost a shop"}, headers=headers)
    assert made.status_code == 201 and made.json["month"] is None
    again = c.post(url, json={"amount": "1000.00", "note": "Lost a shop"}, headers=headers)
    assert again.status_code == 200 and again.json["id"] == made.json["id"]
    assert c.post(url, json={"amount": "2.00", "note": "other"}, headers=headers).status_code == 409
    month = api["run"].first_month.replace(day=20).isoformat()
    one = c.post(url, json={"amount": "10.00", "note": "closed in summer", "month": month},
                 headers={**bearer(token), "Idempotency-Key": "adj-2"})
    assert one.status_code == 201 and one.json["month"] == api["run"].first_month.isoformat()
    out = c.get(f"/api/v1/partners/{api['mine'].id}/forecast", headers=bearer(token)).json
    assert out["adjusted_total"] == "1000.00" and len(out["adjustments"]) == 2
    assert out["months"][0]["adjusted"] == "10.00"
    foreign = f"/api/v1/partners/{api['theirs'].id}/forecast/adjustments"
    assert c.post(foreign, json={"amount": "1.00", "note": "n"},
                  headers={**bearer(token), "Idempotency-Key": "adj-3"}).status_code == 404


def test_another_managers_partner_is_not_found_audited_and_unchanged(api, db):
    c, token = api["client"], api["token"]
    theirs = api["theirs"].id
    assert c.get(f"/api/v1/partners/{theirs + 1000}/forecast", headers=bearer(token)).status_code == 404
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all() == []
    for method, path, extra in (("GET", "forecast", {}),
                                ("POST", "forecast/adjustments", {"json": {"amount": "1.00", "note": "n"}})):
        response = c.open(f"/api/v1/partners/{theirs}/{path}", method=method,
                          headers={**bearer(token), "Idempotency-Key": "iso"}, **extra)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert [e.actor_id for e in events] == [api["manager"].id] * 2
    assert db.scalar(select(func.count(ForecastAdjustment.id))) == 0


def test_no_page_or_api_call_fits_a_model(app, api, monkeypatch):
    """Walk every staff GET page and the forecast API with the library rigged to raise."""
    def refuse(*args, **kwargs):
        raise AssertionError("forecasting was called during a request")

    for name in ("forecast", "forecast_many", "backtest"):
        monkeypatch.setattr(forecasting, name, refuse)
    from forecasting import _batch, _core

    monkeypatch.setattr(_batch, "forecast", refuse)
    monkeypatch.setattr(_core, "fit_members", refuse)
    monkeypatch.setattr(forecasts.forecasting, "forecast_many", refuse)
    ids = {"partner_id": api["mine"].id}
    for user in (api["admin"], api["manager"]):
        client = app.test_client()
        sign_in(client, user)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith(("/static", "/api/v1/openapi")):
                continue
            url = rule.rule
            for name, value in ids.items():
                url = url.replace(f"<int:{name}>", str(value))
            if "<" in url:
                continue
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
        token = issue(client, user)
        assert client.get(f"/api/v1/partners/{api['mine'].id}/forecast",
                          headers=bearer(token)).status_code == 200
        assert client.get(f"/manage/partners/{api['mine'].id}").status_code == 200
