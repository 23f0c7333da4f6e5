"""Generating standing orders: every due occurrence gets exactly one run, and at most one order.

``generate_due(session_factory, today)`` walks the schedules whose ``next_date`` is on or before
``today``. Each occurrence is one transaction that claims the schedule's row (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL: parallel workers share the schedules instead of waiting on each other),
decides the occurrence's outcome, writes its run row, advances ``next_date`` and, for ``created``,
places the order through ``ordering.orders.place_order`` with an idempotency key made of the
schedule and the date. The unique (schedule, date) run row is the guarantee: a second process
that reaches the same occurrence fails to insert it and its whole transaction, order included,
rolls back. A process killed mid-way leaves each occurrence either complete or untouched.

Policy (README, "Standing orders"): after downtime only the latest missed occurrence is placed,
older ones are recorded as ``missed``; dates inside a pause are recorded as ``paused`` (neither
placed nor missed); a skipped date is recorded as ``skipped``; the anchor never moves.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Partner
from portal.catalog import browse as catalog
from portal.core.access import Actor, PartnerRef
from portal.core.errors import ServiceError
from portal.notifications import outbox
from portal.ordering import orders
from portal.recurring.models import RecurringOrder, RecurringRun, RecurringSkip
from portal.recurring.plan import plan_for as order_plan
from portal.recurring.schedules import occurrences

Progress = Callable[[int], None]


@dataclass
class RunSummary:
    created: int = 0
    skipped: int = 0
    paused: int = 0
    failed: int = 0
    missed: int = 0
    schedules: int = 0
    failures: list[tuple[int, date, str]] = field(default_factory=list)  # (schedule, date, reason)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def occurrences(self) -> int:
        return self.created + self.skipped + self.paused + self.failed + self.missed


def order_key(schedule_id: int, day: date) -> str:
    """The idempotency key of the order an occurrence places."""
    return f"recurring:{schedule_id}:{day.isoformat()}"


def due_ids(session: Session, today: date) -> list[int]:
    """The schedules with an occurrence on or before ``today`` that has no run yet."""
    return list(session.scalars(
        select(RecurringOrder.id)
        .where(RecurringOrder.status != "cancelled", RecurringOrder.next_date <= today)
        .order_by(RecurringOrder.id)
    ))


def generate_due(factory: sessionmaker, today: date, *, ids: list[int] | None = None,
                 progress: Progress | None = None) -> RunSummary:
    """Give every due occurrence up to ``today`` its run (and order); safe to run again or at once."""
    summary = RunSummary()
    with factory() as session:
        todo = due_ids(session, today) if ids is None else ids
    for schedule_id in todo:
        with factory() as session:
            outcomes = generate_schedule(session, schedule_id, today, summary)
        summary.schedules += 1 if outcomes else 0
        if progress is not None:
            progress(1)
    return summary


def generate_schedule(session: Session, schedule_id: int, today: date, summary: RunSummary) -> int:
    """Every due occurrence of one schedule, one transaction each; the number handled here."""
    handled = 0
    while True:
        schedule = _claim(session, schedule_id, today)
        if schedule is None:  # nothing due, or another worker holds it
            session.rollback()
            return handled
        day = schedule.next_date
        following = next(occurrences(schedule.start_date, schedule.cadence, end=schedule.end_date,
                                     after=day), None)
        outcome = _settle(session, schedule, day, following, today)
        if outcome is None:  # another process wrote this run first
            session.rollback()
            return handled
        summary.add(outcome[0])
        if outcome[0] == "failed":
            summary.failures.append((schedule_id, day, outcome[1]))
        handled += 1


def _claim(session: Session, schedule_id: int, today: date) -> RecurringOrder | None:
    stmt = (select(RecurringOrder)
            .where(RecurringOrder.id == schedule_id, RecurringOrder.status != "cancelled",
                   RecurringOrder.next_date <= today)
            .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=RecurringOrder)
    return session.scalar(stmt)


def _paused_on(schedule: RecurringOrder, day: date) -> bool:
    return schedule.status == "paused" and (schedule.paused_until is None or day < schedule.paused_until)


def _advance(session: Session, schedule: RecurringOrder, following: date | None) -> None:
    values: dict = {"next_date": following}
    if schedule.status == "paused" and schedule.paused_until is not None and (
            following is None or following >= schedule.paused_until):
        values.update(status="active", paused_until=None)  # the pause is over
    session.execute(update(RecurringOrder).where(RecurringOrder.id == schedule.id).values(**values))


def _write_run(session: Session, schedule: RecurringOrder, day: date, outcome: str, *,
               reason: str = "", order_id: int | None = None, detail: dict | None = None) -> None:
    session.execute(insert(RecurringRun).values(
        recurring_order_id=schedule.id, partner_id=schedule.partner_id, occurrence_date=day,
        outcome=outcome, reason=reason, order_id=order_id, detail=detail or {}))


def _finish(session: Session, schedule: RecurringOrder, day: date, following: date | None,
            outcome: str, **run) -> bool:
    """Write the run and advance, and commit; False when another process wrote the run first."""
    try:
        _write_run(session, schedule, day, outcome, **run)
        _advance(session, schedule, following)
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _settle(session: Session, schedule: RecurringOrder, day: date, following: date | None,
            today: date) -> tuple[str, str] | None:
    skipped = session.scalar(select(RecurringSkip.id).where(
        RecurringSkip.recurring_order_id == schedule.id, RecurringSkip.occurrence_date == day))
    if skipped is not None:
        outcome, reason = "skipped", ""
    elif _paused_on(schedule, day):
        outcome, reason = "paused", ""
    elif following is not None and following <= today:
        outcome, reason = "missed", "later_occurrence_due"
    else:
        return _place(session, schedule, day, following)
    return (outcome, reason) if _finish(session, schedule, day, following, outcome, reason=reason) else None


def _place(session: Session, schedule: RecurringOrder, day: date,
           following: date | None) -> tuple[str, str] | None:
    partner = session.get(Partner, schedule.partner_id)
    if partner.status != "active":
        return _fail(session, schedule, day, following, "partner_inactive", [])
    ref = PartnerRef(partner.id, partner.code, partner.name, partner.price_tier_id)
    plan = order_plan(session, schedule, day)  # lines (a review draft's), address, PO reference
    priced = catalog.priced_by_id(session, ref, [line.product_id for line in plan.lines])
    wanted, unavailable = [], []
    for line in plan.lines:
        product = priced.get(line.product_id)
        if product is None or not product.active:
            unavailable.append({"sku": line.product.sku, "name": line.product.name,
                                "quantity": line.quantity, "why": "no_longer_sold"})
        else:
            wanted.append(orders.LineRequest(product.sku, line.quantity))
    if not wanted:
        return _fail(session, schedule, day, following, "nothing_orderable", unavailable)
    detail = {"unavailable": unavailable} if unavailable else {}

    def record(order_id: int) -> None:  # in the order's own transaction
        _write_run(session, schedule, day, "created", order_id=order_id, detail=detail)
        _advance(session, schedule, following)

    actor = Actor(None, "system", partner.id, partner=ref)
    try:
        result = orders.place_order(session, actor, wanted, key=order_key(schedule.id, day),
                                    source="recurring", note=schedule.note, before_commit=record,
                                    po_reference=plan.po_reference, address_id=plan.address_id)
    except IntegrityError:  # the run row: another process placed this occurrence first
        session.rollback()
        return None
    except ServiceError as err:
        session.rollback()
        return _fail(session, schedule, day, following, err.code or "order_refused", unavailable,
                     message=str(err))
    if not result.created:  # the order exists (an earlier run that lost its row): link it
        if not _finish(session, schedule, day, following, "created", order_id=result.order.id,
                       detail=detail):
            return None
    if unavailable:
        _notify(session, schedule, day, "recurring_order_partial", unavailable)
        session.commit()
    return "created", ""


def _fail(session: Session, schedule: RecurringOrder, day: date, following: date | None,
          reason: str, unavailable: list[dict], message: str = "") -> tuple[str, str] | None:
    detail = {"unavailable": unavailable} if unavailable else {}
    if message:
        detail["message"] = message
    try:
        _write_run(session, schedule, day, "failed", reason=reason, detail=detail)
        _advance(session, schedule, following)
        _notify(session, schedule, day, "recurring_order_failed", unavailable, reason=reason)
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return "failed", reason


def _notify(session: Session, schedule: RecurringOrder, day: date, kind: str,
            unavailable: list[dict], reason: str = "") -> None:
    """Tell the partner (their preferred channel) and their account manager (a task or email)."""
    payload = {"recurring_order_id": schedule.id, "occurrence_date": day.isoformat(),
               "name": schedule.name, "reason": reason,
               "unavailable": [line["name"] for line in unavailable]}
    subject = f"recurring:{schedule.id}:{day.isoformat()}"
    outbox.queue(session, partner_id=schedule.partner_id, kind=kind, subject_key=subject,
                 payload=payload, user_id=schedule.created_by_id)  # by the partner's channel
    outbox.queue(session, partner_id=schedule.partner_id, kind=kind, subject_key=subject + ":manager",
                 payload=payload, channel="phone")  # a follow-up task for the account manager


def today_in(zone: str) -> date:
    """Today's date in the wholesaler's time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(zone)).date()

