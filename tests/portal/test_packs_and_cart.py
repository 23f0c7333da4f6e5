"""The pack rule everywhere a quantity enters, quick order's Post/Redirect/Get, and what a
reorder into a non-empty cart says."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import CartLine, Order
from tests.portal.helpers import bearer, issue, sign_in

NOTE = "5 rounded up to 24 (1 pack of 24)"


@pytest.fixture
def shop(app, f):
    buyer = f.user()
    cola = f.product(sku="COLA-24", name="Cola 0.33 l", pack_size=24, base_price=Decimal("0.70"))
    single = f.product(sku="ONE-1", name="Gouda 1 kg", pack_size=1, base_price=Decimal("8.90"))
    client = app.test_client()
    sign_in(client, buyer)
    return client, buyer, cola, single


def cart(db) -> dict[int, int]:
    db.expire_all()
    return dict(db.execute(select(CartLine.product_id, CartLine.quantity)).all())


def test_adding_5_of_a_24_pack_puts_24_in_the_cart_and_says_so(app, db, shop):
    client, _buyer, cola, single = shop
    page = client.post("/cart/add", data={"product_id": cola.id, "quantity": 5}, follow_redirects=True).text
    assert "Added 24 × Cola 0.33 l to your cart." in page and f"Cola 0.33 l: {NOTE}." in page
    client.post("/cart/add", data={"product_id": cola.id, "quantity": 30})  # 24 + 30 -> 72 (3 packs)
    client.post("/cart/add", data={"product_id": single.id, "quantity": 5})  # packs of 1: as asked
    assert cart(db) == {cola.id: 72, single.id: 5}


def test_setting_a_quantity_rounds_up_to_whole_packs(app, db, shop):
    client, _buyer, cola, _single = shop
    client.post("/cart/add", data={"product_id": cola.id, "quantity": 24})
    page = client.post(f"/cart/{cola.id}/quantity", data={"quantity": 50}, follow_redirects=True).text
    assert "50 rounded up to 72 (3 packs of 24)" in page
    assert cart(db) == {cola.id: 72}
    too_many = client.post(f"/cart/{cola.id}/quantity", data={"quantity": 99_999}, follow_redirects=True).text
    assert "Quantity must be a whole number from 1 to" in too_many  # 99,999 would become 100,008
    assert cart(db) == {cola.id: 72}


def test_quick_order_rounds_each_line_and_lists_the_changes(app, db, shop):
    client, _buyer, cola, single = shop
    response = client.post("/cart/quick", data={"lines": "COLA-24 5\nONE-1 3"})
    assert response.status_code == 302
    page = client.get("/cart").text
    assert NOTE in page and "2 lines added to your cart." in page
    assert cart(db) == {cola.id: 24, single.id: 3}


def test_quick_order_cannot_add_twice_on_a_refresh_and_keeps_only_the_failed_lines(app, db, shop):
    client, _buyer, cola, single = shop
    response = client.post("/cart/quick", data={"lines": "COLA-24 48\nNOPE-1 2\nONE-1 6\nONE-1 abc"})
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    page = client.get(response.headers["Location"]).text
    assert cart(db) == {cola.id: 48, single.id: 6}
    assert "2 lines could not be added" in page
    assert "Line 2" in page and "Unknown SKU" in page and "Line 4" in page
    box = re.search(r'<textarea[^>]*name="lines"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert box.strip().splitlines() == ["NOPE-1 2", "ONE-1 abc"]  # only the lines that failed
    # A refresh of the cart (the page the POST redirected to) adds nothing and forgets the box.
    again = client.get("/cart").text
    assert cart(db) == {cola.id: 48, single.id: 6}
    assert "could not be added" not in again
    assert re.search(r'<textarea[^>]*name="lines"[^>]*>\s*</textarea>', again)


def test_quick_order_keeps_only_a_few_failed_lines_in_the_cookie(app, db, shop):
    client, *_rest = shop
    text = "\n".join(f"NOPE-{n:03d} {n}" for n in range(1, 201))
    client.post("/cart/quick", data={"lines": text})
    page = client.get("/cart").text
    assert "200 lines could not be added" in page
    assert "…and 180 more lines, not kept in the box." in page
    cookie = client.get_cookie("trellis")
    assert cookie is None or len(cookie.value) < 4000


def test_checkout_orders_whole_packs_when_the_pack_size_changed_after_adding(app, db, shop):
    client, _buyer, cola, _single = shop
    client.post("/cart/add", data={"product_id": cola.id, "quantity": 24})
    cola.pack_size = 10  # 24 is no longer whole packs: checkout orders 30 and says so first
    db.commit()
    review = client.get("/checkout").text
    assert "24 rounded up to 30 (3 packs of 10)" in review
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', review).group(1)
    client.post("/checkout", data={"idempotency_key": key})
    order = db.scalar(select(Order))
    assert [(line.quantity, line.line_total) for line in order.lines] == [(30, Decimal("21.00"))]
    assert cart(db) == {}


def test_reorder_rounds_to_todays_pack_size(app, f, db, shop):
    client, buyer, cola, _single = shop
    old = f.order(buyer.partner, lines=[(cola, 20)])
    page = client.post(f"/orders/{old.id}/reorder", follow_redirects=True).text
    assert "20 rounded up to 24 (1 pack of 24)" in page
    assert cart(db) == {cola.id: 24}


def test_the_api_rounds_up_and_reports_each_line_it_changed(app, f, db, shop):
    _client, buyer, cola, single = shop
    api = app.test_client()
    headers = bearer(issue(api, buyer))
    body = {"lines": [{"sku": "COLA-24", "quantity": 5}, {"sku": "ONE-1", "quantity": 2}]}
    placed = api.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "p-1"})
    assert placed.status_code == 201
    assert [(line["sku"], line["quantity"]) for line in placed.json["lines"]] == [("COLA-24", 24), ("ONE-1", 2)]
    assert placed.json["rounded"] == [{"sku": "COLA-24", "requested": 5, "quantity": 24, "pack_size": 24}]
    replay = api.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "p-1"})
    assert replay.status_code == 200 and replay.json["rounded"] == []  # the same order, nothing new
    assert api.get(f"/api/v1/orders/{placed.json['id']}", headers=headers).json["rounded"] == []
    past = f.order(buyer.partner, lines=[(cola, 30)])
    again = api.post(f"/api/v1/orders/{past.id}/reorder", headers={**headers, "Idempotency-Key": "p-2"})
    assert again.status_code == 201
    assert again.json["order"]["rounded"] == [{"sku": "COLA-24", "requested": 30, "quantity": 48, "pack_size": 24}]
    products = api.get("/api/v1/products", headers=headers).json["items"]
    assert {p["sku"]: (p["pack_size"], p["vat_rate"]) for p in products} == {"COLA-24": (24, 23), "ONE-1": (1, 23)}


@pytest.mark.parametrize(("locale", "message"), [
    ("en", "3 products added at today's prices to the 2 already in your cart."),
    ("pl", "Dodano 3 produkty po dzisiejszych cenach do 2, które już były w koszyku."),
])
def test_reorder_into_a_non_empty_cart_says_what_it_did(app, f, db, locale, message):
    buyer = f.user(locale=locale)
    products = [f.product() for _n in range(5)]
    past = f.order(buyer.partner, lines=[(p, 1) for p in products[:3]])
    client = app.test_client()
    sign_in(client, buyer)
    for product in products[3:]:
        client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    page = client.post(f"/orders/{past.id}/reorder", follow_redirects=True).text
    assert message in page.replace("&#39;", "'")


def test_reorder_into_an_empty_cart_says_how_many_were_added(app, f, db):
    buyer = f.user()
    past = f.order(buyer.partner, lines=[(f.product(), 2)])
    client = app.test_client()
    sign_in(client, buyer)
    page = client.post(f"/orders/{past.id}/reorder", follow_redirects=True).text.replace("&#39;", "'")
    assert "1 product added to your cart at today's prices." in page and "already" not in page
