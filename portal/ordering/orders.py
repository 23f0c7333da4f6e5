"""Placing orders (API, checkout, reorder), cancelling them and moving them along their lifecycle."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.accounts import addresses
from portal.catalog import browse as catalog
from portal.core.access import Actor
from portal.core.errors import Conflict, ServiceError
from portal.core.money import MAX_MONEY, ZERO, to_money
from portal.core.types import utc_now
from portal.core.vat import summarise
from portal.notifications import outbox as notifications
from portal.ordering import cart, credits, packs
from portal.ordering.models import Order
from portal.ordering.placed import PlacedLine, PlacedOrder, PlaceResult
from portal.ordering.store import store_order
from portal.web.formatting import money

if TYPE_CHECKING:  # batch builds on this module
    from portal.ordering.batch import Prefetched

MAX_NOTE = 1000
MAX_KEY = 100
MAX_PO_REFERENCE = 35
MILESTONE_EVERY = 10


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


class CartChanged(ServiceError):
    """The cart is not what checkout read: another tab ordered or changed it meanwhile."""


class TotalChanged(ServiceError):
    """The order would cost other than the total the partner was shown at checkout."""


def request_hash(lines: Sequence[LineRequest], requested: date | None, note: str,
                 operation: str = "place", *, po_reference: str | None = None,
                 address_id: int | None = None) -> str:
    """A fingerprint of what was asked and how, so a reused idempotency key can be checked."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.sku.strip().upper()] = merged.get(line.sku.strip().upper(), 0) + line.quantity
    body: dict = {"lines": sorted(merged.items()),
                  "requested": requested.isoformat() if requested else None, "note": note.strip()}
    if operation != "place":  # plain placing keeps the fingerprints stored before operations
        body["operation"] = operation
    if po_reference:  # as do orders without a PO reference or a chosen address
        body["po_reference"] = po_reference
    if address_id is not None:
        body["address_id"] = address_id
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


def clean_po_reference(value: str | None) -> str | None:
    """The partner's purchase-order reference as stored (None when blank); raises if invalid."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_PO_REFERENCE:
        raise ServiceError(_("The PO reference has at most %(n)d characters.", n=MAX_PO_REFERENCE),
                           field="po_reference")
    if addresses.has_control_characters(value):
        raise ServiceError(_("The PO reference contains a character that is not allowed."),
                           field="po_reference")
    return value


def place_order(
    session: Session, actor: Actor, lines: Sequence[LineRequest], *, key: str,
    requested_delivery_date: date | None = None, note: str = "", source: str = "portal",
    strict_key: bool = False, from_cart: dict[int, int] | None = None, operation: str = "place",
    before_commit: Callable[[int], None] | None = None, po_reference: str | None = None,
    address_id: int | None = None, expected_gross: Decimal | None = None,
) -> PlaceResult:
    """Price and store an order in one transaction; a repeated key returns the first order.

    Quantities are rounded up to whole packs (``PlaceResult.rounded`` lists what changed); VAT
    is computed per rate on the net sums (core.vat). The order goes to ``address_id`` (one of
    the company's delivery addresses) or, without one, to the company's default address, and
    keeps a copy of it. With ``strict_key`` (the API), reusing a key for a different request or
    ``operation`` (e.g. ``reorder:12``) raises Conflict. With ``from_cart`` (product id ->
    quantity, as read), the cart is emptied in the same transaction, and CartChanged is raised if
    it no longer holds exactly that (another tab ordered or changed it meanwhile).
    ``before_commit(order_id)`` runs in the order's transaction before its commit. With
    ``expected_gross`` (the total the partner was shown), an order that would cost anything else
    (a price changed, the credit was spent meanwhile) is refused with TotalChanged. Many orders
    at once (standing orders): ``ordering.batch.place_orders``, the same steps."""
    for attempt in range(2):
        prepared = prepare(session, actor, lines, key=key, requested_delivery_date=requested_delivery_date,
                           note=note, source=source, strict_key=strict_key, operation=operation,
                           po_reference=po_reference, address_id=address_id)
        if isinstance(prepared, PlaceResult):
            return prepared
        try:
            return _store(session, actor, prepared, from_cart, before_commit, expected_gross)
        except credits.CreditTaken:  # another order spent the credit first: price it again
            session.rollback()
            if attempt:
                raise Conflict(_("The order could not be placed. Try again.")) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _store(session: Session, actor: Actor, prepared: Prepared, from_cart: dict[int, int] | None,
           before_commit: Callable[[int], None] | None, expected_gross: Decimal | None = None
           ) -> PlaceResult:
    """Store a prepared order with the partner's credit taken off it, then commit."""
    allocations = credits.allocate(session, actor.partner, prepared.values["total"],
                                   prepared.values["source"])
    if allocations:
        prepared = prepared.less_credit(sum((a.amount for a in allocations), ZERO))
    if expected_gross is not None and prepared.values["gross_total"] != expected_gross:
        session.rollback()  # the credit's locks go; nothing was written
        raise TotalChanged(_(
            "The total changed while you were reviewing the order (a price, or the credit you "
            "have): it is now %(total)s. Check it and place the order again.",
            total=money(prepared.values["gross_total"])))
    if from_cart is not None and not cart.consume(session, actor, from_cart):
        session.rollback()
        raise CartChanged(_("Your cart changed while you were checking out. Check it and place "
                            "the order again."))
    stored = store_order(session, prepared.values, prepared.lines, prepared.audit_detail)
    if stored is None:
        if from_cart is not None:
            session.rollback()  # the cart stays as it was
        # The key is taken: a retry, a double click, or a concurrent twin that committed first
        # (PostgreSQL made this insert wait for it). Nothing was written, so just read it.
        return replay_taken(session, actor, prepared)
    credits.spend(session, actor.partner_id, stored[0], allocations)
    result = placed(session, actor, prepared, *stored)
    if before_commit is not None:
        before_commit(result.order.id)
    session.commit()
    return result


@dataclass(frozen=True)
class Prepared:
    """An order checked and priced, not yet stored: the row's values and its lines."""

    values: dict
    lines: list[dict]
    rounded: list[packs.Rounded]
    strict_key: bool

    @property
    def audit_detail(self) -> dict:
        detail = {"source": self.values["source"], "total": str(self.values["total"]),
                  "gross_total": str(self.values["gross_total"])}
        if self.values["credit_applied"]:
            detail["credit_applied"] = str(self.values["credit_applied"])
        return detail

    def less_credit(self, credit: Decimal) -> Prepared:
        """The same order with ``credit`` taken off its net total (VAT on what is left)."""
        vat = summarise(((line["vat_rate"], line["line_total"]) for line in self.lines), credit)
        return replace(self, values={**self.values, "credit_applied": vat.credit, "total": vat.net,
                                     "vat_total": vat.vat, "gross_total": vat.gross})


def prepare(session: Session, actor: Actor, lines: Sequence[LineRequest], *, key: str,
            requested_delivery_date: date | None = None, note: str = "", source: str = "portal",
            strict_key: bool = False, operation: str = "place", po_reference: str | None = None,
            address_id: int | None = None, prefetched: Prefetched | None = None
            ) -> Prepared | PlaceResult:
    """Check and price an order, writing nothing (helper): what to store, or the earlier order of
    the same key. Raises ServiceError on a refusal; ``prefetched``: a batch's prices and addresses."""
    if actor.partner_id is None:
        raise ServiceError(_("Only partner users can place orders."))
    key = (key or "").strip()
    note = (note or "").strip()
    reference = (po_reference or "").strip() or None
    fingerprint = request_hash(lines, requested_delivery_date, note, operation,
                               po_reference=reference, address_id=address_id)
    try:
        _validate(lines, requested_delivery_date, note, key)
        reference = clean_po_reference(reference)
        priced, rounded = _price_lines(session, actor, lines, prefetched)
        delivery = (prefetched.address(actor.partner_id) if prefetched is not None and address_id is None
                    else addresses.for_order(session, actor, address_id))
    except ServiceError:
        # A retry of an order placed earlier is answered with it, even if, say, a product
        # has been withdrawn since.
        existing = _existing(session, actor.partner_id, key) if key else None
        if existing is None:
            raise
        return _replay(existing, fingerprint, strict_key)
    now = utc_now()
    vat = summarise((line["vat_rate"], line["line_total"]) for line in priced)
    return Prepared({
        "partner_id": actor.partner_id, "placed_by_id": actor.user_id, "source": source,
        "status": "submitted", "idempotency_key": key, "request_hash": fingerprint,
        "requested_delivery_date": requested_delivery_date, "note": note,
        "po_reference": reference, "delivery_address": delivery,
        "total": vat.net, "vat_total": vat.vat, "gross_total": vat.gross, "credit_applied": ZERO,
        "created_at": now, "updated_at": now,
    }, priced, rounded, strict_key)


def replay_taken(session: Session, actor: Actor, prepared: Prepared) -> PlaceResult:
    """The answer when the order's key turned out taken on storing: the order stored under it."""
    existing = _existing(session, actor.partner_id, prepared.values["idempotency_key"])
    if existing is None:  # pragma: no cover - the conflicting row was rolled back meanwhile
        raise Conflict(_("The order could not be placed. Try again."))
    return _replay(existing, prepared.values["request_hash"], prepared.strict_key)


def placed(session: Session, actor: Actor, prepared: Prepared, order_id: int, count: int,
           notes: list[dict] | None = None) -> PlaceResult:
    """An order just stored as the partner's ``count``-th: its thank-you milestone (helper),
    queued now, or added to ``notes`` for the caller to queue with others (``outbox.queue_many``)."""
    note = thank_you_note(actor, order_id, count)
    if note is not None:
        if notes is None:
            notifications.queue(session, **note)
        else:
            notes.append(note)
    order = PlacedOrder(id=order_id, **prepared.values,
                        lines=tuple(PlacedLine(**line) for line in prepared.lines))
    return PlaceResult(order, created=True, thank_you=note is not None, rounded=prepared.rounded)


def thank_you_note(actor: Actor, order_id: int, count: int) -> dict | None:
    """The thank-you notification of the partner's ``count``-th order (queue's arguments), if any."""
    if count != 1 and count % MILESTONE_EVERY != 0:
        return None
    return {"partner_id": actor.partner_id, "user_id": actor.user_id,
            "kind": "thank_you_first_order" if count == 1 else "thank_you_order_milestone",
            "subject_key": f"partner:{actor.partner_id}:orders:{count}",
            "payload": {"order_id": order_id, "order_count": count, "partner_name": actor.partner.name}}


def _price_lines(session: Session, actor: Actor, lines: Sequence[LineRequest],
                 prefetched: Prefetched | None = None) -> tuple[list[dict], list[packs.Rounded]]:
    """Merge lines per product, round them up to whole packs and price them at the partner's
    prices (read now, or ``prefetched``), with each product's VAT rate; raises on bad lines."""
    products = (prefetched.products(actor.partner) if prefetched is not None
                else catalog.priced_by_sku(session, actor.partner, [line.sku for line in lines]))
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
    priced, rounded = [], []
    for product_id, asked in merged.items():
        product = by_id[product_id]
        quantity, change = packs.whole_packs(product.sku, product.name, asked, product.pack_size)
        cart.check_quantity(quantity)
        if change is not None:
            rounded.append(change)
        priced.append({"product_id": product_id, "sku": product.sku, "name": product.name,
                       "quantity": quantity, "unit_price": product.price,
                       "line_total": to_money(product.price * quantity), "vat_rate": product.vat_rate})
    # The gross total is the largest amount stored (then no line, net or VAT is over).
    if summarise((line["vat_rate"], line["line_total"]) for line in priced).gross > MAX_MONEY:
        raise ServiceError(_("The order total is over %(max)s, the most one order can record. "
                             "Split it into smaller orders.", max=f"{MAX_MONEY:,}"), field="lines")
    return priced, rounded


def _replay(existing: Order, fingerprint: str, strict: bool) -> PlaceResult:
    if strict and existing.request_hash != fingerprint:
        raise Conflict(_("This idempotency key was already used for a different request (other lines, "
                         "or another operation such as a reorder). Use a new key for a new order."),
                       code="idempotency_key_reused")
    return PlaceResult(existing, created=False)


def checkout(
    session: Session, actor: Actor, *, key: str, requested_delivery_date: date | None, note: str,
    po_reference: str | None = None, address_id: int | None = None,
    expected_gross: Decimal | None = None,
) -> PlaceResult:
    """Place the user's cart as an order and empty the cart, both or neither (refused with
    TotalChanged if it would cost other than ``expected_gross``, the total shown)."""
    existing = _existing(session, actor.partner_id, (key or "").strip()) if key else None
    if existing is not None:  # a double click or a resubmitted form: the cart is already empty
        return PlaceResult(existing, created=False)
    view = cart.view(session, actor)
    if view.unavailable:
        names = ", ".join(item.product.name for item in view.unavailable)
        raise ServiceError(_("Remove products that are no longer sold: %(names)s.", names=names))
    lines = [LineRequest(item.product.sku, item.order_quantity) for item in view.items]
    read = {item.product.id: item.quantity for item in view.items}
    ordering = {item.product.id: item.order_quantity for item in view.items}
    try:
        return place_order(session, actor, lines, key=key, requested_delivery_date=requested_delivery_date,
                           note=note, source="portal", from_cart=read if read else None,
                           operation="checkout", po_reference=po_reference, address_id=address_id,
                           expected_gross=expected_gross)
    except CartChanged:
        existing = _existing(session, actor.partner_id, (key or "").strip())
        if existing is not None:  # the same form, submitted twice at once
            return PlaceResult(existing, created=False)
        ordered = _last_checkout(session, actor)
        if ordered is None or {line.product_id: line.quantity for line in ordered.lines} != ordering:
            raise
        return PlaceResult(ordered, created=False, message=_(
            "Your cart was already ordered from another tab or window; this is that order."))


def _last_checkout(session: Session, actor: Actor) -> Order | None:
    return session.scalar(
        select(Order).options(selectinload(Order.lines))
        .where(Order.placed_by_id == actor.user_id, Order.source == "portal")
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )


# The lifecycle after placing lives in ordering.lifecycle; these names stay importable from here.
from portal.ordering.lifecycle import TRANSITIONS, _status_label, advance, cancel, on_status  # noqa: E402

__all__ = ["LineRequest", "PlacedOrder", "PlaceResult", "place_order", "checkout", "cancel", "advance",
           "TRANSITIONS", "on_status", "_status_label"]
