"""Wall time of ``flask forecasts refresh`` for many partners with years of history (issue 13).

Builds a temporary SQLite file with ``--partners`` partners (2,000) and ``--years`` (5) of
delivered orders each: every partner its own size, rhythm (an order every 5 to 45 days),
seasonality (a peak month and its strength), trend, and a few lapsed or new ones. Then runs the
real command in a fresh process, as cron would, and times it from start to exit (start-up, the
one aggregate query, the fits on ``--workers`` processes, storing the run)::

    .venv/bin/python benchmarks/forecast_refresh.py                 # 2,000 partners, 5 years, 2 workers
    .venv/bin/python benchmarks/forecast_refresh.py --partners 200 --workers 1

Prints the wall time, partners per second and the run's outcome (complete, failed partners).
Exits 1 when the command fails or the run is not complete.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sqlalchemy import create_engine, func, insert, select  # noqa: E402

from portal.db import Base  # noqa: E402
from portal.models import ForecastRun, Order, Partner, PartnerForecast  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(url: str, partners: int, years: int, seed: int = 13) -> int:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    orders = 0
    with engine.begin() as conn:
        ids = conn.execute(insert(Partner).returning(Partner.id, sort_by_parameter_order=True), [
            {"name": f"Refresh Shop {n:04d}", "code": f"F{n:04d}", "referral_code": f"fr{n:05d}"}
            for n in range(partners)]).scalars().all()
        for pid in ids:
            size = rng.lognormvariate(6, 0.8)  # a typical order's net value
            gap = rng.randint(5, 45)
            peak, strength = rng.randint(1, 12), rng.uniform(0, 0.6)
            trend = rng.uniform(-0.15, 0.25)  # per year
            start = now - timedelta(days=rng.randint(60, 700) if rng.random() < 0.05 else 365 * years)
            end = now - timedelta(days=rng.randint(90, 400)) if rng.random() < 0.1 else now
            rows, day = [], start
            while day < end:
                age = (day - start).days / 365
                season = 1 + strength * math.cos(2 * math.pi * (day.month - peak) / 12)
                value = max(1.0, size * season * (1 + trend) ** age * rng.lognormvariate(0, 0.3))
                total = Decimal(f"{value:.2f}")
                rows.append({"partner_id": pid, "source": "portal", "status": "delivered", "created_at": day,
                             "updated_at": day, "note": "", "total": total, "vat_total": Decimal("0"),
                             "gross_total": total})
                day += timedelta(days=max(1, int(rng.gauss(gap, gap / 3))))
            if rows:
                conn.execute(insert(Order), rows)
            orders += len(rows)
    engine.dispose()
    return orders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=2000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'refresh.db')}"
        started = time.perf_counter()
        orders = build(url, args.partners, args.years)
        print(f"{args.partners:,} partners, {args.years} years, {orders:,} orders built in "
              f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f}")
        env = {**os.environ, "DATABASE_URL": url, "TRELLIS_ENV": "development", "SECRET_KEY": "bench" * 8}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "forecasts", "refresh",
                               "--workers", str(args.workers)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall = time.perf_counter() - started
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "(no output)")
        engine = create_engine(url)
        with engine.connect() as conn:
            run = conn.execute(select(ForecastRun).order_by(ForecastRun.id.desc()).limit(1)).first()
            failed = conn.scalar(select(func.count()).select_from(PartnerForecast)
                                 .where(PartnerForecast.status == "failed"))
        engine.dispose()
        print(f"forecasts refresh --workers {args.workers}: {wall:.1f} s wall, "
              f"{args.partners / wall:.1f} partners/s, {1000 * wall / args.partners:.0f} ms per partner; "
              f"run {run.status if run else 'missing'}, {failed} partners failed; "
              f"load average after {os.getloadavg()[0]:.2f}")
        if done.returncode != 0 or run is None or run.status != "complete":
            print(done.stdout[-3000:])
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
