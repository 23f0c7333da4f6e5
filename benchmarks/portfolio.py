"""The account manager's portfolio page and a staff partner page on SQLite, with many partners.

Builds a temporary SQLite file with ``--partners`` partners (500) and about three years of order
history each (every partner its own rhythm: an order every 7 to 60 days, some lapsed, a few new
ones), delivered orders with promised dates, standing orders and NPS answers, plus a 50-partner
copy. Then, signed in as an admin (who sees every partner), it counts the SQL statements of one
``GET /manage/portfolio`` for 50 and for N partners (they must be equal: the KPIs are aggregated
per page of partners, never queried per partner) and prints the median and p90 time of the
portfolio page (target < 200 ms for 500 partners) and of one partner's page (target < 100 ms).

Two complete forecast runs are stored too (every partner's next-year total, 80/95 % bounds,
backtest and twelve months; 2 % failed; a few adjusted), so the page's forecast columns, the
portfolio total and the "fell most since the previous run" alerts are measured as well.

Usage::

    .venv/bin/python benchmarks/portfolio.py                 # 500 partners, 30 requests each
    .venv/bin/python benchmarks/portfolio.py --partners 2000 --requests 10

Exits 1 when the statement counts differ or a target is missed.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import BUYER_PASSWORD, percentile  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import passwords  # noqa: E402
from portal.db import Base  # noqa: E402
from portal.models import (  # noqa: E402
    Feedback,
    ForecastAdjustment,
    ForecastMonth,
    ForecastRun,
    Order,
    Partner,
    PartnerForecast,
    RecurringOrder,
    User,
)

ADMIN = "admin@bench.test"
PORTFOLIO_TARGET_MS = 200
PARTNER_TARGET_MS = 100


def build(tmp: str, partners: int, years: int = 3) -> tuple:
    url = f"sqlite:///{os.path.join(tmp, f'portfolio_{partners}.db')}"
    app = create_app({"TRELLIS_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url,
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PROFILE": "cheapest",
                      "LOGIN_RATE_LIMIT_IP": "1000 per minute", "LOGIN_RATE_LIMIT_EMAIL": "1000 per minute"})
    engine = app.extensions["trellis.engine"]
    Base.metadata.create_all(engine)
    passwords.configure("cheapest")
    rng = random.Random(partners)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as conn:
        hashed = passwords.hash_password(BUYER_PASSWORD)
        conn.execute(insert(User), [{"email": ADMIN, "name": "Bench Admin", "role": "admin", "password_hash": hashed}])
        managers = conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"manager{m}@bench.test", "name": f"Manager {m}", "role": "account_manager",
             "password_hash": hashed} for m in range(5)]).scalars().all()
        ids = conn.execute(insert(Partner).returning(Partner.id, sort_by_parameter_order=True), [
            {"name": f"Bench Shop {n:04d}", "code": f"B{n:04d}", "referral_code": f"ref{n:05d}",
             "account_manager_id": managers[n % len(managers)]} for n in range(partners)]).scalars().all()
        orders, standing, answers = [], [], []
        for pid in ids:
            gap = rng.randint(7, 60)
            lapse = rng.random() < 0.15  # stopped ordering some months ago
            new = rng.random() < 0.05
            day = now - timedelta(days=rng.randint(20, 90) if new else 365 * years)
            end = now - timedelta(days=rng.randint(120, 400)) if lapse else now
            while day < end:
                total = Decimal(rng.randint(5_000, 250_000)) / 100
                promised = (day + timedelta(days=3)).date()
                orders.append({"partner_id": pid, "source": "portal", "status": "delivered", "created_at": day,
                               "updated_at": day, "note": "", "total": total, "vat_total": Decimal("0"),
                               "gross_total": total, "promised_date": promised,
                               "delivered_at": day + timedelta(days=rng.choice([2, 3, 3, 4]))})
                day += timedelta(days=max(1, int(rng.gauss(gap, gap / 4))))
            if rng.random() < 0.3:
                standing.append({"partner_id": pid, "cadence": "monthly", "start_date": now.date(),
                                 "status": "active", "name": "", "mode": "auto", "note": ""})
            for q in range(rng.randint(0, 4)):
                answers.append({"partner_id": pid, "quarter": f"Q{q}", "score": rng.randint(3, 10), "comment": "",
                                "created_at": now - timedelta(days=90 * q + 5)})
        conn.execute(insert(Order), orders)
        if standing:
            conn.execute(insert(RecurringOrder), standing)
        if answers:
            conn.execute(insert(Feedback), answers)
        add_forecasts(conn, ids, rng, now)
    print(f"  {partners} partners, {len(orders):,} orders, {len(standing)} standing orders, "
          f"{len(answers)} NPS answers, 2 forecast runs in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        some = conn.scalar(select(Partner.id).order_by(Partner.id).limit(1))
    return app, engine, some


def add_forecasts(conn, ids: list[int], rng: random.Random, now: datetime) -> None:
    """Two complete runs a month apart, every partner in both (2 % failed), a few adjustments."""
    first = now.date().replace(day=1)
    for age in (35, 0):
        run_id = conn.execute(insert(ForecastRun).returning(ForecastRun.id), [{
            "status": "complete", "source": "cli", "settings": {"horizon": 12}, "library_version": "bench",
            "first_month": first, "partner_count": len(ids), "failed_count": 0,
            "started_at": now - timedelta(days=age), "finished_at": now - timedelta(days=age)}]).scalar_one()
        rows = []
        for pid in ids:
            failed = rng.random() < 0.02
            total = Decimal(rng.randint(1_000, 500_000))
            half = total * Decimal("0.2")
            rows.append({"run_id": run_id, "partner_id": pid, "status": "failed" if failed else "ok",
                         "library_status": "failed" if failed else "ok", "model": "theta",
                         "reason": "bench failure" if failed else "", "history_months": 36,
                         "total": None if failed else total, "total_lower_80": None if failed else total - half,
                         "total_upper_80": None if failed else total + half,
                         "total_lower_95": None if failed else total - 2 * half,
                         "total_upper_95": None if failed else total + 2 * half,
                         "mase": None if failed else rng.uniform(0.5, 1.5), "naive_mase": 1.0,
                         "backtest_windows": 3})
        forecast_ids = conn.execute(insert(PartnerForecast).returning(PartnerForecast.id, sort_by_parameter_order=True),
                                    rows).scalars().all()
        months = []
        for fid, row in zip(forecast_ids, rows, strict=True):
            if row["total"] is None:
                continue
            mean = (row["total"] / 12).quantize(Decimal("0.01"))
            for m in range(12):
                month = date(first.year + (first.month - 1 + m) // 12, (first.month - 1 + m) % 12 + 1, 1)
                months.append({"forecast_id": fid, "month": month, "mean": mean, "lower_80": mean, "upper_80": mean,
                               "lower_95": mean, "upper_95": mean})
        conn.execute(insert(ForecastMonth), months)
    conn.execute(insert(ForecastAdjustment), [
        {"partner_id": pid, "amount": Decimal("12345.00"), "note": "bench", "created_at": now}
        for pid in ids[::50]])


def statements_of(engine, call) -> int:
    count = 0

    def tally(*_args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", tally)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", tally)
    return count


def timed(client, path: str, requests: int) -> list[float]:
    for _ in range(2):
        client.get(path)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
    return timings


def signed_in(app):
    client = app.test_client()
    if client.post("/login", data={"email": ADMIN, "password": BUYER_PASSWORD}).status_code != 302:
        raise SystemExit("sign-in failed")
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        counts = {}
        for n in (50, args.partners):
            print(f"building {n} partners ...")
            app, engine, some = build(tmp, n)
            client = signed_in(app)
            counts[n] = statements_of(engine, lambda c=client: c.get("/manage/portfolio"))
        print(f"SQL statements of GET /manage/portfolio: {counts[50]} for 50 partners, "
              f"{counts[args.partners]} for {args.partners}")
        if counts[50] != counts[args.partners]:
            print("  NOT constant")
            ok = False
        partner_statements = statements_of(engine, lambda: client.get(f"/manage/partners/{some}"))
        print(f"SQL statements of GET /manage/partners/<id>: {partner_statements}")
        for name, path, target in (("portfolio", "/manage/portfolio", PORTFOLIO_TARGET_MS),
                                   ("portfolio, sorted by growth", "/manage/portfolio?sort=growth&dir=asc",
                                    PORTFOLIO_TARGET_MS),
                                   ("partner page", f"/manage/partners/{some}", PARTNER_TARGET_MS)):
            timings = timed(client, path, args.requests)
            median = statistics.median(timings)
            verdict = "ok" if median < target else "MISSED"
            ok = ok and median < target
            print(f"{name} ({args.partners} partners): median {median:.1f} ms, p90 {percentile(timings, 90):.1f} ms"
                  f" (target < {target} ms: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
