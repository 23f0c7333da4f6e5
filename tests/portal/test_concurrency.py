"""Races that only a real database shows: run on PostgreSQL (SQLite has one writer)."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import Order, OrderLine
from tests.portal.factories import Factories
from tests.portal.helpers import bearer, issue

pytestmark = pytest.mark.postgres
THREADS = 10


def test_ten_simultaneous_submissions_with_one_key_make_one_order(live_pg_app):
    app = live_pg_app
    with app.extensions["trellis.session_factory"]() as db:
        f = Factories(db)
        user = f.user()
        f.product(sku="BEV-001", base_price=Decimal("1.05"))
    token = issue(app.test_client(), user)
    barrier = threading.Barrier(THREADS)
    responses = []

    def submit():
        client = app.test_client()
        barrier.wait()
        responses.append(client.post(
            "/api/v1/orders", json={"lines": [{"sku": "BEV-001", "quantity": 3}]},
            headers={**bearer(token), "Idempotency-Key": "same-key"},
        ))

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (THREADS - 1) + [201], [r.json for r in responses]
    assert len({r.json["id"] for r in responses}) == 1
    with app.extensions["trellis.session_factory"]() as db:
        assert db.scalar(select(func.count(Order.id))) == 1
        assert db.scalar(select(func.count(OrderLine.id))) == 1


def test_simultaneous_orders_each_get_their_own_number_so_no_milestone_is_missed(live_pg_app):
    from portal.models import Notification, Partner

    app = live_pg_app
    with app.extensions["trellis.session_factory"]() as db:
        f = Factories(db)
        user = f.user()
        f.product(sku="BEV-001", base_price=Decimal("1.05"))
    token = issue(app.test_client(), user)
    barrier = threading.Barrier(THREADS)
    codes = []

    def submit(n):
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(
            "/api/v1/orders", json={"lines": [{"sku": "BEV-001", "quantity": n + 1}]},
            headers={**bearer(token), "Idempotency-Key": f"key-{n}"},
        ).status_code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert codes == [201] * THREADS
    with app.extensions["trellis.session_factory"]() as db:
        assert db.scalar(select(Partner.order_count).where(Partner.id == user.partner_id)) == THREADS
        kinds = sorted(db.scalars(select(Notification.kind)))
        assert kinds == ["thank_you_first_order", "thank_you_order_milestone"]


def test_ten_simultaneous_accepts_of_one_invitation_make_one_account(live_pg_app):
    from portal.models import User
    from tests.portal.helpers import sign_in
    from tests.portal.test_people import invite

    app = live_pg_app
    with app.extensions["trellis.session_factory"]() as db:
        owner = Factories(db).user(role="partner_admin")
    inviter = app.test_client()
    sign_in(inviter, owner)
    link = invite(inviter, email="racer@example.test")
    barrier = threading.Barrier(THREADS)
    responses = []

    def accept():
        client = app.test_client()
        barrier.wait()
        responses.append(client.post(link, data={"name": "Racer", "password": "long enough pass",
                                                 "confirm": "long enough pass"}))

    threads = [threading.Thread(target=accept) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(302) == 1 and all(code < 500 for code in codes), codes
    refusals = [r.text for r in responses if r.status_code != 302]
    assert all("already" in text or "no longer" in text or "not valid" in text for text in refusals)
    with app.extensions["trellis.session_factory"]() as db:
        assert db.scalar(select(func.count(User.id)).where(User.email == "racer@example.test")) == 1
