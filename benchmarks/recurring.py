"""One day's standing-order generation at scale: occurrences per second with 1 and 2 worker processes.

A fresh database (a PostgreSQL schema ``bench_<random>``, or with ``--sqlite`` a temporary SQLite
file) gets, by Core bulk inserts, ``--partners`` partners on three price tiers (each with a
default delivery address), 60 products with some tier prices, and ``N`` active monthly standing
orders of 3 lines each, all due on one day. Then, for each worker count (``--workers 1 2``), the
schedules are reset to "not yet run" (runs, orders, lines, audit events and notifications
deleted) and that day's generation runs in that many processes (``multiprocessing``, spawned):

- ``--mode race`` (default): every process calls ``engine.generate_due`` for the whole day, as
  two cron jobs or two Celery beats would; on PostgreSQL they share the schedules through
  ``FOR UPDATE SKIP LOCKED``.
- ``--mode split``: each process gets its share of the due ids (as the Celery chunks do).

Afterwards exactly-once is checked: one run per schedule, one order per ``created`` run, no
(schedule, date) twice, no order without its run or without lines, no run pointing at nothing.
Prints wall time (from the moment all processes are ready to the last one finishing) and
occurrences per second.

Usage::

    .venv/bin/python benchmarks/recurring.py                                  # PostgreSQL, 100,000
    .venv/bin/python benchmarks/recurring.py -n 10000 --workers 1 2
    .venv/bin/python benchmarks/recurring.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mine
    .venv/bin/python benchmarks/recurring.py --sqlite                         # SQLite file, 10,000
    .venv/bin/python benchmarks/recurring.py -n 10000 --profile prof.out      # cProfile of 1 worker

Target (issue 12): 100,000 occurrences in under 60 s on PostgreSQL with two workers. Exits 1 when
exactly-once is broken.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import DEFAULT_PG_URL, fresh_pg_schema  # noqa: E402
from sqlalchemy import delete, func, insert, select, text, update  # noqa: E402

from portal.db import Base, make_engine  # noqa: E402
from portal.models import (  # noqa: E402
    AuditEvent,
    DeliveryAddress,
    Notification,
    Order,
    OrderLine,
    Partner,
    PriceTier,
    Product,
    RecurringLine,
    RecurringOrder,
    RecurringRun,
    TierPrice,
)

DAY = date(2027, 3, 1)
PRODUCTS = 60
LINES = 3
CHUNK = 10_000
TARGET_SECONDS = 60.0


def build(engine, schedules: int, partners: int) -> None:
    """Tiers, partners with a default address, products, tier prices and due schedules (Core)."""
    rng = random.Random(12)
    started = time.monotonic()
    with engine.begin() as conn:
        tiers = conn.execute(insert(PriceTier).returning(PriceTier.id, sort_by_parameter_order=True), [
            {"name": name, "discount_percent": Decimal(d)}
            for name, d in (("Bronze", "0"), ("Silver", "5"), ("Gold", "10"))]).scalars().all()
        products = conn.execute(insert(Product).returning(Product.id, sort_by_parameter_order=True), [
            {"sku": f"SKU-{n:03d}", "name": f"Bench product {n}", "category": f"Category {n % 8}",
             "unit": "pack", "pack_size": 1 + n % 6, "base_price": Decimal(rng.randint(50, 5000)) / 100,
             "vat_rate": (23, 8, 5)[n % 3], "active": True} for n in range(PRODUCTS)]).scalars().all()
        conn.execute(insert(TierPrice), [
            {"tier_id": tiers[2], "product_id": pid, "price": Decimal(rng.randint(40, 4000)) / 100}
            for pid in products[::5]])
        partner_ids: list[int] = []
        for start in range(0, partners, CHUNK):
            rows = [{"name": f"Bench shop {n}", "code": f"B{n:06d}", "referral_code": f"bench{n:06d}",
                     "price_tier_id": tiers[n % 3]} for n in range(start, min(start + CHUNK, partners))]
            partner_ids += conn.execute(insert(Partner).returning(Partner.id, sort_by_parameter_order=True),
                                        rows).scalars().all()
        conn.execute(insert(DeliveryAddress), [
            {"partner_id": pid, "label": "Shop", "recipient": f"Bench shop {pid}", "street": "Rynek 1",
             "postal_code": "00-950", "city": "Warszawa", "is_default": True} for pid in partner_ids])
        for start in range(0, schedules, CHUNK):
            count = min(CHUNK, schedules - start)
            # Schedules of one partner are spread over the id range, as in life (set up over years).
            ids = conn.execute(insert(RecurringOrder).returning(RecurringOrder.id, sort_by_parameter_order=True), [
                {"partner_id": partner_ids[(start + n) % partners], "name": "Restock", "cadence": "monthly",
                 "start_date": date(2027, 1, 1), "mode": "auto", "status": "active", "next_date": DAY}
                for n in range(count)]).scalars().all()
            conn.execute(insert(RecurringLine), [
                {"recurring_order_id": sid, "product_id": pid, "quantity": rng.randint(1, 48)}
                for sid in ids for pid in rng.sample(products, LINES)])
    print(f"data: {schedules:,} schedules of {partners:,} partners, {LINES} lines each "
          f"({time.monotonic() - started:.1f} s to build)", flush=True)


def reset(engine) -> None:
    """Back to "due, never run": no runs, orders, audit events or notifications."""
    with engine.begin() as conn:
        for table in (RecurringRun, OrderLine, Order, AuditEvent, Notification):
            conn.execute(delete(table))
        conn.execute(update(RecurringOrder).values(next_date=DAY))
        conn.execute(update(Partner).values(order_count=0))
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def worker(url: str, ids: list[int] | None, ready, go, results, profile: str | None) -> None:
    """One generating process: build the app, wait for the start signal, generate, report."""
    from portal import create_app
    from portal.db import session_factory
    from portal.recurring import engine

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TRELLIS_ENV": "development"})
    with app.app_context():
        ready.release()
        go.wait()
        started = time.monotonic()
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            summary = profiler.runcall(engine.generate_due, session_factory(), DAY, ids=ids)
            profiler.dump_stats(profile)
        else:
            summary = engine.generate_due(session_factory(), DAY, ids=ids)
        results.put((os.getpid(), summary.occurrences, summary.created, summary.failed,
                     time.monotonic() - started, time.monotonic()))


def run(url: str, engine, workers: int, mode: str, profile: str | None) -> tuple[float, int]:
    with engine.connect() as conn:
        due = conn.execute(select(RecurringOrder.id).order_by(RecurringOrder.id)).scalars().all()
    shares = [None] * workers if mode == "race" else [due[n::workers] for n in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, share, ready, go, results,
                                              profile if n == 0 else None)) for n, share in enumerate(shares)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    load = os.getloadavg()[0]
    started = time.monotonic()
    go.set()
    done = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(finished for *_rest, finished in done) - started
    occurrences = sum(d[1] for d in done)
    per = ", ".join(f"{d[1]:,} in {d[4]:.1f} s" for d in done)
    print(f"  {workers} worker(s), {mode}: {occurrences:,} occurrences in {wall:.1f} s = "
          f"{occurrences / wall:,.0f} occurrences/s (load average before: {load:.1f}; per process: {per})",
          flush=True)
    return wall, occurrences


def check(engine, expected: int) -> list[str]:
    """What breaks exactly-once, in words (empty when every occurrence has one run and one order)."""
    problems = []
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # fresh statistics (with empty-table ones the
            # anti-joins below ran for minutes on 100,000 orders)
            conn.execute(text("ANALYZE"))
        runs = conn.scalar(select(func.count(RecurringRun.id)))
        created = conn.scalar(select(func.count(RecurringRun.id)).where(RecurringRun.outcome == "created"))
        orders = conn.scalar(select(func.count(Order.id)))
        twice = conn.scalar(select(func.count()).select_from(
            select(RecurringRun.recurring_order_id).group_by(
                RecurringRun.recurring_order_id, RecurringRun.occurrence_date)
            .having(func.count() > 1).subquery()))
        orphan_orders = conn.scalar(select(func.count(Order.id)).where(
            ~select(RecurringRun.id).where(RecurringRun.order_id == Order.id).exists()))
        no_lines = conn.scalar(select(func.count(Order.id)).where(
            ~select(OrderLine.id).where(OrderLine.order_id == Order.id).exists()))
        runs_without_order = conn.scalar(select(func.count(RecurringRun.id)).where(
            RecurringRun.outcome == "created", RecurringRun.order_id.is_(None)))
        keys = conn.scalar(select(func.count(func.distinct(Order.idempotency_key))))
        left = conn.scalar(select(func.count(RecurringOrder.id)).where(RecurringOrder.next_date <= DAY))
    if runs != expected:
        problems.append(f"{runs:,} runs for {expected:,} occurrences")
    if orders != created:
        problems.append(f"{orders:,} orders for {created:,} created runs")
    for n, what in ((twice, "(schedule, date) pairs with more than one run"),
                    (orphan_orders, "orders without their run"), (no_lines, "orders without lines"),
                    (runs_without_order, "created runs without an order"),
                    (orders - keys, "orders sharing an idempotency key"),
                    (left, "schedules still due")):
        if n:
            problems.append(f"{n:,} {what}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--schedules", type=int, default=None,
                        help="due schedules (default 100,000 on PostgreSQL, 10,000 on SQLite)")
    parser.add_argument("--partners", type=int, default=None, help="partners (default: schedules / 4)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mode", choices=("race", "split"), default="race")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    parser.add_argument("--profile", metavar="FILE", help="cProfile the first worker into FILE")
    args = parser.parse_args()
    schedules = args.schedules or (10_000 if args.sqlite else 100_000)
    partners = args.partners or max(1, schedules // 4)
    failed = False
    with ExitStack() as stack:
        if args.sqlite:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="trellis-bench-"))
            url = f"sqlite:///{folder}/recurring.db"
        else:
            url = stack.enter_context(fresh_pg_schema(args.database_url))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        Base.metadata.create_all(engine)
        print(f"database: {engine.dialect.name}; {os.cpu_count()} CPUs", flush=True)
        build(engine, schedules, partners)
        for workers in args.workers:
            reset(engine)
            profile = args.profile if workers == args.workers[0] else None
            wall, occurrences = run(url, engine, workers, args.mode, profile)
            problems = check(engine, schedules)
            if problems:
                failed = True
                print("    EXACTLY-ONCE BROKEN: " + "; ".join(problems), flush=True)
            else:
                print(f"    exactly once: {schedules:,} runs, one order each, no duplicates, "
                      "no order without its run or lines", flush=True)
            if engine.dialect.name == "postgresql" and workers == 2:
                projected = wall * 100_000 / max(occurrences, 1)
                verdict = "met" if projected < TARGET_SECONDS else "MISSED"
                print(f"    target (100,000 in < {TARGET_SECONDS:.0f} s, 2 workers): {verdict} "
                      f"({projected:.0f} s at this rate)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
