"""Hostile or broken input: malformed JSON, repeated form fields, oversized bodies, odd quantities,
and GET requests that must never change anything."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.db import Base
from portal.models import ApiToken, CartLine, Invitation, Notification, Order, OrderLine, Task, TierPrice
from tests.portal.factories import PASSWORD
from tests.portal.helpers import basic, bearer, issue, sign_in

NOT_JSON = "The request body is not valid JSON."
INVALID = "Some of the data sent is missing or not valid; see the details."
QUANTITY_RULE = "Quantity must be a whole number from 1 to 100000."
FORM = "application/x-www-form-urlencoded"


def api_buyer(client, f):
    user = f.user()
    f.product(sku="BEV-001", name="Still water", base_price=Decimal("1.05"))
    return user, bearer(issue(client, user))


def post_raw(client, headers, key, raw: bytes | str, **kw):
    return client.post("/api/v1/orders", data=raw,
                       headers={**headers, "Idempotency-Key": key, "Content-Type": "application/json"}, **kw)


def order_count(db) -> int:
    return db.scalar(select(func.count(Order.id)))


def cart_of(db, user) -> list[tuple[int, int]]:
    db.expire_all()
    return db.execute(select(CartLine.product_id, CartLine.quantity)
                      .where(CartLine.user_id == user.id).order_by(CartLine.id)).all()


# 1. Malformed JSON and repeated form fields

def test_malformed_json_gets_a_json_400_and_places_no_order(client, f, db):
    _user, headers = api_buyer(client, f)
    bodies = [
        b"{",
        b'{"lines": [',
        b"\xff\xfe not utf-8",
        b"[" * 100_000,  # deeper than Python's json module can recurse
        b'{"lines": [{"sku": "BEV-001", "quantity": ' + b"9" * 5000 + b"}]}",  # int over 4300 digits
    ]
    for n, raw in enumerate(bodies):
        response = post_raw(client, headers, f"bad-{n}", raw)
        assert response.status_code == 400, (raw[:30], response.status_code)
        assert response.is_json, raw[:30]
        assert response.json["error"]["code"] == "bad_request"
        assert response.json["error"]["message"] == NOT_JSON
    assert order_count(db) == 0


def test_text_the_database_cannot_store_is_refused_with_a_422_not_a_500(client, f, db):
    _user, headers = api_buyer(client, f)
    bodies = [  # raw JSON escapes: a NUL character and a lone UTF-16 surrogate
        r'{"lines": [{"sku": "BEV-001\u0000", "quantity": 1}]}',
        r'{"lines": [{"sku": "\ud800", "quantity": 1}]}',
        r'{"lines": [{"sku": "BEV-001", "quantity": 1}], "note": "Gate \ud800"}',
    ]
    for n, raw in enumerate(bodies):
        response = post_raw(client, headers, f"text-{n}", raw)
        assert response.status_code == 422, (raw, response.json)
        assert response.json["error"]["message"] == INVALID
    nul_key = client.post("/api/v1/orders", json={"lines": [{"sku": "BEV-001", "quantity": 1}]},
                          headers={**headers, "Idempotency-Key": "key\x00"})
    assert nul_key.status_code == 422
    for query in ("q=%00", "category=%00"):
        response = client.get(f"/api/v1/products?{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.json["error"]["code"] == "invalid_character"
    assert order_count(db) == 0


def test_a_repeated_quantity_field_uses_the_first_value_and_never_stores_a_bad_one(client, f, db):
    buyer = f.user()
    product = f.product(name="Oat milk")
    sign_in(client, buyer)
    first_valid = client.post("/cart/add", data=f"product_id={product.id}&quantity=1&quantity=-5",
                              content_type=FORM, follow_redirects=True)
    assert first_valid.status_code == 200
    assert "Added 1 × Oat milk to your cart." in first_valid.text
    assert cart_of(db, buyer) == [(product.id, 1)]
    first_invalid = client.post("/cart/add", data=f"product_id={product.id}&quantity=-5&quantity=1",
                                content_type=FORM, follow_redirects=True)
    assert first_invalid.status_code == 200
    assert QUANTITY_RULE in first_invalid.text
    assert cart_of(db, buyer) == [(product.id, 1)]


def test_adding_a_missing_or_withdrawn_product_says_it_cannot_be_ordered(client, f, db):
    buyer = f.user()
    withdrawn = f.product(active=False)
    sign_in(client, buyer)
    for product_id in (withdrawn.id, withdrawn.id + 1000):
        response = client.post("/cart/add", data={"product_id": product_id, "quantity": 1},
                               follow_redirects=True)
        assert response.status_code == 200
        assert "This product cannot be ordered." in response.text
    for product_id in ("abc", "", "-3"):
        response = client.post("/cart/add", data={"product_id": product_id, "quantity": 1},
                               follow_redirects=True)
        assert response.status_code == 200, product_id
    assert cart_of(db, buyer) == []


def test_a_product_id_that_is_not_a_database_integer_gets_a_message_not_a_500(client, f, db):
    buyer = f.user()
    sign_in(client, buyer)
    for product_id in ("²", "9" * 23, str(2**31), "abc", "-3"):
        response = client.post("/cart/add", data={"product_id": product_id, "quantity": 1},
                               follow_redirects=True)
        assert response.status_code == 200, product_id
        assert "This product cannot be ordered." in response.text, product_id
    assert cart_of(db, buyer) == []


# 2. Body size

def multipart_csv(text: str, boundary: str = "trellis-boundary") -> tuple[bytes, str]:
    """A multipart body built by hand, so the test client keeps it in memory."""
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_page_body_over_the_limit_gets_413_and_changes_no_cart(app, client, f, db):
    limit = app.config["MAX_CONTENT_LENGTH"]
    buyer = f.user()
    product = f.product(sku="BIG-001")
    sign_in(client, buyer)
    padded = client.post("/cart/add", data=f"product_id={product.id}&quantity=1&pad={'x' * limit}",
                         content_type=FORM)
    assert padded.status_code == 413
    assert padded.mimetype == "text/html" and "The upload is too large." in padded.text
    lines = "BIG-001,1\n" * (limit // 10 + 1)
    body, content_type = multipart_csv("sku,quantity\n" + lines)
    upload = client.post("/cart/quick", data=body, content_type=content_type)
    assert upload.status_code == 413
    assert cart_of(db, buyer) == []


def test_an_api_body_over_the_limit_gets_a_json_413_and_places_no_order(app, client, f, db):
    limit = app.config["MAX_CONTENT_LENGTH"]
    _user, headers = api_buyer(client, f)
    # A valid order padded with whitespace: only the size is wrong with it.
    raw = b'{"lines": [{"sku": "BEV-001", "quantity": 1}]}' + b" " * limit
    declared = post_raw(client, headers, "big-1", raw)
    # Chunked, without Content-Length: the server reads up to the limit and stops there.
    chunked = post_raw(client, headers, "big-2", None, input_stream=io.BytesIO(raw),
                       environ_overrides={"wsgi.input_terminated": True})
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.is_json and response.json["error"]["code"] == "too_large"
    assert order_count(db) == 0


# 3. Quantities through the API, and the database's own check

def test_quantities_that_are_not_whole_numbers_in_range_are_refused_with_a_clear_error(client, f, db):
    _user, headers = api_buyer(client, f)
    refused = {
        "-1": 422, "0": 422, "1e9": 422, "1000000000": 422, "1.5": 422, '"7"': 422,
        "true": 422, "null": 422,
        "NaN": 400, "Infinity": 400, "-Infinity": 400,  # not JSON at all (RFC 8259)
    }
    for n, (literal, status) in enumerate(refused.items()):
        raw = '{"lines": [{"sku": "BEV-001", "quantity": ' + literal + "}]}"
        response = post_raw(client, headers, f"q-{n}", raw)
        assert response.status_code == status, (literal, response.json)
        error = response.json["error"]
        if status == 422:
            assert error["message"] == INVALID, literal
            assert error["details"]["body"]["lines.0.quantity"], literal
        else:
            assert error["message"] == NOT_JSON, literal
    assert order_count(db) == 0
    accepted = post_raw(client, headers, "q-ok", '{"lines": [{"sku": "BEV-001", "quantity": 7}]}')
    assert accepted.status_code == 201 and accepted.json["lines"][0]["quantity"] == 7


@pytest.mark.parametrize("quantity", [0, -1])
def test_the_database_refuses_an_order_line_without_a_positive_quantity(f, db, quantity):
    partner = f.partner()
    order = f.order(partner)
    product = order.lines[0]
    db.add(OrderLine(order_id=order.id, product_id=product.product_id, sku=product.sku,
                     name=product.name, quantity=quantity, unit_price=Decimal("1.00"),
                     line_total=Decimal("0.00")))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


@pytest.mark.parametrize("quantity", [0, -1, 100_001])
def test_the_database_refuses_a_cart_line_outside_1_to_100000(f, db, quantity):
    buyer = f.user()
    product = f.product()
    db.add(CartLine(user_id=buyer.id, partner_id=buyer.partner_id, product_id=product.id,
                    quantity=quantity))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


# 4. No GET changes state

# Signing in and viewing pages may legitimately touch these.
UNWATCHED_TABLES = {"audit_events", "user_sessions"}


def parameterless_get_routes(app) -> list[str]:
    return sorted({
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
        and rule.rule != "/logout"
    })


def snapshot(db) -> dict[str, list]:
    """Every row of every watched table, so updates show as well as inserts and deletes."""
    db.expire_all()
    return {
        table.name: [tuple(row) for row in db.execute(
            select(table).order_by(*table.primary_key.columns)).all()]
        for table in Base.metadata.sorted_tables if table.name not in UNWATCHED_TABLES
    }


def world(f, db) -> dict[str, object]:
    """One partner with something in every table: orders, carts, invitations, tasks, tokens."""
    now = datetime.now(UTC)
    tier = f.tier(discount_percent=Decimal("5"))
    manager = f.user(role="account_manager")
    admin = f.user(role="admin")
    partner = f.partner(price_tier_id=tier.id, account_manager_id=manager.id)
    buyer = f.user(partner=partner)
    owner = f.user(role="partner_admin", partner=partner)
    product = f.product()
    f.product(active=False)
    f.order(partner, lines=((product, 3),), placed_by_id=buyer.id)
    notification = Notification(partner_id=partner.id, user_id=buyer.id, kind="reminder",
                                subject_key=f"reminder-{partner.id}", channel="phone")
    db.add_all([
        TierPrice(tier_id=tier.id, product_id=product.id, price=Decimal("8.00")),
        CartLine(user_id=buyer.id, partner_id=partner.id, product_id=product.id, quantity=2),
        CartLine(user_id=owner.id, partner_id=partner.id, product_id=product.id, quantity=1),
        Invitation(partner_id=partner.id, email="new@example.test", token_hash="a" * 64,
                   invited_by_id=owner.id, expires_at=now + timedelta(days=7)),
        ApiToken(user_id=buyer.id, token_hash="b" * 64, expires_at=now + timedelta(hours=1)),
        notification,
    ])
    db.flush()
    db.add(Task(partner_id=partner.id, assignee_id=manager.id, notification_id=notification.id,
                kind="phone", title="Call about the reorder"))
    db.commit()
    return {"buyer": buyer, "partner_admin": owner, "account_manager": manager, "admin": admin}


@pytest.mark.parametrize("role", ["buyer", "partner_admin", "account_manager", "admin"])
def test_visiting_every_page_by_get_changes_nothing_stored(app, f, db, role):
    user = world(f, db)[role]
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    routes = parameterless_get_routes(app)
    assert {"/dashboard", "/catalog", "/cart", "/checkout", "/manage/partners", "/admin/users",
            "/api/v1/orders"} <= set(routes)
    before = snapshot(db)
    statuses = {url: client.get(url).status_code for url in routes}
    assert snapshot(db) == before
    assert {url: code for url, code in statuses.items() if code >= 500} == {}
    assert statuses["/account"] == 200  # still signed in, so the pages were really rendered


# Search boxes and filters in the address bar

def test_searches_with_a_nul_character_are_refused_with_a_readable_400(client, f):
    f.product(name="Oat milk", sku="OAT-001", category="Dairy")
    sign_in(client, f.user())
    for query in ("q=%00", "q=oat%00", "category=%00", "category=Dairy%00", "q%00=oat"):
        response = client.get(f"/catalog?{query}")
        assert response.status_code == 400, query
        assert "not allowed (NUL)" in response.text
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_staff_searches_with_a_nul_character_are_refused_and_a_huge_page_answers_normally(client, f):
    f.partner(name="Corner Shop", code="CS01")
    f.product(name="Oat milk", sku="OAT-001")
    sign_in(client, f.user(role="admin"))
    for url in ("/manage/partners?q=%00", "/manage/partners?q=corner%00",
                "/admin/catalog/products?q=%00", "/admin/catalog/products?category=%00"):
        assert client.get(url).status_code == 400, url
    assert "Corner Shop" in client.get("/manage/partners?page=99999999999999999999").text  # the last page


def test_percent_and_underscore_in_a_search_match_only_themselves(client, f):
    f.product(name="Juice 100% orange", sku="JUI-100")
    f.product(name="Juice 1000 ml", sku="JUI-1000")
    f.product(name="Tea bags", sku="TEA_BAG")
    f.product(name="Tea bag box", sku="TEABOX")
    sign_in(client, f.user())
    page = client.get("/catalog?q=100%25").text
    assert "Juice 100% orange" in page and "Juice 1000 ml" not in page
    page = client.get("/catalog?q=tea_").text
    assert "Tea bags" in page and "Tea bag box" not in page


def test_page_urls_with_ids_beyond_the_database_integer_are_404s(client, f):
    sign_in(client, f.user())
    for url in ("/orders/2147483648", "/orders/99999999999999999999", "/orders/2147483648/thank-you"):
        assert client.get(url).status_code == 404, url
    assert client.post("/orders/99999999999999999999/reorder").status_code == 404


def test_the_last_date_there_is_as_the_end_of_the_order_filter_bounds_nothing(client, f):
    user = f.user()
    f.order(user.partner)
    sign_in(client, user)
    page = client.get("/orders?date_to=9999-12-31")
    assert page.status_code == 200 and "1 order" in page.text


def test_a_streamed_api_body_over_the_limit_is_refused_not_cut_short(live):
    """Chunked, as a real server receives it: werkzeug stopped reading at the limit and the padded
    order was placed; now the whole body counts, and it is a 413 with no order."""
    import http.client
    from urllib.parse import urlsplit

    base_url, f = live
    user = f.user()
    f.product(sku="BEV-001")
    port = urlsplit(base_url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/v1/tokens", headers=basic(user.email, PASSWORD))
    token = json.loads(conn.getresponse().read())["token"]

    def streamed(body: bytes, key: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.putrequest("POST", "/api/v1/orders")
        for name, value in {**bearer(token), "Idempotency-Key": key, "Content-Type": "application/json",
                            "Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        for start in range(0, len(body), 65536):
            chunk = body[start:start + 65536]
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    order = b'{"lines": [{"sku": "BEV-001", "quantity": 1}]}'
    status, answer = streamed(order + b" " * (6 * 1024 * 1024), "streamed-big")
    assert status == 413 and answer["error"]["code"] == "too_large"
    status, answer = streamed(order, "streamed-small")  # a small streamed body still works
    assert status == 201 and answer["total"]
