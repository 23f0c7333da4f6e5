"""Requests that used to end in a 500: NUL characters, a database failing mid-request."""
from __future__ import annotations

import base64
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.models import Invitation, Partner, PriceTier, Product, User
from tests.portal.helpers import sign_in
from tests.portal.test_people import invite

NUL_MESSAGE = "The request contains a character that is not allowed (NUL)."


def assert_secure_page(response, status):
    assert response.status_code == status, response.text[:300]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# 1. One rule refuses NUL in every form, query string, upload name and basic-auth credential

STAFF_FORMS = [
    ("/admin/users", {"email": "x\x00@example.test", "name": "X", "role": "admin", "partner": "",
                      "password": "long enough pass"}, User),
    ("/admin/partners/new", {"name": "Shop\x00", "code": "SH01"}, Partner),
    ("/admin/catalog/products/new", {"sku": "NEW\x00", "name": "New", "unit": "pcs", "pack_size": "1",
                                     "base_price": "1.00"}, Product),
    ("/admin/catalog/tiers", {"name": "Gold\x00", "discount_percent": "5"}, PriceTier),
]


@pytest.mark.parametrize(("url", "data", "model"), STAFF_FORMS, ids=[u for u, _d, _m in STAFF_FORMS])
def test_a_nul_character_in_an_admin_form_is_a_readable_400_and_saves_nothing(client, f, db, url, data,
                                                                              model):
    sign_in(client, f.user(role="admin"))
    before = db.scalar(select(func.count()).select_from(model))
    response = client.post(url, data=data)
    assert_secure_page(response, 400)
    assert NUL_MESSAGE in response.text
    assert db.scalar(select(func.count()).select_from(model)) == before


def test_a_nul_character_in_a_tier_price_or_an_import_file_name_is_a_400(client, f):
    sign_in(client, f.user(role="admin"))
    tier = f.tier()
    f.product(sku="OAT-001")
    response = client.post(f"/admin/catalog/tiers/{tier.id}/prices", data={"sku": "OAT\x00", "price": "1"})
    assert_secure_page(response, 400)
    upload = {"file": (io.BytesIO(b"sku,name\n"), "catalog\x00.csv")}
    response = client.post("/admin/catalog/products/import", data=upload,
                           content_type="multipart/form-data")
    assert_secure_page(response, 400)


def test_a_nul_character_in_sign_in_quick_order_checkout_and_invitations_is_a_400(client, f, db):
    owner = f.user(role="partner_admin")
    response = client.post("/login", data={"email": "a\x00@example.test", "password": "whatever pass"})
    assert_secure_page(response, 400)
    assert NUL_MESSAGE in response.text
    sign_in(client, owner)
    for url, data in [
        ("/cart/quick", {"lines": "OAT\x00 1"}),
        ("/checkout", {"idempotency_key": "key\x00", "note": ""}),
        ("/company/users", {"email": "new\x00@example.test", "name": "New", "role": "buyer"}),
        ("/company/users", {"email": "new@example.test", "name": "New\x00", "role": "buyer"}),
    ]:
        response = client.post(url, data=data)
        assert_secure_page(response, 400)
    assert db.scalar(select(func.count(Invitation.id))) == 0
    link = invite(client)
    client.post("/logout")
    response = client.post(link, data={"name": "Ann\x00", "password": "long enough pass",
                                       "confirm": "long enough pass"})
    assert_secure_page(response, 400)


def test_a_nul_character_in_the_basic_auth_user_name_is_a_json_400(client, f):
    credentials = base64.b64encode(b"a\x00@example.test:whatever pass").decode()
    response = client.post("/api/v1/tokens", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_character"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# 1b. The error pages themselves cannot fail

@pytest.mark.parametrize("failure", [OperationalError("INSERT", {}, Exception("server closed")),
                                     RuntimeError("driver bug")], ids=["operational", "generic"])
def test_a_database_failing_while_saving_still_answers_a_page_with_security_headers(
        client, f, monkeypatch, failure):
    user = f.user(role="admin")
    sign_in(client, user)

    def broken(self, *args, **kwargs):
        raise failure

    def broken_commit(self):
        self.expire_all()  # as a failed flush does: the signed-in user must be loaded again
        raise failure

    monkeypatch.setattr(Session, "commit", broken_commit)
    monkeypatch.setattr(Session, "execute", broken)  # the handler must not ask the database
    monkeypatch.setattr(Session, "get", broken)      # nor load the signed-in user again
    response = client.post("/admin/catalog/tiers", data={"name": "Gold", "discount_percent": "5"})
    assert_secure_page(response, 503 if isinstance(failure, OperationalError) else 500)
    assert "<h1>" in response.text


def test_a_failing_user_loader_still_answers_a_page_with_security_headers(app, client, f, monkeypatch):
    sign_in(client, f.user())
    from portal.extensions import login_manager

    def broken(_token):
        raise RuntimeError("user loader broke")

    monkeypatch.setattr(login_manager, "_user_callback", broken)
    assert_secure_page(client.get("/catalog"), 500)


def test_an_error_page_that_cannot_be_rendered_falls_back_to_a_plain_one(app, client, monkeypatch):
    import portal.web.errors as errors

    def broken(*args, **kwargs):
        raise RuntimeError("template broke")

    monkeypatch.setattr(errors, "render_template", broken)
    response = client.get("/no-such-page")
    assert_secure_page(response, 404)
    assert "This page does not exist." in response.text


# 2. Errors never write the statement's bound values (password hashes included) to the log

def test_a_failing_insert_logs_no_password_hash_and_no_bound_values(client, f, db, caplog):
    from sqlalchemy.exc import IntegrityError

    from portal.accounts import passwords

    taken = f.user(email="taken@example.test")
    secret_hash = passwords.hash_password("a secret passphrase")
    db.add(User(email=taken.email, name="Second Ann", role="admin", password_hash=secret_hash))
    with pytest.raises(IntegrityError) as caught:
        db.flush()
    db.rollback()
    import logging

    logging.getLogger("portal").error("insert failed", exc_info=caught.value)
    logged = caplog.text + str(caught.value)
    assert "insert failed" in caplog.text
    assert "$argon2" not in logged and secret_hash not in logged
    assert "parameters hidden" in logged
    assert "Second Ann" not in logged  # (PostgreSQL's own DETAIL still names the duplicate key)


# 3. Address-bar arguments that reached url_for or the database

@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "status=submitted&endpoint=x"])
def test_odd_query_arguments_on_order_lists_answer_normally(app, client, f, query):
    buyer = f.user()
    f.order(buyer.partner)
    sign_in(client, buyer)
    response = client.get(f"/orders?{query}")
    assert response.status_code == 200, query
    staff_client = app.test_client()
    sign_in(staff_client, f.user(role="admin"))
    response = staff_client.get(f"/manage/orders?{query}")
    assert response.status_code == 200, query


def test_page_links_keep_only_the_validated_filters(client, f):
    buyer = f.user()
    f.order(buyer.partner)
    sign_in(client, buyer)
    page = client.get("/orders?status=submitted&endpoint=x&date_from=2026-01-02").text
    assert "export.csv?" in page
    link = page[page.index("export.csv?"):].split('"')[0]
    assert "status=submitted" in link and "date_from=2026-01-02" in link and "endpoint" not in link


def test_a_partner_filter_beyond_the_integer_range_is_ignored_not_a_500(client, f):
    partner = f.partner(name="Corner Shop")
    f.order(partner)
    sign_in(client, f.user(role="admin"))
    for url in ("/manage/orders?partner=2147483648", "/manage/orders/export.csv?partner=2147483648",
                "/manage/orders?partner=-1"):
        assert client.get(url).status_code == 200, url


# 4. Smaller

def test_the_csv_export_names_its_charset_once(client, f):
    buyer = f.user()
    sign_in(client, buyer)
    assert client.get("/orders/export.csv").headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("amount", ["sNaN", "NaN", "Infinity", "-Infinity", "snan"])
def test_not_a_number_as_an_amount_is_a_form_error_not_a_500(client, f, db, amount):
    sign_in(client, f.user(role="admin"))
    tier = f.tier()
    product = f.product(sku="OAT-001")
    product_data = {"sku": "NEW-1", "name": "New", "unit": "pcs", "pack_size": "1", "base_price": amount}
    for url, data in [
        ("/admin/catalog/products/new", product_data),
        (f"/admin/catalog/products/{product.id}", {**product_data, "sku": "OAT-001"}),
        ("/admin/catalog/tiers", {"name": "Gold", "discount_percent": amount}),
        (f"/admin/catalog/tiers/{tier.id}", {"name": tier.name, "discount_percent": amount}),
        (f"/admin/catalog/tiers/{tier.id}/prices", {"sku": "OAT-001", "price": amount}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 422, (url, response.status_code)
    upload = {"file": (io.BytesIO(f"sku,name,unit,pack_size,base_price\nNEW-2,New,pcs,1,{amount}\n".encode()),
                       "catalog.csv")}
    response = client.post("/admin/catalog/products/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 422, response.status_code
    assert db.scalar(select(func.count(Product.id))) == 1


# Redis (the rate limiter's storage) unreachable: sign-in is refused, never unlimited

def test_sign_in_and_token_issue_answer_503_when_the_limiter_storage_is_unreachable(make_app, db, f):
    user = f.user()
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    client = app.test_client()
    page = client.post("/login", data={"email": user.email, "password": "whatever pass"})
    assert_secure_page(page, 503)
    assert "temporarily unavailable" in page.text
    credentials = base64.b64encode(f"{user.email}:whatever pass".encode()).decode()
    api = client.post("/api/v1/tokens", headers={"Authorization": f"Basic {credentials}"})
    assert api.status_code == 503 and api.json["error"]["code"] == "unavailable"
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["rate_limit_storage"] == "unreachable" and health.json["database"] == "ok"


@pytest.mark.parametrize(("role", "path", "field", "content"), [
    ("buyer", "/cart/quick", "file", b"sku,quantity\nBEV-001\x00,2\n"),
    ("admin", "/admin/catalog/products/import", "file",
     b"sku,name,category,unit,pack_size,base_price\nNEW-1,Jam\x00,Food,jar,1,2.50\n"),
])
def test_a_nul_inside_an_uploaded_csv_is_a_form_error_and_saves_nothing(app, f, db, role, path, field, content):
    from portal.models import CartLine, Product

    user = f.user(role=role) if role == "admin" else f.user()
    f.product(sku="BEV-001")
    client = app.test_client()
    sign_in(client, user)
    response = client.post(path, data={field: (io.BytesIO(content), "lines.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "not allowed (NUL)" in response.text
    assert db.scalar(select(func.count(CartLine.id))) == 0
    assert db.scalar(select(func.count(Product.id))) == 1
