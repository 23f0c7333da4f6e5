"""Review mode: a draft of each coming order, a few days before its date (the partner's review
lead days, default 3). The partner changes it or confirms it (placed at once); left alone, it is
placed on the day as it stands. A draft is one row per (schedule, date), made once however often
``prepare`` runs; placing it goes through the engine like any occurrence, so the run row's
uniqueness keeps it to one order.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Partner
from portal.catalog.models import Product
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.types import utc_now
from portal.ordering.cart import check_quantity
from portal.recurring import engine, reminders, settings, standing
from portal.recurring.models import LEAD_DAYS, MAX_LINES, RecurringDraft, RecurringOrder, RecurringRun, RecurringSkip
from portal.recurring.schedules import upcoming

Progress = Callable[[int], None]

_INSERT = {
    name: dialect_insert(RecurringDraft.__table__)
    .on_conflict_do_nothing(index_elements=["recurring_order_id", "occurrence_date"])
    .returning(RecurringDraft.__table__.c.id)
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


@dataclass
class DraftSummary:
    schedules: int = 0  # review-mode schedules looked at
    created: int = 0  # drafts made now (those made before are left alone)
    notices: int = 0  # "a draft to review" notifications queued for them


def candidate_ids(session: Session, today: date) -> list[int]:
    """Active review-mode schedules with a date within the longest lead time."""
    return list(session.scalars(
        select(RecurringOrder.id).where(
            RecurringOrder.status == "active", RecurringOrder.mode == "review",
            RecurringOrder.next_date <= today + timedelta(days=LEAD_DAYS[1]))
        .order_by(RecurringOrder.id)))


def _dates(session: Session, schedule: RecurringOrder, today: date, lead: int) -> list[date]:
    """The coming dates of ``schedule`` (skips left out) up to ``lead`` days ahead."""
    start = max(today, schedule.next_date)
    skipped = set(session.scalars(select(RecurringSkip.occurrence_date).where(
        RecurringSkip.recurring_order_id == schedule.id, RecurringSkip.occurrence_date >= start)))
    horizon = today + timedelta(days=lead)
    return [day for day in upcoming(schedule.start_date, schedule.cadence, start, end=schedule.end_date,
                                    skipped=skipped, count=LEAD_DAYS[1] + 1) if day <= horizon]


def prepare(factory: sessionmaker, today: date, *, ids: list[int] | None = None,
            progress: Progress | None = None, notify: bool = True) -> DraftSummary:
    """Make the drafts of every active review-mode schedule's dates within its partner's lead
    days, each new one told to its partner (``notify``; needs an app context for the links); safe
    to run again or at once (the unique row keeps one draft per date)."""
    summary = DraftSummary()
    with factory() as session:
        todo = candidate_ids(session, today) if ids is None else ids
    for start in range(0, len(todo), 200):
        chunk = todo[start:start + 200]
        with factory() as session:
            schedules = session.scalars(select(RecurringOrder).where(
                RecurringOrder.id.in_(chunk), RecurringOrder.status == "active",
                RecurringOrder.mode == "review")).all()
            partners = {p.id: p for p in session.scalars(
                select(Partner).where(Partner.id.in_({s.partner_id for s in schedules})))}
            leads = settings.for_partners(session, partners)
            statement = _INSERT[session.get_bind().dialect.name]
            for schedule in schedules:
                if schedule.next_date is None:
                    continue
                summary.schedules += 1
                lines = [{"product_id": line.product_id, "quantity": line.quantity} for line in schedule.lines]
                lead = leads[schedule.partner_id].review_lead_days
                for day in _dates(session, schedule, today, lead):
                    made = session.execute(statement, {
                        "recurring_order_id": schedule.id, "partner_id": schedule.partner_id,
                        "occurrence_date": day, "lines": lines, "created_at": utc_now()}).scalar()
                    if made is not None:  # a new draft: tell the partner once (made again: never)
                        summary.created += 1
                        summary.notices += notify and reminders.queue_draft_notice(
                            session, schedule, partners[schedule.partner_id], made, day, lead=lead)
            session.commit()
        if progress is not None:
            progress(len(chunk))
    return summary


def open_drafts(session: Session, actor: Actor, schedule_ids: Sequence[int],
                today: date) -> dict[int, list[RecurringDraft]]:
    """The drafts still to be placed, per schedule: on one of its coming dates (not skipped, not
    inside a pause, still on the calendar after a change), not placed yet."""
    found: dict[int, list[RecurringDraft]] = defaultdict(list)
    if not schedule_ids:
        return found
    rows = session.scalars(
        access.scope(select(RecurringDraft), actor, RecurringDraft.partner_id)
        .join(RecurringOrder, RecurringOrder.id == RecurringDraft.recurring_order_id)
        .where(RecurringDraft.recurring_order_id.in_(schedule_ids), RecurringOrder.mode == "review",
               RecurringOrder.status != "cancelled", RecurringDraft.occurrence_date >= RecurringOrder.next_date)
        .order_by(RecurringDraft.occurrence_date))
    coming: dict[int, set[date]] = {}
    for draft in rows:
        if draft.recurring_order_id not in coming:
            schedule = session.get(RecurringOrder, draft.recurring_order_id)
            coming[schedule.id] = set(standing.next_dates(session, schedule, today, count=LEAD_DAYS[1] + 1))
        if draft.occurrence_date in coming[draft.recurring_order_id]:
            found[draft.recurring_order_id].append(draft)
    return found


def pending(session: Session, actor: Actor, today: date, *, schedule_ids: Sequence[int] | None = None
            ) -> list[tuple[RecurringOrder, RecurringDraft]]:
    """The drafts waiting for review (as ``open_drafts``), soonest first, in one query however many:
    for the dashboard and the API."""
    stmt = (access.scope(select(RecurringDraft, RecurringOrder), actor, RecurringDraft.partner_id)
            .join(RecurringOrder, RecurringOrder.id == RecurringDraft.recurring_order_id)
            .where(RecurringOrder.mode == "review", RecurringOrder.status != "cancelled",
                   RecurringDraft.occurrence_date >= RecurringOrder.next_date,
                   RecurringDraft.occurrence_date >= today,
                   ~exists().where(RecurringSkip.recurring_order_id == RecurringDraft.recurring_order_id,
                                   RecurringSkip.occurrence_date == RecurringDraft.occurrence_date))
            .order_by(RecurringDraft.occurrence_date, RecurringDraft.id))
    if schedule_ids is not None:
        stmt = stmt.where(RecurringDraft.recurring_order_id.in_(schedule_ids))
    found = []
    for draft, schedule in session.execute(stmt).all():
        day = draft.occurrence_date  # still on the calendar (after a change) and not inside a pause
        if upcoming(schedule.start_date, schedule.cadence, day, end=schedule.end_date,
                    paused=schedule.status == "paused", paused_until=schedule.paused_until, count=1) == [day]:
            found.append((schedule, draft))
    return found


def lines_of(session: Session, draft: RecurringDraft) -> list[tuple[Product, int]]:
    """The draft's lines with their products, in the draft's order."""
    ids = [line["product_id"] for line in draft.lines]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    return [(products[line["product_id"]], line["quantity"]) for line in draft.lines
            if line["product_id"] in products]


def get(session: Session, actor: Actor, schedule_id: int, draft_id: int) -> tuple[RecurringOrder, RecurringDraft]:
    """A draft of a schedule the actor may see (another partner's: NotFound, foreign)."""
    schedule = standing.get(session, actor, schedule_id)
    draft = session.get(RecurringDraft, draft_id)
    if draft is None or draft.recurring_order_id != schedule.id:
        # Another partner's draft under one's own standing order is as unknown as a missing one,
        # and audited like any reach for another partner's row.
        raise NotFound(_("No such draft."), foreign=draft is not None and draft.partner_id != schedule.partner_id)
    return schedule, draft


def state(session: Session, actor: Actor, draft: RecurringDraft, today: date) -> tuple[str, int | None]:
    """Where a draft stands: ``open`` (to review), ``placed`` (with its order) or ``closed`` (its
    date was skipped, paused, failed or is no longer one of the standing order's)."""
    run = _placed(session, draft)
    if run is not None:
        return ("placed", run.order_id) if run.outcome == "created" else ("closed", None)
    waiting = pending(session, actor, today, schedule_ids=[draft.recurring_order_id])
    return ("open" if any(row.id == draft.id for _s, row in waiting) else "closed"), None


def _placed(session: Session, draft: RecurringDraft) -> RecurringRun | None:
    return session.scalar(select(RecurringRun).where(
        RecurringRun.recurring_order_id == draft.recurring_order_id,
        RecurringRun.occurrence_date == draft.occurrence_date))


def _changeable(session: Session, actor: Actor, schedule_id: int, draft_id: int,
                today: date) -> tuple[RecurringOrder, RecurringDraft]:
    schedule, draft = get(session, actor, schedule_id, draft_id)
    if actor.partner_id != schedule.partner_id:
        raise ServiceError(_("Only the partner's own users change its standing orders."))
    if session.get_bind().dialect.name == "postgresql":
        # Wait for an engine placing this date right now (it holds the row), then see its run.
        session.execute(select(RecurringOrder.id).where(RecurringOrder.id == schedule.id).with_for_update())
        session.refresh(schedule)
        session.refresh(draft)  # as a change that held the lock before us left it
    if schedule.status == "cancelled":
        raise Conflict(_("This standing order is cancelled."))
    if _placed(session, draft) is not None or (schedule.next_date or date.max) > draft.occurrence_date:
        raise Conflict(_("The order of this date has already been placed."))
    if schedule.mode != "review":
        raise Conflict(_("This standing order places its orders without review."))
    if draft.occurrence_date not in standing.next_dates(session, schedule, today, count=LEAD_DAYS[1] + 1):
        raise Conflict(_("This date is skipped, paused or no longer one of the standing order's dates."))
    return schedule, draft


def _changed_meanwhile() -> Conflict:
    return Conflict(_("Someone changed the order of this date meanwhile. It is shown as it stands "
                      "now: make your change again."), code="draft_changed", field="version")


def _stale(draft: RecurringDraft, version: int | None) -> None:
    if version is not None and version != draft.version:
        raise _changed_meanwhile()


def change(session: Session, actor: Actor, schedule_id: int, draft_id: int,
           lines: Sequence[tuple[int, int]], *, today: date, version: int | None = None) -> RecurringDraft:
    """Change the order of one date only: quantities, lines removed or added (audited).

    ``version`` is the draft's version the change was made from (the form's, the API client's);
    the draft is written only if it still has it, so of two changes made from the same version one
    is saved and the other refused (Conflict), never silently overwritten. None: the version read
    here (still compare and set, against a change landing between this read and the write)."""
    _schedule, draft = _changeable(session, actor, schedule_id, draft_id, today)
    _stale(draft, version)
    merged: dict[int, int] = {}
    for product_id, quantity in lines:
        merged[product_id] = merged.get(product_id, 0) + quantity
    if not merged:
        raise ServiceError(_("Keep at least one product, or skip this date instead."), field="lines")
    if len(merged) > MAX_LINES:
        raise ServiceError(_("A standing order holds at most %(n)d products.", n=MAX_LINES), field="lines")
    for quantity in merged.values():
        check_quantity(quantity)
    before = {str(line["product_id"]): line["quantity"] for line in draft.lines}
    # Compare and set: on SQLite nothing locks the row between the read above and this write.
    written = session.execute(
        update(RecurringDraft).where(RecurringDraft.id == draft.id, RecurringDraft.version == draft.version)
        .values(lines=[{"product_id": pid, "quantity": qty} for pid, qty in merged.items()],
                changed_at=utc_now(), changed_by_id=actor.user_id, version=draft.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if written != 1:
        session.rollback()
        raise _changed_meanwhile()
    audit.record(session, "recurring_draft_changed", actor_id=actor.user_id, target=draft,
                 partner_id=draft.partner_id, date=draft.occurrence_date.isoformat(),
                 lines=[before, {str(pid): qty for pid, qty in merged.items()}])
    session.commit()
    session.refresh(draft)
    return draft


def confirm(session: Session, actor: Actor, schedule_id: int, draft_id: int, *, today: date,
            version: int | None = None) -> RecurringRun:
    """Place the draft's order now, through the engine (the same key and run row as on the day):
    the run is ``created`` and the schedule moves on to its next date. With ``version``, only if
    the draft is still the one the partner saw (changed meanwhile: Conflict, nothing placed)."""
    schedule, draft = _changeable(session, actor, schedule_id, draft_id, today)
    _stale(draft, version)
    day = draft.occurrence_date
    if schedule.status != "active":
        raise Conflict(_("Resume the standing order before you confirm an order."))
    if standing.next_dates(session, schedule, today, count=1) != [day]:
        raise Conflict(_("Only the order of the next date can be confirmed now."))
    session.commit()  # end the reads: the engine takes the schedule's row in its own transaction
    engine.generate_schedule(session, schedule_id, day, engine.RunSummary())
    run = _placed(session, draft)
    if run is None:  # another worker holds the schedule this very moment
        raise Conflict(_("The order could not be placed just now. Try again in a minute."))
    if run.outcome != "created":
        raise ServiceError(_("The order could not be placed (%(reason)s). It is in the history.",
                             reason=run.reason or run.outcome), code=run.reason or "order_refused")
    audit.record(session, "recurring_draft_confirmed", actor_id=actor.user_id, target=draft,
                 partner_id=draft.partner_id, date=day.isoformat(), order_id=run.order_id)
    session.commit()
    return run
