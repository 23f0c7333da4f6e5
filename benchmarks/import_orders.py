"""Speed of the order-history import (`flask --app wsgi import orders`) on a large file.

Generates a CSV of ``--lines`` rows (200 partners x 60 products; half the partners' rows carry an
``order_ref``, the other half are grouped by day), creates the partners and products in a fresh
database, imports the file through the same service the CLI calls, then imports it again and
checks that the second run adds nothing.

Usage::

    python benchmarks/import_orders.py                  # 1,000,000 lines, SQLite in a temp dir
    python benchmarks/import_orders.py --lines 100000
    python benchmarks/import_orders.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With a PostgreSQL URL a fresh schema ``bench_import_<random>`` is created and dropped afterwards.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import Base, make_engine, session_scope  # noqa: E402
from portal.models import Partner, Product  # noqa: E402
from portal.ordering import history_import as importer  # noqa: E402

PARTNERS = 200
PRODUCTS = 60


def generate(path: str, lines: int, seed: int = 1) -> None:
    """Write ``lines`` rows: each partner's orders go back one day at a time from yesterday."""
    rng = random.Random(seed)
    prices = [Decimal(rng.randint(50, 5000)) / 100 for _ in range(PRODUCTS)]
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    per_partner = [lines // PARTNERS + (1 if p < lines % PARTNERS else 0) for p in range(PARTNERS)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["partner_code", "order_date", "sku", "quantity", "unit_price", "order_ref"])
        for p, count in enumerate(per_partner):
            day, n = yesterday, 0
            while count > 0:
                size = min(count, rng.randint(3, 15))
                for product in rng.sample(range(PRODUCTS), size):
                    ref = f"INV-{p:03d}-{n:06d}" if p % 2 == 0 else ""
                    out.writerow([f"B{p:03d}", day.isoformat(), f"SKU-{product:03d}",
                                  rng.randint(1, 200), prices[product], ref])
                count -= size
                n += 1
                day -= timedelta(days=1)


def seed_catalog(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Partner), [{"name": f"Bench partner {p}", "code": f"B{p:03d}",
                                        "referral_code": f"bench{p:03d}"} for p in range(PARTNERS)])
        conn.execute(insert(Product), [{"sku": f"SKU-{n:03d}", "name": f"Bench product {n}",
                                        "base_price": Decimal("1.00")} for n in range(PRODUCTS)])
    engine.dispose()


def run_import(app, path: str, label: str) -> importer.ImportResult:
    started = time.perf_counter()

    def progress(stage: str, rows: int) -> None:
        if rows % 250_000:
            return
        print(f"  {label}: {stage} {rows:,} rows ({time.perf_counter() - started:.1f} s)",
              file=sys.stderr)

    with app.app_context(), session_scope() as session:
        result = importer.import_orders(session, path, progress=progress)
    seconds = time.perf_counter() - started
    print(f"{label}: {result.rows:,} rows in {seconds:.1f} s = "
          f"{result.rows / seconds:,.0f} rows/s; "
          f"orders created {result.orders_created:,}, lines added {result.lines_added:,}, "
          f"lines skipped {result.lines_skipped:,}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        path = os.path.join(tmp, "orders.csv")
        started = time.perf_counter()
        generate(path, args.lines)
        print(f"generated {args.lines:,} lines ({os.path.getsize(path) / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
        admin = schema = None
        if args.database_url:
            schema = f"bench_import_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.database_url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = make_url(args.database_url).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        try:
            seed_catalog(url)
            app = create_app({"TRELLIS_ENV": "testing", "SECRET_KEY": "bench",
                              "DATABASE_URL": url})
            print(f"database: {make_url(url).get_backend_name()}")
            first = run_import(app, path, "first run")
            second = run_import(app, path, "second run")
            print(f"second run added {second.lines_added} lines "
                  f"({'OK' if second.lines_added == 0 else 'WRONG'}); "
                  f"first run added {first.lines_added:,} of {first.rows:,}")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak memory (max RSS): {peak:.0f} MB")
            app.extensions["trellis.engine"].dispose()
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        if second.lines_added:
            sys.exit(1)


if __name__ == "__main__":
    main()
