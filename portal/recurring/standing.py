"""What a partner does with its standing orders: set one up, change, pause, resume, skip, cancel.

Every change is audited and scoped to the actor's partner (another partner's schedule is a
``NotFound`` marked foreign). Changes to lines and cadence apply from the next occurrence on:
runs already written stay as they were.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import DeliveryAddress
from portal.catalog.models import Product
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.ordering.cart import check_quantity
from portal.recurring import engine, plan
from portal.recurring.models import (
    MAX_LINES,
    MODES,
    RecurringDraft,
    RecurringLine,
    RecurringOrder,
    RecurringRun,
    RecurringSkip,
)
from portal.recurring.schedules import CADENCES, index_on_or_before, occurrence, occurrences, upcoming

MAX_NAME = 100
MAX_NOTE = 1000
LATEST_START = timedelta(days=366)


@dataclass(frozen=True)
class ScheduleData:
    name: str
    cadence: str
    start_date: date
    lines: Sequence[tuple[int, int]]  # (product id, quantity)
    end_date: date | None = None
    mode: str = "auto"
    note: str = ""
    po_pattern: str = ""  # placeholders: portal/recurring/plan.py
    address_id: int | None = None  # one of the partner's delivery addresses (None: the default)


def _check(session: Session, actor: Actor, data: ScheduleData, today: date, *,
           keep_start: date | None = None) -> list[tuple[int, int]]:
    if data.cadence not in CADENCES:
        raise ServiceError(_("Choose how often: weekly, every two weeks, monthly or quarterly."),
                           field="cadence")
    if data.mode not in MODES:
        raise ServiceError(_("Unknown mode."), field="mode")
    if len(data.name) > MAX_NAME or "\x00" in data.name:
        raise ServiceError(_("The name is longer than %(n)d characters.", n=MAX_NAME), field="name")
    if len(data.note) > MAX_NOTE or "\x00" in data.note:
        raise ServiceError(_("The note is longer than %(n)d characters.", n=MAX_NOTE), field="note")
    if keep_start is None and data.start_date < today:
        raise ServiceError(_("The first date cannot be in the past."), field="start_date")
    if data.start_date > today + LATEST_START:
        raise ServiceError(_("The first date is more than a year away."), field="start_date")
    if data.end_date is not None and data.end_date < data.start_date:
        raise ServiceError(_("The last date is before the first one."), field="end_date")
    merged: dict[int, int] = {}
    for product_id, quantity in data.lines:
        merged[product_id] = merged.get(product_id, 0) + quantity
    if not merged:
        raise ServiceError(_("Add at least one product."), field="lines")
    if len(merged) > MAX_LINES:
        raise ServiceError(_("A standing order holds at most %(n)d products.", n=MAX_LINES), field="lines")
    for quantity in merged.values():
        check_quantity(quantity)
    sold = set(session.scalars(select(Product.id).where(Product.id.in_(merged), Product.active)))
    if missing := [pid for pid in merged if pid not in sold]:
        raise ServiceError(ngettext("%(num)d of the products is no longer sold.",
                                    "%(num)d of the products are no longer sold.", len(missing)),
                           field="lines")
    if not actor.is_partner_user:
        raise ServiceError(_("Only partner users keep standing orders."))
    plan.check_pattern(data.po_pattern, data.name.strip())
    if data.address_id is not None:
        address = session.get(DeliveryAddress, data.address_id)
        if address is None or address.partner_id != actor.partner_id:
            raise ServiceError(_("Choose one of your company's delivery addresses."), field="address_id")
    return list(merged.items())


def _fingerprint(data: ScheduleData) -> str:
    body = {"name": data.name.strip(), "cadence": data.cadence, "start": data.start_date.isoformat(),
            "end": data.end_date.isoformat() if data.end_date else None, "mode": data.mode,
            "note": data.note.strip(), "lines": sorted(data.lines)}
    if data.po_pattern.strip() or data.address_id is not None:  # (absent: the hashes made before them)
        body.update(po=data.po_pattern.strip(), address=data.address_id)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _by_key(session: Session, actor: Actor, key: str) -> RecurringOrder | None:
    return session.scalar(select(RecurringOrder).where(
        RecurringOrder.partner_id == actor.partner_id, RecurringOrder.idempotency_key == key))


def create(session: Session, actor: Actor, data: ScheduleData, *, today: date,
           key: str | None = None) -> tuple[RecurringOrder, bool]:
    """Set up a standing order (its first date is ``data.start_date``); with an idempotency
    ``key``, a retry answers the schedule first made with it. Returns (schedule, created)."""
    fingerprint = _fingerprint(data) if key else None
    if key and (existing := _by_key(session, actor, key)) is not None:
        if existing.request_hash != fingerprint:
            raise Conflict(_("This idempotency key was already used for a different standing order. "
                             "Use a new key for a new one."), code="idempotency_key_reused")
        return existing, False
    lines = _check(session, actor, data, today)
    schedule = RecurringOrder(
        partner_id=actor.partner_id, created_by_id=actor.user_id, name=data.name.strip(),
        cadence=data.cadence, start_date=data.start_date, end_date=data.end_date, mode=data.mode,
        note=data.note.strip(), status="active", next_date=data.start_date,
        po_pattern=data.po_pattern.strip(), address_id=data.address_id,
        idempotency_key=key, request_hash=fingerprint,
        lines=[RecurringLine(product_id=pid, quantity=qty) for pid, qty in lines])
    session.add(schedule)
    try:
        session.flush()
    except IntegrityError:  # the same key, at the same moment: the twin won
        session.rollback()
        existing = _by_key(session, actor, key)
        if existing is None or existing.request_hash != fingerprint:
            raise Conflict(_("This idempotency key was already used for a different standing order. "
                             "Use a new key for a new one."), code="idempotency_key_reused") from None
        return existing, False
    audit.record(session, "recurring_created", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id, cadence=data.cadence, start=data.start_date.isoformat())
    session.commit()
    return schedule, True


def get(session: Session, actor: Actor, schedule_id: int) -> RecurringOrder:
    """A standing order the actor may see (staff: their partners'), with its lines."""
    schedule = session.scalar(select(RecurringOrder).options(
        selectinload(RecurringOrder.lines).selectinload(RecurringLine.product))
        .where(RecurringOrder.id == schedule_id))
    if schedule is None:
        raise NotFound(_("No such standing order."))
    if not access.may_see_partner(session, actor, schedule.partner_id):
        raise NotFound(_("No such standing order."), foreign=True)
    return schedule


def _own(session: Session, actor: Actor, schedule_id: int) -> RecurringOrder:
    schedule = get(session, actor, schedule_id)
    if actor.partner_id != schedule.partner_id:  # staff read; the partner changes
        raise ServiceError(_("Only the partner's own users change its standing orders."))
    if schedule.status == "cancelled":
        raise Conflict(_("This standing order is cancelled."))
    return schedule


def update_schedule(session: Session, actor: Actor, schedule_id: int, data: ScheduleData, *,
                    today: date) -> RecurringOrder:
    """Change lines, cadence, dates or mode from the next occurrence on."""
    schedule = _own(session, actor, schedule_id)
    started = schedule.start_date <= today or _has_runs(session, schedule.id)
    lines = _check(session, actor, data, today, keep_start=schedule.start_date if started else None)
    before = {"cadence": schedule.cadence, "start_date": schedule.start_date.isoformat(),
              "end_date": schedule.end_date.isoformat() if schedule.end_date else None,
              "mode": schedule.mode, "po_pattern": schedule.po_pattern, "address_id": schedule.address_id,
              "lines": {str(line.product_id): line.quantity for line in schedule.lines}}
    if started and (data.cadence != schedule.cadence or data.start_date != schedule.start_date):
        # A new anchor: the first date of the new calendar after today (runs stay as they were).
        schedule.start_date = max(data.start_date, today + timedelta(days=1))
    elif not started:
        schedule.start_date = data.start_date
    schedule.cadence, schedule.end_date, schedule.mode = data.cadence, data.end_date, data.mode
    schedule.name, schedule.note = data.name.strip(), data.note.strip()
    schedule.po_pattern, schedule.address_id = data.po_pattern.strip(), data.address_id
    _replace_lines(session, schedule, lines)
    # Untouched review drafts of coming dates take the new lines (changed ones stay the partner's).
    session.execute(update(RecurringDraft).where(
        RecurringDraft.recurring_order_id == schedule.id, RecurringDraft.changed_at.is_(None),
        RecurringDraft.occurrence_date >= today).values(
        lines=[{"product_id": pid, "quantity": qty} for pid, qty in lines], version=RecurringDraft.version + 1))
    schedule.next_date = _first_unrun(session, schedule, today)
    after = {"cadence": schedule.cadence, "start_date": schedule.start_date.isoformat(),
             "end_date": schedule.end_date.isoformat() if schedule.end_date else None,
             "mode": schedule.mode, "po_pattern": schedule.po_pattern, "address_id": schedule.address_id,
             "lines": {str(pid): qty for pid, qty in lines}}
    audit.record(session, "recurring_changed", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id,
                 changes={k: [before[k], after[k]] for k in before if before[k] != after[k]})
    session.commit()
    return schedule


def _replace_lines(session: Session, schedule: RecurringOrder, lines: list[tuple[int, int]]) -> None:
    """Change quantities in place, drop and add lines (deletes first: one line per product)."""
    wanted = dict(lines)
    for line in list(schedule.lines):
        if line.product_id in wanted:
            line.quantity = wanted.pop(line.product_id)
        else:
            schedule.lines.remove(line)
    session.flush()
    schedule.lines.extend(RecurringLine(product_id=pid, quantity=qty) for pid, qty in wanted.items())


def _has_runs(session: Session, schedule_id: int) -> bool:
    return session.scalar(select(func.count(RecurringRun.id)).where(
        RecurringRun.recurring_order_id == schedule_id)) > 0


def _first_unrun(session: Session, schedule: RecurringOrder, today: date) -> date | None:
    """The first occurrence after the last run (a changed calendar starts after today)."""
    last = session.scalar(select(func.max(RecurringRun.occurrence_date)).where(
        RecurringRun.recurring_order_id == schedule.id))
    after = max(last, today) if last is not None else schedule.start_date - timedelta(days=1)
    return next(occurrences(schedule.start_date, schedule.cadence, end=schedule.end_date, after=after), None)


def pause(session: Session, actor: Actor, schedule_id: int, *, until: date | None, today: date) -> RecurringOrder:
    """Pause from today; ``until`` is the day it resumes by itself (None: until resumed)."""
    schedule = _own(session, actor, schedule_id)
    if until is not None and until <= today:
        raise ServiceError(_("The resume date must be after today."), field="until")
    schedule.status, schedule.paused_until = "paused", until
    audit.record(session, "recurring_paused", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id, until=until.isoformat() if until else None)
    session.commit()
    return schedule


def resume(session: Session, actor: Actor, schedule_id: int, *, today: date) -> RecurringOrder:
    """Resume now; dates that fell inside the pause stay unplaced (and are recorded as paused)."""
    schedule = _own(session, actor, schedule_id)
    if schedule.status != "paused":
        raise Conflict(_("This standing order is not paused."))
    # The dates that passed while paused get their (paused) runs first, so none is caught up.
    engine.generate_schedule(session, schedule.id, today - timedelta(days=1), engine.RunSummary())
    schedule = _own(session, actor, schedule_id)
    schedule.status, schedule.paused_until = "active", None
    audit.record(session, "recurring_resumed", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id)
    session.commit()
    return schedule


def skip(session: Session, actor: Actor, schedule_id: int, day: date, *, today: date) -> RecurringSkip:
    """Skip one future date of the calendar (only that one; the anchor stays)."""
    schedule = _own(session, actor, schedule_id)
    k = index_on_or_before(schedule.start_date, schedule.cadence, day)
    on_calendar = k is not None and occurrence(schedule.start_date, schedule.cadence, k) == day
    if not on_calendar or (schedule.end_date is not None and day > schedule.end_date):
        raise ServiceError(_("%(date)s is not one of this standing order's dates.", date=day.isoformat()),
                           field="date")
    if day < today or (schedule.next_date is None or day < schedule.next_date):
        raise ServiceError(_("This date has already been handled."), field="date")
    row = RecurringSkip(recurring_order_id=schedule.id, occurrence_date=day, created_by_id=actor.user_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("This date is already skipped."), field="date") from None
    audit.record(session, "recurring_skipped", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id, date=day.isoformat())
    session.commit()
    return row


def skip_next(session: Session, actor: Actor, schedule_id: int, *, today: date) -> RecurringSkip:
    schedule = get(session, actor, schedule_id)
    dates = next_dates(session, schedule, today, count=1)
    if not dates:
        raise Conflict(_("This standing order has no date left to skip."))
    return skip(session, actor, schedule_id, dates[0], today=today)


def cancel(session: Session, actor: Actor, schedule_id: int) -> RecurringOrder:
    """Cancel for good: nothing more is generated; the ledger and the orders stay."""
    schedule = _own(session, actor, schedule_id)
    schedule.status, schedule.next_date = "cancelled", None
    audit.record(session, "recurring_cancelled", actor_id=actor.user_id, target=schedule,
                 partner_id=schedule.partner_id)
    session.commit()
    return schedule


def next_dates(session: Session, schedule: RecurringOrder, today: date, *, count: int = 6) -> list[date]:
    """The next dates that will be placed (skips and the pause left out)."""
    if schedule.status == "cancelled" or schedule.next_date is None:
        return []
    skipped = set(session.scalars(select(RecurringSkip.occurrence_date).where(
        RecurringSkip.recurring_order_id == schedule.id, RecurringSkip.occurrence_date >= today)))
    return upcoming(schedule.start_date, schedule.cadence, max(today, schedule.next_date),
                    end=schedule.end_date, skipped=skipped, paused=schedule.status == "paused",
                    paused_until=schedule.paused_until, count=count)
