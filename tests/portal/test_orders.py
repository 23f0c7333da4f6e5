"""Ordering in the pages: catalog, cart, quick order, checkout, history, reorder, cancel."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.models import AuditEvent, CartLine, Notification, Order, TierPrice
from tests.portal.helpers import sign_in


def buyer_with_catalog(f, discount="10"):
    tier = f.tier(discount_percent=Decimal(discount))
    partner = f.partner(price_tier_id=tier.id)
    user = f.user(partner=partner)
    water = f.product(sku="BEV-001", name="Still water", base_price=Decimal("1.05"), category="Beverages")
    chips = f.product(sku="SNA-001", name="Crisps", base_price=Decimal("2.50"), category="Snacks")
    return user, tier, water, chips


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def checkout_key(client) -> str:
    page = client.get("/checkout")
    assert page.status_code == 200, page.text
    return re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page.text).group(1)


def test_catalog_shows_partner_prices_and_hides_inactive_products(app, f, db):
    user, tier, water, chips = buyer_with_catalog(f)
    f.product(sku="OLD-001", name="Discontinued soda", active=False)
    db.add(TierPrice(tier_id=tier.id, product_id=chips.id, price=Decimal("1.99")))
    db.commit()
    page = signed_in(app, user).get("/catalog").text
    assert "Still water" in page and "Discontinued soda" not in page
    assert "0.95" in page      # 1.05 less 10 % = 0.945, rounded half up
    assert "1.99" in page      # explicit tier price


def test_catalog_search_and_category_filter(app, f):
    user, _tier, _water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    assert "Crisps" not in client.get("/catalog?q=wat").text
    assert "Still water" in client.get("/catalog?q=bev-0").text
    page = client.get("/catalog?category=Snacks").text
    assert "Crisps" in page and "Still water" not in page


def test_cart_totals_use_documented_rounding(app, f):
    user, _tier, water, chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 3})
    client.post("/cart/add", data={"product_id": chips.id, "quantity": 1})
    client.post("/cart/add", data={"product_id": water.id, "quantity": 2})   # adds up: 5
    page = client.get("/cart").text
    assert "4.75" in page          # 5 × 0.95
    assert "2.25" in page          # 2.50 less 10 %
    assert "7.00" in page          # total = sum of lines


def test_adding_bad_quantities_is_refused(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    for qty in ("0", "-1", "100001", "1.5", "abc"):
        response = client.post("/cart/add", data={"product_id": water.id, "quantity": qty})
        assert response.status_code == 302
    assert db.scalar(select(func.count(CartLine.id))) == 0


def test_quick_order_adds_valid_lines_and_lists_each_bad_one(app, f, db):
    user, _tier, water, chips = buyer_with_catalog(f)
    f.product(sku="OLD-001", active=False)
    client = signed_in(app, user)
    text = "BEV-001 12\nNOPE-9 3\nSNA-001, 4\nOLD-001 1\nBEV-001 0\njust-one-word\n\nsna-001 2\n"
    response = client.post("/cart/quick", data={"lines": text})
    assert response.status_code == 302 and response.headers["Location"] == "/cart"  # PRG
    page = client.get("/cart").text
    assert "Line 2" in page and "Unknown SKU" in page
    assert "Line 4" in page and "no longer sold" in page
    assert "Line 5" in page and "whole number" in page
    assert "Line 6" in page and "Expected a SKU and a quantity" in page
    quantities = dict(db.execute(select(CartLine.product_id, CartLine.quantity)).all())
    assert quantities == {water.id: 12, chips.id: 6}


def test_quick_order_accepts_a_csv_upload(app, f, db):
    import io

    user, _tier, water, chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    csv_bytes = "\ufeffsku,quantity\nBEV-001,24\nSNA-001,2\n".encode()
    response = client.post("/cart/quick", data={"file": (io.BytesIO(csv_bytes), "order.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/cart"  # PRG
    assert dict(db.execute(select(CartLine.product_id, CartLine.quantity)).all()) == {water.id: 24, chips.id: 2}


def test_checkout_places_one_order_even_when_submitted_twice(app, f, db):
    user, _tier, water, chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 10})
    key = checkout_key(client)
    form = {"idempotency_key": key, "note": "Back door, please"}
    first = client.post("/checkout", data=form)
    second = client.post("/checkout", data=form)   # double click / back + resubmit
    assert first.status_code == second.status_code == 302
    order_id = db.scalar(select(Order.id))
    assert first.headers["Location"].endswith(f"/orders/{order_id}/thank-you")
    assert second.headers["Location"].endswith(f"/orders/{order_id}")
    assert db.scalar(select(func.count(Order.id))) == 1
    assert db.scalar(select(func.count(CartLine.id))) == 0
    detail = client.get(f"/orders/{order_id}").text
    assert "Back door, please" in detail and "9.50" in detail


def test_checkout_refuses_past_delivery_dates_and_keeps_the_cart(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 1})
    key = checkout_key(client)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    response = client.post("/checkout", data={"idempotency_key": key, "requested_delivery_date": yesterday})
    assert response.status_code == 422 and "cannot be in the past" in response.text
    assert db.scalar(select(func.count(Order.id))) == 0
    assert db.scalar(select(func.count(CartLine.id))) == 1


def test_first_order_thanks_the_partner_and_queues_one_notification(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    client = signed_in(app, user)
    client.post("/cart/add", data={"product_id": water.id, "quantity": 1})
    response = client.post("/checkout", data={"idempotency_key": checkout_key(client)})
    thanks = client.get(response.headers["Location"]).text
    assert "first order" in thanks
    [note] = db.scalars(select(Notification)).all()
    assert note.kind == "thank_you_first_order" and note.partner_id == user.partner_id


def test_every_tenth_order_is_a_milestone(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    for _ in range(8):
        f.order(user.partner, lines=[(water, 1)])
    client = signed_in(app, user)
    milestones = []
    for _n in (9, 10):
        client.post("/cart/add", data={"product_id": water.id, "quantity": 1})
        response = client.post("/checkout", data={"idempotency_key": checkout_key(client)})
        assert "thank-you" in response.headers["Location"]  # every order gets its summary page
        milestones.append("That makes 10 orders with us" in client.get(response.headers["Location"]).text)
    assert milestones == [False, True]
    assert [n.kind for n in db.scalars(select(Notification))] == ["thank_you_order_milestone"]


def test_order_history_filters_and_paginates(app, f):
    user, _tier, water, _chips = buyer_with_catalog(f)
    old = datetime(2025, 1, 10, 9, tzinfo=UTC)
    for n in range(30):
        f.order(user.partner, lines=[(water, n + 1)], created_at=old + timedelta(days=n),
                status="delivered" if n % 2 else "cancelled")
    client = signed_in(app, user)
    page = client.get("/orders").text
    assert "30 orders" in page and "Page 1 of 2" in page
    assert "15 orders" in client.get("/orders?status=cancelled").text
    assert "5 orders" in client.get("/orders?date_from=2025-01-11&date_to=2025-01-15").text


def test_buyer_cancels_a_submitted_order_but_not_a_shipped_one(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    submitted = f.order(user.partner, lines=[(water, 1)])
    shipped = f.order(user.partner, lines=[(water, 1)], status="shipped")
    client = signed_in(app, user)
    client.post(f"/orders/{submitted.id}/cancel")
    response = client.post(f"/orders/{shipped.id}/cancel", follow_redirects=True)
    assert "Only a submitted order can be cancelled" in response.text
    db.expire_all()
    assert db.get(Order, submitted.id).status == "cancelled"
    assert db.get(Order, shipped.id).status == "shipped"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "order_cancelled")).target_id == submitted.id


def test_cancelling_asks_first_on_a_page_that_works_without_javascript(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    order = f.order(user.partner, lines=[(water, 1)])
    client = signed_in(app, user)
    detail = client.get(f"/orders/{order.id}").text
    # The order page links to the confirmation (a dialog where JavaScript runs), it does not post.
    assert f'href="/orders/{order.id}/cancel"' in detail
    assert f'data-confirm="confirm-orders-{order.id}-cancel"' in detail
    asked = client.get(f"/orders/{order.id}/cancel")
    assert asked.status_code == 200
    assert f"Cancel order #{order.id}?" in asked.text and "Yes, cancel the order" in asked.text
    assert "Keep the order" in asked.text
    db.expire_all()
    assert db.get(Order, order.id).status == "submitted"  # asking changed nothing
    done = client.post(f"/orders/{order.id}/cancel")
    assert done.status_code == 302  # and then back to the order (Post/Redirect/Get)
    db.expire_all()
    assert db.get(Order, order.id).status == "cancelled"
    # A cancelled order offers no cancel, and its confirmation page sends the buyer back.
    assert f'href="/orders/{order.id}/cancel"' not in client.get(f"/orders/{order.id}").text
    again = client.get(f"/orders/{order.id}/cancel", follow_redirects=True)
    assert "Only a submitted order can be cancelled" in again.text


def test_reorder_fills_cart_at_todays_prices_and_lists_what_is_gone(app, f, db):
    user, _tier, water, chips = buyer_with_catalog(f)
    gone = f.product(sku="OLD-001", name="Retired lemonade")
    past = f.order(user.partner, lines=[(water, 6), (chips, 2), (gone, 3)])
    gone.active = False
    water.base_price = Decimal("2.00")
    db.commit()
    client = signed_in(app, user)
    response = client.post(f"/orders/{past.id}/reorder", follow_redirects=True)
    assert "Retired lemonade" in response.text and "cannot be ordered any more" in response.text
    assert "10.80" in response.text       # 6 × 1.80 (today's 2.00 less 10 %)
    assert dict(db.execute(select(CartLine.product_id, CartLine.quantity)).all()) == {water.id: 6, chips.id: 2}


def test_reorder_last_order_from_the_dashboard(app, f, db):
    user, _tier, water, _chips = buyer_with_catalog(f)
    f.order(user.partner, lines=[(water, 4)], created_at=datetime(2026, 1, 1, tzinfo=UTC))
    f.order(user.partner, lines=[(water, 9)], created_at=datetime(2026, 2, 1, tzinfo=UTC))
    client = signed_in(app, user)
    assert "Reorder last order" in client.get("/dashboard").text
    client.post("/orders/reorder-last")
    assert db.scalar(select(CartLine.quantity)) == 9


def test_usual_basket_lists_frequent_products_with_last_quantity(app, f):
    user, _tier, water, chips = buyer_with_catalog(f)
    now = datetime.now(UTC)
    for n in range(3):
        f.order(user.partner, lines=[(water, 10 + n)], created_at=now - timedelta(days=30 * (3 - n)))
    f.order(user.partner, lines=[(chips, 5)], created_at=now - timedelta(days=400))  # too old
    page = signed_in(app, user).get("/catalog").text
    usual = page.split("Your usual basket")[1].split("</table>")[0]
    assert "Still water" in usual and "Crisps" not in usual
    assert 'value="12"' in usual


def test_staff_moves_an_order_through_its_lifecycle(app, f, db):
    manager = f.user(role="account_manager")
    user, _tier, water, _chips = buyer_with_catalog(f)
    user.partner.account_manager_id = manager.id
    db.commit()
    order = f.order(user.partner, lines=[(water, 1)])
    client = signed_in(app, manager)
    promised = (date.today() + timedelta(days=4)).isoformat()
    assert client.post(f"/manage/orders/{order.id}/confirm", data={"promised_date": promised}).status_code == 302
    client.post(f"/manage/orders/{order.id}/ship")
    response = client.post(f"/manage/orders/{order.id}/confirm", follow_redirects=True)
    assert "cannot be moved to confirmed" in response.text
    client.post(f"/manage/orders/{order.id}/deliver")
    db.expire_all()
    stored = db.get(Order, order.id)
    assert stored.status == "delivered" and stored.promised_date.isoformat() == promised
    assert stored.delivered_at is not None
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == order.id)
                         .order_by(AuditEvent.id)).all()
    assert actions == ["order_confirmed", "order_shipped", "order_delivered"]


def test_staff_cannot_move_orders_of_partners_they_do_not_manage(app, f, db):
    manager = f.user(role="account_manager")
    user, _tier, water, _chips = buyer_with_catalog(f)
    order = f.order(user.partner, lines=[(water, 1)])
    client = signed_in(app, manager)
    assert client.get(f"/manage/orders/{order.id}").status_code == 404
    assert client.post(f"/manage/orders/{order.id}/confirm").status_code == 404
    db.expire_all()
    assert db.get(Order, order.id).status == "submitted"


def test_buyer_cannot_use_staff_order_pages(app, f):
    user, _tier, water, _chips = buyer_with_catalog(f)
    order = f.order(user.partner, lines=[(water, 1)])
    client = signed_in(app, user)
    assert client.get("/manage/orders").status_code == 403
    assert client.post(f"/manage/orders/{order.id}/confirm").status_code == 403


def test_staff_order_list_filters_by_partner_and_exports_the_same_rows(app, f, db):
    manager = f.user(role="account_manager")
    first = f.partner(name="First Shop", account_manager_id=manager.id)
    second = f.partner(name="Second Shop", account_manager_id=manager.id)
    product = f.product(sku="BEV-001")
    mine = f.order(first, lines=[(product, 1)])
    other = f.order(second, lines=[(product, 2)])
    client = signed_in(app, manager)
    page = client.get(f"/manage/orders?partner={first.id}").text
    assert f"#{mine.id}<" in page and f"#{other.id}<" not in page
    export = client.get(f"/manage/orders/export.csv?partner={first.id}").text
    assert "First Shop" in export and "Second Shop" not in export
