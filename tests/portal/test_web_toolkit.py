"""Rules every page follows: an invalid form answers 422, a successful POST redirects."""
from __future__ import annotations

import re

import pytest

from portal.models import DeliveryAddress
from tests.portal.helpers import sign_in

# Which role may post to each form route; ids and tokens are filled from the fixture's rows.
ROLE_FOR = {"/admin/": "admin", "/manage/": "admin", "/company/": "partner_admin"}
SKIP = {"/logout"}  # no fields to get wrong
WRONG = {"email": "\u00a0", "password": "x", "name": "y" * 500, "code": "!", "quantity": "-3",
         "lines": "", "idempotency_key": "", "status": "nonsense", "discount_percent": "abc",
         "base_price": "abc", "price": "abc", "pack_size": "-1", "sku": "", "tier": "nope",
         "current_password": "", "confirm": "different", "role": "emperor", "product_id": "0",
         "promised_date": "not a date", "requested_delivery_date": "not a date",
         "postal_code": "x" * 30, "po_reference": "x" * 40, "vat_rate": "7", "address_id": "x"}


@pytest.fixture
def rows(app, f, db):
    admin = f.user(role="admin")
    partner = f.partner()
    owner = f.user(role="partner_admin", partner=partner)
    buyer = f.user(partner=partner)
    product = f.product()
    tier = f.tier()
    order = f.order(partner, lines=[(product, 2)])
    address = DeliveryAddress(partner_id=partner.id, label="Shop", recipient="Shop", street="Rynek 1",
                              postal_code="00-950", city="Warszawa", is_default=True)
    db.add(address)
    db.commit()
    return {"admin": admin, "partner_admin": owner, "buyer": buyer,
            "ids": {"order_id": order.id, "product_id": product.id, "tier_id": tier.id,
                    "partner_id": partner.id, "user_id": buyer.id, "address_id": address.id}}


def form_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/") and rule.rule not in SKIP \
                and "<token>" not in rule.rule and "<path:" not in rule.rule:
            yield rule


def test_an_invalid_form_answers_422_and_never_200(app, rows):
    """Every page form, posted with wrong values, shows the errors with 422 (or refuses/redirects)."""
    wrong_pages = []
    for rule in form_routes(app):
        role = next((r for prefix, r in ROLE_FOR.items() if rule.rule.startswith(prefix)), "buyer")
        client = app.test_client()
        sign_in(client, rows[role])
        url = rule.rule
        for name, value in {**rows["ids"], "action": "confirm"}.items():
            url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        response = client.post(url, data=WRONG)
        if response.status_code == 200:
            wrong_pages.append(url)
    assert wrong_pages == [], ", ".join(wrong_pages)


@pytest.mark.parametrize("path", ["/catalog", "/orders", "/admin/catalog/products", "/manage/orders",
                                  "/manage/partners", "/manage/tasks", "/manage/portfolio"])
def test_list_pages_take_only_typed_query_arguments(app, rows, path):
    """Odd page numbers and over-long filters are ignored, never a 500 (and never passed on raw)."""
    role = next((r for prefix, r in ROLE_FOR.items() if path.startswith(prefix)), "buyer")
    client = app.test_client()
    sign_in(client, rows[role])
    for query in ("page=-4", "page=99999999999999999999", "page=²", f"q={'x' * 5000}",
                  "category=%00", "status=" + "s" * 300, "endpoint=x&_method=POST"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 400), (query, response.status_code)


def test_the_pager_shows_first_previous_numbers_next_and_last(app, f, db):
    buyer = f.user()
    product = f.product()
    for _n in range(26 * 6):  # 25 per page: seven pages
        f.order(buyer.partner, lines=[(product, 1)])
    client = app.test_client()
    sign_in(client, buyer)
    page = client.get("/orders?page=4").text
    nav = page.split('class="pager"', 1)[1].split("</nav>", 1)[0]
    for label in ("First", "Previous", "Next", "Last"):
        assert f">{label}</a>" in nav
    assert '<span aria-current="page"><strong>4</strong></span>' in nav
    numbers = re.findall(r"page=(\d+)[^>]*>(\d+)</a>", nav)
    assert [int(shown) for _link, shown in numbers] == [1, 2, 3, 5, 6, 7]
    assert "…" not in nav  # every page is near enough to show
    far = client.get("/orders?page=1").text.split('class="pager"', 1)[1].split("</nav>", 1)[0]
    assert "…" in far and ">First</a>" not in far
