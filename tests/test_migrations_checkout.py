"""The checkout migration (5b1e9c3d7a42) fills VAT for orders placed before it, exactly."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from portal.core.types import Money
from tests.test_migrations import alembic_config

BEFORE = "ad4e6ad7c96d"
# Net totals whose 23 % VAT ends exactly on half a grosz (x.xx5), and the largest whose gross
# total fits the money column.
TOTALS = ["0.50", "12.34", "2.50", "10.50", "0.00", "8130081300.80", "1234567.89", "0.01"]


def _existing_rows(conn) -> None:
    conn.execute(text("INSERT INTO partners (id, name, code, status, stage, preferred_channel, "
                      "referral_code, order_count, created_at) VALUES (1, 'Old', 'OLD', 'active', "
                      "'customer', 'email', 'old1', 0, '2026-01-01 10:00:00')"))
    conn.execute(text("INSERT INTO products (id, sku, name, category, unit, pack_size, base_price, active, "
                      "created_at) VALUES (1, 'OLD-1', 'Old product', '', 'pcs', 1, 0.50, true, "
                      "'2026-01-01 10:00:00')"))
    for n, total in enumerate(TOTALS, start=1):
        conn.execute(text(
            "INSERT INTO orders (id, partner_id, source, status, note, total, created_at, updated_at) "
            "VALUES (:id, 1, 'portal', 'delivered', '', :total, '2026-01-02 10:00:00', '2026-01-02 10:00:00')"
        ), {"id": n, "total": total})
        conn.execute(text(
            "INSERT INTO order_lines (order_id, product_id, sku, name, quantity, unit_price, line_total) "
            "VALUES (:id, 1, 'OLD-1', 'Old product', 1, :total, :total)"), {"id": n, "total": total})


def check_existing_orders_get_the_default_rate_and_exact_vat(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        _existing_rows(conn)
    command.upgrade(config, "head")
    money = Money()
    with engine.connect() as conn:
        dialect = conn.dialect
        rows = conn.execute(text("SELECT total, vat_total, gross_total FROM orders ORDER BY id")).all()
        rates = conn.execute(text("SELECT vat_rate FROM order_lines UNION SELECT vat_rate FROM products")).all()
    assert rates == [(23,)]
    for want, (total, vat, gross) in zip(TOTALS, rows, strict=True):
        net, vat, gross = (money.process_result_value(v, dialect) for v in (total, vat, gross))
        expected = (Decimal(want) * Decimal("0.23")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert (net, vat, gross) == (Decimal(want), expected, Decimal(want) + expected), want
    command.downgrade(config, "base")
    engine.dispose()


def test_sqlite_migration_computes_vat_of_existing_orders(tmp_path):
    check_existing_orders_get_the_default_rate_and_exact_vat(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgresql_migration_computes_vat_of_existing_orders(empty_pg_schema_url):
    check_existing_orders_get_the_default_rate_and_exact_vat(empty_pg_schema_url)
