"""Ordering through the JSON API."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from portal.models import Order
from tests.portal.helpers import bearer, issue


def api_buyer(client, f, discount="0"):
    tier = f.tier(discount_percent=Decimal(discount))
    partner = f.partner(price_tier_id=tier.id)
    user = f.user(partner=partner)
    f.product(sku="BEV-001", name="Still water", base_price=Decimal("1.05"))
    f.product(sku="SNA-001", name="Crisps", base_price=Decimal("2.50"))
    return user, {**bearer(issue(client, user))}


def place(client, headers, key, lines, **extra):
    return client.post("/api/v1/orders", json={"lines": lines, **extra},
                       headers={**headers, "Idempotency-Key": key})


def test_products_come_with_the_callers_price(client, f):
    _user, headers = api_buyer(client, f, discount="10")
    body = client.get("/api/v1/products?q=bev", headers=headers).json
    assert body["total"] == 1
    [item] = body["items"]
    assert item["sku"] == "BEV-001" and item["base_price"] == "1.05" and item["price"] == "0.95"


def test_place_order_then_replay_with_same_key_and_body(client, f, db):
    _user, headers = api_buyer(client, f)
    lines = [{"sku": "BEV-001", "quantity": 10}, {"sku": "SNA-001", "quantity": 3}]
    first = place(client, headers, "key-1", lines, note="Gate B")
    assert first.status_code == 201, first.json
    assert first.json["total"] == "18.00" and first.json["source"] == "api"
    again = place(client, headers, "key-1", lines, note="Gate B")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert db.scalar(select(func.count(Order.id))) == 1


def test_same_key_with_a_different_body_is_a_conflict(client, f, db):
    _user, headers = api_buyer(client, f)
    place(client, headers, "key-2", [{"sku": "BEV-001", "quantity": 1}])
    response = place(client, headers, "key-2", [{"sku": "BEV-001", "quantity": 2}])
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert db.scalar(select(func.count(Order.id))) == 1


def test_missing_idempotency_key_is_rejected(client, f, db):
    _user, headers = api_buyer(client, f)
    response = client.post("/api/v1/orders", json={"lines": [{"sku": "BEV-001", "quantity": 1}]},
                           headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in str(response.json["error"]["details"])
    assert db.scalar(select(func.count(Order.id))) == 0


def test_bad_bodies_get_clear_errors_and_create_nothing(client, f, db):
    _user, headers = api_buyer(client, f)
    cases = [
        ({"lines": []}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": 0}]}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": 1.5}]}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": "7"}]}, 422),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": 1}], "partner_id": 99}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": 1}], "requested_delivery_date": "2001-01-01"}, 422),
        ({"lines": [{"sku": "BEV-001", "quantity": 1}] * 501}, 422),
    ]
    for n, (body, status) in enumerate(cases):
        response = client.post("/api/v1/orders", json=body,
                               headers={**headers, "Idempotency-Key": f"bad-{n}"})
        assert response.status_code == status, (body, response.json)
        assert response.json["error"]["message"]
    not_json = client.post("/api/v1/orders", data="lines=1",
                           headers={**headers, "Idempotency-Key": "bad-x",
                                    "Content-Type": "application/x-www-form-urlencoded"})
    assert not_json.status_code in (400, 422)
    array = client.post("/api/v1/orders", json=[1, 2], headers={**headers, "Idempotency-Key": "bad-y"})
    assert array.status_code in (400, 422)
    assert db.scalar(select(func.count(Order.id))) == 0


def test_list_get_and_cancel(client, f):
    _user, headers = api_buyer(client, f)
    order_id = place(client, headers, "k", [{"sku": "BEV-001", "quantity": 2}]).json["id"]
    listing = client.get("/api/v1/orders", headers=headers).json
    assert [item["id"] for item in listing["items"]] == [order_id]
    detail = client.get(f"/api/v1/orders/{order_id}", headers=headers).json
    assert detail["lines"][0]["sku"] == "BEV-001"
    cancelled = client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
    assert again.status_code == 409


def test_reorder_places_a_new_order_and_lists_unavailable_lines(client, f, db):
    _user, headers = api_buyer(client, f)
    first = place(client, headers, "k1", [{"sku": "BEV-001", "quantity": 2}, {"sku": "SNA-001", "quantity": 5}]).json
    from portal.models import Product

    crisps = db.scalar(select(Product).where(Product.sku == "SNA-001"))
    crisps.active = False
    db.commit()
    response = client.post(f"/api/v1/orders/{first['id']}/reorder",
                           headers={**headers, "Idempotency-Key": "r1"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["order"]["source"] == "reorder" and body["order"]["id"] != first["id"]
    assert body["reordered"] == [{"sku": "BEV-001", "quantity": 2}]
    assert body["unavailable"] == [{"sku": "SNA-001", "name": "Crisps", "quantity": 5}]
    replay = client.post(f"/api/v1/orders/{first['id']}/reorder",
                         headers={**headers, "Idempotency-Key": "r1"})
    assert replay.status_code == 200 and replay.json["order"]["id"] == body["order"]["id"]


def test_staff_token_cannot_place_orders(client, f):
    manager = f.user(role="account_manager")
    headers = bearer(issue(client, manager))
    response = place(client, headers, "k", [{"sku": "X", "quantity": 1}])
    assert response.status_code == 403


def test_cookie_authenticated_api_write_needs_csrf(make_app, f):
    app = make_app(WTF_CSRF_ENABLED=True)
    user = f.user()
    f.product(sku="BEV-001")
    client = app.test_client()
    page = client.get("/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": "correct horse battery", "csrf_token": token})
    body = {"lines": [{"sku": "BEV-001", "quantity": 1}]}
    refused = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "c1"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    fresh = client.get("/dashboard").text
    token = fresh.split('name="csrf_token" value="')[1].split('"')[0]
    accepted = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "c1", "X-CSRFToken": token})
    assert accepted.status_code == 201


def test_openapi_document_has_request_and_response_schemas(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/orders"]["post"]
    assert "requestBody" in post and {"201", "200", "409", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    for path in ("/api/v1/products", "/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/cancel",
                 "/api/v1/orders/{order_id}/reorder"):
        assert path in spec["paths"]


def test_the_key_that_placed_an_order_cannot_reorder_it(client, f, db):
    _user, headers = api_buyer(client, f)
    first = place(client, headers, "key-placed", [{"sku": "BEV-001", "quantity": 2}]).json
    response = client.post(f"/api/v1/orders/{first['id']}/reorder",
                           headers={**headers, "Idempotency-Key": "key-placed"})
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert "another operation" in response.json["error"]["message"]
    assert db.scalar(select(func.count(Order.id))) == 1


def test_a_reorder_key_cannot_reorder_another_order_or_place_one(client, f, db):
    _user, headers = api_buyer(client, f)
    one = place(client, headers, "key-a", [{"sku": "BEV-001", "quantity": 2}]).json
    two = place(client, headers, "key-b", [{"sku": "BEV-001", "quantity": 2}]).json
    reorder = client.post(f"/api/v1/orders/{one['id']}/reorder",
                          headers={**headers, "Idempotency-Key": "key-r"})
    assert reorder.status_code == 201
    other = client.post(f"/api/v1/orders/{two['id']}/reorder",
                        headers={**headers, "Idempotency-Key": "key-r"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"
    placed = place(client, headers, "key-r", [{"sku": "BEV-001", "quantity": 2}])
    assert placed.status_code == 409 and placed.json["error"]["code"] == "idempotency_key_reused"
    again = client.post(f"/api/v1/orders/{one['id']}/reorder",
                        headers={**headers, "Idempotency-Key": "key-r"})
    assert again.status_code == 200 and again.json["order"]["id"] == reorder.json["order"]["id"]
    assert db.scalar(select(func.count(Order.id))) == 3
