"""Storing orders fast: Core statements (one CTE on PostgreSQL), and the partners' order counters."""
from __future__ import annotations

import json

from sqlalchemy import Text, bindparam, cast, column, exists, func, insert, select, text, true, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.core import audit
from portal.core.models import AuditEvent
from portal.ordering.models import Order, OrderLine


def recount(session: Session, partner_ids=None) -> None:
    """Set partners' order counters from their orders (helper, no commit): after bulk loads."""
    counted = (select(func.count(Order.id)).where(Order.partner_id == Partner.id)
               .correlate(Partner).scalar_subquery())
    stmt = update(Partner).values(order_count=counted)
    if partner_ids is not None:
        stmt = stmt.where(Partner.id.in_(list(partner_ids)))
    session.execute(stmt.execution_options(synchronize_session=False))



# The hot path (placing an order) writes through Core tables, not ORM entities: the ORM's unit
# of work and bulk machinery cost more CPU than the database itself (benchmarks/README.md).
_ORDERS, _LINES, _PARTNERS, _AUDIT = (
    Order.__table__, OrderLine.__table__, Partner.__table__, AuditEvent.__table__,
)


_ORDER_COLUMNS = ("partner_id", "placed_by_id", "source", "status", "idempotency_key", "request_hash",
                  "requested_delivery_date", "note", "po_reference", "delivery_address", "total",
                  "vat_total", "gross_total", "credit_applied", "created_at", "updated_at")
_LINE_COLUMNS = ("product_id", "sku", "name", "quantity", "unit_price", "line_total", "vat_rate")
_AUDIT_COLUMNS = {"at": "created_at", "actor_id": "placed_by_id", "action": "action",
                  "target_type": "target_type", "partner_id": "partner_id", "detail": "detail", "ip": "ip"}


def _insert_order_statement(dialect_insert, prefix: str = ""):
    """INSERT INTO orders ... ON CONFLICT (partner_id, idempotency_key) DO NOTHING RETURNING id."""
    return (dialect_insert(_ORDERS).values({name: bindparam(prefix + name) for name in _ORDER_COLUMNS})
            .on_conflict_do_nothing(index_elements=["partner_id", "idempotency_key"])
            .returning(_ORDERS.c.id))


def _store_order_postgresql():
    """One statement that stores order, lines, the partner's order count and the audit event.

    Data-modifying CTEs: the order insert does nothing when the key is taken, and then neither
    do the others (they all read ``new_order``), so the statement returns no row. One round trip
    instead of four, which is most of the database's CPU per order. Parameters are prefixed
    (``p_``): a key named like a column of an UPDATEd table would be taken as a SET value.
    """
    new_order = _insert_order_statement(postgresql_insert, "p_").cte("new_order")
    # The lines travel as one JSON document (decimals as strings, so exact): one parameter to
    # adapt instead of an array per column, which was most of the driver's work per order.
    line_rows = (func.jsonb_to_recordset(cast(bindparam("p_lines", type_=Text), JSONB))
                 .table_valued(*(column(name, _LINES.c[name].type) for name in _LINE_COLUMNS))
                 .render_derived(name="line_rows", with_types=True))
    new_lines = insert(_LINES).from_select(
        ["order_id", *_LINE_COLUMNS],
        select(new_order.c.id, *(line_rows.c[name] for name in _LINE_COLUMNS))
        .select_from(new_order).join(line_rows, true()),
    ).cte("new_lines")
    counted = (
        update(_PARTNERS)
        .where(_PARTNERS.c.id == bindparam("p_partner_id"), exists(select(new_order.c.id)))
        .values(order_count=_PARTNERS.c.order_count + 1).returning(_PARTNERS.c.order_count)
        .cte("counted")
    )
    audited = insert(_AUDIT).from_select(
        [*_AUDIT_COLUMNS, "target_id"],
        select(*(bindparam(f"p_{param}", type_=_AUDIT.c[column].type)
                 for column, param in _AUDIT_COLUMNS.items()), new_order.c.id)
        .select_from(new_order),
    ).cte("audited")
    return (select(new_order.c.id, counted.c.order_count)
            .select_from(new_order).join(counted, true()).add_cte(new_lines, audited))


_STORE_ORDER_POSTGRESQL = _store_order_postgresql()
_INSERT_ORDER_SQLITE = _insert_order_statement(sqlite_insert)
_INSERT_LINES = insert(_LINES)
_INSERT_AUDIT = insert(_AUDIT)
_BUMP_COUNT = (
    update(_PARTNERS).where(_PARTNERS.c.id == bindparam("partner"))
    .values(order_count=_PARTNERS.c.order_count + 1).returning(_PARTNERS.c.order_count)
)


def store_order(session: Session, values: dict, lines: list[dict], audit_detail: dict
                 ) -> tuple[int, int] | None:
    """Store the order, its lines, the partner's order count and the audit event (no commit).

    Returns (order id, the partner's order count), or None when the idempotency key is taken.
    """
    connection = session.connection()  # Core statements skip the ORM's execute machinery
    audit_values = {"action": "order_placed", "target_type": "orders", "detail": audit_detail,
                    "ip": audit.client_address.get()}
    if connection.dialect.name == "postgresql":
        params = {f"p_{name}": value for name, value in {**values, **audit_values}.items()}
        params["p_lines"] = json.dumps(lines, default=str)
        row = connection.execute(_STORE_ORDER_POSTGRESQL, params).first()
        return (row.id, row.order_count) if row is not None else None
    order_id = connection.execute(_INSERT_ORDER_SQLITE, values).scalar()
    if order_id is None:
        return None
    connection.execute(_INSERT_LINES, [{**line, "order_id": order_id} for line in lines])
    count = connection.execute(_BUMP_COUNT, {"partner": values["partner_id"]}).scalar_one()
    connection.execute(_INSERT_AUDIT, {
        "at": values["created_at"], "actor_id": values["placed_by_id"], "target_id": order_id,
        "partner_id": values["partner_id"], **audit_values,
    })
    return order_id, count




# Many orders in one statement (standing orders' batches): the same rows as store_order, one
# round trip for the whole batch instead of one per order.
_STORE_MANY_POSTGRESQL = text("""
WITH input AS (
  SELECT * FROM jsonb_to_recordset(CAST(:orders AS jsonb)) AS i(
    n int, partner_id int, placed_by_id int, source varchar, status varchar, idempotency_key varchar,
    request_hash varchar, requested_delivery_date date, note text, po_reference varchar,
    delivery_address json, total numeric, vat_total numeric, gross_total numeric,
    created_at timestamptz, updated_at timestamptz, lines jsonb, audit_detail json)
), new_orders AS (
  INSERT INTO orders (partner_id, placed_by_id, source, status, idempotency_key, request_hash,
                      requested_delivery_date, note, po_reference, delivery_address, total,
                      vat_total, gross_total, created_at, updated_at)
  SELECT partner_id, placed_by_id, source, status, idempotency_key, request_hash,
         requested_delivery_date, note, po_reference, delivery_address, total, vat_total,
         gross_total, created_at, updated_at FROM input ORDER BY n
  ON CONFLICT (partner_id, idempotency_key) DO NOTHING
  RETURNING id, partner_id, idempotency_key
), matched AS (
  SELECT o.id, i.n, i.partner_id, i.placed_by_id, i.created_at, i.lines, i.audit_detail
  FROM new_orders o JOIN input i ON i.partner_id = o.partner_id AND i.idempotency_key = o.idempotency_key
), new_lines AS (
  INSERT INTO order_lines (order_id, product_id, sku, name, quantity, unit_price, line_total, vat_rate)
  SELECT m.id, l.product_id, l.sku, l.name, l.quantity, l.unit_price, l.line_total, l.vat_rate
  FROM matched m CROSS JOIN jsonb_to_recordset(m.lines) AS l(
    product_id int, sku varchar, name varchar, quantity int, unit_price numeric, line_total numeric,
    vat_rate int)
), counted AS (
  UPDATE partners p SET order_count = p.order_count + c.k
  FROM (SELECT partner_id, count(*) AS k FROM new_orders GROUP BY partner_id) c
  WHERE p.id = c.partner_id RETURNING p.id, p.order_count
), audited AS (
  INSERT INTO audit_events (at, actor_id, action, target_type, target_id, partner_id, detail, ip)
  SELECT m.created_at, m.placed_by_id, 'order_placed', 'orders', m.id, m.partner_id, m.audit_detail,
         CAST(:ip AS varchar)
  FROM matched m
)
SELECT m.n, m.id, m.partner_id, c.order_count FROM matched m JOIN counted c ON c.id = m.partner_id
""")


def store_orders(session: Session, orders: list[tuple[dict, list[dict], dict]]
                 ) -> list[tuple[int, int] | None]:
    """store_order for many (values, lines, audit detail) at once, in their order (no commit).

    Each stored order gets its own place in its partner's count, in the list's order, as if
    stored one by one; None where the idempotency key is taken.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(orders) < 2:
        return [store_order(session, *order) for order in orders]
    payload = [{**values, "n": n, "lines": lines, "audit_detail": detail}
               for n, (values, lines, detail) in enumerate(orders)]
    rows = sorted(connection.execute(_STORE_MANY_POSTGRESQL, {
        "orders": json.dumps(payload, default=str), "ip": audit.client_address.get()}).all())
    per_partner: dict[int, int] = {}
    for row in rows:
        per_partner[row.partner_id] = per_partner.get(row.partner_id, 0) + 1
    result: list[tuple[int, int] | None] = [None] * len(orders)
    seen: dict[int, int] = {}
    for row in rows:  # the partner's count after the batch, less its orders stored after this one
        seen[row.partner_id] = seen.get(row.partner_id, 0) + 1
        result[row.n] = (row.id, row.order_count - (per_partner[row.partner_id] - seen[row.partner_id]))
    return result
