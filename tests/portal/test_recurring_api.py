"""The standing-orders API: the same rules as the pages, with idempotent creation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from portal.models import RecurringOrder, RecurringSkip
from portal.recurring import engine
from tests.portal.helpers import bearer, issue

BODY = {"name": "Weekly water", "cadence": "weekly", "start_date": "2027-01-11",
        "lines": [{"sku": "BEV-001", "quantity": 24}]}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel("2027-01-10 09:00:00+00:00", tick=False):
        yield


@pytest.fixture
def api(app, f):
    user = f.user()
    f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    client = app.test_client()
    client.headers = bearer(issue(client, user))
    return client


def post(client, path, json=None, key=None):
    headers = dict(client.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(path, json=json, headers=headers)


def test_create_is_idempotent_and_answers_the_next_dates(api, db):
    first = post(api, "/api/v1/recurring-orders", BODY, key="k1")
    assert first.status_code == 201, first.json
    assert first.json["next_dates"][:3] == ["2027-01-11", "2027-01-18", "2027-01-25"]
    assert first.json["lines"] == [{"sku": "BEV-001", "name": "Still water 1.5 l", "quantity": 24, "sold": True}]
    again = post(api, "/api/v1/recurring-orders", BODY, key="k1")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    other = post(api, "/api/v1/recurring-orders", {**BODY, "cadence": "monthly"}, key="k1")
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"
    assert db.scalar(select(func.count(RecurringOrder.id))) == 1
    assert post(api, "/api/v1/recurring-orders", BODY).status_code == 422  # the key is required


@pytest.mark.parametrize(("body", "field"), [
    ({**BODY, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines"),
    ({**BODY, "cadence": "daily"}, "cadence"),
    ({**BODY, "start_date": "2026-12-01"}, "start_date"),
    ({**BODY, "lines": []}, "lines"),
    ({**BODY, "mode": "manual"}, "mode"),
    ({**BODY, "po_pattern": "PO-{quarter}"}, "po_pattern"),
    ({**BODY, "po_pattern": "PO-{year"}, "po_pattern"),
    ({**BODY, "po_pattern": "{date}{date}{date}{date}"}, "po_pattern"),
    ({**BODY, "address_id": 999999}, "address_id"),
    ({**BODY, "extra": 1}, "extra"),
])
def test_bad_bodies_are_422_naming_the_field_and_save_nothing(api, db, body, field):
    response = post(api, "/api/v1/recurring-orders", body, key="k")
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["body"], response.json
    assert db.scalar(select(func.count(RecurringOrder.id))) == 0


def test_patch_pause_skip_resume_runs_and_delete(api, app, db):
    made = post(api, "/api/v1/recurring-orders", BODY, key="k1").json
    url = f"/api/v1/recurring-orders/{made['id']}"
    changed = api.patch(url, json={"lines": [{"sku": "JAM-280", "quantity": 6}]}, headers=api.headers)
    assert changed.status_code == 200 and [line["sku"] for line in changed.json["lines"]] == ["JAM-280"]
    assert changed.json["cadence"] == "weekly"  # what was not sent stays
    skipped = post(api, f"{url}/skip", {"date": "2027-01-18"})
    assert skipped.status_code == 200 and "2027-01-18" not in skipped.json["next_dates"]
    assert post(api, f"{url}/skip", {"date": "2027-01-18"}).status_code == 409
    assert post(api, f"{url}/skip", {"date": "2027-01-19"}).status_code == 422
    paused = post(api, f"{url}/pause", {"until": None})
    assert paused.json["status"] == "paused" and paused.json["next_dates"] == []
    assert post(api, f"{url}/resume").json["status"] == "active"
    assert post(api, f"{url}/resume").status_code == 409
    with app.app_context():
        engine.generate_due(app.extensions["trellis.session_factory"], date(2027, 1, 11))
    runs = api.get(f"{url}/runs", headers=api.headers).json
    assert [(r["occurrence_date"], r["outcome"]) for r in runs["items"]] == [("2027-01-11", "created")]
    assert runs["items"][0]["order_id"] is not None
    assert api.delete(url, headers=api.headers).status_code == 204
    assert api.get(url, headers=api.headers).json["status"] == "cancelled"
    assert api.delete(url, headers=api.headers).status_code == 409


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("GET", "", None), ("PATCH", "", {"name": "mine now"}), ("DELETE", "", None),
    ("POST", "/pause", {}), ("POST", "/resume", None), ("POST", "/skip", {"date": "2027-01-18"}),
    ("GET", "/runs", None),
])
def test_another_partners_standing_order_is_404_and_unchanged(api, app, f, db, method, suffix, body):
    made = post(api, "/api/v1/recurring-orders", BODY, key="k1").json
    stranger = app.test_client()
    token = issue(stranger, f.user())
    response = stranger.open(f"/api/v1/recurring-orders/{made['id']}{suffix}", method=method,
                             json=body, headers=bearer(token))
    assert response.status_code == 404
    db.expire_all()
    schedule = db.get(RecurringOrder, made["id"])
    assert (schedule.status, schedule.name) == ("active", "Weekly water")
    assert db.scalar(select(func.count(RecurringSkip.id))) == 0
    assert stranger.get("/api/v1/recurring-orders", headers=bearer(token)).json["total"] == 0


def test_staff_get_403(app, f):
    client = app.test_client()
    token = issue(client, f.user(role="account_manager"))
    assert client.get("/api/v1/recurring-orders", headers=bearer(token)).status_code == 403


def test_review_mode_a_po_pattern_and_an_address_through_the_api(api, db):
    from portal.models import DeliveryAddress

    created = post(api, "/api/v1/recurring-orders", {**BODY, "mode": "review", "po_pattern": "PO-{week}"},
                   key="k-review")
    assert created.status_code == 201, created.json
    assert (created.json["mode"], created.json["po_pattern"], created.json["address_id"]) == (
        "review", "PO-{week}", None)
    schedule = db.get(RecurringOrder, created.json["id"])
    address = DeliveryAddress(partner_id=schedule.partner_id, label="Shop", recipient="Shop", street="Rynek 1",
                              postal_code="00-950", city="Warszawa", is_default=True)
    db.add(address)
    db.commit()
    changed = api.patch(f"/api/v1/recurring-orders/{schedule.id}", json={"address_id": address.id},
                        headers=api.headers)
    assert changed.status_code == 200 and changed.json["address_id"] == address.id
    bad = api.patch(f"/api/v1/recurring-orders/{schedule.id}", json={"po_pattern": "{month:>5}"},
                    headers=api.headers)
    assert bad.status_code == 422 and "po_pattern" in str(bad.json)
