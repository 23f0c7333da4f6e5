"""Ordering edge cases: a racing double submit, colleagues' orders, escaping, far-off dates."""
from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import CartLine, Order, OrderLine
from tests.portal.factories import Factories
from tests.portal.helpers import bearer, issue, sign_in
from tests.portal.test_orders import buyer_with_catalog, checkout_key, signed_in

THREADS = 10
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKER = 'Cola" onmouseover="x'


def far_date(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.mark.postgres
def test_ten_simultaneous_submits_of_one_checkout_form_make_one_order_and_all_lead_to_it(live_pg_app):
    app = live_pg_app
    with app.extensions["trellis.session_factory"]() as db:
        user, _tier, water, _chips = buyer_with_catalog(Factories(db))
        water_id = water.id
    browser = signed_in(app, user)
    browser.post("/cart/add", data={"product_id": water_id, "quantity": 7})
    key = checkout_key(browser)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookie = browser.get_cookie(cookie_name)
    barrier = threading.Barrier(THREADS)
    responses = []

    def submit():
        tab = app.test_client()
        tab.set_cookie(cookie_name, cookie.value, domain=cookie.domain, path=cookie.path)
        barrier.wait()
        responses.append(tab.post("/checkout", data={"idempotency_key": key, "note": "Gate 3"}))

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with app.extensions["trellis.session_factory"]() as db:
        [order] = db.scalars(select(Order)).all()
        assert db.scalar(select(func.sum(OrderLine.quantity))) == 7
        assert db.scalar(select(func.count(CartLine.id))) == 0
    assert len(responses) == THREADS
    assert [r.status_code for r in responses] == [302] * THREADS, [r.text[:300] for r in responses]
    locations = [r.headers["Location"] for r in responses]
    assert all(re.fullmatch(rf"/orders/{order.id}(/thank-you)?", loc) for loc in locations), locations
    # Only the submit that placed the order says thank you; the others show the order itself.
    assert sum(loc.endswith("/thank-you") for loc in locations) == 1
    detail = browser.get(f"/orders/{order.id}")
    assert detail.status_code == 200 and "Gate 3" in detail.text


def test_a_colleague_at_the_same_partner_sees_the_order_in_pages_and_api(app, f):
    buyer_a, _tier, water, _chips = buyer_with_catalog(f)
    buyer_b = f.user(partner=buyer_a.partner)
    a = signed_in(app, buyer_a)
    a.post("/cart/add", data={"product_id": water.id, "quantity": 4})
    placed = a.post("/checkout", data={"idempotency_key": checkout_key(a), "note": "For the bar"})
    order_id = int(re.search(r"/orders/(\d+)", placed.headers["Location"]).group(1))

    b = signed_in(app, buyer_b)
    history = b.get("/orders").text
    assert "1 order" in history and f'href="/orders/{order_id}"' in history
    detail = b.get(f"/orders/{order_id}")
    assert detail.status_code == 200
    assert "For the bar" in detail.text and "Still water" in detail.text and "3.80" in detail.text

    api = app.test_client()
    headers = bearer(issue(api, buyer_b))
    listing = api.get("/api/v1/orders", headers=headers)
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json["items"]] == [order_id]
    one = api.get(f"/api/v1/orders/{order_id}", headers=headers)
    assert one.status_code == 200
    assert one.json["note"] == "For the bar" and one.json["total"] == "3.80"
    assert [(line["sku"], line["quantity"]) for line in one.json["lines"]] == [("BEV-001", 4)]


@pytest.fixture
def hostile_order(app, f):
    """A buyer whose cart holds a product with a quote in its name, checked out with a script note."""
    user, _tier, _water, _chips = buyer_with_catalog(f)
    product = f.product(sku="XSS-001", name=ATTRIBUTE_BREAKER, base_price=Decimal("1.00"))
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    return client, product


def test_checkout_review_and_cart_escape_a_product_name_with_quotes(hostile_order):
    client, _product = hostile_order
    for url in ("/cart", "/checkout"):
        page = client.get(url).text
        assert ATTRIBUTE_BREAKER not in page, url
        assert "Cola&#34; onmouseover=&#34;x" in page, url


def test_order_note_and_product_name_are_escaped_on_detail_list_and_catalog(hostile_order):
    client, _product = hostile_order
    placed = client.post("/checkout", data={"idempotency_key": checkout_key(client), "note": SCRIPT})
    order_id = int(re.search(r"/orders/(\d+)", placed.headers["Location"]).group(1))

    detail = client.get(f"/orders/{order_id}").text
    assert SCRIPT not in detail and ATTRIBUTE_BREAKER not in detail
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "Cola&#34; onmouseover=&#34;x" in detail

    # The list shows neither the note nor product names today; whatever it shows must stay inert.
    history = client.get("/orders").text
    assert f'href="/orders/{order_id}"' in history
    assert SCRIPT not in history and ATTRIBUTE_BREAKER not in history

    catalog = client.get("/catalog").text   # both the product list and the usual basket
    assert ATTRIBUTE_BREAKER not in catalog
    # the name in both lists, and in each row's quantity and button labels (accessible names)
    assert catalog.count("Cola&#34; onmouseover=&#34;x") == 6


def test_delivery_date_more_than_a_year_ahead_is_a_form_error_and_the_cart_stays(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 5})
    key = checkout_key(client)
    response = client.post("/checkout", data={"idempotency_key": key,
                                              "requested_delivery_date": far_date(400)})
    assert response.status_code == 422
    error = re.search(r'id="requested_delivery_date-errors"[^>]*>([^<]*)<', response.text)
    assert error and "more than a year away" in error.group(1)
    assert db.scalar(select(func.count(Order.id))) == 0
    assert "Still water" in client.get("/cart").text
    # The same form with a nearer date then places the order from the kept cart.
    fixed = client.post("/checkout", data={"idempotency_key": key,
                                           "requested_delivery_date": far_date(300)})
    assert fixed.status_code == 302
    assert db.scalar(select(OrderLine.quantity)) == 5


def test_api_refuses_a_delivery_date_more_than_a_year_ahead_with_a_clear_422(app, f, db):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    client = app.test_client()
    headers = {**bearer(issue(client, user)), "Idempotency-Key": "far-away"}
    response = client.post("/api/v1/orders", headers=headers, json={
        "lines": [{"sku": "BEV-001", "quantity": 1}], "requested_delivery_date": far_date(400)})
    assert response.status_code == 422
    assert response.json["error"]["message"] == "The delivery date is more than a year away."
    assert "requested_delivery_date" in response.json["error"]["details"]["body"]
    assert db.scalar(select(func.count(Order.id))) == 0
    # The boundary the page and the API share: a date within the year is fine.
    near = client.post("/api/v1/orders", headers={**headers, "Idempotency-Key": "near"}, json={
        "lines": [{"sku": "BEV-001", "quantity": 1}], "requested_delivery_date": far_date(365)})
    assert near.status_code == 201, near.json


def test_order_list_with_from_after_to_says_so_and_lists_without_the_dates(app, f):
    user, _tier, water, _chips = buyer_with_catalog(f)
    f.order(user.partner, lines=[(water, 1)], created_at=datetime(2025, 3, 1, 9, tzinfo=UTC))
    f.order(user.partner, lines=[(water, 1)], created_at=datetime(2025, 3, 31, 9, tzinfo=UTC))
    client = app.test_client()
    sign_in(client, user)
    response = client.get("/orders?date_from=2025-03-31&date_to=2025-03-01")
    assert response.status_code == 200
    assert "The end date is before the start date." in response.text
    assert "2 orders" in response.text  # the dates are ignored, not taken as "nothing"
    fine = client.get("/orders?date_from=2025-03-01&date_to=2025-03-15").text
    assert "1 order" in fine and "The end date is before" not in fine
    garbled = client.get("/orders?date_from=yesterday").text
    assert "Not a valid date value." in garbled and "2 orders" in garbled
