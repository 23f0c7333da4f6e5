"""Demo data: deterministic, realistic enough, and never over real data."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts import passwords
from portal.core import audit
from portal.db import Base, make_engine, make_session_factory
from portal.demo import loader as demo
from portal.models import Order, OrderLine, Partner, Product, User
from tests.portal.helpers import sign_in

TODAY = date(2026, 11, 15)


def fingerprint(session) -> str:
    rows = session.execute(
        select(Partner.code, Order.created_at, Order.status, Order.total, OrderLine.sku,
               OrderLine.quantity, OrderLine.unit_price)
        .join(Order, Order.partner_id == Partner.id).join(OrderLine, OrderLine.order_id == Order.id)
        .order_by(Order.created_at, Partner.code, OrderLine.sku)
    ).all()
    users = session.execute(select(User.email, User.role, User.partner_id).order_by(User.email)).all()
    return hashlib.sha256(repr((rows, users)).encode()).hexdigest()


def load_fresh(seed: int) -> str:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        demo.load(session, partners=6, years=2, seed=seed, today=TODAY)
        return fingerprint(session)


def test_demo_loader_is_deterministic_for_a_seed(app):
    assert load_fresh(7) == load_fresh(7)
    assert load_fresh(7) != load_fresh(8)


def test_demo_loader_refuses_a_database_with_data(app, db, f):
    f.partner(name="Real Customer")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--partners", "3", "--years", "1"])
    assert result.exit_code == 2 and "already has data" in result.output
    assert db.scalar(select(func.count(Partner.id))) == 1
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output


def test_demo_data_has_history_seasonality_and_the_documented_logins(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--partners", "12", "--years", "3"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(func.count(Partner.id))) == 12
    assert db.scalar(select(func.count(Product.id))) >= 55
    statuses = set(db.scalars(select(Partner.status)))
    assert "active" in statuses
    first = db.scalar(select(func.min(Order.created_at)))
    last = db.scalar(select(func.max(Order.created_at)))
    assert (last - first).days > 2.5 * 365
    for email, role, _what in demo.DEMO_LOGINS:
        user = db.scalar(select(User).where(User.email == email))
        assert user.role == role and passwords.verify_password(user.password_hash, demo.DEMO_PASSWORD)
    buyer = db.scalar(select(User).where(User.email == "buyer@demo.test"))
    owner = db.scalar(select(User).where(User.email == "owner@demo.test"))
    buyer2 = db.scalar(select(User).where(User.email == "buyer2@demo.test"))
    assert buyer.partner_id == owner.partner_id != buyer2.partner_id
    client = app.test_client()
    assert sign_in(client, buyer, demo.DEMO_PASSWORD).status_code == 302
    # December sells more than February across the book (retail season).
    month = func.extract("month", Order.created_at)
    by_month = dict(db.execute(select(month, func.sum(Order.total)).group_by(month)).all())
    assert by_month[12] > by_month[2] * Decimal("1.2")


def test_force_replaces_existing_data(app, db, f):
    f.partner(name="Old Data")
    result = app.test_cli_runner().invoke(args=["demo", "load", "--partners", "3", "--years", "1", "--force"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(Partner).where(Partner.name == "Old Data")) is None


def _audit_event(f):
    audit.record(f.session, "login_failed", email="x@example.test")
    f.session.commit()


@pytest.mark.parametrize("make_row", [lambda f: f.tier(name="Wholesale"), lambda f: f.product(), _audit_event],
                         ids=["price tier", "product", "audit event"])
def test_any_table_with_data_counts_as_not_empty(app, db, f, make_row):
    make_row(f)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--partners", "3", "--years", "1"])
    assert result.exit_code == 2 and "already has data" in result.output
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output
    assert db.scalar(select(func.count(Partner.id))) == 0


def test_if_empty_loads_into_a_migrated_empty_database(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty", "--partners", "3", "--years", "1"])
    assert result.exit_code == 0 and "Loaded 3 partners" in result.output


@pytest.mark.parametrize("today", [date(2026, 12, 2), date(2026, 12, 1)])
def test_no_demo_order_is_dated_today_or_later(app, db, today):
    """An order the user places right after `demo load` must be the newest one."""
    from datetime import UTC, datetime, time

    with app.app_context():
        demo.load(db, partners=4, years=1, today=today)
    newest = db.scalar(select(func.max(Order.created_at)))
    assert newest is not None and newest < datetime.combine(today, time(0), tzinfo=UTC)


def test_demo_relationship_data_matches_behaviour(app, db):
    from portal.core.access import SYSTEM
    from portal.models import Feedback, Interaction, StageChange, Task
    from portal.workspace import kpis

    demo.load(db, partners=12, years=3, seed=1, today=TODAY)
    answers = db.scalars(select(Feedback)).all()
    assert len(answers) >= 10 and len({a.quarter for a in answers}) >= 3
    detractors = [a for a in answers if a.score <= 6]
    assert detractors and all(a.task_id for a in detractors)
    assert all(a.task_id is None for a in answers if a.score > 6)
    tasks = [db.get(Task, a.task_id) for a in detractors]
    assert {t.status for t in tasks} >= {"done"} and all(t.kind == "feedback" for t in tasks)
    assert all(t.done_by_id and t.done_at > t.created_at for t in tasks if t.status == "done")
    assert db.scalar(select(func.count(Interaction.id))) >= 12
    assert db.scalar(select(func.count(StageChange.id))) >= 12
    partners = db.scalars(select(Partner)).all()
    figures = kpis.compute(db, [p.id for p in partners], now=datetime.combine(TODAY, time(9), tzinfo=UTC))
    matching = sum(1 for p in partners if p.stage == figures[p.id].suggested_stage)
    assert matching >= len(partners) // 2 and SYSTEM.sees_all
