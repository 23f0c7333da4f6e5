"""The review drafts API: what the review pages allow (list the drafts waiting, read one, change
it, confirm it, skip its date), through the same use cases; a stale version is a 409."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from portal.core.access import Actor
from portal.models import AuditEvent, Order, RecurringDraft, RecurringRun, RecurringSkip
from portal.recurring import drafts, standing
from portal.recurring.standing import ScheduleData
from tests.portal.helpers import bearer, issue

START = date(2027, 1, 31)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel("2027-01-29 09:00:00+00:00", tick=False):
        yield


@pytest.fixture
def setup(app, f, db):
    """A buyer's review-mode monthly standing order from 31 January, its draft made on the 28th,
    and an API client signed in with the buyer's token."""
    buyer = f.user()
    water = f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    f.product(sku="OLD-001", name="Old soda", active=False)
    schedule = standing.create(db, Actor.of(buyer), ScheduleData(
        name="Monthly restock", cadence="monthly", start_date=START, mode="review", lines=[(water.id, 24)]),
        today=date(2027, 1, 10))[0]
    with app.app_context():
        drafts.prepare(app.extensions["trellis.session_factory"], date(2027, 1, 28))
    draft = db.scalar(select(RecurringDraft))
    client = app.test_client()
    client.headers = bearer(issue(client, buyer))
    return client, buyer, schedule, draft


def call(client, method, path, json=None):
    return client.open(path, method=method, json=json, headers=client.headers)


def url(schedule, draft=None, suffix=""):
    base = f"/api/v1/recurring-orders/{schedule.id}/drafts"
    return f"{base}/{draft.id}{suffix}" if draft is not None else base


def test_the_draft_waiting_is_listed_and_read_with_its_lines_and_version(setup):
    client, _buyer, schedule, draft = setup
    listed = call(client, "GET", url(schedule))
    assert listed.status_code == 200
    assert (listed.json["total"], listed.json["page"], listed.json["pages"]) == (1, 1, 1)
    [item] = listed.json["items"]
    assert item == {"id": draft.id, "recurring_order_id": schedule.id, "occurrence_date": "2027-01-31",
                    "status": "open", "order_id": None, "changed": False, "changed_at": None, "version": 1,
                    "lines": [{"sku": "BEV-001", "name": "Still water 1.5 l", "quantity": 24, "sold": True}]}
    assert call(client, "GET", url(schedule, draft)).json == item
    assert call(client, "GET", url(schedule) + "?page=3").json == {"items": [], "total": 1, "page": 3, "pages": 1}


def test_a_change_is_for_that_date_only_audited_and_moves_the_version_on(setup, db):
    client, _buyer, schedule, draft = setup
    changed = call(client, "PATCH", url(schedule, draft), {
        "lines": [{"sku": "JAM-280", "quantity": 6}, {"sku": "BEV-001", "quantity": 12}], "version": 1})
    assert changed.status_code == 200, changed.json
    assert (changed.json["version"], changed.json["changed"], changed.json["status"]) == (2, True, "open")
    assert [(line["sku"], line["quantity"]) for line in changed.json["lines"]] == [("JAM-280", 6), ("BEV-001", 12)]
    assert changed.json["changed_at"] is not None
    db.expire_all()
    assert [(line.product.sku, line.quantity) for line in standing.get(db, Actor.system(), schedule.id).lines] == [
        ("BEV-001", 24)]  # the standing order itself stays
    assert db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "recurring_draft_changed")) == 1


def test_a_change_from_an_old_version_is_a_409_and_overwrites_nothing(setup, db):
    client, _buyer, schedule, draft = setup
    first = call(client, "PATCH", url(schedule, draft), {"lines": [{"sku": "BEV-001", "quantity": 10}], "version": 1})
    assert first.status_code == 200
    second = call(client, "PATCH", url(schedule, draft), {"lines": [{"sku": "BEV-001", "quantity": 99}], "version": 1})
    assert second.status_code == 409
    assert second.json["error"]["code"] == "draft_changed"
    assert list(second.json["error"]["details"]["body"]) == ["version"]
    db.expire_all()
    assert db.get(RecurringDraft, draft.id).lines[0]["quantity"] == 10


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [{"sku": "NOPE", "quantity": 1}], "version": 1}, "lines"),
    ({"lines": [{"sku": "OLD-001", "quantity": 1}], "version": 1}, "lines"),  # no longer sold
    ({"lines": [], "version": 1}, "lines"),
    ({"lines": [{"sku": "BEV-001", "quantity": 0}], "version": 1}, "lines"),
    ({"lines": [{"sku": "BEV-001", "quantity": 1}]}, "version"),
    ({"lines": [{"sku": "BEV-001", "quantity": 1}], "version": "1"}, "version"),
    ({"lines": [{"sku": "BEV-001", "quantity": 1}], "version": 1, "extra": 1}, "extra"),
])
def test_a_bad_change_is_a_422_naming_the_field_and_changes_nothing(setup, db, body, field):
    client, _buyer, schedule, draft = setup
    response = call(client, "PATCH", url(schedule, draft), body)
    assert response.status_code == 422, response.json
    assert any(key.split(".")[0] == field for key in response.json["error"]["details"]["body"]), response.json
    db.expire_all()
    assert (db.get(RecurringDraft, draft.id).version, db.get(RecurringDraft, draft.id).changed_at) == (1, None)


def test_confirm_places_the_order_now_once_and_the_draft_then_says_placed(setup, db):
    client, buyer, schedule, draft = setup
    call(client, "PATCH", url(schedule, draft), {"lines": [{"sku": "BEV-001", "quantity": 5}], "version": 1})
    stale = call(client, "POST", url(schedule, draft, "/confirm"), {"version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "draft_changed"
    assert db.scalar(select(func.count(Order.id))) == 0
    placed = call(client, "POST", url(schedule, draft, "/confirm"), {"version": 2})
    assert placed.status_code == 200, placed.json
    order = db.scalar(select(Order).where(Order.partner_id == buyer.partner_id))
    assert (placed.json["status"], placed.json["order_id"]) == ("placed", order.id)
    assert [(line.sku, line.quantity) for line in order.lines] == [("BEV-001", 5)]
    again = call(client, "POST", url(schedule, draft, "/confirm"), {})
    assert again.status_code == 409
    assert call(client, "GET", url(schedule, draft)).json["status"] == "placed"
    assert call(client, "GET", url(schedule)).json["total"] == 0
    assert call(client, "PATCH", url(schedule, draft), {
        "lines": [{"sku": "BEV-001", "quantity": 1}], "version": 2}).status_code == 409
    assert db.scalar(select(func.count(RecurringRun.id))) == 1 and db.scalar(select(func.count(Order.id))) == 1


def test_confirm_without_a_body_places_the_draft_as_it_stands(setup, db):
    client, _buyer, schedule, draft = setup
    placed = client.post(url(schedule, draft, "/confirm"), headers=client.headers)
    assert placed.status_code == 200, placed.json
    assert placed.json["status"] == "placed"


def test_skip_leaves_the_date_out_and_the_draft_closed(setup, db):
    client, _buyer, schedule, draft = setup
    skipped = call(client, "POST", url(schedule, draft, "/skip"))
    assert skipped.status_code == 200, skipped.json
    assert skipped.json["status"] == "closed"
    assert db.scalar(select(RecurringSkip.occurrence_date)) == START
    assert call(client, "POST", url(schedule, draft, "/skip")).status_code == 409
    assert call(client, "GET", url(schedule)).json["items"] == []
    assert call(client, "POST", url(schedule, draft, "/confirm"), {}).status_code == 409
    assert "2027-01-31" not in call(client, "GET", f"/api/v1/recurring-orders/{schedule.id}").json["next_dates"]


def test_a_paused_standing_orders_draft_cannot_be_confirmed_and_an_automatic_one_has_none(setup, db):
    client, buyer, schedule, draft = setup
    assert call(client, "POST", f"/api/v1/recurring-orders/{schedule.id}/pause", {"until": "2027-02-10"}
                ).status_code == 200
    assert call(client, "GET", url(schedule, draft)).json["status"] == "closed"  # inside the pause
    assert call(client, "POST", url(schedule, draft, "/confirm"), {}).status_code == 409
    call(client, "POST", f"/api/v1/recurring-orders/{schedule.id}/resume")
    assert call(client, "PATCH", f"/api/v1/recurring-orders/{schedule.id}", {"mode": "auto"}).status_code == 200
    assert call(client, "GET", url(schedule)).json["items"] == []
    assert call(client, "PATCH", url(schedule, draft), {
        "lines": [{"sku": "BEV-001", "quantity": 1}], "version": 1}).status_code == 409
    assert db.scalar(select(func.count(Order.id))) == 0


def test_staff_get_403_and_a_colleague_of_the_same_company_may_review(setup, app, f):
    _client, buyer, schedule, draft = setup
    staff = app.test_client()
    token = issue(staff, f.user(role="account_manager"))
    assert staff.get(url(schedule), headers=bearer(token)).status_code == 403
    owner = app.test_client()
    token = issue(owner, f.user(role="partner_admin", partner=buyer.partner))
    assert owner.get(url(schedule, draft), headers=bearer(token)).json["status"] == "open"
