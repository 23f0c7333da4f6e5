"""Generating standing orders: each occurrence exactly once, catch-up, skips, pauses, failures."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.core.access import Actor
from portal.core.errors import NotFound
from portal.models import Notification, Order, Partner, Product, RecurringRun
from portal.ordering import credits
from portal.recurring import engine, standing
from portal.recurring.standing import ScheduleData
from tests.portal.factories import Factories

START = date(2027, 1, 31)


@pytest.fixture
def setup(app, f, db):
    buyer = f.user()
    water = f.product(sku="BEV-001", name="Still water 1.5 l", base_price=Decimal("1.20"))
    jam = f.product(sku="JAM-280", name="Strawberry jam 280 g", base_price=Decimal("3.50"))
    actor = Actor.of(buyer)
    schedule = standing.create(db, actor, ScheduleData(
        name="Monthly restock", cadence="monthly", start_date=START,
        lines=[(water.id, 24), (jam.id, 6)]), today=date(2027, 1, 10))[0]
    return app.extensions["trellis.session_factory"], buyer, actor, schedule, water, jam


def runs(db, schedule_id):
    db.expire_all()
    return [(r.occurrence_date, r.outcome, r.reason) for r in db.scalars(
        select(RecurringRun).where(RecurringRun.recurring_order_id == schedule_id)
        .order_by(RecurringRun.occurrence_date))]


def orders_of(db, partner_id):
    return db.scalars(select(Order).where(Order.partner_id == partner_id).order_by(Order.id)).all()


def test_the_day_comes_the_order_is_placed_once_however_often_it_runs(setup, db):
    factory, buyer, _actor, schedule, water, jam = setup
    assert engine.generate_due(factory, date(2027, 1, 30)).occurrences == 0  # not yet
    summary = engine.generate_due(factory, START)
    assert (summary.created, summary.schedules) == (1, 1)
    again = engine.generate_due(factory, START)
    assert again.occurrences == 0
    [order] = orders_of(db, buyer.partner_id)
    assert order.source == "recurring" and order.idempotency_key == f"recurring:{schedule.id}:2027-01-31"
    assert {(line.sku, line.quantity) for line in order.lines} == {("BEV-001", 24), ("JAM-280", 6)}
    assert order.total == Decimal("49.80")
    assert runs(db, schedule.id) == [(START, "created", "")]
    assert db.scalar(select(RecurringRun.order_id)) == order.id


def test_a_standing_order_spends_no_credit_and_its_first_order_is_thanked_once(setup, db):
    factory, buyer, *_ = setup
    credits.grant(db, partner_id=buyer.partner_id, amount=Decimal("20.00"), kind="referral",
                  source_key="referral:test")
    db.commit()
    engine.generate_due(factory, START)
    [order] = orders_of(db, buyer.partner_id)
    assert order.credit_applied == 0 and order.total == Decimal("49.80")
    assert db.get(Partner, buyer.partner_id).credit_balance == Decimal("20.00")
    [note] = db.scalars(select(Notification)).all()
    assert (note.kind, note.subject_key, note.user_id) == (  # placed by the system: the partner's admins
        "thank_you_first_order", f"partner:{buyer.partner_id}:orders:1", None)
    assert note.payload["order_id"] == order.id and note.payload["order_count"] == 1


def test_after_downtime_only_the_latest_missed_date_is_placed(setup, db):
    factory, buyer, _actor, schedule, *_ = setup
    summary = engine.generate_due(factory, date(2027, 4, 30))  # three months down: Jan, Feb, Mar, Apr due
    assert (summary.missed, summary.created) == (3, 1)
    assert runs(db, schedule.id) == [
        (date(2027, 1, 31), "missed", "later_occurrence_due"),
        (date(2027, 2, 28), "missed", "later_occurrence_due"),
        (date(2027, 3, 31), "missed", "later_occurrence_due"),
        (date(2027, 4, 30), "created", ""),
    ]
    assert len(orders_of(db, buyer.partner_id)) == 1


def test_a_skipped_date_is_recorded_and_only_that_date_is_left_out(setup, db):
    factory, buyer, actor, schedule, *_ = setup
    standing.skip(db, actor, schedule.id, date(2027, 2, 28), today=date(2027, 2, 1))
    for day in (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)):
        engine.generate_due(factory, day)
    assert [outcome for _d, outcome, _r in runs(db, schedule.id)] == ["created", "skipped", "created"]
    assert len(orders_of(db, buyer.partner_id)) == 2
    assert standing.next_dates(db, standing.get(db, actor, schedule.id), date(2027, 4, 1), count=3) == [
        date(2027, 4, 30), date(2027, 5, 31), date(2027, 6, 30)]  # the anchor (31st) never moved


def test_dates_inside_a_pause_are_neither_placed_nor_missed(setup, db):
    factory, buyer, actor, schedule, *_ = setup
    engine.generate_due(factory, START)
    standing.pause(db, actor, schedule.id, until=None, today=date(2027, 2, 1))
    engine.generate_due(factory, date(2027, 3, 31))
    standing.resume(db, actor, schedule.id, today=date(2027, 4, 10))
    engine.generate_due(factory, date(2027, 4, 30))
    assert runs(db, schedule.id) == [
        (date(2027, 1, 31), "created", ""), (date(2027, 2, 28), "paused", ""),
        (date(2027, 3, 31), "paused", ""), (date(2027, 4, 30), "created", "")]
    assert len(orders_of(db, buyer.partner_id)) == 2


def test_a_pause_with_a_resume_date_ends_by_itself(setup, db):
    factory, _buyer, actor, schedule, *_ = setup
    standing.pause(db, actor, schedule.id, until=date(2027, 3, 1), today=date(2027, 1, 20))
    engine.generate_due(factory, date(2027, 1, 31))
    engine.generate_due(factory, date(2027, 2, 28))
    engine.generate_due(factory, date(2027, 3, 31))
    assert [o for _d, o, _r in runs(db, schedule.id)] == ["paused", "paused", "created"]
    assert standing.get(db, actor, schedule.id).status == "active"


def test_a_product_no_longer_sold_is_left_out_and_both_sides_are_told(setup, db):
    factory, buyer, _actor, schedule, _water, jam = setup
    db.get(Product, jam.id).active = False
    db.commit()
    engine.generate_due(factory, START)
    [order] = orders_of(db, buyer.partner_id)
    assert [line.sku for line in order.lines] == ["BEV-001"]
    run = db.scalar(select(RecurringRun))
    assert run.outcome == "created"
    assert run.detail["unavailable"] == [{"sku": "JAM-280", "name": "Strawberry jam 280 g",
                                          "quantity": 6, "why": "no_longer_sold"}]
    kinds = db.execute(select(Notification.kind, Notification.channel)).all()
    assert ("recurring_order_partial", None) in kinds and ("recurring_order_partial", "phone") in kinds


def test_nothing_orderable_fails_with_its_reason_and_the_batch_goes_on(setup, db, f):
    factory, buyer, _actor, schedule, water, jam = setup
    chips = f.product(sku="SNK-010", name="Crisps 150 g")
    healthy = standing.create(db, Actor.of(f.user()), ScheduleData(
        name="", cadence="monthly", start_date=START, lines=[(chips.id, 5)]), today=date(2027, 1, 1))[0]
    db.get(Product, water.id).active = False
    db.get(Product, jam.id).active = False
    db.commit()
    summary = engine.generate_due(factory, START)
    assert (summary.created, summary.failed) == (1, 1)
    assert summary.failures == [(schedule.id, START, "nothing_orderable")]
    assert runs(db, schedule.id) == [(START, "failed", "nothing_orderable")]
    assert runs(db, healthy.id) == [(START, "created", "")]
    assert orders_of(db, buyer.partner_id) == []
    told = db.execute(select(Notification.kind, Notification.channel, Notification.partner_id)).all()
    assert ("recurring_order_failed", None, buyer.partner_id) in told  # the partner, by its channel
    assert ("recurring_order_failed", "phone", buyer.partner_id) in told  # the manager's task


def test_a_paused_partner_gets_a_failed_run_not_an_order(setup, db):
    factory, buyer, _actor, schedule, *_ = setup
    buyer.partner.status = "paused"
    db.commit()
    summary = engine.generate_due(factory, START)
    assert summary.failures == [(schedule.id, START, "partner_inactive")]
    assert orders_of(db, buyer.partner_id) == []


def test_a_cancelled_schedule_creates_nothing_and_the_end_date_is_the_last(setup, db):
    factory, buyer, actor, schedule, water, _jam = setup
    standing.cancel(db, actor, schedule.id)
    assert engine.generate_due(factory, date(2027, 6, 30)).occurrences == 0
    ending = standing.create(db, actor, ScheduleData(
        name="Four weeks", cadence="weekly", start_date=date(2027, 7, 5), end_date=date(2027, 7, 26),
        lines=[(water.id, 2)]), today=date(2027, 7, 1))[0]
    for day in (date(2027, 7, 5), date(2027, 7, 12), date(2027, 7, 19), date(2027, 7, 26), date(2027, 8, 30)):
        engine.generate_due(factory, day)
    assert [d for d, o, _r in runs(db, ending.id)] == [date(2027, 7, 5), date(2027, 7, 12),
                                                     date(2027, 7, 19), date(2027, 7, 26)]
    assert standing.get(db, actor, ending.id).next_date is None


def test_another_partners_schedule_is_not_found(setup, db, f):
    _factory, _buyer, _actor, schedule, *_ = setup
    stranger = Actor.of(f.user())
    with pytest.raises(NotFound) as err:
        standing.get(db, stranger, schedule.id)
    assert err.value.foreign
    with pytest.raises(NotFound):
        standing.cancel(db, stranger, schedule.id)


def test_the_cli_places_what_is_due_and_says_what_it_did(setup, app, db):
    _factory, buyer, *_ = setup
    result = app.test_cli_runner().invoke(args=["recurring", "run", "--today", "2027-01-31"])
    assert result.exit_code == 0, result.output
    assert "2027-01-31 — placed: 1, skipped: 0, paused: 0, failed: 0, missed: 0" in result.output
    assert len(orders_of(db, buyer.partner_id)) == 1
    again = app.test_cli_runner().invoke(args=["recurring", "run", "--today", "2027-01-31"])
    assert "placed: 0," in again.output
    bad = app.test_cli_runner().invoke(args=["recurring", "run", "--today", "31.01.2027"])
    assert bad.exit_code == 2


@pytest.mark.postgres
def test_two_workers_at_once_over_many_schedules_place_each_exactly_once(live_pg_app):
    app = live_pg_app
    factory = app.extensions["trellis.session_factory"]
    count = 120
    with factory() as db:
        f = Factories(db)
        water = f.product(sku="BEV-001", base_price=Decimal("1.00"))
        for _ in range(count // 4):
            actor = Actor.of(f.user())
            for _n in range(4):
                standing.create(db, actor, ScheduleData(name="", cadence="monthly", start_date=START,
                                                        lines=[(water.id, 3)]), today=date(2027, 1, 1))
    barrier = threading.Barrier(2)
    summaries = []

    def work():
        with app.app_context():
            barrier.wait()
            summaries.append(engine.generate_due(factory, START))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(s.created for s in summaries) == count
    with factory() as db:
        assert db.scalar(select(func.count(Order.id))) == count
        assert db.scalar(select(func.count(RecurringRun.id))) == count
        keys = db.scalars(select(Order.idempotency_key)).all()
        assert len(set(keys)) == count
