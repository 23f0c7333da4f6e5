"""Staff browse the catalog read-only, at list prices or at the prices of a partner they look after."""
from __future__ import annotations

import re
from decimal import Decimal

from portal.models import TierPrice
from tests.portal.helpers import sign_in


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def prices(page: str) -> dict[str, list[str]]:
    """SKU -> the money cells of its row in the product list."""
    table = page.split('class="compact stack catalog"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td data-label=\"SKU\">([^<]+)</td>(.*?)</tr>", table, re.S)
    return {sku: re.findall(r"PLN\u00a0[\d.,]+", cells) for sku, cells in rows}


def test_staff_catalog_prices_equal_the_partners_own_prices(app, f, db):
    manager = f.user(role="account_manager")
    tier = f.tier(name="Gold", discount_percent=Decimal("12.5"))
    partner = f.partner(name="Corner Shop", price_tier_id=tier.id, account_manager_id=manager.id)
    buyer = f.user(partner=partner)
    jam = f.product(sku="JAM-001", name="Strawberry jam", base_price=Decimal("9.99"))
    tea = f.product(sku="TEA-001", name="Green tea", base_price=Decimal("4.00"))
    db.add(TierPrice(tier_id=tier.id, product_id=tea.id, price=Decimal("3.10")))
    db.commit()
    theirs = prices(signed_in(app, buyer).get("/catalog").text)
    staff_page = signed_in(app, manager).get(f"/catalog?partner={partner.id}").text
    assert prices(staff_page) == theirs
    assert theirs["JAM-001"] == ["PLN\u00a09.99", "PLN\u00a08.74"] and theirs["TEA-001"][1] == "PLN\u00a03.10"
    assert "Price for Corner Shop" in staff_page
    assert jam.name in staff_page


def test_staff_see_list_prices_by_default_and_cannot_add_to_a_cart(app, f, db):
    admin = f.user(role="admin")
    f.product(sku="JAM-001", base_price=Decimal("9.99"))
    client = signed_in(app, admin)
    page = client.get("/catalog")
    assert page.status_code == 200
    assert prices(page.text) == {"JAM-001": ["PLN\u00a09.99"]}  # the list price only
    assert "List prices. Choose a partner" in page.text
    assert "/cart/add" not in page.text and 'name="quantity"' not in page.text
    assert client.post("/cart/add", data={"product_id": 1, "quantity": 1}).status_code == 403


def test_the_partner_selector_offers_only_the_staff_members_partners(app, f):
    manager = f.user(role="account_manager")
    f.partner(name="Mine Grocers", account_manager_id=manager.id)
    f.partner(name="Theirs Deli", account_manager_id=f.user(role="account_manager").id)
    page = signed_in(app, manager).get("/catalog").text
    select_box = page.split('name="partner"')[1].split("</select>")[0]
    assert "Mine Grocers" in select_box and "Theirs Deli" not in select_box


def test_another_managers_partner_prices_are_a_404(app, f):
    manager = f.user(role="account_manager")
    theirs = f.partner(name="Theirs Deli", account_manager_id=f.user(role="account_manager").id)
    client = signed_in(app, manager)
    assert client.get(f"/catalog?partner={theirs.id}").status_code == 404
    assert client.get("/catalog?partner=not-a-number").status_code == 200  # no filter


def test_the_staff_catalog_keeps_the_partner_across_pages_and_shows_the_usual_basket(app, f):
    manager = f.user(role="account_manager")
    partner = f.partner(name="Corner Shop", account_manager_id=manager.id)
    products = [f.product(name=f"Item {n:02d}") for n in range(30)]
    f.order(partner, lines=[(products[0], 6)])
    page = signed_in(app, manager).get(f"/catalog?partner={partner.id}").text
    pager = page.split('class="pager"')[1].split("</nav>")[0]
    assert f"partner={partner.id}" in pager
    usual = page.split("What Corner Shop usually orders")[1].split("</table>")[0]
    assert "Item 00" in usual and "/cart/add" not in usual


def test_a_buyer_still_sees_their_own_prices_and_adds_with_named_controls(app, f):
    buyer = f.user()
    f.product(name="Strawberry jam 280 g")
    page = signed_in(app, buyer).get("/catalog").text
    assert 'aria-label="Quantity of Strawberry jam 280 g"' in page
    assert 'name="partner"' not in page  # no partner selector for partner users
