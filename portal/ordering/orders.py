"""Placing, listing, cancelling, reordering and moving orders along their lifecycle."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, Text, bindparam, cast, column, exists, func, insert, select, true, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Partner, User
from portal.catalog import browse as catalog
from portal.core import access, audit
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.labels import label
from portal.core.models import AuditEvent
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import utc_now
from portal.notifications import outbox as notifications
from portal.ordering import cart
from portal.ordering.models import CartLine, Order, OrderLine

MAX_NOTE = 1000
MAX_KEY = 100
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "confirm": (("submitted",), "confirmed"),
    "ship": (("confirmed",), "shipped"),
    "deliver": (("shipped",), "delivered"),
    "cancel": (("submitted", "confirmed"), "cancelled"),
}
MILESTONE_EVERY = 10


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlacedLine:
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class PlacedOrder:
    """An order just stored, with the values written (read like an Order).

    Plain values rather than ORM objects: on the place-order path, building and instrumenting
    the Order and its lines cost more CPU than the statement that stored them.
    """
    id: int
    partner_id: int
    placed_by_id: int
    source: str
    status: str
    idempotency_key: str
    request_hash: str
    requested_delivery_date: date | None
    note: str
    total: Decimal
    created_at: datetime
    updated_at: datetime
    lines: tuple[PlacedLine, ...]
    promised_date: date | None = None
    delivered_at: datetime | None = None


@dataclass
class PlaceResult:
    order: Order | PlacedOrder  # a replay answers with the stored Order
    created: bool
    thank_you: bool = False


@dataclass
class ReorderResult:
    reordered: list[tuple[str, int]] = field(default_factory=list)
    unavailable: list[tuple[str, str, int]] = field(default_factory=list)  # sku, name, quantity


def request_hash(lines: Sequence[LineRequest], requested: date | None, note: str) -> str:
    """A fingerprint of what was asked, so a reused idempotency key can be checked."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.sku.strip().upper()] = merged.get(line.sku.strip().upper(), 0) + line.quantity
    body = {"lines": sorted(merged.items()), "requested": requested.isoformat() if requested else None,
            "note": note.strip()}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _existing(session: Session, partner_id: int, key: str) -> Order | None:
    return session.scalar(
        select(Order).where(Order.partner_id == partner_id, Order.idempotency_key == key)
    )


def _validate(lines: Sequence[LineRequest], requested: date | None, note: str, key: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise ServiceError(_("The order form is incomplete. Reload the page and try again."),
                           field="idempotency_key")
    if not lines:
        raise ServiceError(_("The order has no lines."), field="lines")
    if len(lines) > cart.MAX_LINES:
        raise ServiceError(_("An order has at most %(n)d lines.", n=cart.MAX_LINES), field="lines")
    for line in lines:
        cart.check_quantity(line.quantity)
    if requested is not None and requested < datetime.now(UTC).date():
        raise ServiceError(_("The delivery date cannot be in the past."), field="requested_delivery_date")
    if requested is not None and requested > datetime.now(UTC).date() + timedelta(days=366):
        raise ServiceError(_("The delivery date is more than a year away."),
                           field="requested_delivery_date")
    if len(note) > MAX_NOTE:
        raise ServiceError(_("The note is longer than %(n)d characters.", n=MAX_NOTE), field="note")
    if "\x00" in note:
        raise ServiceError(_("The note contains a forbidden character."), field="note")


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
                  "requested_delivery_date", "note", "total", "created_at", "updated_at")
_LINE_COLUMNS = ("product_id", "sku", "name", "quantity", "unit_price", "line_total")
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


def _store_order(session: Session, values: dict, lines: list[dict], audit_detail: dict
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


def place_order(
    session: Session, user: User, lines: Sequence[LineRequest], *, key: str,
    requested_delivery_date: date | None = None, note: str = "", source: str = "portal",
    strict_key: bool = False, clear_cart: bool = False,
) -> PlaceResult:
    """Price and store an order in one transaction; a repeated key returns the first order.

    With ``strict_key`` (the API), reusing a key for a different request raises Conflict.
    """
    if user.partner_id is None:
        raise ServiceError(_("Only partner users can place orders."))
    key = (key or "").strip()
    note = (note or "").strip()
    fingerprint = request_hash(lines, requested_delivery_date, note)
    try:
        _validate(lines, requested_delivery_date, note, key)
        priced = _price_lines(session, user, lines)
    except ServiceError:
        # A retry of an order placed earlier is answered with it, even if, say, a product
        # has been withdrawn since.
        existing = _existing(session, user.partner_id, key) if key else None
        if existing is None:
            raise
        return _replay(existing, fingerprint, strict_key)
    now = utc_now()
    total = sum((line["line_total"] for line in priced), ZERO)
    values = {
        "partner_id": user.partner_id, "placed_by_id": user.id, "source": source,
        "status": "submitted", "idempotency_key": key, "request_hash": fingerprint,
        "requested_delivery_date": requested_delivery_date, "note": note, "total": total,
        "created_at": now, "updated_at": now,
    }
    stored = _store_order(session, values, priced, {"source": source, "total": str(total)})
    if stored is None:
        # The key is taken: a retry, a double click, or a concurrent twin that committed first
        # (PostgreSQL made this insert wait for it). Nothing was written, so just read it.
        existing = _existing(session, user.partner_id, key)
        if existing is None:  # pragma: no cover - the conflicting row was rolled back meanwhile
            raise Conflict(_("The order could not be placed. Try again."))
        return _replay(existing, fingerprint, strict_key)
    order_id, count = stored
    if clear_cart:
        cart.clear(session, user)
    thank_you = count == 1 or count % MILESTONE_EVERY == 0
    if thank_you:
        notifications.queue(
            session, partner_id=user.partner_id, user_id=user.id,
            kind="thank_you_first_order" if count == 1 else "thank_you_order_milestone",
            subject_key=f"partner:{user.partner_id}:orders:{count}",
            payload={"order_id": order_id, "order_count": count, "partner_name": user.partner.name},
        )
    session.commit()
    order = PlacedOrder(id=order_id, **values,
                        lines=tuple(PlacedLine(**line) for line in priced))
    return PlaceResult(order, created=True, thank_you=thank_you)


def _price_lines(session: Session, user: User, lines: Sequence[LineRequest]) -> list[dict]:
    """Merge lines per product and price them at the partner's prices; raises on bad lines."""
    products = catalog.priced_by_sku(session, user.partner, [line.sku for line in lines])
    merged: dict[int, int] = {}
    by_id: dict[int, catalog.PricedProduct] = {}
    for n, line in enumerate(lines, start=1):
        product = products.get(line.sku.strip())
        if product is None:
            raise ServiceError(_("Line %(n)d: unknown SKU %(sku)s.", n=n, sku=line.sku), field="lines")
        if not product.active:
            raise ServiceError(_("Line %(n)d: %(name)s is no longer sold.", n=n, name=product.name),
                               field="lines")
        merged[product.id] = merged.get(product.id, 0) + line.quantity
        by_id[product.id] = product
    priced = []
    for product_id, quantity in merged.items():
        cart.check_quantity(quantity)
        product = by_id[product_id]
        priced.append({"product_id": product_id, "sku": product.sku, "name": product.name,
                       "quantity": quantity, "unit_price": product.price,
                       "line_total": to_money(product.price * quantity)})
    if sum((line["line_total"] for line in priced), ZERO) > MAX_MONEY:  # then no line is over
        raise ServiceError(_("The order total is over %(max)s, the most one order can record. "
                             "Split it into smaller orders.", max=f"{MAX_MONEY:,}"), field="lines")
    return priced


def _replay(existing: Order, fingerprint: str, strict: bool) -> PlaceResult:
    if strict and existing.request_hash != fingerprint:
        raise Conflict(_("This idempotency key was already used for a different order."),
                       code="idempotency_key_reused")
    return PlaceResult(existing, created=False)


def checkout(
    session: Session, user: User, *, key: str, requested_delivery_date: date | None, note: str
) -> PlaceResult:
    """Place the user's cart as an order and empty the cart."""
    existing = _existing(session, user.partner_id, (key or "").strip()) if key else None
    if existing is not None:  # a double click or a resubmitted form: the cart is already empty
        return PlaceResult(existing, created=False)
    view = cart.view(session, user)
    if view.unavailable:
        names = ", ".join(item.product.name for item in view.unavailable)
        raise ServiceError(_("Remove products that are no longer sold: %(names)s.", names=names))
    lines = [LineRequest(item.product.sku, item.quantity) for item in view.items]
    return place_order(session, user, lines, key=key, requested_delivery_date=requested_delivery_date,
                       note=note, source="portal", clear_cart=True)


def get_order(session: Session, partner_id: int, order_id: int) -> Order:
    """The partner's order with its lines; another partner's order is NotFound."""
    order = session.scalar(
        select(Order).options(selectinload(Order.lines))
        .where(Order.id == order_id, Order.partner_id == partner_id)
    )
    if order is None:
        # Only on this failure path: does it exist for someone else (an attempt to audit)?
        foreign = session.scalar(select(exists().where(Order.id == order_id)))
        raise NotFound(_("No such order."), foreign=bool(foreign))
    return order


def cancel(session: Session, user: User, order_id: int) -> Order:
    """A partner user cancels their company's order while it is still submitted."""
    order = get_order(session, user.partner_id, order_id)
    if order.status != "submitted":
        raise Conflict(_("Only a submitted order can be cancelled; this one is %(status)s.",
                         status=_status_label(order.status)))
    order.status = "cancelled"
    audit.record(session, "order_cancelled", actor_id=user.id, target=order,
                 partner_id=order.partner_id)
    session.commit()
    return order


def reorder_into_cart(session: Session, user: User, order_id: int) -> ReorderResult:
    """Put a past order's products into the cart at today's prices; list what can't be."""
    order = get_order(session, user.partner_id, order_id)
    products = catalog.priced_by_id(session, user.partner, [line.product_id for line in order.lines])
    result = ReorderResult()
    for line in order.lines:
        product = products.get(line.product_id)
        if product is None or not product.active:
            result.unavailable.append((line.sku, line.name, line.quantity))
            continue
        try:
            with session.begin_nested():
                cart._add(session, user, product.id, line.quantity, replace=False)
        except ServiceError:
            result.unavailable.append((line.sku, line.name, line.quantity))
        else:
            result.reordered.append((product.sku, line.quantity))
    session.commit()
    return result


def reorder_lines(session: Session, user: User, order_id: int) -> tuple[list[LineRequest], ReorderResult]:
    """A past order's lines that can be ordered today, and those that cannot."""
    order = get_order(session, user.partner_id, order_id)
    products = catalog.priced_by_id(session, user.partner, [line.product_id for line in order.lines])
    result = ReorderResult()
    lines = []
    for line in order.lines:
        product = products.get(line.product_id)
        if product is None or not product.active:
            result.unavailable.append((line.sku, line.name, line.quantity))
        else:
            lines.append(LineRequest(product.sku, line.quantity))
            result.reordered.append((product.sku, line.quantity))
    return lines, result


def last_order_id(session: Session, partner_id: int) -> int | None:
    """The partner's most recent order that was not cancelled."""
    return session.scalar(
        select(Order.id).where(Order.partner_id == partner_id, Order.status != "cancelled")
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class UsualItem:
    product: catalog.PricedProduct
    times_ordered: int
    last_quantity: int


def usual_basket(session: Session, partner: Partner, *, limit: int = 12,
                 today: date | None = None) -> list[UsualItem]:
    """The products the partner ordered most often in the last 12 months, with the last quantity."""
    since = datetime.combine((today or datetime.now(UTC).date()) - timedelta(days=365), time(0), tzinfo=UTC)
    recent = (
        select(OrderLine.product_id, func.count(func.distinct(Order.id)).label("times"),
               func.max(Order.created_at).label("last_at"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.partner_id == partner.id, Order.created_at >= since, Order.status != "cancelled")
        .group_by(OrderLine.product_id)
        .subquery()
    )
    top = session.execute(
        select(recent.c.product_id, recent.c.times).order_by(recent.c.times.desc(), recent.c.product_id)
        .limit(limit * 2)
    ).all()
    if not top:
        return []
    ids = [row.product_id for row in top]
    last_quantities = dict(session.execute(
        select(OrderLine.product_id, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .join(recent, (recent.c.product_id == OrderLine.product_id) & (recent.c.last_at == Order.created_at))
        .where(Order.partner_id == partner.id, OrderLine.product_id.in_(ids))
    ).all())
    products = catalog.priced_by_id(session, partner, ids)
    items = [UsualItem(products[pid], times, last_quantities.get(pid, 1)) for pid, times in top
             if products[pid].active]
    return items[:limit]


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    partner_id: int | None = None


@dataclass(frozen=True)
class OrderPage:
    orders: list[tuple[Order, str, str]]  # order, partner code, partner name
    total: int
    page: int
    pages: int


def filtered(stmt: Select, filters: OrderFilters) -> Select:
    """Apply the list filters to a select over orders."""
    if filters.status:
        stmt = stmt.where(Order.status == filters.status)
    if filters.date_from:
        stmt = stmt.where(Order.created_at >= datetime.combine(filters.date_from, time(0), tzinfo=UTC))
    if filters.date_to and filters.date_to < date.max:  # the last date there is bounds nothing
        stmt = stmt.where(
            Order.created_at < datetime.combine(filters.date_to + timedelta(days=1), time(0), tzinfo=UTC)
        )
    if filters.partner_id:
        stmt = stmt.where(Order.partner_id == filters.partner_id)
    return stmt


def scoped_orders(user: User) -> Select:
    """All orders the user may see: their company's, or their partners' for staff."""
    stmt = select(Order)
    if user.partner_id is not None:
        return stmt.where(Order.partner_id == user.partner_id)
    return access.scope(stmt, user, Order.partner_id)


def list_orders(session: Session, user: User, filters: OrderFilters, *, page: int = 1,
                per_page: int = 25) -> OrderPage:
    """One page of orders, newest first, in two queries whatever the history's size."""
    stmt = filtered(scoped_orders(user), filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = session.execute(
        stmt.join(Partner, Partner.id == Order.partner_id)
        .add_columns(Partner.code, Partner.name)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return OrderPage([(row[0], row[1], row[2]) for row in rows], total, page, pages)


def get_for_staff(session: Session, user: User, order_id: int) -> Order:
    """An order of a partner the staff user looks after, with its lines; else NotFound."""
    order = session.scalar(
        scoped_orders(user).options(selectinload(Order.lines), selectinload(Order.partner))
        .where(Order.id == order_id)
    )
    if order is None:
        # Only on this failure path: does it exist for someone else (an attempt to audit)?
        foreign = session.scalar(select(exists().where(Order.id == order_id)))
        raise NotFound(_("No such order."), foreign=bool(foreign))
    return order


def advance(session: Session, staff: User, order_id: int, action: str, *,
            promised_date: date | None = None) -> Order:
    """Staff move an order along submitted → confirmed → shipped → delivered, or cancel it."""
    if action not in TRANSITIONS:
        raise ServiceError(_("Unknown action."))
    order = get_for_staff(session, staff, order_id)
    allowed_from, target = TRANSITIONS[action]
    if order.status not in allowed_from:
        raise Conflict(_("An order that is %(status)s cannot be moved to %(target)s.",
                         status=_status_label(order.status), target=_status_label(target)))
    if action == "confirm":
        today = datetime.now(UTC).date()
        promised = promised_date or order.requested_delivery_date or today + timedelta(days=3)
        if promised < today:
            raise ServiceError(_("The promised date cannot be in the past."), field="promised_date")
        order.promised_date = promised
    previous = order.status
    order.status = target
    if action == "deliver":
        order.delivered_at = utc_now()
    audit.record(session, f"order_{target}", actor_id=staff.id, target=order,
                 partner_id=order.partner_id, previous=previous, status=target)
    session.commit()
    return order


def _status_label(status: str) -> str:
    return label(status)


def cart_line_count(session: Session, user: User) -> int:
    """How many lines the user's cart has (for the navigation badge)."""
    return session.scalar(select(func.count(CartLine.id)).where(CartLine.user_id == user.id)) or 0


__all__ = ["LineRequest", "PlacedOrder", "PlaceResult", "place_order", "checkout", "cancel", "advance"]
