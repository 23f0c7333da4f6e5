"""Helpers shared by the benchmark scripts: fresh databases, seed data, statistics.

Not a benchmark itself. The scripts put the repository root on ``sys.path`` before importing
this module, so ``portal`` imports work when they are run as ``python benchmarks/<name>.py``.
"""
from __future__ import annotations

import os
import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sqlalchemy import Engine, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.accounts import passwords  # noqa: E402
from portal.models import Order, OrderLine, Partner, PriceTier, Product, User, to_money  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BUYER_EMAIL = "buyer@bench.test"
BUYER_PASSWORD = "bench-password-1"
PRODUCTS = 60
STATUSES = ("delivered",) * 14 + ("shipped", "confirmed", "submitted", "cancelled")


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema`` (as tests/conftest.py does)."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@contextmanager
def fresh_pg_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """Create a schema ``<prefix>_<random>``, yield a URL living in it, drop it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed_partner(engine: Engine, *, products: int = PRODUCTS, code: str = "B001",
                 email: str = BUYER_EMAIL) -> dict:
    """A price tier, one partner on it, one buyer and ``products`` products (Core inserts).

    The buyer's password is hashed with argon2's cheapest profile: only the sign-in is cheaper,
    argon2 reads the cost from the hash, so the app's own profile does not matter.
    """
    passwords.configure("cheapest")
    with engine.begin() as conn:
        tier_id = conn.execute(
            insert(PriceTier).returning(PriceTier.id),
            {"name": "Silver", "discount_percent": Decimal("5")},
        ).scalar_one()
        partner_id = conn.execute(
            insert(Partner).returning(Partner.id),
            {"name": "Bench Grocers", "code": code, "referral_code": f"bench{code.lower()}",
             "price_tier_id": tier_id},
        ).scalar_one()
        buyer_id = conn.execute(
            insert(User).returning(User.id),
            {"email": email, "name": "Bench Buyer", "role": "buyer", "partner_id": partner_id,
             "password_hash": passwords.hash_password(BUYER_PASSWORD)},
        ).scalar_one()
        rng = random.Random(7)
        rows = [{"sku": f"SKU-{n:03d}", "name": f"Bench product {n}", "category": f"Category {n % 8}",
                 "unit": "pack", "pack_size": 1 + n % 12,
                 "base_price": Decimal(rng.randint(50, 5000)) / 100, "active": True}
                for n in range(products)]
        conn.execute(insert(Product), rows)
        product_rows = conn.execute(text("SELECT id, sku, name, base_price FROM products ORDER BY id")).all()
    return {"tier_id": tier_id, "partner_id": partner_id, "buyer_id": buyer_id,
            "products": [tuple(row) for row in product_rows]}


def insert_history(engine: Engine, seed: dict, orders: int, *, lines_per_order: int = 5,
                   batch: int = 5000, rng_seed: int = 1) -> tuple[int, int]:
    """Bulk-insert ``orders`` past orders of ~``lines_per_order`` lines each (Core executemany)."""
    rng = random.Random(rng_seed)
    products = seed["products"]
    now = datetime.now(UTC)
    done_orders = done_lines = 0
    with engine.begin() as conn:
        for start in range(0, orders, batch):
            order_rows, line_groups = [], []
            for n in range(start, min(start + batch, orders)):
                # Spread over the past (about four a day), oldest first.
                created = now - timedelta(hours=6 * (orders - n), minutes=rng.randint(0, 300))
                lines = []
                for product_id, sku, name, base_price in rng.sample(
                        products, max(1, lines_per_order + rng.randint(-2, 2))):
                    price = to_money(Decimal(base_price) * Decimal("0.95"))
                    quantity = rng.randint(1, 48)
                    lines.append({"product_id": product_id, "sku": sku, "name": name,
                                  "quantity": quantity, "unit_price": price,
                                  "line_total": to_money(price * quantity)})
                order_rows.append({
                    "partner_id": seed["partner_id"], "placed_by_id": seed["buyer_id"],
                    "source": "portal", "status": rng.choice(STATUSES), "created_at": created,
                    "updated_at": created, "note": "",
                    "total": sum((line["line_total"] for line in lines), Decimal("0.00")),
                })
                line_groups.append(lines)
            ids = conn.execute(
                insert(Order).returning(Order.id, sort_by_parameter_order=True), order_rows
            ).scalars().all()
            all_lines = [{**line, "order_id": order_id}
                         for order_id, group in zip(ids, line_groups, strict=True) for line in group]
            conn.execute(insert(OrderLine), all_lines)
            done_orders += len(ids)
            done_lines += len(all_lines)
    return done_orders, done_lines


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation, like numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
