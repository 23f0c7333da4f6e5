"""Importing order history from CSV files (`flask --app wsgi import orders FILE.csv`).

The file is read twice and never held in memory: the first pass validates every row and keeps
only one small record per order; the second pass inserts the lines in batches. Everything happens
in one transaction, so a bad file or a crash imports nothing.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from portal.catalog.models import Product
from portal.core import audit
from portal.core.access import SYSTEM, Actor
from portal.core.errors import ServiceError
from portal.core.money import MAX_MONEY
from portal.core.types import utc_now
from portal.core.vat import summarise
from portal.ordering.history_csv import MAX_CENTS, BadRow, RowReader, read_records
from portal.ordering.models import Order, OrderLine
from portal.ordering.store import recount

MAX_ERRORS = 50
BATCH = 5_000
LOOKUP_CHUNK = 1_000
PROGRESS_EVERY = 50_000

Progress = Callable[[str, int], None]


class ImportRejected(ServiceError):
    """The file has bad rows; ``errors`` lists the first of them, ``count`` how many there are."""

    def __init__(self, message: str, errors: list[str], count: int):
        super().__init__(message)
        self.errors = errors
        self.count = count


@dataclass
class ImportResult:
    rows: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    lines_added: int = 0
    lines_skipped: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class _Orders:
    """One entry per order of the file, by index: plain lists, as 1M lines may be 200k orders."""

    index: dict[tuple[int, str], int] = field(default_factory=dict)  # (partner_id, ref) -> i
    dates: list[date] = field(default_factory=list)
    products: list[set[int] | None] = field(default_factory=list)  # freed after validation
    cents: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # filled before the second pass


class _Errors:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, line: int, *problems: Callable[[], str]) -> None:
        self.count += 1
        if len(self.shown) < MAX_ERRORS:  # translate only what is shown
            text = "; ".join(problem() for problem in problems)
            self.shown.append(_("Line %(n)d: %(error)s.", n=line, error=text))


def import_orders(
    session: Session, path: str | os.PathLike[str], *, today: date | None = None,
    progress: Progress | None = None, actor: Actor = SYSTEM,
) -> ImportResult:
    """Import delivered order history from a CSV file: all rows or, with any bad row, none."""
    report = progress or (lambda stage, rows: None)
    reader = RowReader(session, today or datetime.now(UTC).date())
    orders, result = _validate(reader, path, report)
    try:
        _match_existing(session, orders)
        result.orders_created = _create_orders(session, orders)
        _add_lines(session, reader, path, orders, result, report)
        _set_vat(session, orders.ids)
        if result.orders_created:
            recount(session, {partner_id for partner_id, _ref in orders.index})
    except BaseException:
        session.rollback()  # whoever called us must not commit half an import
        raise
    audit.record(session, "orders_imported", actor_id=actor.user_id, file=os.path.basename(path),
                 rows=result.rows, orders_created=result.orders_created,
                 orders_updated=result.orders_updated, lines_added=result.lines_added,
                 lines_skipped=result.lines_skipped)
    session.commit()
    return result


def _validate(
    reader: RowReader, path: str | os.PathLike[str], report: Progress
) -> tuple[_Orders, ImportResult]:
    records = read_records(path)
    columns, ignored = reader.header(records)
    width = len(columns) + len(ignored)
    orders, errors, result = _Orders(), _Errors(), ImportResult(ignored_columns=ignored)
    for line, cells in records:
        result.rows += 1
        if result.rows % PROGRESS_EVERY == 0:
            report("validated", result.rows)
        try:
            row = reader.parse(cells, columns, width)
        except BadRow as bad:
            errors.add(line, *bad.problems)
            continue
        key = (row.partner_id, row.ref)
        i = orders.index.get(key)
        if i is None:
            orders.index[key] = len(orders.dates)
            orders.dates.append(row.day)
            orders.products.append({row.product_id})
            orders.cents.append(row.cents * row.quantity)
            continue
        if orders.dates[i] != row.day:
            first = orders.dates[i]
            errors.add(line, lambda row=row, first=first: _("order %(ref)s is dated %(day)s on an earlier line",
                                       ref=row.ref, day=first.isoformat()))
        elif row.product_id in orders.products[i]:
            errors.add(line, lambda row=row: _(
                "SKU %(sku)s is already in order %(ref)s on an earlier line (without order_ref, "
                "a partner's rows of one day make one order)",
                sku=reader.skus[row.product_id][0], ref=row.ref))
        else:
            orders.products[i].add(row.product_id)
            orders.cents[i] += row.cents * row.quantity
            if orders.cents[i] > MAX_CENTS:
                errors.add(line, lambda: _("the order's total is too large"))
    if result.rows % PROGRESS_EVERY:
        report("validated", result.rows)
    if result.rows == 0:
        raise ServiceError(_("The file has a header but no rows; nothing was imported."))
    if errors.count:
        more = errors.count - len(errors.shown)
        shown = errors.shown + ([_("…and %(n)d more.", n=more)] if more else [])
        raise ImportRejected(
            _("%(n)d of %(rows)d rows have errors; nothing was imported.",
              n=errors.count, rows=result.rows), shown, errors.count)
    return orders, result


def _match_existing(session: Session, orders: _Orders) -> None:
    """Find orders imported before; their products already there are taken out of what to add."""
    orders.ids = [0] * len(orders.index)
    existing: dict[int, int] = {}  # order id -> index
    refs: dict[int, list[str]] = {}
    for partner_id, ref in orders.index:
        refs.setdefault(partner_id, []).append(ref)
    for partner_id, partner_refs in refs.items():  # (partner_id, external_ref) is indexed
        for start in range(0, len(partner_refs), LOOKUP_CHUNK):
            for ref, order_id in session.execute(
                select(Order.external_ref, Order.id).where(
                    Order.partner_id == partner_id,
                    Order.external_ref.in_(partner_refs[start:start + LOOKUP_CHUNK]))
            ):
                i = orders.index[(partner_id, ref)]
                orders.ids[i] = order_id
                orders.cents[i] = 0  # from here on: the total of the order's lines in the database
                existing[order_id] = i
    for i, order_id in enumerate(orders.ids):
        if not order_id:
            orders.products[i] = None  # a new order takes every line of the file
    ids = list(existing)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        for order_id, product_id, line_total in session.execute(
            select(OrderLine.order_id, OrderLine.product_id, OrderLine.line_total)
            .where(OrderLine.order_id.in_(ids[start:start + LOOKUP_CHUNK]))
        ):
            i = existing[order_id]
            orders.products[i].discard(product_id)
            orders.cents[i] += int(line_total * 100)


def _create_orders(session: Session, orders: _Orders) -> int:
    now = utc_now()
    rows, where = [], []
    created = 0

    def flush() -> None:
        ids = session.scalars(
            insert(Order.__table__).returning(Order.__table__.c.id, sort_by_parameter_order=True),
            rows,
        ).all()
        for i, order_id in zip(where, ids, strict=True):
            orders.ids[i] = order_id
        rows.clear()
        where.clear()

    for (partner_id, ref), i in orders.index.items():
        if orders.ids[i]:
            continue
        rows.append({
            "partner_id": partner_id, "placed_by_id": None, "source": "import",
            "status": "delivered", "external_ref": ref, "note": "",
            "total": Decimal(orders.cents[i]).scaleb(-2),
            "created_at": datetime.combine(orders.dates[i], time(12), tzinfo=UTC),
            "updated_at": now,
        })
        where.append(i)
        created += 1
        if len(rows) >= BATCH:
            flush()
    if rows:
        flush()
    return created


def _add_lines(session: Session, reader: RowReader, path: str | os.PathLike[str], orders: _Orders,
               result: ImportResult, report: Progress) -> None:
    records = read_records(path)
    columns, ignored = reader.header(records)
    width = len(columns) + len(ignored)
    touched: set[int] = set()  # existing orders that got lines
    rates = dict(session.execute(select(Product.id, Product.vat_rate)).all())
    batch: list[dict] = []
    done = 0
    for _line, cells in records:
        done += 1
        if done % PROGRESS_EVERY == 0:
            report("imported", done)
        try:
            row = reader.parse(cells, columns, width)
            i = orders.index[(row.partner_id, row.ref)]
        except (BadRow, KeyError):
            raise ServiceError(_("The file changed while it was imported; nothing was imported.")
                               ) from None
        wanted = orders.products[i]
        if wanted is not None:  # an order imported before
            if row.product_id not in wanted:
                result.lines_skipped += 1
                continue
            wanted.discard(row.product_id)
            orders.cents[i] += row.cents * row.quantity
            touched.add(i)
        sku, name = reader.skus[row.product_id]
        batch.append({
            "order_id": orders.ids[i], "product_id": row.product_id, "sku": sku, "name": name,
            "quantity": row.quantity, "unit_price": Decimal(row.price),
            "line_total": Decimal(row.cents * row.quantity).scaleb(-2),
            "vat_rate": rates[row.product_id],  # the product's rate today: history has none
        })
        if len(batch) >= BATCH:
            session.execute(insert(OrderLine.__table__), batch)
            result.lines_added += len(batch)
            batch.clear()
    if batch:
        session.execute(insert(OrderLine.__table__), batch)
        result.lines_added += len(batch)
    if done != result.rows:
        raise ServiceError(_("The file changed while it was imported; nothing was imported."))
    if done % PROGRESS_EVERY:
        report("imported", done)
    if any(orders.cents[i] > MAX_CENTS for i in touched):
        raise ServiceError(_("An order's total would become too large; nothing was imported."))
    if touched:
        table = Order.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("order_id"))
            .values(total=bindparam("new_total"), updated_at=bindparam("now")),
            [{"order_id": orders.ids[i], "new_total": Decimal(orders.cents[i]).scaleb(-2),
              "now": utc_now()} for i in sorted(touched)],
        )
    result.orders_updated = len(touched)


def _set_vat(session: Session, order_ids: list[int]) -> None:
    """Set the VAT and gross totals of these orders from their lines (per rate, core.vat)."""
    table = Order.__table__
    for start in range(0, len(order_ids), LOOKUP_CHUNK):
        chunk = order_ids[start:start + LOOKUP_CHUNK]
        per_order: dict[int, list[tuple[int, Decimal]]] = {}
        # Sums in grosze: exact on SQLite's floats too.
        for order_id, rate, cents in session.execute(
            select(OrderLine.order_id, OrderLine.vat_rate, func.sum(func.round(OrderLine.line_total * 100)))
            .where(OrderLine.order_id.in_(chunk)).group_by(OrderLine.order_id, OrderLine.vat_rate)
        ):
            per_order.setdefault(order_id, []).append((rate, Decimal(int(round(cents))).scaleb(-2)))
        values = []
        for order_id, lines in per_order.items():
            vat = summarise(lines)
            if vat.gross > MAX_MONEY:
                raise ServiceError(_("An order's total would become too large; nothing was imported."))
            values.append({"order_id": order_id, "vat": vat.vat, "gross": vat.gross})
        if values:
            session.execute(update(table).where(table.c.id == bindparam("order_id"))
                            .values(vat_total=bindparam("vat"), gross_total=bindparam("gross")), values)
