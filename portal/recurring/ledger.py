"""Reading standing orders: the company's list with next dates, and a schedule's run ledger."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.core import access
from portal.core.access import Actor
from portal.core.paging import Page, paginate
from portal.recurring.models import RecurringOrder, RecurringRun, RecurringSkip
from portal.recurring.schedules import upcoming

RUNS_PER_PAGE = 20


@dataclass(frozen=True)
class ScheduleRow:
    schedule: RecurringOrder
    next_date: date | None
    orders_made: int


def _next(schedule: RecurringOrder, skipped: set[date], today: date, count: int) -> list[date]:
    if schedule.status == "cancelled" or schedule.next_date is None:
        return []
    return upcoming(schedule.start_date, schedule.cadence, max(today, schedule.next_date),
                    end=schedule.end_date, skipped=skipped, paused=schedule.status == "paused",
                    paused_until=schedule.paused_until, count=count)


def overview(session: Session, actor: Actor, today: date) -> list[ScheduleRow]:
    """The standing orders the actor may see (active first), in three queries however many."""
    schedules = session.scalars(
        access.scope(select(RecurringOrder), actor, RecurringOrder.partner_id)
        .options(selectinload(RecurringOrder.lines))
        .order_by(RecurringOrder.status == "cancelled", RecurringOrder.next_date, RecurringOrder.id)
    ).all()
    ids = [s.id for s in schedules]
    skipped: dict[int, set[date]] = defaultdict(set)
    made: dict[int, int] = {}
    if ids:
        for schedule_id, day in session.execute(select(
                RecurringSkip.recurring_order_id, RecurringSkip.occurrence_date).where(
                RecurringSkip.recurring_order_id.in_(ids), RecurringSkip.occurrence_date >= today)):
            skipped[schedule_id].add(day)
        made = dict(session.execute(
            select(RecurringRun.recurring_order_id, func.count(RecurringRun.order_id))
            .where(RecurringRun.recurring_order_id.in_(ids), RecurringRun.outcome == "created")
            .group_by(RecurringRun.recurring_order_id)).all())
    rows = []
    for schedule in schedules:
        upcoming_dates = _next(schedule, skipped[schedule.id], today, 1)
        rows.append(ScheduleRow(schedule, upcoming_dates[0] if upcoming_dates else None,
                                made.get(schedule.id, 0)))
    return rows


def next_standing_order(session: Session, actor: Actor, today: date) -> ScheduleRow | None:
    """The company's next standing order to be placed (for the buyer's dashboard)."""
    dated = [row for row in overview(session, actor, today) if row.next_date is not None]
    return min(dated, key=lambda row: row.next_date, default=None)


def runs(session: Session, actor: Actor, schedule_id: int, *, page: int = 1) -> Page[RecurringRun]:
    """The schedule's runs, newest first (the caller has checked the schedule is visible)."""
    stmt = access.scope(select(RecurringRun), actor, RecurringRun.partner_id).where(
        RecurringRun.recurring_order_id == schedule_id).order_by(RecurringRun.occurrence_date.desc())
    return paginate(session, stmt, page=page, per_page=RUNS_PER_PAGE)
