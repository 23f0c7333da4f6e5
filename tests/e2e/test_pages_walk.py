"""Every role's pages in a real browser, at a laptop's width and a phone's (390 px).

No page may be wider than the window (tables scroll in their own box or stack), the phone menu
opens, what cannot be undone asks first, a refresh after quick order adds nothing twice, and money
reads right in English and Polish.

With SCREENSHOTS_DIR set (``make screenshots``), the walk also saves a full-page picture of every
page it visits, for each role and width, into that folder.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_ordering_journey import sign_in

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
ROLES = ["buyer@demo.test", "owner@demo.test", "manager@demo.test", "admin@demo.test"]
SHOTS = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None
# Links that are not pages to look at: downloads, the API, signing out.
NOT_PAGES = re.compile(r"\.csv$|^/api/|/logout$|^https?:")


def _too_wide(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def _pages_of(page: Page) -> list[str]:
    """The role's menu entries, and for each list the first detail page it links to."""
    page.goto("/dashboard")
    paths = []
    for link in page.locator("#nav-links a[href]").all():
        href = link.get_attribute("href")
        if href and not NOT_PAGES.search(href) and href not in paths:
            paths.append(href)
    for path in list(paths):
        page.goto(path)
        first = page.locator("main table a[href]").first
        if first.count():
            href = urlsplit(first.get_attribute("href")).path
            if not NOT_PAGES.search(href) and href not in paths:
                paths.append(href)
    return paths


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("email", ROLES)
def test_no_page_is_wider_than_the_window(page: Page, live_server, email, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    sign_in_at(page, email, width)
    paths = _pages_of(page)
    assert len(paths) >= 4, paths
    wide = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        if (extra := _too_wide(page)) > 0:
            wide[path] = extra
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            role = email.split("@")[0]
            page.screenshot(path=SHOTS / f"{role}-{_slug(path)}-{width}.png", full_page=True)
    assert wide == {}, f"pages wider than {WIDTHS[width][0]} px (by so many px): {wide}"


def sign_in_at(page: Page, email: str, width: str) -> None:
    if width == "phone":
        page.goto("/login")
        assert _too_wide(page) <= 0
    sign_in(page, email)


def test_signed_out_pages_fit_a_phone(page: Page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/login",):
        page.goto(path)
        assert _too_wide(page) <= 0, path
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"signed-out-{_slug(path)}-phone.png", full_page=True)


def test_the_phone_menu_opens_and_marks_the_current_section(page: Page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "buyer@demo.test")
    page.goto("/orders")
    orders = page.locator("#nav-links").get_by_role("link", name="Orders", exact=True)
    expect(orders).to_be_hidden()  # folded away on a phone
    page.get_by_text("Menu", exact=True).click()
    expect(orders).to_be_visible()
    expect(orders).to_have_attribute("aria-current", "page")
    orders.click()
    expect(page).to_have_url(re.compile(r"/orders$"))
    # A keyboard user can skip the menu.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def test_cancelling_an_order_asks_first_in_a_dialog(page: Page, live_server):
    sign_in(page, "buyer@demo.test")
    order_id = live_server.query(
        "SELECT o.id FROM orders o JOIN users u ON u.partner_id = o.partner_id "
        "WHERE u.email = 'buyer@demo.test' ORDER BY o.id DESC LIMIT 1")[0][0]
    live_server.query_commit("UPDATE orders SET status = 'submitted' WHERE id = :id", id=order_id)
    page.goto(f"/orders/{order_id}")
    page.get_by_role("button", name="Cancel order", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Cancel order #{order_id}?")
    dialog.get_by_role("button", name="Keep the order").click()
    expect(dialog).to_be_hidden()
    assert live_server.query("SELECT status FROM orders WHERE id = :id", id=order_id) == [("submitted",)]
    page.get_by_role("button", name="Cancel order", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, cancel the order").click()
    expect(page.get_by_role("status")).to_contain_text("The order is cancelled.")
    assert live_server.query("SELECT status FROM orders WHERE id = :id", id=order_id) == [("cancelled",)]


def test_stopping_a_products_sale_asks_first(page: Page, live_server):
    sign_in(page, "admin@demo.test")
    page.goto("/admin/catalog/products?status=active")
    row = page.get_by_role("row").filter(has=page.get_by_role("button", name="Stop selling")).first
    name = row.get_by_role("cell").nth(1).inner_text()
    row.get_by_role("button", name="Stop selling").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Stop selling {name}?")
    dialog.get_by_role("button", name="Keep selling it").click()
    assert live_server.query("SELECT active FROM products WHERE name = :n", n=name) == [(1,)]


def test_money_reads_right_in_both_languages(page: Page, live_server):
    sign_in(page, "buyer@demo.test")
    page.goto("/catalog")
    price = page.locator("main td.num").first.inner_text()
    assert re.fullmatch(r"PLN\u00a0\d{1,3}(,\d{3})*\.\d{2}", price), price
    live_server.query_commit("UPDATE users SET locale = 'pl' WHERE email = 'buyer@demo.test'")
    try:
        page.goto("/catalog")
        price = page.locator("main td.num").first.inner_text()
        assert re.fullmatch(r"\d{1,3}(\u00a0\d{3})*,\d{2}\u00a0zł", price), price
    finally:
        live_server.query_commit("UPDATE users SET locale = 'en' WHERE email = 'buyer@demo.test'")


def test_quick_order_then_a_refresh_adds_nothing_twice(page: Page, live_server):
    sign_in(page, "buyer2@demo.test")
    sku, pack = live_server.query("SELECT sku, pack_size FROM products WHERE active ORDER BY id LIMIT 1")[0]
    page.goto("/cart")
    page.get_by_label("One line per product: SKU and quantity").fill(f"{sku} {pack}\nNOPE-999 3")
    page.locator("#quick-order").get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))  # Post/Redirect/Get: back on the cart
    expect(page.get_by_role("alert")).to_contain_text("NOPE-999")  # only the failed line comes back
    expect(page.get_by_label("One line per product: SKU and quantity")).to_have_value("NOPE-999 3")
    quantity = page.get_by_role("row").filter(has_text=sku).get_by_role("spinbutton")
    expect(quantity).to_have_value(str(pack))
    page.reload()
    expect(quantity).to_have_value(str(pack))  # the refresh re-sent nothing
    user = live_server.query("SELECT id FROM users WHERE email = 'buyer2@demo.test'")[0][0]
    assert live_server.query("SELECT quantity FROM cart_lines WHERE user_id = :u", u=user) == [(pack,)]


@pytest.mark.parametrize("locale", ["en", "pl"])
def test_the_standing_order_pages_fit_a_phone(page: Page, live_server, locale):
    """The standing-order pages the menu walk does not reach (set up, settings, change, a draft),
    in English and in Polish (longer words)."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "owner@demo.test")  # (in English: it reads the English labels)
    live_server.query_commit("UPDATE users SET locale = :locale WHERE email = 'owner@demo.test'", locale=locale)
    schedule = live_server.query(
        "SELECT r.id FROM recurring_orders r JOIN users u ON u.partner_id = r.partner_id "
        "WHERE u.email = 'owner@demo.test' ORDER BY r.id LIMIT 1")[0][0]
    paths = ["/standing-orders", "/standing-orders/new", "/standing-orders/new?from=cart",
             "/standing-orders/settings", f"/standing-orders/{schedule}", f"/standing-orders/{schedule}/edit"]
    # In review mode with a draft of its next date, for the while (put back after).
    live_server.query_commit("UPDATE recurring_orders SET mode = 'review' WHERE id = :id", id=schedule)
    live_server.query_commit(
        "INSERT INTO recurring_drafts (recurring_order_id, partner_id, occurrence_date, lines, created_at) "
        "SELECT r.id, r.partner_id, r.next_date, (SELECT json_group_array(json_object('product_id', "
        "l.product_id, 'quantity', l.quantity)) FROM recurring_lines l WHERE l.recurring_order_id = r.id), "
        "CURRENT_TIMESTAMP FROM recurring_orders r "
        "WHERE r.id = :id AND r.next_date IS NOT NULL", id=schedule)
    draft = live_server.query("SELECT id FROM recurring_drafts WHERE recurring_order_id = :id", id=schedule)
    paths += [f"/standing-orders/{schedule}/drafts/{row[0]}" for row in draft]
    paths += ["/dashboard"]  # with its "Standing orders to review"
    wide = {}
    try:
        page.goto("/standing-orders")
        assert page.locator("html").get_attribute("lang").startswith(locale)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            if (extra := _too_wide(page)) > 0:
                wide[path] = extra
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SHOTS / f"owner-standing-order-draft-{locale}-phone.png", full_page=True)
            page.goto(f"/standing-orders/{schedule}")
            page.screenshot(path=SHOTS / f"owner-standing-order-review-{locale}-phone.png", full_page=True)
    finally:
        live_server.query_commit("DELETE FROM recurring_drafts WHERE recurring_order_id = :id", id=schedule)
        live_server.query_commit("UPDATE recurring_orders SET mode = 'auto' WHERE id = :id", id=schedule)
        live_server.query_commit("UPDATE users SET locale = 'en' WHERE email = 'owner@demo.test'")
    assert wide == {}, f"standing-order pages wider than 390 px: {wide}"


def test_the_managers_rhythm_texts_fit_a_phone_in_polish(page: Page, live_server):
    """The dashboard's quiet partners, the portfolio (its filters and alerts) and a partner's
    rhythm, in Polish (longer words and the plural forms) at 390 px."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "manager@demo.test")
    live_server.query_commit("UPDATE users SET locale = 'pl' WHERE email = 'manager@demo.test'")
    wide, narrow = {}, {}
    try:
        page.goto("/dashboard")
        assert page.locator("html").get_attribute("lang").startswith("pl")
        expect(page.locator("section[aria-labelledby=quiet-title]")).to_contain_text("dziewięć na dziesięć")
        page.goto("/manage/portfolio")
        # Each filter gets a usable width (Pico's role="search" group once squeezed them to slivers).
        for field in page.locator("form.portfolio-filters select, form.portfolio-filters input[type=search]").all():
            if (width := field.bounding_box()["width"]) < 150:
                narrow[field.get_attribute("name")] = width
        partner = urlsplit(page.locator("main table a[href^='/manage/partners/']").first.get_attribute("href")).path
        for path in ("/dashboard", "/manage/portfolio", partner):
            response = page.goto(path)
            assert response.status == 200, path
            if (extra := _too_wide(page)) > 0:
                wide[path] = extra
            if SHOTS is not None:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SHOTS / f"manager-{_slug(path)}-pl-phone.png", full_page=True)
        expect(page.locator("main")).to_contain_text("Zwykle co")
    finally:
        live_server.query_commit("UPDATE users SET locale = 'en' WHERE email = 'manager@demo.test'")
    assert narrow == {}, f"portfolio filters narrower than 150 px on a phone: {narrow}"
    assert wide == {}, f"manager pages wider than 390 px in Polish: {wide}"
