"""Order history pages stay flat: same SQL query count at 10 and 10,000 orders, and fast on SQLite.

For each history size (default 10 and 10,000 orders of ~5 lines) a temporary SQLite file gets the
schema, a partner with one buyer, 60 products and the orders (bulk Core inserts). The buyer signs
in through ``POST /login`` with Flask's test client, then for ``GET /orders``, ``GET /orders/<id>``
and ``GET /dashboard`` the script

* counts the SQL statements of one request (a ``before_cursor_execute`` listener on the engine),
* times ``--requests`` requests after ``--warmup`` warm-up requests (median and p95).

It exits 1 when a page's query count differs between the sizes (the statements that repeat are
printed: that is the N+1) or a page's median on the largest history exceeds ``--budget-ms``.

Usage::

    .venv/bin/python benchmarks/order_history.py
    .venv/bin/python benchmarks/order_history.py --sizes 10 10000 --requests 50 --show-sql
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import BUYER_EMAIL, BUYER_PASSWORD, insert_history, percentile, seed_partner  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import Base  # noqa: E402
from portal.models import Order  # noqa: E402

BUDGET_MS = 50.0


class QueryLog:
    """Every SQL statement the engine sends while ``active``."""

    def __init__(self, engine) -> None:
        self.active = False
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if self.active:
            self.statements.append(statement)

    def capture(self, fn):
        self.statements, self.active = [], True
        try:
            fn()
        finally:
            self.active = False
        return list(self.statements)


def normalise(sql: str) -> str:
    """One line, literal numbers and IN-lists folded, so repeats of a query compare equal."""
    sql = re.sub(r"\s+", " ", sql).strip()
    sql = re.sub(r"\b\d+\b", "N", sql)
    return re.sub(r"\((?:\?|N|%\(\w+\)s)(?:, (?:\?|N|%\(\w+\)s))*\)", "(...)", sql)


def build(tmp: str, orders: int) -> tuple:
    """A SQLite file with the partner, buyer, products and ``orders`` orders; the app on it."""
    url = f"sqlite:///{os.path.join(tmp, f'history_{orders}.db')}"
    app = create_app({"TRELLIS_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url,
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PROFILE": "cheapest",
                      "LOGIN_RATE_LIMIT_IP": "1000 per minute", "LOGIN_RATE_LIMIT_EMAIL": "1000 per minute"})
    engine = app.extensions["trellis.engine"]
    Base.metadata.create_all(engine)
    seed = seed_partner(engine)
    started = time.perf_counter()
    n_orders, n_lines = insert_history(engine, seed, orders)
    print(f"  {n_orders:,} orders, {n_lines:,} lines inserted in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        newest = conn.scalar(select(Order.id).order_by(Order.created_at.desc(), Order.id.desc()).limit(1))
        oldest = conn.scalar(select(Order.id).order_by(Order.created_at, Order.id).limit(1))
    return app, engine, newest, oldest


def sign_in(app):
    client = app.test_client()
    response = client.post("/login", data={"email": BUYER_EMAIL, "password": BUYER_PASSWORD})
    if response.status_code != 302:
        sys.exit(f"sign-in failed: HTTP {response.status_code}")
    return client


def measure(app, engine, pages: dict[str, str], *, warmup: int, requests: int) -> dict:
    """{page: (statements of one request, [ms per request])}."""
    client = sign_in(app)
    log = QueryLog(engine)
    results = {}
    for name, path in pages.items():
        def get(path=path):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: HTTP {response.status_code}\n"
                                 f"{response.get_data(as_text=True)[:2000]}")
            return response

        for _ in range(warmup):
            get()
        statements = log.capture(get)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            get()
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = (statements, timings)
    return results


def repeated(statements: list[str]) -> list[tuple[str, int]]:
    return [(sql, n) for sql, n in Counter(normalise(s) for s in statements).most_common() if n > 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 10_000],
                        help="history sizes (orders) to compare; the last one is timed against the budget")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    parser.add_argument("--budget-ms", type=float, default=BUDGET_MS, help="median budget per page")
    parser.add_argument("--show-sql", action="store_true", help="print every statement of each page")
    args = parser.parse_args()

    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_history_") as tmp:
        for size in args.sizes:
            print(f"history of {size:,} orders (SQLite file):")
            app, engine, newest, oldest = build(tmp, size)
            pages = {"GET /orders": "/orders", "GET /orders/<id>": f"/orders/{newest}",
                     "GET /dashboard": "/dashboard"}
            last_page = max((size + 24) // 25, 1)
            pages["GET /orders?page=<last> (info)"] = f"/orders?page={last_page}"
            pages["GET /orders/<oldest> (info)"] = f"/orders/{oldest}"
            results[size] = measure(app, engine, pages, warmup=args.warmup, requests=args.requests)
            engine.dispose()

    failures = []
    sizes = args.sizes
    largest = sizes[-1]
    header = f"{'page':34}" + "".join(f"{f'queries@{s:,}':>16}" for s in sizes) + \
        f"{f'median ms@{largest:,}':>18}{f'p95 ms@{largest:,}':>15}"
    print()
    print(header)
    for page in results[largest]:
        counts = [len(results[s][page][0]) for s in sizes]
        timings = results[largest][page][1]
        median, p95 = percentile(timings, 50), percentile(timings, 95)
        print(f"{page:34}" + "".join(f"{c:>16}" for c in counts) + f"{median:>18.1f}{p95:>15.1f}")
        gated = "(info)" not in page
        if len(set(counts)) > 1 and gated:
            found = ", ".join(f"{c} queries at {s:,} orders" for c, s in zip(counts, sizes, strict=True))
            failures.append(f"{page}: {found}")
        if median > args.budget_ms and gated:
            failures.append(f"{page}: median {median:.1f} ms > {args.budget_ms:.0f} ms at {largest:,} orders")
    for size in sizes:
        for page, (statements, _timings) in results[size].items():
            repeats = repeated(statements)
            if repeats:
                print(f"\n{page} at {size:,} orders repeats a statement (N+1?):")
                for sql, n in repeats:
                    print(f"  {n}x  {sql}")
            if args.show_sql:
                print(f"\n{page} at {size:,} orders: {len(statements)} statements")
                for sql in statements:
                    print(f"  {normalise(sql)}")
    for size in sizes[:-1]:
        for page in results[largest]:
            small = Counter(normalise(s) for s in results[size][page][0])
            big = Counter(normalise(s) for s in results[largest][page][0])
            if small != big:
                print(f"\n{page}: statements whose count differs between {size:,} and {largest:,} orders:")
                for sql in sorted(set(small) | set(big)):
                    if small[sql] != big[sql]:
                        print(f"  {small[sql]} -> {big[sql]}  {sql}")
    print()
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  {failure}")
        sys.exit(1)
    print(f"OK: the query counts do not grow with the history, and every page's median is within "
          f"{args.budget_ms:.0f} ms at {largest:,} orders.")


if __name__ == "__main__":
    main()
