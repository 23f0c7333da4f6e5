"""Placing orders (API, checkout, reorder), cancelling them and moving them along their lifecycle."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from portal.catalog import browse as catalog
from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import Conflict, ServiceError
from portal.core.labels import label
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import utc_now
from portal.notifications import outbox as notifications
from portal.ordering import cart
from portal.ordering.models import Order
from portal.ordering.queries import get_for_staff, get_order
from portal.ordering.store import store_order

MAX_NOTE = 1000
MAX_REASON = 500  # as the confirmation form allows
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
    message: str | None = None  # why an earlier order answers instead of a new one


class CartChanged(ServiceError):
    """The cart is not what checkout read: another tab ordered or changed it meanwhile."""


@dataclass
class ReorderResult:
    reordered: list[tuple[str, int]] = field(default_factory=list)
    unavailable: list[tuple[str, str, int]] = field(default_factory=list)  # sku, name, quantity


def request_hash(lines: Sequence[LineRequest], requested: date | None, note: str,
                 operation: str = "place") -> str:
    """A fingerprint of what was asked and how, so a reused idempotency key can be checked."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.sku.strip().upper()] = merged.get(line.sku.strip().upper(), 0) + line.quantity
    body = {"lines": sorted(merged.items()), "requested": requested.isoformat() if requested else None,
            "note": note.strip()}
    if operation != "place":  # plain placing keeps the fingerprints stored before operations
        body["operation"] = operation
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


def place_order(
    session: Session, actor: Actor, lines: Sequence[LineRequest], *, key: str,
    requested_delivery_date: date | None = None, note: str = "", source: str = "portal",
    strict_key: bool = False, from_cart: dict[int, int] | None = None, operation: str = "place",
    before_commit: Callable[[int], None] | None = None,
) -> PlaceResult:
    """Price and store an order in one transaction; a repeated key returns the first order.

    With ``strict_key`` (the API), reusing a key for a different request or ``operation``
    (e.g. ``reorder:12``) raises Conflict. With ``from_cart`` (product id -> quantity, as read),
    the cart is emptied in the same transaction, and CartChanged is raised if it no longer
    holds exactly that (another tab ordered or changed it meanwhile). ``before_commit(order_id)``
    runs in the order's transaction just before it commits (a standing order's run row is written
    there, so the order and its run exist together or not at all).
    """
    if actor.partner_id is None:
        raise ServiceError(_("Only partner users can place orders."))
    key = (key or "").strip()
    note = (note or "").strip()
    fingerprint = request_hash(lines, requested_delivery_date, note, operation)
    try:
        _validate(lines, requested_delivery_date, note, key)
        priced = _price_lines(session, actor, lines)
    except ServiceError:
        # A retry of an order placed earlier is answered with it, even if, say, a product
        # has been withdrawn since.
        existing = _existing(session, actor.partner_id, key) if key else None
        if existing is None:
            raise
        return _replay(existing, fingerprint, strict_key)
    now = utc_now()
    total = sum((line["line_total"] for line in priced), ZERO)
    values = {
        "partner_id": actor.partner_id, "placed_by_id": actor.user_id, "source": source,
        "status": "submitted", "idempotency_key": key, "request_hash": fingerprint,
        "requested_delivery_date": requested_delivery_date, "note": note, "total": total,
        "created_at": now, "updated_at": now,
    }
    if from_cart is not None and not cart.consume(session, actor, from_cart):
        session.rollback()
        raise CartChanged(_("Your cart changed while you were checking out. Check it and place "
                            "the order again."))
    stored = store_order(session, values, priced, {"source": source, "total": str(total)})
    if stored is None:
        if from_cart is not None:
            session.rollback()  # the cart stays as it was
        # The key is taken: a retry, a double click, or a concurrent twin that committed first
        # (PostgreSQL made this insert wait for it). Nothing was written, so just read it.
        existing = _existing(session, actor.partner_id, key)
        if existing is None:  # pragma: no cover - the conflicting row was rolled back meanwhile
            raise Conflict(_("The order could not be placed. Try again."))
        return _replay(existing, fingerprint, strict_key)
    order_id, count = stored
    thank_you = count == 1 or count % MILESTONE_EVERY == 0
    if thank_you:
        notifications.queue(
            session, partner_id=actor.partner_id, user_id=actor.user_id,
            kind="thank_you_first_order" if count == 1 else "thank_you_order_milestone",
            subject_key=f"partner:{actor.partner_id}:orders:{count}",
            payload={"order_id": order_id, "order_count": count, "partner_name": actor.partner.name},
        )
    if before_commit is not None:
        before_commit(order_id)
    session.commit()
    order = PlacedOrder(id=order_id, **values,
                        lines=tuple(PlacedLine(**line) for line in priced))
    return PlaceResult(order, created=True, thank_you=thank_you)


def _price_lines(session: Session, actor: Actor, lines: Sequence[LineRequest]) -> list[dict]:
    """Merge lines per product and price them at the partner's prices; raises on bad lines."""
    products = catalog.priced_by_sku(session, actor.partner, [line.sku for line in lines])
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
        raise Conflict(_("This idempotency key was already used for a different request (other lines, "
                         "or another operation such as a reorder). Use a new key for a new order."),
                       code="idempotency_key_reused")
    return PlaceResult(existing, created=False)


def checkout(
    session: Session, actor: Actor, *, key: str, requested_delivery_date: date | None, note: str
) -> PlaceResult:
    """Place the user's cart as an order and empty the cart, both or neither."""
    existing = _existing(session, actor.partner_id, (key or "").strip()) if key else None
    if existing is not None:  # a double click or a resubmitted form: the cart is already empty
        return PlaceResult(existing, created=False)
    view = cart.view(session, actor)
    if view.unavailable:
        names = ", ".join(item.product.name for item in view.unavailable)
        raise ServiceError(_("Remove products that are no longer sold: %(names)s.", names=names))
    lines = [LineRequest(item.product.sku, item.quantity) for item in view.items]
    read = {item.product.id: item.quantity for item in view.items}
    try:
        return place_order(session, actor, lines, key=key, requested_delivery_date=requested_delivery_date,
                           note=note, source="portal", from_cart=read if read else None,
                           operation="checkout")
    except CartChanged:
        existing = _existing(session, actor.partner_id, (key or "").strip())
        if existing is not None:  # the same form, submitted twice at once
            return PlaceResult(existing, created=False)
        ordered = _last_checkout(session, actor)
        if ordered is None or {line.product_id: line.quantity for line in ordered.lines} != read:
            raise
        return PlaceResult(ordered, created=False, message=_(
            "Your cart was already ordered from another tab or window; this is that order."))


def _last_checkout(session: Session, actor: Actor) -> Order | None:
    return session.scalar(
        select(Order).options(selectinload(Order.lines))
        .where(Order.placed_by_id == actor.user_id, Order.source == "portal")
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )


def cancel(session: Session, actor: Actor, order_id: int) -> Order:
    """A partner user cancels their company's order while it is still submitted."""
    order = get_order(session, actor.partner_id, order_id)
    status = order.status
    if status == "submitted":
        status = _move(session, order, "submitted", status="cancelled")
    if status is not None:
        raise Conflict(_("Only a submitted order can be cancelled; this one is %(status)s.",
                         status=_status_label(status)))
    audit.record(session, "order_cancelled", actor_id=actor.user_id, target=order,
                 partner_id=order.partner_id)
    session.commit()
    return order


def reorder_into_cart(session: Session, actor: Actor, order_id: int) -> ReorderResult:
    """Put a past order's products into the cart at today's prices; list what can't be."""
    order = get_order(session, actor.partner_id, order_id)
    products = catalog.priced_by_id(session, actor.partner, [line.product_id for line in order.lines])
    orderable = [(line, products[line.product_id]) for line in order.lines
                 if line.product_id in products and products[line.product_id].active]
    problems = dict(zip((line.id for line, _p in orderable), cart.add_lines(
        session, actor, [(product.id, line.quantity) for line, product in orderable]), strict=True))
    result = ReorderResult()
    for line in order.lines:  # in the order's order, as the flash messages are
        if line.id in problems and problems[line.id] is None:
            result.reordered.append((products[line.product_id].sku, line.quantity))
        else:
            result.unavailable.append((line.sku, line.name, line.quantity))
    session.commit()
    return result


def reorder_lines(session: Session, actor: Actor, order_id: int) -> tuple[list[LineRequest], ReorderResult]:
    """A past order's lines that can be ordered today, and those that cannot."""
    order = get_order(session, actor.partner_id, order_id)
    products = catalog.priced_by_id(session, actor.partner, [line.product_id for line in order.lines])
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


def advance(session: Session, actor: Actor, order_id: int, action: str, *,
            promised_date: date | None = None, reason: str = "") -> Order:
    """Staff move an order along submitted → confirmed → shipped → delivered, or cancel it
    (``reason``, optional, is kept in the audit event)."""
    if action not in TRANSITIONS:
        raise ServiceError(_("Unknown action."))
    order = get_for_staff(session, actor, order_id)
    allowed_from, target = TRANSITIONS[action]
    previous = order.status
    if previous not in allowed_from:
        raise _cannot_move(previous, target)
    values: dict = {"status": target}
    if action == "confirm":
        today = datetime.now(UTC).date()
        promised = promised_date or order.requested_delivery_date or today + timedelta(days=3)
        if promised < today:
            raise ServiceError(_("The promised date cannot be in the past."), field="promised_date")
        values["promised_date"] = promised
    if action == "deliver":
        values["delivered_at"] = utc_now()
    status = _move(session, order, previous, **values)
    if status is not None:
        raise _cannot_move(status, target)
    reason = (reason or "").replace("\x00", "").strip()[:MAX_REASON]  # JSON in PostgreSQL holds no NUL
    detail = {"reason": reason} if reason else {}
    audit.record(session, f"order_{target}", actor_id=actor.user_id, target=order,
                 partner_id=order.partner_id, previous=previous, status=target, **detail)
    session.commit()
    return order


def _move(session: Session, order: Order, expected: str, **values) -> str | None:
    """Set the values if the order is still ``expected`` (compare and set, no commit).

    Returns None when it moved, else the status someone else has given the order meanwhile.

    Of two people moving one order at once, exactly one gets the row: the other's UPDATE waits
    for the first to commit, then matches nothing, and the order's real status is read back.
    """
    moved = session.execute(
        update(Order).where(Order.id == order.id, Order.status == expected).values(**values)
    ).rowcount
    if moved == 1:
        return None
    session.rollback()
    return session.scalar(select(Order.status).where(Order.id == order.id))


def _cannot_move(status: str, target: str) -> Conflict:
    return Conflict(_("An order that is %(status)s cannot be moved to %(target)s.",
                      status=_status_label(status), target=_status_label(target)))


def _status_label(status: str) -> str:
    return label(status)


__all__ = ["LineRequest", "PlacedOrder", "PlaceResult", "place_order", "checkout", "cancel", "advance"]
