"""Order status changes and checkout under real concurrency: run on PostgreSQL with threads."""
from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, CartLine, Order
from tests.portal.factories import Factories
from tests.portal.helpers import bearer, issue, sign_in

pytestmark = pytest.mark.postgres


def run_together(*calls):
    """Run the calls in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


@pytest.fixture
def shop(live_pg_app):
    """A buyer, their account manager and a submitted order."""
    with live_pg_app.extensions["trellis.session_factory"]() as db:
        f = Factories(db)
        manager = f.user(role="account_manager")
        buyer = f.user()
        buyer.partner.account_manager_id = manager.id
        db.commit()
        water = f.product(sku="BEV-001", base_price=Decimal("1.05"))
        order = f.order(buyer.partner, lines=[(water, 2)])
        return live_pg_app, buyer, manager, water, order.id


def stored(app, order_id):
    with app.extensions["trellis.session_factory"]() as db:
        status = db.scalar(select(Order.status).where(Order.id == order_id))
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == order_id,
                                                             AuditEvent.target_type == "orders")).all()
        return status, sorted(actions)


def test_eight_simultaneous_confirms_make_one_success_and_one_audit_event(shop):
    app, _buyer, manager, _water, order_id = shop
    clients = [signed_in(app, manager) for _ in range(8)]
    responses = run_together(*(
        lambda c=c: c.post(f"/manage/orders/{order_id}/confirm", follow_redirects=True) for c in clients
    ))
    successes = [r for r in responses if f"Order #{order_id} is confirmed" in r.text]
    refusals = [r for r in responses if "cannot be moved to confirmed" in r.text]
    assert len(successes) == 1 and len(refusals) == 7
    assert stored(app, order_id) == ("confirmed", ["order_confirmed"])


@pytest.mark.parametrize("partner_side", ["page", "api"])
def test_a_cancel_and_a_confirm_at_once_one_wins_and_the_other_is_told(shop, partner_side):
    app, buyer, manager, _water, order_id = shop
    staff = signed_in(app, manager)
    if partner_side == "page":
        partner = signed_in(app, buyer)

        def cancel():
            response = partner.post(f"/orders/{order_id}/cancel", follow_redirects=True)
            return "The order is cancelled." in response.text, response
    else:
        token = issue(app.test_client(), buyer)
        partner = app.test_client()

        def cancel():
            response = partner.post(f"/api/v1/orders/{order_id}/cancel", headers=bearer(token))
            assert response.status_code in (200, 409), response.json
            assert response.status_code == 200 or response.json["error"]["code"]
            return response.status_code == 200, response

    def confirm():
        response = staff.post(f"/manage/orders/{order_id}/confirm", follow_redirects=True)
        return f"Order #{order_id} is confirmed" in response.text, response

    (cancelled, cancel_response), (confirmed, confirm_response) = run_together(cancel, confirm)
    assert cancelled != confirmed  # exactly one of them succeeded
    status, actions = stored(app, order_id)
    if cancelled:
        assert status == "cancelled" and actions == ["order_cancelled"]
        assert "An order that is cancelled cannot be moved to confirmed" in confirm_response.text
    else:
        assert status == "confirmed" and actions == ["order_confirmed"]
        text = cancel_response.text if partner_side == "page" else cancel_response.json["error"]["message"]
        assert "Only a submitted order can be cancelled; this one is confirmed" in text


def checkout_key(client) -> str:
    page = client.get("/checkout")
    assert page.status_code == 200, page.text
    return re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page.text).group(1)


def test_two_checkout_tabs_submitted_at_once_place_one_order_and_both_lead_to_it(shop, monkeypatch):
    from portal.ordering import cart

    app, buyer, _manager, water, _order_id = shop
    client = signed_in(app, buyer)
    assert client.post("/cart/add", data={"product_id": water.id, "quantity": 5}).status_code == 302
    keys = [checkout_key(client), checkout_key(client)]  # two tabs, one form each
    tabs = [signed_in(app, buyer) for _ in keys]
    # Both submits read the cart before either goes on to empty it.
    both_read = threading.Barrier(2, timeout=10)
    read_cart = cart.view

    def view_then_wait(session, user):
        view = read_cart(session, user)
        both_read.wait()
        return view

    monkeypatch.setattr(cart, "view", view_then_wait)
    responses = run_together(*(
        lambda tab=tab, key=key: tab.post("/checkout", data={"idempotency_key": key})
        for tab, key in zip(tabs, keys, strict=True)
    ))
    monkeypatch.setattr(cart, "view", read_cart)
    with app.extensions["trellis.session_factory"]() as db:
        placed = db.scalars(select(Order.id).where(Order.placed_by_id == buyer.id)).all()
        assert len(placed) == 1
        assert db.scalar(select(func.count(CartLine.id))) == 0
    assert [r.status_code for r in responses] == [302, 302]
    # The tab that placed it gets the thank-you page, the other the order with a word why.
    assert sorted(r.headers["Location"] for r in responses) == [f"/orders/{placed[0]}",
                                                                f"/orders/{placed[0]}/thank-you"]
    pages = [tab.get(r.headers["Location"]).text for tab, r in zip(tabs, responses, strict=True)]
    told = [page for page in pages if "already ordered from another tab or window" in page]
    assert len(told) == 1 and sum(f"Order #{placed[0]} is placed" in page for page in pages) == 1
