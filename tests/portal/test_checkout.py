"""Checkout's B2B basics: the partner's PO reference and the delivery address, on the order and
everywhere it is shown (pages, search, CSV, API), and the thank-you page."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from sqlalchemy import select

from portal.models import AuditEvent, DeliveryAddress, Order
from tests.portal.helpers import bearer, issue, sign_in


def address(db, partner, label="Main shop", default=False, **kw) -> DeliveryAddress:
    row = DeliveryAddress(**{"partner_id": partner.id, "label": label, "recipient": f"{partner.name} Ltd",
                             "street": "Rynek 1", "postal_code": "00-950", "city": "Warszawa",
                             "is_default": default, **kw})
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def shop(app, f, db):
    """A buyer with two delivery addresses (the second the default) and a product in the cart."""
    buyer = f.user()
    main = address(db, buyer.partner, "Main shop")
    store = address(db, buyer.partner, "Warehouse", default=True, street="Portowa 7", city="Gdańsk",
                    postal_code="80-001", phone="+48 500 100 200")
    product = f.product(name="Still water", base_price=Decimal("2.00"))
    client = app.test_client()
    sign_in(client, buyer)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 2})
    return client, buyer, main, store, product


def key_of(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)


def test_checkout_preselects_the_default_address_and_keeps_a_copy_of_the_one_chosen(app, db, shop):
    client, buyer, main, store, _product = shop
    page = client.get("/checkout").text
    assert re.search(rf'value="{store.id}"\s+checked', page)  # the default
    assert not re.search(rf'value="{main.id}"\s+checked', page)
    response = client.post("/checkout", data={"idempotency_key": key_of(page), "address_id": main.id,
                                              "po_reference": "  PO-2026/117  "})
    assert response.status_code == 302
    order = db.scalar(select(Order))
    assert order.po_reference == "PO-2026/117"
    assert order.delivery_address == {
        "id": main.id, "label": "Main shop", "recipient": f"{buyer.partner.name} Ltd", "street": "Rynek 1",
        "street2": "", "postal_code": "00-950", "city": "Warszawa", "country": "PL", "phone": ""}
    # Editing and removing the address later changes no order.
    main.street = "Elsewhere 9"
    db.commit()
    db.delete(main)
    db.commit()
    db.expire_all()
    assert db.get(Order, order.id).delivery_address["street"] == "Rynek 1"
    assert "Rynek 1" in client.get(f"/orders/{order.id}").text


def test_without_a_choice_the_order_goes_to_the_default_address(app, db, shop):
    client, _buyer, _main, store, _product = shop
    client.post("/checkout", data={"idempotency_key": key_of(client.get("/checkout").text)})
    assert db.scalar(select(Order)).delivery_address["id"] == store.id


def test_another_companys_address_cannot_be_chosen_at_checkout(app, f, db, shop):
    client, _buyer, _main, _store, _product = shop
    theirs = address(db, f.partner(), "Their shop", default=True)
    response = client.post("/checkout", data={"idempotency_key": key_of(client.get("/checkout").text),
                                              "address_id": theirs.id})
    assert response.status_code == 422 and "Not a valid choice" in response.text
    assert db.scalar(select(Order)) is None


@pytest.mark.parametrize(("reference", "why"), [
    ("x" * 36, "at most 35 characters"), ("PO\t12", "not allowed"), ("PO\u202e21", "not allowed"),
])
def test_a_po_reference_too_long_or_with_control_characters_is_refused(app, db, shop, reference, why):
    client, *_rest = shop
    response = client.post("/checkout", data={"idempotency_key": key_of(client.get("/checkout").text),
                                              "po_reference": reference})
    assert response.status_code == 422
    assert why in response.text or "Field cannot be longer than 35 characters" in response.text
    assert db.scalar(select(Order)) is None


def test_the_thank_you_page_shows_the_order_with_links(app, db, shop):
    client, _buyer, _main, store, _product = shop
    page = client.get("/checkout").text
    wanted = date.today() + timedelta(days=10)
    response = client.post("/checkout", data={"idempotency_key": key_of(page), "po_reference": "PO-9",
                                              "requested_delivery_date": wanted.isoformat()})
    order = db.scalar(select(Order))
    assert response.headers["Location"] == f"/orders/{order.id}/thank-you"
    thanks = client.get(response.headers["Location"]).text
    assert f"Order #{order.id} is placed" in thanks
    assert "This is your first order with us" in thanks
    assert "Still water" in thanks and "PO-9" in thanks and "Portowa 7" in thanks and "80-001 Gdańsk" in thanks
    assert "Net total" in thanks and "Gross total" in thanks and "PLN\u00a04.92" in thanks  # 4.00 + 0.92
    assert format_date(wanted, "medium", locale="en") in thanks
    assert f'href="/orders/{order.id}"' in thanks and 'href="/orders"' in thanks


def test_po_reference_is_in_the_lists_the_detail_and_the_csv(app, f, db):
    manager = f.user(role="account_manager")
    partner = f.partner(account_manager_id=manager.id)
    buyer = f.user(partner=partner)
    order = f.order(partner, po_reference="PO-ACME-77", delivery_address={
        "id": 1, "label": "Main shop", "recipient": "Acme", "street": "Rynek 1", "street2": "",
        "postal_code": "00-950", "city": "Warszawa", "country": "PL", "phone": ""})
    buyer_client, staff_client = app.test_client(), app.test_client()
    sign_in(buyer_client, buyer)
    sign_in(staff_client, manager)
    for page in (buyer_client.get("/orders").text, buyer_client.get(f"/orders/{order.id}").text,
                 staff_client.get("/manage/orders").text, staff_client.get(f"/manage/orders/{order.id}").text):
        assert "PO-ACME-77" in page
    assert "Rynek 1" in staff_client.get(f"/manage/orders/{order.id}").text
    export = buyer_client.get("/orders/export.csv").text
    header, row = export.lstrip("\ufeff").splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=False))
    assert cells["po_reference"] == "PO-ACME-77"
    assert "Main shop" in row and "00-950 Warszawa" in row


def test_orders_are_found_by_number_exactly_or_by_part_of_the_po_reference(app, f, db):
    buyer = f.user()
    first = f.order(buyer.partner, po_reference="PO-2026-0042")
    second = f.order(buyer.partner, po_reference="SHOP/42-B")
    third = f.order(buyer.partner)
    client = app.test_client()
    sign_in(client, buyer)

    def found(q):
        page = client.get("/orders", query_string={"q": q}).text
        return {n for n in (first.id, second.id, third.id) if f'href="/orders/{n}"' in page}

    assert found("42") == {first.id, second.id} | ({third.id} if third.id == 42 else set())
    assert found(f"#{third.id}") == {third.id}
    assert found(str(third.id)) == {third.id} | {o.id for o in (first, second) if str(third.id) in o.po_reference}
    assert found("shop/42") == {second.id}  # case-insensitive, % and _ match themselves
    assert found("%") == set()
    assert 'value="shop/42"' in client.get("/orders?q=shop/42").text  # the box keeps the search
    api = app.test_client()
    headers = bearer(issue(api, buyer))
    listed = api.get("/api/v1/orders", query_string={"q": "2026-00"}, headers=headers).json
    assert [o["id"] for o in listed["items"]] == [first.id] and listed["items"][0]["po_reference"] == "PO-2026-0042"


def test_the_staff_list_searches_only_the_partners_a_manager_looks_after(app, f, db):
    manager = f.user(role="account_manager")
    mine = f.partner(account_manager_id=manager.id)
    theirs = f.partner(account_manager_id=f.user(role="account_manager").id)
    kept = f.order(mine, po_reference="PO-SHARED-1")
    hidden = f.order(theirs, po_reference="PO-SHARED-2")
    client = app.test_client()
    sign_in(client, manager)
    page = client.get("/manage/orders?q=PO-SHARED").text
    assert f"#{kept.id}<" in page and f"#{hidden.id}<" not in page
    assert f"#{hidden.id}<" not in client.get(f"/manage/orders?q={hidden.id}").text


# --- the API ----------------------------------------------------------------------------------------

@pytest.fixture
def api(app, f, db):
    buyer = f.user()
    product = f.product(sku="WAT-1", name="Water", base_price=Decimal("1.00"))
    client = app.test_client()
    return client, bearer(issue(client, buyer)), buyer, product


def test_the_api_takes_a_po_reference_and_an_address_and_answers_the_copy(app, db, api):
    client, headers, buyer, _product = api
    default = address(db, buyer.partner, "Main shop", default=True)
    other = address(db, buyer.partner, "Warehouse", street="Portowa 7")
    body = {"lines": [{"sku": "WAT-1", "quantity": 10}], "po_reference": "PO-API-1", "address_id": other.id}
    placed = client.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "a-1"})
    assert placed.status_code == 201, placed.json
    answer = placed.json
    assert answer["po_reference"] == "PO-API-1"
    assert answer["delivery_address"]["id"] == other.id and answer["delivery_address"]["street"] == "Portowa 7"
    assert (answer["net_total"], answer["vat_total"], answer["gross_total"]) == ("10.00", "2.30", "12.30")
    assert answer["total"] == "10.00"  # net, as before VAT
    assert answer["vat"] == [{"rate": 23, "net": "10.00", "vat": "2.30"}]
    assert answer["lines"][0]["vat_rate"] == 23
    assert client.get(f"/api/v1/orders/{answer['id']}", headers=headers).json["delivery_address"] == \
        answer["delivery_address"]
    replay = client.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": "a-1"})
    assert replay.status_code == 200 and replay.json["id"] == answer["id"]
    moved = client.post("/api/v1/orders", json={**body, "address_id": default.id},
                        headers={**headers, "Idempotency-Key": "a-1"})
    assert moved.status_code == 409  # the same key for another address is another request
    plain = client.post("/api/v1/orders", json={"lines": body["lines"]}, headers={**headers, "Idempotency-Key": "a-2"})
    assert plain.json["delivery_address"]["id"] == default.id and plain.json["po_reference"] is None


def test_the_api_refuses_an_address_of_another_company_like_a_missing_one_and_audits_it(app, f, db, api):
    client, headers, buyer, _product = api
    theirs = address(db, f.partner(), "Their shop", default=True)
    answers = [client.post("/api/v1/orders", json={"lines": [{"sku": "WAT-1", "quantity": 1}], "address_id": n},
                           headers={**headers, "Idempotency-Key": f"x-{n}"}) for n in (theirs.id + 1000, theirs.id)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json == answers[1].json
    assert answers[1].json["error"]["details"] == {"body": {"address_id": ["No such delivery address."]}}
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert event.actor_id == buyer.id
    assert db.scalar(select(Order)) is None


@pytest.mark.parametrize("reference", ["x" * 36, "PO\n1", "PO\x7f1"])
def test_the_api_refuses_a_bad_po_reference_with_a_422(app, db, api, reference):
    client, headers, *_rest = api
    response = client.post("/api/v1/orders", json={"lines": [{"sku": "WAT-1", "quantity": 1}],
                                                   "po_reference": reference},
                           headers={**headers, "Idempotency-Key": "po-bad"})
    assert response.status_code == 422 and "po_reference" in response.json["error"]["details"]["body"]
    assert db.scalar(select(Order)) is None


def test_an_order_that_would_cost_other_than_the_total_shown_is_refused_and_shown_again(app, db, shop):
    client, buyer, _main, _store, product = shop
    page = client.get("/checkout").text
    shown = re.search(r'name="expected_total" type="hidden" value="([0-9.]+)"', page).group(1)
    assert shown == "4.92"  # 2 × 2.00 net + 23 % VAT
    product.base_price = Decimal("2.50")  # the wholesaler changes the price meanwhile
    db.commit()
    response = client.post("/checkout", data={"idempotency_key": key_of(page), "expected_total": shown})
    assert response.status_code == 422
    assert "The total changed while you were reviewing the order" in response.text
    assert db.scalar(select(Order)) is None  # nothing placed, the cart kept
    again = re.search(r'name="expected_total" type="hidden" value="([0-9.]+)"', response.text).group(1)
    assert again == "6.15"
    placed = client.post("/checkout", data={"idempotency_key": key_of(response.text), "expected_total": again})
    assert placed.status_code == 302
    assert db.scalar(select(Order)).gross_total == Decimal("6.15")
