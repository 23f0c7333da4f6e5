"""Admin: products, the CSV catalog import, price tiers and tier assignment."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.catalog.admin import check_amount
from portal.core.errors import ServiceError
from portal.models import AuditEvent, Partner, PriceTier, Product, TierPrice
from tests.portal.helpers import sign_in

PAGES = ["/admin/catalog/products", "/admin/catalog/products/new", "/admin/catalog/products/import",
         "/admin/catalog/tiers"]
PRODUCT = {"sku": "bev-100", "name": "Sparkling Water 0.5 l", "category": "Beverages",
           "unit": "bottle", "pack_size": "12", "base_price": "1.25", "active": "y"}
CHANGES = ["product_created", "product_updated", "product_deactivated", "product_reactivated",
           "catalog_imported", "tier_created", "tier_updated", "tier_price_set",
           "tier_price_removed", "partner_tier_assigned"]
HEADER = "sku,name,category,unit,pack_size,base_price,active\n"


@pytest.fixture
def admin(app, f):
    client = app.test_client()
    user = f.user(role="admin")
    assert sign_in(client, user).status_code == 302
    client.user = user
    return client


def events(db, action):
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return db.scalars(stmt).all()


def upload(client, text, name="catalog.csv"):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name)}
    return client.post("/admin/catalog/products/import", data=data,
                       content_type="multipart/form-data")


# --- access --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["buyer", "partner_admin", "account_manager"])
def test_catalog_admin_pages_are_for_admins_only(app, f, db, role):
    product, tier = f.product(), f.tier()
    client = app.test_client()
    sign_in(client, f.user(role=role))
    for path in PAGES + [f"/admin/catalog/products/{product.id}",
                         f"/admin/catalog/tiers/{tier.id}"]:
        assert client.get(path).status_code == 403, path
    db.add(TierPrice(tier_id=tier.id, product_id=product.id, price=Decimal("1.00")))
    db.commit()
    posts = [("/admin/catalog/products/new", PRODUCT),
             (f"/admin/catalog/products/{product.id}", {**PRODUCT, "name": "Hacked"}),
             (f"/admin/catalog/products/{product.id}/deactivate", {}),
             (f"/admin/catalog/products/{product.id}/reactivate", {}),
             ("/admin/catalog/products/import", {}),
             ("/admin/catalog/tiers", {"name": "Sneaky", "discount_percent": "90"}),
             (f"/admin/catalog/tiers/{tier.id}", {"name": "Sneaky", "discount_percent": "90"}),
             (f"/admin/catalog/tiers/{tier.id}/prices", {"sku": product.sku, "price": "0"}),
             (f"/admin/catalog/tiers/{tier.id}/prices/{product.id}/remove", {}),
             ("/admin/catalog/tiers/assign", {"partner": "1", "tier": str(tier.id)})]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
    db.expire_all()
    assert (db.get(Product, product.id).active, db.get(Product, product.id).name) == (
        True, product.name)
    assert db.scalar(select(func.count(PriceTier.id))) == 1
    assert db.get(PriceTier, tier.id).discount_percent == Decimal("0")
    assert db.get(TierPrice, (tier.id, product.id)).price == Decimal("1.00")
    assert db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.in_(CHANGES))) == 0


def test_admin_opens_every_catalog_page(admin, f):
    product, tier = f.product(), f.tier()
    for path in PAGES + [f"/admin/catalog/products/{product.id}",
                         f"/admin/catalog/tiers/{tier.id}"]:
        assert admin.get(path).status_code == 200, path
    assert admin.get("/admin/catalog/products/999999").status_code == 404
    assert admin.get("/admin/catalog/tiers/999999").status_code == 404


# --- products ------------------------------------------------------------------------------------

def test_product_list_searches_filters_and_paginates(admin, f):
    f.product(sku="TEA-001", name="Green Tea", category="Tea")
    f.product(sku="TEA-002", name="Black Tea", category="Tea", active=False)
    f.product(sku="COF-001", name="Espresso Beans", category="Coffee")
    for n in range(55):
        f.product(sku=f"BULK-{n:03d}", name=f"Bulk item {n:03d}", category="Bulk")
    page = admin.get("/admin/catalog/products?q=tea").text
    assert "Green Tea" in page and "Black Tea" in page and "Espresso" not in page
    assert "Stop selling" in page and "Sell again" in page  # inactive products are listed too
    page = admin.get("/admin/catalog/products?q=cof-0").text
    assert "Espresso Beans" in page and "Green Tea" not in page
    page = admin.get("/admin/catalog/products?category=Tea&status=inactive").text
    assert "Black Tea" in page and "Green Tea" not in page
    first = admin.get("/admin/catalog/products?category=Bulk").text
    assert "55 products" in first and "Page 1 of 2" in first and "Bulk item 000" in first
    second = admin.get("/admin/catalog/products?category=Bulk&page=2").text
    assert "Bulk item 054" in second and "Bulk item 000" not in second


def test_admin_creates_a_product_and_the_change_is_audited(admin, db):
    response = admin.post("/admin/catalog/products/new", data=PRODUCT)
    assert response.status_code == 302
    product = db.scalar(select(Product).where(Product.sku == "BEV-100"))
    assert (product.name, product.category, product.unit, product.pack_size) == (
        "Sparkling Water 0.5 l", "Beverages", "bottle", 12)
    assert product.base_price == Decimal("1.25") and product.active is True
    [event] = events(db, "product_created")
    assert event.actor_id == admin.user.id and event.target_id == product.id


@pytest.mark.parametrize("changes, message", [
    ({"base_price": "1.255"}, "at most 2 decimal places"),
    ({"base_price": "-1"}, "Number must be between 0 and"),
    ({"base_price": "abc"}, "Not a valid decimal value"),
    ({"base_price": "Infinity"}, "Number must be between 0 and"),
    ({"pack_size": "0"}, "Number must be between 1"),
    ({"pack_size": "1.5"}, "Not a valid integer value"),
    ({"name": ""}, "This field is required"),
    ({"sku": "BAD SKU!"}, "A SKU is 1–40 letters"),
    ({"sku": "SKU-TAKEN"}, "already exists"),
])
def test_bad_product_input_shows_form_errors_and_saves_nothing(admin, db, f, changes, message):
    f.product(sku="SKU-TAKEN")
    response = admin.post("/admin/catalog/products/new", data={**PRODUCT, **changes})
    assert response.status_code == 422
    assert message in response.text and 'class="field-error"' in response.text
    db.expire_all()
    assert db.scalar(select(func.count(Product.id))) == 1
    assert events(db, "product_created") == []


def test_wtforms_own_messages_follow_each_requests_language(admin):
    """WTForms' messages come from a catalogue kept per language (portal.web.form_base): each
    request gets its own language's, whatever the requests before it asked for."""
    def error(language: str) -> str:
        admin.post("/language", data={"locale": language, "next": "/"})
        response = admin.post("/admin/catalog/products/new", data={**PRODUCT, "base_price": "abc"})
        assert response.status_code == 422 and f'<html lang="{language}">' in response.text
        return response.text

    for _round in range(2):
        polish, english = error("pl"), error("en")
        assert "Nieprawidłowa liczba dziesiętna" in polish and "Not a valid decimal value" not in polish
        assert "Not a valid decimal value" in english and "Nieprawidłowa" not in english


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-0.01", "1.001", "10000000000", "", "1e3x"])
def test_amount_check_refuses_what_a_numeric_12_2_cannot_hold(value):
    with pytest.raises(ServiceError):
        check_amount(value, field="price")


def test_amount_check_keeps_exact_cents():
    assert check_amount("1e1", field="price") == Decimal("10.00")
    assert check_amount(Decimal("0.5"), field="price") == Decimal("0.50")


def test_admin_edits_a_product_and_bad_input_changes_nothing(admin, db, f):
    product = f.product(sku="OLD-1", name="Old name", base_price=Decimal("10.00"))
    other = f.product(sku="OTHER-1")
    url = f"/admin/catalog/products/{product.id}"
    assert 'value="Old name"' in admin.get(url).text
    bad = admin.post(url, data={**PRODUCT, "sku": other.sku})
    assert bad.status_code == 422 and "already exists" in bad.text
    bad = admin.post(url, data={**PRODUCT, "sku": "OLD-1", "base_price": "9.999"})
    assert bad.status_code == 422
    db.expire_all()
    assert (db.get(Product, product.id).name, db.get(Product, product.id).base_price) == (
        "Old name", Decimal("10.00"))
    response = admin.post(url, data={**PRODUCT, "sku": "old-1", "name": "New name",
                                     "base_price": "12.5"})
    assert response.status_code == 302
    db.expire_all()
    saved = db.get(Product, product.id)
    assert (saved.sku, saved.name, saved.base_price, saved.pack_size) == (
        "OLD-1", "New name", Decimal("12.50"), 12)
    [event] = events(db, "product_updated")
    assert event.detail["changes"]["base_price"] == ["10.00", "12.50"]
    assert event.detail["changes"]["name"] == ["Old name", "New name"]


def test_admin_deactivates_and_reactivates_a_product(admin, db, f):
    product = f.product(name="Strawberry jam 280 g")
    listing = admin.get("/admin/catalog/products?q=abc").text
    assert listing.count("Stop selling Strawberry jam 280 g?") == 0  # q=abc matches nothing
    listing = admin.get("/admin/catalog/products").text
    # The list opens a dialog (or, without JavaScript, the confirmation page): it never posts.
    assert f'href="/admin/catalog/products/{product.id}/deactivate"' in listing
    assert "Stop selling Strawberry jam 280 g?" in listing
    asked = admin.get(f"/admin/catalog/products/{product.id}/deactivate?q=abc")
    assert asked.status_code == 200 and "Yes, stop selling it" in asked.text
    assert 'href="/admin/catalog/products?q=abc"' in asked.text  # "Keep selling it" goes back
    db.expire_all()
    assert db.get(Product, product.id).active is True
    assert admin.get("/admin/catalog/products/999999/deactivate").status_code == 404
    response = admin.post(f"/admin/catalog/products/{product.id}/deactivate?q=abc")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/catalog/products?q=abc"
    db.expire_all()
    assert db.get(Product, product.id).active is False
    admin.post(f"/admin/catalog/products/{product.id}/reactivate")
    db.expire_all()
    assert db.get(Product, product.id).active is True
    trail = db.scalars(select(AuditEvent.action).where(
        AuditEvent.target_id == product.id, AuditEvent.action.like("product_%")
    ).order_by(AuditEvent.id)).all()
    assert trail == ["product_deactivated", "product_reactivated"]
    assert admin.post("/admin/catalog/products/999999/deactivate").status_code == 404


def test_unchecked_active_box_stops_selling(admin, db):
    data = {k: v for k, v in PRODUCT.items() if k != "active"}
    assert admin.post("/admin/catalog/products/new", data=data).status_code == 302
    assert db.scalar(select(Product.active).where(Product.sku == "BEV-100")) is False


# --- CSV import ----------------------------------------------------------------------------------

def test_catalog_import_with_a_bad_row_imports_nothing_and_names_every_bad_line(admin, db, f):
    f.product(sku="KEEP-1", name="Keep me", base_price=Decimal("5.00"))
    text = HEADER + (
        "KEEP-1,Changed name,General,pcs,1,6.00,yes\n"
        "NEW-1,New product,General,pcs,6,2.50,\n"
        "NEW-2,Bad price,General,pcs,1,2.505,\n"
        "\n"
        "NEW-3,,General,pcs,0,1.00,maybe\n"
        "NEW-1,Duplicate,General,pcs,1,1.00,\n"
        "NEW-4,Short row\n"
    )
    response = upload(admin, text)
    assert response.status_code == 422
    page = response.text
    assert "4 of 6 rows have errors; nothing was imported." in page
    assert "Line 4: base_price" in page and "at most 2 decimal places" in page
    assert "Line 6:" in page and "name:" in page and "pack_size" in page and "active" in page
    assert "Line 7: SKU NEW-1 is already on line 3" in page
    assert "Line 8: expected 7 fields, found 2" in page
    assert "Line 2" not in page and "Line 3:" not in page
    db.expire_all()
    assert db.scalar(select(func.count(Product.id))) == 1
    assert db.scalar(select(Product.name).where(Product.sku == "KEEP-1")) == "Keep me"
    assert events(db, "catalog_imported") == []


@pytest.mark.parametrize("text, message", [
    ("", "The file is empty"),
    ("sku,name,price\nA,B,1\n", "missing: category, unit, pack_size, base_price; unknown: price"),
    (HEADER, "has a header but no rows"),
    ('sku,name,category,unit,pack_size,base_price\n"A,B\n', "not valid CSV"),
])
def test_catalog_import_refuses_a_file_of_the_wrong_shape(admin, db, text, message):
    response = upload(admin, text)
    assert response.status_code == 422 and message in response.text
    assert db.scalar(select(func.count(Product.id))) == 0


def test_catalog_import_refuses_a_missing_or_non_utf8_file(admin):
    assert "Choose a CSV file" in admin.post("/admin/catalog/products/import", data={}).text
    response = admin.post("/admin/catalog/products/import",
                          data={"file": (io.BytesIO("sku;naïve".encode("latin-1")), "x.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and "not UTF-8" in response.text


def test_valid_catalog_import_creates_and_updates_products_and_reports_counts(admin, db, f):
    f.product(sku="KEEP-1", name="Keep me", base_price=Decimal("5.00"), active=False)
    f.product(sku="SAME-1", name="Same", category="General", unit="pcs", pack_size=1,
              base_price=Decimal("1.00"))
    f.product(sku="UNLISTED", name="Not in the file")
    text = "\ufeffSKU,Name,Category,Unit,Pack_Size,Base_Price\r\n" + (
        "keep-1,Kept and renamed,Snacks,bag,10,6.5\r\n"
        "SAME-1,Same,General,pcs,1,1.00\r\n"
        'NEW-1,"Crisps, salted",Snacks,,24,0.99\r\n'
    )
    response = upload(admin, text)
    assert response.status_code == 302, response.text
    page = admin.get(response.headers["Location"]).text
    assert "1 product created, 1 updated, 1 unchanged" in page
    db.expire_all()
    kept = db.scalar(select(Product).where(Product.sku == "KEEP-1"))
    assert (kept.name, kept.category, kept.unit, kept.pack_size, kept.base_price, kept.active) == (
        "Kept and renamed", "Snacks", "bag", 10, Decimal("6.50"), False)  # no active column
    new = db.scalar(select(Product).where(Product.sku == "NEW-1"))
    assert (new.name, new.unit, new.pack_size, new.base_price, new.active) == (
        "Crisps, salted", "pcs", 24, Decimal("0.99"), True)
    assert db.scalar(select(func.count(Product.id))) == 4
    [event] = events(db, "catalog_imported")
    counts = (event.detail["created"], event.detail["updated"], event.detail["unchanged"])
    assert counts == (1, 1, 1)
    assert event.detail["created_skus"] == ["NEW-1"]
    assert event.detail["changes"]["KEEP-1"]["base_price"] == ["5.00", "6.50"]
    # The active column switches products on and off.
    upload(admin, HEADER + "KEEP-1,Kept and renamed,Snacks,bag,10,6.50,yes\n"
                           "NEW-1,Crisps,Snacks,pcs,24,0.99,no\n")
    db.expire_all()
    assert db.scalar(select(Product.active).where(Product.sku == "KEEP-1")) is True
    assert db.scalar(select(Product.active).where(Product.sku == "NEW-1")) is False


# --- tiers ---------------------------------------------------------------------------------------

def test_admin_creates_and_edits_a_tier_with_a_decimal_discount(admin, db, f):
    response = admin.post("/admin/catalog/tiers", data={"name": "Gold", "discount_percent": "12.5"})
    assert response.status_code == 302
    tier = db.scalar(select(PriceTier).where(PriceTier.name == "Gold"))
    assert tier.discount_percent == Decimal("12.50")
    for bad, message in [({"discount_percent": "100.01"}, "between 0 and 100"),
                         ({"discount_percent": "1.234"}, "at most 2 decimal places"),
                         ({"name": "gold"}, "already exists")]:
        page = admin.post("/admin/catalog/tiers",
                          data={"name": "Silver", "discount_percent": "5", **bad})
        assert page.status_code == 422 and message in page.text, bad
    assert db.scalar(select(func.count(PriceTier.id))) == 1
    response = admin.post(f"/admin/catalog/tiers/{tier.id}",
                          data={"name": "Gold+", "discount_percent": "15"})
    assert response.status_code == 302
    db.expire_all()
    assert (tier.name, tier.discount_percent) == ("Gold+", Decimal("15.00"))
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("tier_%"))
                       .order_by(AuditEvent.id)).all()
    assert trail == ["tier_created", "tier_updated"]
    assert events(db, "tier_updated")[0].detail["changes"]["discount_percent"] == ["12.50", "15.00"]


def test_tier_explicit_price_is_saved_used_for_the_partner_and_removed(admin, app, db, f):
    tier = f.tier(name="Wholesale", discount_percent=Decimal("10"))
    product = f.product(sku="EXP-1", name="Explicit Thing", base_price=Decimal("10.00"))
    url = f"/admin/catalog/tiers/{tier.id}/prices"
    bad = admin.post(url, data={"sku": "NOPE", "price": "1.00"})
    assert bad.status_code == 422 and "No product with SKU NOPE" in bad.text
    bad = admin.post(url, data={"sku": "exp-1", "price": "1.001"})
    assert bad.status_code == 422 and "at most 2 decimal places" in bad.text
    assert db.scalar(select(func.count()).select_from(TierPrice)) == 0
    assert admin.post(url, data={"sku": "exp-1", "price": "7.5"}).status_code == 302
    assert admin.post(url, data={"sku": "EXP-1", "price": "7.25"}).status_code == 302
    row = db.get(TierPrice, (tier.id, product.id))
    assert row.price == Decimal("7.25")
    [first, second] = events(db, "tier_price_set")
    assert (first.detail["old"], first.detail["new"]) == (None, "7.50")
    assert (second.detail["old"], second.detail["new"]) == ("7.50", "7.25")
    page = admin.get(f"/admin/catalog/tiers/{tier.id}").text
    assert "Explicit Thing" in page and "7.25" in page and "9.00" in page
    # A partner at the tier now pays the explicit price in the catalog.
    buyer = f.user(partner=f.partner(price_tier_id=tier.id))
    shop = app.test_client()
    sign_in(shop, buyer)
    assert "7.25" in shop.get("/catalog").text
    response = admin.post(f"/admin/catalog/tiers/{tier.id}/prices/{product.id}/remove")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(TierPrice, (tier.id, product.id)) is None
    assert events(db, "tier_price_removed")[0].detail["old"] == "7.25"
    again = admin.post(f"/admin/catalog/tiers/{tier.id}/prices/{product.id}/remove")
    assert again.status_code == 404


def test_admin_assigns_a_tier_to_a_partner_and_it_is_audited(admin, db, f):
    gold = f.tier(name="Gold")
    partner = f.partner(name="Corner Shop")
    page = admin.get("/admin/catalog/tiers").text
    assert "Corner Shop" in page and "Gold" in page
    response = admin.post("/admin/catalog/tiers/assign", data={"partner": str(partner.id),
                                                               "tier": str(gold.id)})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Partner, partner.id).price_tier_id == gold.id
    [event] = events(db, "partner_tier_assigned")
    assert (event.actor_id, event.partner_id, event.detail["old"], event.detail["new"]) == (
        admin.user.id, partner.id, None, "Gold")
    admin.post("/admin/catalog/tiers/assign", data={"partner": str(partner.id), "tier": ""})
    db.expire_all()
    assert db.get(Partner, partner.id).price_tier_id is None
    assert events(db, "partner_tier_assigned")[-1].detail["new"] is None
    bad = admin.post("/admin/catalog/tiers/assign",
                     data={"partner": "999999", "tier": str(gold.id)})
    assert bad.status_code == 422 and "Not a valid choice" in bad.text
    assert len(events(db, "partner_tier_assigned")) == 2
