"""What one occurrence orders: its lines (a review draft's, else the schedule's), its delivery
address and its PO reference (the schedule's pattern filled in for the date).

The engine asks ``plan_for`` once per occurrence it places; everything about *what* is ordered
is decided here, so the engine only decides *whether* and *when*.

PO reference placeholders: ``{date}`` (2027-03-31), ``{year}`` (2027), ``{month}`` (03),
``{day}`` (31), ``{week}`` (the ISO week, 13) and ``{name}`` (the standing order's name); ``{{``
and ``}}`` are literal braces. ``PO-{year}-{month}`` on 31 March 2027 gives ``PO-2027-03``.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import DeliveryAddress
from portal.catalog.models import Product
from portal.core.errors import ServiceError
from portal.ordering.orders import MAX_PO_REFERENCE, clean_po_reference
from portal.recurring.models import RecurringDraft, RecurringOrder

PLACEHOLDERS = ("date", "year", "month", "day", "week", "name")
_SAMPLE = date(2027, 12, 31)  # the longest values: a pattern that fits on this day fits always


@dataclass(frozen=True)
class PlanLine:
    """One line to order. ``product`` is read only when asked for (the engine needs a product's
    SKU and name only for a line it cannot order): no query per line on the hot path."""

    product_id: int
    quantity: int
    source: Any  # anything with a ``product`` attribute: a RecurringLine, or a loaded Product's holder

    @property
    def product(self) -> Product:
        return self.source.product


@dataclass(frozen=True)
class _Loaded:
    product: Product


@dataclass(frozen=True)
class OrderPlan:
    lines: list[PlanLine]
    address_id: int | None
    po_reference: str | None
    draft_id: int | None = None


def _values(day: date, name: str) -> dict[str, str]:
    return {"date": day.isoformat(), "year": f"{day.year:04d}", "month": f"{day.month:02d}",
            "day": f"{day.day:02d}", "week": f"{day.isocalendar().week:02d}", "name": name}


def check_pattern(pattern: str, name: str = "") -> str:
    """The pattern as stored (stripped), or ServiceError on ``po_pattern`` naming what is wrong."""
    pattern = (pattern or "").strip()
    if not pattern:
        return ""
    try:
        parts = [(f, spec, conv) for _lit, f, spec, conv in string.Formatter().parse(pattern) if f is not None]
    except ValueError:
        raise ServiceError(_("The PO pattern has an unmatched brace: write {{ or }} for a brace itself."),
                           field="po_pattern") from None
    bad = [f for f, spec, conv in parts if f not in PLACEHOLDERS or spec or conv]
    if bad:
        raise ServiceError(_("Unknown placeholder %(name)s in the PO pattern. Use {date}, {year}, "
                             "{month}, {day}, {week} or {name}.", name="{" + bad[0] + "}"),
                           field="po_pattern")
    sample = pattern.format(**_values(_SAMPLE, name))
    if len(sample) > MAX_PO_REFERENCE:
        raise ServiceError(_("With its placeholders filled in, the PO reference would be longer than "
                             "%(n)d characters.", n=MAX_PO_REFERENCE), field="po_pattern")
    try:
        clean_po_reference(sample)
    except ServiceError as err:
        raise ServiceError(str(err), field="po_pattern") from None
    return pattern


def po_reference(pattern: str, day: date, name: str = "") -> str | None:
    """The PO reference of the order of ``day`` (None: no pattern, or it no longer fits)."""
    if not pattern:
        return None
    try:
        return clean_po_reference(pattern.format(**_values(day, name))[:MAX_PO_REFERENCE])
    except (ValueError, KeyError, IndexError, ServiceError):
        return None  # stored before a rule changed: the order goes without, never fails for it


def draft_for(session: Session, schedule_id: int, day: date) -> RecurringDraft | None:
    return session.scalar(select(RecurringDraft).where(
        RecurringDraft.recurring_order_id == schedule_id, RecurringDraft.occurrence_date == day))


def plan_for(session: Session, schedule: RecurringOrder, day: date) -> OrderPlan:
    """What the order of ``day`` contains and where it goes (helper: reads only). An ``auto``
    schedule without a chosen address costs no query here."""
    draft = draft_for(session, schedule.id, day) if schedule.mode == "review" else None
    if draft is not None:
        wanted = [(line["product_id"], line["quantity"]) for line in draft.lines]
        products = {p.id: p for p in session.scalars(
            select(Product).where(Product.id.in_([pid for pid, _q in wanted])))}
        lines = [PlanLine(pid, qty, _Loaded(products[pid])) for pid, qty in wanted if pid in products]
    else:
        lines = [PlanLine(line.product_id, line.quantity, line) for line in schedule.lines]
    address_id = schedule.address_id
    if address_id is not None:  # removed meanwhile (or never the partner's): the default address
        address = session.get(DeliveryAddress, address_id)
        address_id = address.id if address is not None and address.partner_id == schedule.partner_id else None
    return OrderPlan(lines=lines, address_id=address_id,
                     po_reference=po_reference(schedule.po_pattern, day, schedule.name),
                     draft_id=draft.id if draft is not None else None)
