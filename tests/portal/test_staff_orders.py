"""Staff orders: the partner filter that survives everything, search, sorting, pages, and
cancelling with a reason."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Order
from tests.portal.helpers import sign_in


def signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def order_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/manage/orders/(\d+)"', page)]


@pytest.fixture
def portfolio(f, db):
    """A manager with two partners (30 orders and 3), and another manager's partner."""
    manager = f.user(role="account_manager")
    big = f.partner(name="Big Shop", account_manager_id=manager.id)
    small = f.partner(name="Small Shop", account_manager_id=manager.id)
    theirs = f.partner(name="Their Shop", account_manager_id=f.user(role="account_manager").id)
    product = f.product(base_price=Decimal("1.00"))
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    big_orders = [f.order(big, lines=[(product, n + 1)], created_at=start + timedelta(days=n),
                          status="cancelled" if n % 10 == 0 else "submitted") for n in range(30)]
    small_orders = [f.order(small, lines=[(product, 5)], created_at=start + timedelta(days=n))
                    for n in range(3)]
    their_order = f.order(theirs, lines=[(product, 1)])
    return manager, big, small, theirs, big_orders, small_orders, their_order


def test_the_partner_filter_survives_status_filter_paging_and_sorting(app, portfolio):
    manager, big, small, _theirs, big_orders, small_orders, _their = portfolio
    client = signed_in(app, manager)
    page = client.get(f"/manage/orders?partner={big.id}").text
    assert "30 orders of any status" in page and "Orders of Big Shop" in page
    assert not set(order_numbers(page)) & {o.id for o in small_orders}
    # filtering by status keeps the partner
    page = client.get(f"/manage/orders?partner={big.id}&status=submitted").text
    assert "27 orders" in page
    assert set(order_numbers(page)) <= {o.id for o in big_orders if o.status == "submitted"}
    # the partner is selected in the filter form, so the next Filter click keeps it
    assert re.search(rf'<option selected value="{big.id}">|<option value="{big.id}" selected>', page)
    # page links and sort links keep partner and status
    links = re.findall(r'href="(/manage/orders\?[^"]+)"', page)
    assert links and all(f"partner={big.id}" in link and "status=submitted" in link
                         for link in links if "page=" in link or "sort=" in link)
    second = client.get(f"/manage/orders?partner={big.id}&status=submitted&page=2").text
    assert len(order_numbers(second)) == 2
    assert set(order_numbers(second)) <= {o.id for o in big_orders}
    by_total = client.get(f"/manage/orders?partner={big.id}&sort=total&dir=asc&page=2").text
    assert "page=1" in by_total and f"partner={big.id}" in by_total.split('class="pager"')[1]
    assert order_numbers(by_total) == [o.id for o in big_orders[25:]]


def test_sorting_by_total_status_and_date_both_ways_with_a_stable_tiebreak(app, f, db):
    admin = f.user(role="admin")
    partner = f.partner()
    product = f.product(base_price=Decimal("1.00"))
    same_time = datetime(2026, 3, 1, 10, tzinfo=UTC)
    a = f.order(partner, lines=[(product, 3)], created_at=same_time, status="shipped")
    b = f.order(partner, lines=[(product, 1)], created_at=same_time, status="submitted")
    c = f.order(partner, lines=[(product, 3)], created_at=same_time - timedelta(days=1), status="cancelled")
    client = signed_in(app, admin)

    def ids(query):
        return order_numbers(client.get(f"/manage/orders?{query}").text)

    assert ids("") == [b.id, a.id, c.id]                       # newest first, then by number
    assert ids("sort=date&dir=asc") == [c.id, a.id, b.id]
    assert ids("sort=total&dir=desc") == [c.id, a.id, b.id]    # equal totals: higher number first
    assert ids("sort=total&dir=asc") == [b.id, a.id, c.id]
    assert ids("sort=status") == [b.id, a.id, c.id]            # along the lifecycle
    assert ids("sort=status&dir=desc") == [c.id, a.id, b.id]


@pytest.mark.parametrize("query", ["sort=password_hash", "sort=total&dir=sideways", "sort=", "dir=asc",
                                   "sort=" + "x" * 5000, "sort=id;drop table orders"])
def test_a_sort_outside_the_whitelist_is_the_default_not_an_error(app, f, query):
    admin = f.user(role="admin")
    partner = f.partner()
    older = f.order(partner, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = f.order(partner, created_at=datetime(2026, 2, 1, tzinfo=UTC))
    response = signed_in(app, admin).get(f"/manage/orders?{query}")
    assert response.status_code == 200
    assert order_numbers(response.text) == [newer.id, older.id]  # equal totals: by number


def test_search_finds_an_order_by_its_number_exactly(app, portfolio):
    manager, big, _small, _theirs, big_orders, small_orders, their_order = portfolio
    client = signed_in(app, manager)
    wanted = big_orders[3]
    assert order_numbers(client.get(f"/manage/orders?q={wanted.id}").text) == [wanted.id]
    assert order_numbers(client.get(f"/manage/orders?q=%23{wanted.id}").text) == [wanted.id]
    assert order_numbers(client.get(f"/manage/orders?q={wanted.id}&partner={big.id}").text) == [wanted.id]
    # exact, not "contains"; and within the partner filter
    assert order_numbers(client.get(f"/manage/orders?q={wanted.id}9999").text) == []
    assert order_numbers(client.get(f"/manage/orders?q={small_orders[0].id}&partner={big.id}").text) == []
    # another manager's order is not found by its number, and nonsense finds nothing
    assert order_numbers(client.get(f"/manage/orders?q={their_order.id}").text) == []
    for odd in ("abc", "99999999999999999999", "0", "-3", "²", "%231%232"):
        response = client.get(f"/manage/orders?q={odd}")
        assert response.status_code == 200 and order_numbers(response.text) == [], odd


def test_the_partner_selector_offers_only_the_managers_partners(app, portfolio):
    manager, big, small, theirs, *_rest = portfolio
    page = signed_in(app, manager).get("/manage/orders").text
    select_box = page.split('name="partner"')[1].split("</select>")[0]
    assert "Big Shop" in select_box and "Small Shop" in select_box and "Their Shop" not in select_box


def test_a_manager_cannot_filter_by_another_managers_partner(app, db, portfolio):
    manager, _big, _small, theirs, _b, _s, their_order = portfolio
    client = signed_in(app, manager)
    for url in (f"/manage/orders?partner={theirs.id}", f"/manage/orders/export.csv?partner={theirs.id}",
                f"/manage/orders?partner={theirs.id}&status=submitted"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert f"#{their_order.id}" not in response.text and "Their Shop" not in response.text
    assert client.get(f"/manage/orders?partner={theirs.id + 1000}").status_code == 404
    denied = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz_denied")).all()
    assert len(denied) == 3  # the foreign ones, not the missing one


def test_an_admin_filters_by_any_partner(app, f, portfolio):
    _manager, _big, _small, theirs, _b, _s, their_order = portfolio
    page = signed_in(app, f.user(role="admin")).get(f"/manage/orders?partner={theirs.id}").text
    assert order_numbers(page) == [their_order.id]


def test_the_staff_order_page_has_breadcrumbs_and_a_small_red_cancel_apart_from_confirm(app, portfolio):
    manager, big, _small, _theirs, big_orders, *_rest = portfolio
    order = big_orders[1]
    page = signed_in(app, manager).get(f"/manage/orders/{order.id}").text
    crumbs = page.split('class="breadcrumb"')[1].split("</nav>")[0]
    assert 'href="/manage/orders"' in crumbs and f'href="/manage/orders?partner={big.id}"' in crumbs
    assert "Big Shop" in crumbs and f"Order #{order.id}" in crumbs
    actions = page.split('class="actions staff-actions"')[1].split("</div>")[0]
    confirm, cancel = actions.split('class="spacer"')
    assert 'class="primary">Confirm' in confirm
    assert "danger-action" in cancel and "small" in cancel and f"/manage/orders/{order.id}/cancel" in cancel


def test_staff_cancel_asks_first_and_keeps_the_reason_in_the_audit_trail(app, db, portfolio):
    manager, _big, _small, _theirs, big_orders, *_rest = portfolio
    order = big_orders[1]
    client = signed_in(app, manager)
    ask = client.get(f"/manage/orders/{order.id}/cancel")
    assert ask.status_code == 200
    assert f"Cancel order #{order.id} of Big Shop?" in ask.text and 'name="reason"' in ask.text
    db.expire_all()
    assert db.get(Order, order.id).status == "submitted"  # asking changes nothing
    too_long = client.post(f"/manage/orders/{order.id}/cancel", data={"reason": "x" * 501})
    assert too_long.status_code == 422
    db.expire_all()
    assert db.get(Order, order.id).status == "submitted"
    done = client.post(f"/manage/orders/{order.id}/cancel",
                       data={"reason": "  Partner phoned: ordered twice by mistake  "})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Order, order.id).status == "cancelled"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "order_cancelled",
                                               AuditEvent.target_id == order.id))
    assert event.actor_id == manager.id
    assert event.detail == {"previous": "submitted", "status": "cancelled",
                            "reason": "Partner phoned: ordered twice by mistake"}
    page = client.get(f"/manage/orders/{order.id}").text
    assert "Partner phoned: ordered twice by mistake" in page  # in the order's history
    assert f"/manage/orders/{order.id}/cancel" not in page     # nothing left to cancel


def test_staff_cancel_without_a_reason_and_of_a_shipped_order(app, db, portfolio):
    manager, _big, _small, _theirs, big_orders, *_rest = portfolio
    client = signed_in(app, manager)
    client.post(f"/manage/orders/{big_orders[1].id}/cancel", data={"reason": ""})
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "order_cancelled"))
    assert "reason" not in event.detail
    shipped = big_orders[2]
    shipped.status = "shipped"
    db.commit()
    response = client.get(f"/manage/orders/{shipped.id}/cancel", follow_redirects=True)
    assert "cannot be cancelled" in response.text
    response = client.post(f"/manage/orders/{shipped.id}/cancel", follow_redirects=True)
    assert "cannot be moved to cancelled" in response.text
    db.expire_all()
    assert db.get(Order, shipped.id).status == "shipped"

