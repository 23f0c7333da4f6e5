"""The partner's standing-order pages: set up, read, change, pause, skip, cancel; others' are 404."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from portal.models import AuditEvent, RecurringOrder, RecurringSkip
from tests.portal.helpers import sign_in

TODAY = date(2027, 1, 10)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel("2027-01-10 09:00:00+00:00", tick=False):
        yield


@pytest.fixture
def buyer(app, f):
    user = f.user()
    f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    client = app.test_client()
    sign_in(client, user)
    client.user = user
    return client


def create(client, **overrides):
    form = {"name": "Monthly restock", "cadence": "monthly", "start_date": "2027-01-31",
            "end_date": "", "mode": "auto", "lines": "BEV-001 24\nJAM-280 6", "note": "",
            "idempotency_key": "form-1", **overrides}
    return client.post("/standing-orders/new", data=form)


def test_a_buyer_sets_up_a_monthly_standing_order_and_sees_its_next_dates(buyer, db):
    assert "You have no standing orders yet." in buyer.get("/standing-orders").text
    response = create(buyer)
    assert response.status_code == 302
    schedule = db.scalar(select(RecurringOrder))
    assert response.headers["Location"] == f"/standing-orders/{schedule.id}"
    page = buyer.get(f"/standing-orders/{schedule.id}").text
    # six dates, the 31st clamped to month ends, in the locale's writing
    for day in ("January 31, 2027", "February 28, 2027", "March 31, 2027", "April 30, 2027",
                "May 31, 2027", "June 30, 2027"):
        assert day in page
    assert "July 31, 2027" not in page
    assert "Strawberry jam 280 g" in page and "Nothing has happened yet" in page
    listing = buyer.get("/standing-orders").text
    assert "Monthly restock" in listing and "Jan 31, 2027" in listing


def test_the_buyers_dashboard_shows_the_next_standing_order(buyer):
    assert "set up a standing order." in buyer.get("/dashboard").text
    create(buyer)
    page = buyer.get("/dashboard").text
    assert "Next standing order" in page and "Monthly restock" in page and "Jan 31, 2027" in page


def test_submitting_the_same_form_twice_sets_up_one_standing_order(buyer, db):
    first, second = create(buyer), create(buyer)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.scalar(select(func.count(RecurringOrder.id))) == 1
    assert 'name="idempotency_key"' in buyer.get("/standing-orders/new").text
    assert create(buyer, idempotency_key="form-2").status_code == 302  # a new form: a new one
    assert db.scalar(select(func.count(RecurringOrder.id))) == 2


def test_bad_input_is_a_form_error_and_saves_nothing(buyer, db):
    for overrides, message in [
        ({"lines": "NOPE-1 2"}, "NOPE-1 — not in the catalog."),
        ({"lines": "BEV-001 two"}, "Quantity must be a whole number"),
        ({"start_date": "2027-01-01"}, "The first date cannot be in the past."),
        ({"end_date": "2027-01-20"}, "The last date is before the first one."),
        ({"cadence": "daily"}, "Not a valid choice"),
        ({"lines": ""}, "This field is required."),
        ({"name": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"po_pattern": "PO-{quarter}"}, "Unknown placeholder {quarter} in the PO pattern."),
        ({"po_pattern": "PO-{year"}, "unmatched brace"),
        ({"address_id": "999999"}, "Choose one of your company&#39;s delivery addresses."),
    ]:
        response = create(buyer, **overrides)
        assert response.status_code == 422, overrides
        assert message in response.text, overrides
    assert db.scalar(select(func.count(RecurringOrder.id))) == 0


def test_set_up_from_a_past_order_or_the_cart_prefills_the_lines(buyer, f, db):
    from portal.models import Product

    water = db.scalar(select(Product).where(Product.sku == "BEV-001"))
    order = f.order(buyer.user.partner, lines=[(water, 12)])
    page = buyer.get(f"/standing-orders/new?from_order={order.id}").text
    assert "BEV-001 12" in page
    buyer.post("/cart/add", data={"product_id": water.id, "quantity": 5})
    assert "BEV-001 5" in buyer.get("/standing-orders/new?from=cart").text


def test_pause_resume_skip_and_cancel_each_audited(buyer, db):
    create(buyer)
    schedule = db.scalar(select(RecurringOrder))
    url = f"/standing-orders/{schedule.id}"
    # skipping asks first, then removes only that date
    asked = buyer.get(f"{url}/skip?date=2027-02-28")
    assert asked.status_code == 200 and "Yes, skip this date" in asked.text
    assert db.scalar(select(func.count(RecurringSkip.id))) == 0
    assert buyer.post(f"{url}/skip?date=2027-02-28").status_code == 302
    page = buyer.get(url).text
    assert "February 28, 2027" not in page and "March 31, 2027" in page
    assert "is not one of this standing order" in buyer.post(f"{url}/skip?date=2027-02-27", follow_redirects=True).text
    buyer.post(f"{url}/pause", data={"until": "2027-03-01"})
    db.expire_all()
    assert (schedule.status, schedule.paused_until) == ("paused", date(2027, 3, 1))
    assert "March 31, 2027" in buyer.get(url).text  # after the pause
    buyer.post(f"{url}/resume")
    db.expire_all()
    assert schedule.status == "active"
    assert "Yes, cancel it" in buyer.get(f"{url}/cancel").text
    buyer.post(f"{url}/cancel")
    db.expire_all()
    assert schedule.status == "cancelled" and "No dates ahead." in buyer.get(url).text
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("recurring_%"))
                       .order_by(AuditEvent.id)).all()
    assert trail == ["recurring_created", "recurring_skipped", "recurring_paused", "recurring_resumed",
                     "recurring_cancelled"]


def test_changing_lines_applies_from_the_next_date(buyer, db):
    create(buyer)
    schedule = db.scalar(select(RecurringOrder))
    response = buyer.post(f"/standing-orders/{schedule.id}/edit", data={
        "name": "Bigger restock", "cadence": "monthly", "start_date": "2027-01-31", "end_date": "",
        "mode": "auto", "lines": "BEV-001 48", "note": ""})
    assert response.status_code == 302
    page = buyer.get(f"/standing-orders/{schedule.id}").text
    assert "Bigger restock" in page and "48" in page and "Strawberry jam" not in page


ROUTES = [("GET", "/standing-orders/{id}"), ("GET", "/standing-orders/{id}/edit"),
          ("POST", "/standing-orders/{id}/edit"), ("POST", "/standing-orders/{id}/pause"),
          ("POST", "/standing-orders/{id}/resume"), ("GET", "/standing-orders/{id}/skip?date=2027-01-31"),
          ("POST", "/standing-orders/{id}/skip?date=2027-01-31"), ("GET", "/standing-orders/{id}/cancel"),
          ("POST", "/standing-orders/{id}/cancel")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_another_partners_standing_order_is_a_404_and_changes_nothing(app, buyer, f, db, method, path):
    create(buyer)
    schedule = db.scalar(select(RecurringOrder))
    stranger = app.test_client()
    sign_in(stranger, f.user())
    response = stranger.open(path.format(id=schedule.id), method=method, data={})
    assert response.status_code == 404
    db.expire_all()
    assert (schedule.status, len(schedule.lines)) == ("active", 2)
    assert db.scalar(select(func.count(RecurringSkip.id))) == 0
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "authz_denied")) == "authz_denied"


def test_staff_have_no_standing_order_pages_of_their_own(app, f):
    client = app.test_client()
    sign_in(client, f.user(role="account_manager"))
    assert client.get("/standing-orders").status_code == 403


def test_the_first_date_defaults_to_today(buyer):
    page = buyer.get("/standing-orders/new").text
    assert f'value="{TODAY.isoformat()}"' in page
    assert (TODAY + timedelta(days=1)).isoformat() not in page


def test_a_delivery_address_and_a_po_pattern_are_chosen_on_the_form(buyer, db):
    from portal.models import DeliveryAddress

    back = DeliveryAddress(partner_id=buyer.user.partner_id, label="Back door", recipient="Shop",
                           street="Tylna 2", postal_code="00-951", city="Warszawa")
    db.add(back)
    db.commit()
    page = buyer.get("/standing-orders/new").text
    assert "The default delivery address" in page and "Back door — Tylna 2, 00-951 Warszawa" in page
    assert create(buyer, address_id=str(back.id), po_pattern="PO-{year}-{month}",
                  mode="review").status_code == 302
    schedule = db.scalar(select(RecurringOrder))
    assert (schedule.address_id, schedule.po_pattern, schedule.mode) == (back.id, "PO-{year}-{month}", "review")
    detail = buyer.get(f"/standing-orders/{schedule.id}").text
    assert "Delivered to Back door" in detail and "PO reference: PO-{year}-{month}" in detail
    assert f'<option selected value="{back.id}">' in buyer.get(f"/standing-orders/{schedule.id}/edit").text
