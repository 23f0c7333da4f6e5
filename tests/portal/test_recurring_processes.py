"""Generation in separate processes on PostgreSQL: two at once, and one killed mid-batch."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from portal import create_app
from portal.db import Base, make_engine
from portal.models import (
    Order,
    OrderLine,
    Partner,
    PriceTier,
    Product,
    RecurringLine,
    RecurringOrder,
    RecurringRun,
)
from portal.recurring import engine
from tests.portal.helpers import BASE_CONFIG

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2027, 3, 1)
SCHEDULES = 500


@pytest.fixture
def due_schedules(empty_pg_schema_url):
    """500 active monthly schedules of 125 partners, all due on DAY (Core bulk inserts)."""
    bind = make_engine(empty_pg_schema_url)
    Base.metadata.create_all(bind)
    with bind.begin() as conn:
        tier = conn.execute(insert(PriceTier).returning(PriceTier.id),
                            {"name": "Silver", "discount_percent": Decimal("5")}).scalar_one()
        products = conn.execute(insert(Product).returning(Product.id, sort_by_parameter_order=True), [
            {"sku": f"SKU-{n}", "name": f"Product {n}", "category": "Food", "unit": "pack",
             "base_price": Decimal("2.50") + n, "active": True} for n in range(3)]).scalars().all()
        partners = conn.execute(insert(Partner).returning(Partner.id, sort_by_parameter_order=True), [
            {"name": f"Shop {n}", "code": f"S{n:04d}", "referral_code": f"shop{n:04d}", "price_tier_id": tier}
            for n in range(SCHEDULES // 4)]).scalars().all()
        ids = conn.execute(insert(RecurringOrder).returning(RecurringOrder.id, sort_by_parameter_order=True), [
            {"partner_id": partners[n % len(partners)], "name": "", "cadence": "monthly",
             "start_date": date(2027, 1, 1), "next_date": DAY} for n in range(SCHEDULES)]).scalars().all()
        conn.execute(insert(RecurringLine), [{"recurring_order_id": sid, "product_id": pid, "quantity": 2}
                                             for sid in ids for pid in products])
    yield empty_pg_schema_url, bind
    bind.dispose()


def _start(url: str, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tests.portal.recurring_worker", url, DAY.isoformat(), *extra],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "READY"
    return proc


def _exactly_once(bind) -> dict:
    with bind.connect() as conn:
        return {
            "runs": conn.scalar(select(func.count(RecurringRun.id))),
            "orders": conn.scalar(select(func.count(Order.id))),
            "keys": conn.scalar(select(func.count(func.distinct(Order.idempotency_key)))),
            "pairs": conn.scalar(select(func.count()).select_from(select(
                RecurringRun.recurring_order_id, RecurringRun.occurrence_date).distinct().subquery())),
            "orders_without_run": conn.scalar(select(func.count(Order.id)).where(
                ~select(RecurringRun.id).where(RecurringRun.order_id == Order.id).exists())),
            "orders_without_lines": conn.scalar(select(func.count(Order.id)).where(
                ~select(OrderLine.id).where(OrderLine.order_id == Order.id).exists())),
            "created_runs_without_order": conn.scalar(select(func.count(RecurringRun.id)).where(
                RecurringRun.outcome == "created", RecurringRun.order_id.is_(None))),
            "counted": conn.scalar(select(func.sum(Partner.order_count))),
        }


def test_two_processes_at_once_over_500_due_schedules_make_exactly_500_orders(due_schedules):
    url, bind = due_schedules
    procs = [_start(url), _start(url)]
    for proc in procs:  # both are built and connected: start them together
        proc.stdin.write("go\n")
        proc.stdin.flush()
    summaries = [json.loads(proc.communicate(timeout=120)[0].strip().splitlines()[-1]) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert sum(s["created"] for s in summaries) == SCHEDULES
    assert all(s["created"] > 0 for s in summaries)  # they shared the work (SKIP LOCKED)
    assert _exactly_once(bind) == {
        "runs": SCHEDULES, "orders": SCHEDULES, "keys": SCHEDULES, "pairs": SCHEDULES,
        "orders_without_run": 0, "orders_without_lines": 0, "created_runs_without_order": 0,
        "counted": SCHEDULES}


def test_a_generator_killed_mid_batch_leaves_no_half_order_and_a_rerun_places_each_once(due_schedules):
    url, bind = due_schedules
    proc = _start(url, "2")  # the first batch is committed, the second's orders stored, uncommitted
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "HANG"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdin.close()
    proc.stdout.close()
    after_kill = _exactly_once(bind)
    assert after_kill == {  # the committed batch, whole; nothing of the killed one
        "runs": engine.BATCH, "orders": engine.BATCH, "keys": engine.BATCH, "pairs": engine.BATCH,
        "orders_without_run": 0, "orders_without_lines": 0, "created_runs_without_order": 0,
        "counted": engine.BATCH}
    app = create_app({**BASE_CONFIG, "DB_BIND": bind})
    factory = app.extensions["trellis.session_factory"]
    created, deadline = 0, time.monotonic() + 20
    with app.app_context():
        # Run again (as cron would) until nothing is due: the killed backend's row locks go
        # when PostgreSQL notices the lost connection, and SKIP LOCKED passes over them till then.
        while True:
            created += engine.generate_due(factory, DAY).created
            with factory() as session:
                if not engine.due_ids(session, DAY) or time.monotonic() > deadline:
                    break
            time.sleep(0.2)
    assert created == SCHEDULES - engine.BATCH
    assert _exactly_once(bind) == {
        "runs": SCHEDULES, "orders": SCHEDULES, "keys": SCHEDULES, "pairs": SCHEDULES,
        "orders_without_run": 0, "orders_without_lines": 0, "created_runs_without_order": 0,
        "counted": SCHEDULES}
