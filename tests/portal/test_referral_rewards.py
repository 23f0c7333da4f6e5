"""Referral rewards: earned once when the referred partner's order is delivered, spent at checkout
as its own line (never below zero, the rest carried over), given back by a cancelled order."""
from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.core.access import Actor
from portal.models import AuditEvent, Credit, CreditUse, Notification, Order, Partner, ReferralReward
from portal.ordering import lifecycle, orders
from portal.referrals import conversion, intake, rewards
from tests.portal.factories import Factories
from tests.portal.helpers import bearer, issue, sign_in


def _referral(db, referrer, company="Green Grocer", key="k1"):
    data = intake.ReferralData(company_name=company, contact_name="Anna Nowak", consent=True,
                               email=f"anna@{company.lower().replace(' ', '')}.pl")
    return intake.submit(db, referrer, data, key=key, source="portal")[0]


def _convert(app, db, admin, referral, code="GREEN"):
    with app.test_request_context():
        return conversion.convert(db, Actor(admin.id, "admin"), referral.id,
                                  conversion.NewPartner(referral.company_name, code)).partner


def _deliver(app, db, admin, order_id):
    staff = Actor(admin.id, "admin")
    with app.test_request_context():
        for action in ("confirm", "ship", "deliver"):
            lifecycle.advance(db, staff, order_id, action)


@pytest.fixture
def world(app, db, f):
    """A referrer (with a buyer), its referral converted into the partner Green Grocer."""
    admin = f.user(role="admin")
    buyer = f.user()
    referrer = buyer.partner
    newcomer = _convert(app, db, admin, _referral(db, referrer))
    return {"admin": admin, "buyer": buyer, "referrer": referrer, "newcomer": newcomer}


def _reward(db) -> ReferralReward:
    db.expire_all()
    return db.scalar(select(ReferralReward))


def test_a_conversion_promises_a_pending_reward_and_the_first_delivery_grants_it(app, db, f, world):
    reward = _reward(db)
    assert (reward.status, reward.amount, reward.referrer_id) == ("pending", Decimal("200.00"),
                                                                  world["referrer"].id)
    assert db.scalar(select(func.count()).select_from(Credit)) == 0
    first = f.order(world["newcomer"], status="submitted")
    _deliver(app, db, world["admin"], first.id)
    reward = _reward(db)
    assert (reward.status, reward.order_id) == ("granted", first.id)
    credit = db.get(Credit, reward.credit_id)
    assert (credit.partner_id, credit.amount, credit.remaining) == (world["referrer"].id, Decimal("200.00"),
                                                                    Decimal("200.00"))
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("200.00")
    told = db.scalar(select(Notification).where(Notification.kind == "referral_reward_granted"))
    assert told.partner_id == world["referrer"].id and told.payload["amount"] == "200.00"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "referral_reward_granted")) is not None
    # A second delivery, and the sweep, grant nothing more.
    _deliver(app, db, world["admin"], f.order(world["newcomer"]).id)
    with app.app_context():
        assert rewards.grant_due(db) == 0
    assert db.scalar(select(func.count()).select_from(Credit)) == 1
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("200.00")


def test_an_order_of_someone_else_or_not_yet_delivered_grants_nothing(app, db, f, world):
    _deliver(app, db, world["admin"], f.order(world["referrer"]).id)  # the referrer's own order
    order = f.order(world["newcomer"])
    with app.test_request_context():
        lifecycle.advance(db, Actor(world["admin"].id, "admin"), order.id, "confirm")
    assert _reward(db).status == "pending"


def test_the_rule_can_ask_for_more_orders_and_revenue(make_app, db, f):
    app = make_app(REFERRAL_REWARD_ORDERS=2, REFERRAL_REWARD_REVENUE=Decimal("50.00"),
                   REFERRAL_REWARD_AMOUNT=Decimal("75.50"))
    admin, referrer = f.user(role="admin"), f.partner()
    newcomer = _convert(app, db, admin, _referral(db, referrer))
    product = f.product(base_price=Decimal("10.00"))
    _deliver(app, db, admin, f.order(newcomer, lines=[(product, 3)]).id)
    assert _reward(db).status == "pending"  # one order
    _deliver(app, db, admin, f.order(newcomer, lines=[(product, 1)]).id)
    assert _reward(db).status == "pending"  # two orders, 40.00 net
    _deliver(app, db, admin, f.order(newcomer, lines=[(product, 1)]).id)
    reward = _reward(db)
    assert (reward.status, reward.amount) == ("granted", Decimal("75.50"))


def test_the_sweep_rewards_a_conversion_from_before_rewards_existed(app, db, f, world):
    db.delete(_reward(db))
    db.commit()
    order = f.order(world["newcomer"], status="delivered")
    with app.app_context():
        assert rewards.grant_due(db) == 1
        assert rewards.grant_due(db) == 0  # safe to run again
    reward = _reward(db)
    assert (reward.status, reward.order_id) == ("granted", order.id)


def _granted(app, db, f, world, amount=None):
    _deliver(app, db, world["admin"], f.order(world["newcomer"]).id)
    if amount is not None:
        credit = db.get(Credit, _reward(db).credit_id)
        credit.amount = credit.remaining = amount
        db.get(Partner, world["referrer"].id).credit_balance = amount
        db.commit()


def _checkout(client, po=""):
    page = client.get("/checkout").text
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)
    return page, client.post("/checkout", data={"idempotency_key": key, "po_reference": po})


def test_checkout_takes_the_credit_off_the_net_total_as_its_own_line_with_vat_on_the_rest(
        app, db, f, world):
    _granted(app, db, f, world, Decimal("30.00"))
    client = app.test_client()
    sign_in(client, world["buyer"])
    food = f.product(base_price=Decimal("40.00"), vat_rate=5)
    wine = f.product(base_price=Decimal("60.00"), vat_rate=23)
    client.post("/cart/add", data={"product_id": food.id, "quantity": 1})
    client.post("/cart/add", data={"product_id": wine.id, "quantity": 1})
    page, response = _checkout(client)
    assert "Referral credit" in page and "taken off this order" in page
    assert response.status_code == 302
    db.expire_all()
    order = db.scalar(select(Order).where(Order.partner_id == world["referrer"].id))
    # 100.00 of lines less 30.00: 42.00 at 23 % (VAT 9.66) and 28.00 at 5 % (VAT 1.40).
    assert (order.subtotal, order.credit_applied, order.total) == (
        Decimal("100.00"), Decimal("30.00"), Decimal("70.00"))
    assert [(r.rate, r.net, r.vat) for r in order.vat_summary.rates] == [
        (23, Decimal("42.00"), Decimal("9.66")), (5, Decimal("28.00"), Decimal("1.40"))]
    assert (order.vat_total, order.gross_total) == (Decimal("11.06"), Decimal("81.06"))
    detail = client.get(f"/orders/{order.id}").text
    assert "Referral credit" in detail and "Subtotal (net)" in detail
    assert db.get(Credit, _reward(db).credit_id).remaining == 0
    assert db.get(Partner, world["referrer"].id).credit_balance == 0
    assert rewards.for_referrals(db, [_reward(db).referral_id])[_reward(db).referral_id].state == "used"


def test_a_credit_bigger_than_the_order_makes_it_free_and_the_rest_carries_over(app, db, f, world):
    _granted(app, db, f, world)  # 200.00
    product = f.product(base_price=Decimal("150.00"))
    actor = Actor.of(world["buyer"])
    with app.test_request_context():
        first = orders.place_order(db, actor, [orders.LineRequest(product.sku, 1)], key="one").order
    assert (first.total, first.credit_applied, first.gross_total) == (Decimal("0.00"), Decimal("150.00"),
                                                                      Decimal("0.00"))
    db.expire_all()
    actor = Actor.of(db.get(type(world["buyer"]), world["buyer"].id))
    assert actor.partner.credit_balance == Decimal("50.00")
    with app.test_request_context():
        second = orders.place_order(db, actor, [orders.LineRequest(product.sku, 1)], key="two").order
    assert (second.credit_applied, second.total) == (Decimal("50.00"), Decimal("100.00"))
    reward_view = rewards.for_referrals(db, [_reward(db).referral_id])[_reward(db).referral_id]
    assert (reward_view.state, reward_view.remaining) == ("used", Decimal("0.00"))
    # A replay of the first order's key takes nothing more.
    db.expire_all()
    with app.test_request_context():
        again = orders.place_order(db, Actor.of(db.get(type(world["buyer"]), world["buyer"].id)),
                                   [orders.LineRequest(product.sku, 1)], key="one")
    assert not again.created
    assert db.scalar(select(func.count()).select_from(CreditUse)) == 2


def test_a_cancelled_order_gives_its_credit_back(app, db, f, world):
    _granted(app, db, f, world, Decimal("30.00"))
    product = f.product(base_price=Decimal("20.00"))
    client = app.test_client()
    sign_in(client, world["buyer"])
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    _checkout(client)
    db.expire_all()
    order = db.scalar(select(Order).where(Order.partner_id == world["referrer"].id))
    assert order.credit_applied == Decimal("20.00")
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("10.00")
    assert client.post(f"/orders/{order.id}/cancel").status_code == 302
    db.expire_all()
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("30.00")
    assert db.get(Credit, _reward(db).credit_id).remaining == Decimal("30.00")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "credit_returned")) is not None
    assert "credit of PLN\xa020.00 it used was given back" in client.get(f"/orders/{order.id}").text
    # A staff cancellation of a second order returns its use once too.
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    _checkout(client)
    db.expire_all()
    second = db.scalar(select(Order).where(Order.partner_id == world["referrer"].id, Order.status == "submitted"))
    with app.test_request_context():
        lifecycle.advance(db, Actor(world["admin"].id, "admin"), second.id, "cancel")
    db.expire_all()
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("30.00")


def test_the_api_and_the_csv_show_the_credit(app, db, f, world):
    _granted(app, db, f, world, Decimal("5.00"))
    product = f.product(sku="TEA-9", base_price=Decimal("12.00"))
    client = app.test_client()
    token = issue(client, world["buyer"])
    body = client.post("/api/v1/orders", json={"lines": [{"sku": "TEA-9", "quantity": 1}]},
                       headers={**bearer(token), "Idempotency-Key": "api-1"}).get_json()
    assert (body["subtotal"], body["credit_applied"], body["net_total"]) == ("12.00", "5.00", "7.00")
    got = client.get(f"/api/v1/orders/{body['id']}", headers=bearer(token)).get_json()
    assert got["credit_applied"] == "5.00"
    web = app.test_client()
    sign_in(web, world["buyer"])
    csv_text = web.get("/orders/export.csv").text
    header, row = csv_text.lstrip("\ufeff").splitlines()[:2]
    columns = header.split(",")
    cells = dict(zip(columns, row.split(","), strict=False))
    assert (cells["order_total"], cells["order_subtotal"], cells["order_credit"]) == ("7.00", "12.00", "5.00")
    assert cells["sku"] == product.sku


def test_standing_orders_do_not_spend_credit(app, db, f, world):
    _granted(app, db, f, world)
    product = f.product()
    actor = Actor.of(world["buyer"])
    with app.test_request_context():
        placed = orders.place_order(db, actor, [orders.LineRequest(product.sku, 1)], key="standing",
                                    source="recurring").order
    assert placed.credit_applied == 0
    assert db.get(Partner, world["referrer"].id).credit_balance == Decimal("200.00")


def test_the_referrer_sees_its_rewards_and_another_partner_does_not(app, db, f, world):
    _granted(app, db, f, world)
    client = app.test_client()
    sign_in(client, world["buyer"])
    page = client.get("/referrals").text
    page = page.replace("\xa0", " ")  # money keeps its currency with a no-break space
    assert "Green Grocer" in page and "granted</span> PLN 200.00" in page
    assert "You have PLN 200.00 of credit" in page
    stranger = app.test_client()
    sign_in(stranger, f.user())
    other = stranger.get("/referrals").text
    assert "Green Grocer" not in other and "badge-granted" not in other and "of credit" not in other


@pytest.mark.postgres
@pytest.mark.parametrize("needed", [1, 4])
def test_deliveries_at_once_grant_exactly_one_reward(live_pg_app, needed):
    """Four deliveries at once: with one order needed, one grants and the rest find it granted;
    with four needed, the last to lock the reward sees the others' committed deliveries."""
    app = live_pg_app
    app.config["REFERRAL_REWARD_ORDERS"] = needed
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        admin, referrer = f.user(role="admin"), f.partner()
        newcomer = _convert(app, db, admin, _referral(db, referrer))
        order_ids = []
        for _ in range(4):
            order = f.order(newcomer, status="shipped")
            order_ids.append(order.id)
    barrier, errors = threading.Barrier(4), []

    def deliver(order_id):
        with app.test_request_context(), factory() as db:
            barrier.wait()
            try:
                lifecycle.advance(db, Actor(admin.id, "admin"), order_id, "deliver")
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

    threads = [threading.Thread(target=deliver, args=(order_id,)) for order_id in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Order).where(Order.status == "delivered")) == 4
        assert db.scalar(select(func.count()).select_from(Credit)) == 1
        assert db.scalar(select(ReferralReward.status)) == "granted"
        assert db.get(Partner, referrer.id).credit_balance == Decimal("200.00")
        assert db.scalar(select(func.count()).select_from(Notification)
                         .where(Notification.kind == "referral_reward_granted")) == 1


@pytest.mark.postgres
def test_two_checkouts_at_once_spend_the_credit_once(live_pg_app):
    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    with factory() as db:
        f = Factories(db)
        admin, buyer = f.user(role="admin"), f.user()
        newcomer = _convert(app, db, admin, _referral(db, buyer.partner))
        _deliver(app, db, admin, f.order(newcomer).id)
        product = f.product(sku="BIG-1", base_price=Decimal("150.00"))
        actor = Actor.of(db.get(type(buyer), buyer.id))
        assert actor.partner.credit_balance == Decimal("200.00")
    barrier, results = threading.Barrier(4), []

    def place(n):
        with app.test_request_context(), factory() as db:
            barrier.wait()
            results.append(orders.place_order(db, actor, [orders.LineRequest("BIG-1", 1)], key=f"k{n}").order)

    threads = [threading.Thread(target=place, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert sorted(order.credit_applied for order in results) == [
        Decimal("0.00"), Decimal("0.00"), Decimal("50.00"), Decimal("150.00")]
    with factory() as db:
        assert db.scalar(select(Credit.remaining)) == Decimal("0.00")
        assert db.get(Partner, buyer.partner_id).credit_balance == Decimal("0.00")
        assert db.scalar(select(func.sum(CreditUse.amount))) == Decimal("200.00")
        assert {order.subtotal for order in results} == {product.base_price}


def test_the_cli_catches_up_rewards_and_the_beat_runs_it_daily(app, db, f, world):
    db.delete(_reward(db))
    db.commit()
    f.order(world["newcomer"], status="delivered")
    result = app.test_cli_runner().invoke(args=["referrals", "rewards"])
    assert result.exit_code == 0, result.output
    assert "Rewards granted: 1" in result.output
    assert _reward(db).status == "granted"
    again = app.test_cli_runner().invoke(args=["referrals", "rewards"])
    assert again.exit_code == 0 and "Rewards granted: 0" in again.output
    from portal.jobs.celery_app import make_celery

    beat = {entry["task"] for entry in make_celery(app).conf.beat_schedule.values()}
    assert "trellis.referrals.rewards" in beat


def test_the_referral_api_shows_the_reward_to_its_referrer(app, db, f, world):
    client = app.test_client()
    token = issue(client, world["buyer"])
    listed = client.get("/api/v1/referrals", headers=bearer(token)).get_json()["items"]
    assert listed[0]["reward"] == {"state": "pending", "amount": "200.00", "remaining": "200.00",
                                   "granted_at": None}
    _granted(app, db, f, world)
    one = client.get(f"/api/v1/referrals/{listed[0]['id']}", headers=bearer(token)).get_json()
    assert (one["reward"]["state"], one["reward"]["remaining"]) == ("granted", "200.00")
    assert one["reward"]["granted_at"] is not None


def test_staff_see_the_reward_on_the_referral_and_in_the_report(app, db, f, world):
    _granted(app, db, f, world)
    client = app.test_client()
    sign_in(client, world["admin"])
    referral_id = _reward(db).referral_id
    page = client.get(f"/manage/referrals/{referral_id}").text.replace("\xa0", " ")
    assert "Referrer's reward" in page and "badge-granted" in page and "PLN 200.00" in page
    csv_text = client.get("/manage/referrals/report.csv").text
    header, *rows = csv_text.strip().splitlines()
    assert header.endswith(",rewards_granted")
    assert any(row.startswith(world["referrer"].code + ",") and row.endswith(",200.00") for row in rows)


def test_the_credit_reads_in_polish_with_polish_money(app, db, f, world):
    _granted(app, db, f, world, Decimal("1234.50"))
    world["buyer"].locale = "pl"
    db.commit()
    client = app.test_client()
    sign_in(client, world["buyer"])
    page = re.sub("[\xa0\u202f]", " ", client.get("/referrals").text)  # no-break spaces
    assert "przyznana" in page and "Masz 1 234,50 zł środków za polecenia" in page
    product = f.product(base_price=Decimal("10.00"))
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    checkout = re.sub("[\xa0\u202f]", " ", client.get("/checkout").text)
    assert "Rabat za polecenie" in checkout and "−10,00 zł" in checkout
    assert "1 224,50 zł zostaje na kolejne zamówienia." in checkout


def test_imported_history_and_orders_from_before_the_conversion_earn_nothing(app, db, f, world):
    from datetime import timedelta

    f.order(world["newcomer"], status="delivered", source="import")
    f.order(world["newcomer"], status="delivered",
            created_at=db.get(type(_reward(db).referral), _reward(db).referral_id).converted_at - timedelta(days=3))
    with app.app_context():
        assert rewards.grant_due(db) == 0
    assert _reward(db).status == "pending"
    _deliver(app, db, world["admin"], f.order(world["newcomer"]).id)  # a real first order
    assert _reward(db).status == "granted"


def test_a_credit_spent_elsewhere_after_the_checkout_page_was_shown_is_not_silently_missing(app, db, f, world):
    _granted(app, db, f, world, Decimal("5.00"))
    product = f.product(sku="TEA-7", base_price=Decimal("10.00"))
    web = app.test_client()
    sign_in(web, world["buyer"])
    web.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    page = web.get("/checkout").text
    shown = re.search(r'name="expected_total" type="hidden" value="([0-9.]+)"', page).group(1)
    assert shown == "6.15"  # (10.00 - 5.00) + 23 % VAT
    api = app.test_client()
    token = issue(api, world["buyer"])
    assert api.post("/api/v1/orders", json={"lines": [{"sku": "TEA-7", "quantity": 1}]},
                    headers={**bearer(token), "Idempotency-Key": "elsewhere"}).status_code == 201
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page).group(1)
    refused = web.post("/checkout", data={"idempotency_key": key, "expected_total": shown})
    assert refused.status_code == 422 and "The total changed" in refused.text
    assert db.scalar(select(func.count()).select_from(Order)
                     .where(Order.partner_id == world["referrer"].id)) == 1
