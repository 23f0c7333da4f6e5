"""What a partner is told before a date: a reminder a few days before each date a standing order
places (the partner's reminder days, default 2), with links to skip that date or change the
standing order; and, in review mode, a notice when the date's draft appears, with links to review,
confirm or skip it. Both go through the partner's preferred channel; channel ``none`` gets none.

One message per date, never two: a review-mode date whose draft appears ahead of its day (review
lead days 1 or more) gets the draft notice *instead of* the reminder; with lead days 0 the draft
only appears on the day, so the reminder goes as for an automatic standing order and no notice.
The rule is decided from the settings, so it does not matter which job runs first; and neither is
queued when the other one already was for that date (the mode changed in between).

Exactly once per (schedule, date): the outbox keeps one notification per (kind, subject key),
with ``ON CONFLICT DO NOTHING``, so a second run, or two at once, queue nothing new.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Partner
from portal.notifications import outbox
from portal.notifications.models import Notification
from portal.recurring import settings
from portal.recurring.models import REMINDER_DAYS, RecurringOrder, RecurringSkip
from portal.recurring.schedules import upcoming
from portal.web.guards import public_url

KIND = "recurring_order_reminder"
DRAFT_KIND = "recurring_draft_ready"
CHUNK = 200
Progress = Callable[[int], None]


@dataclass
class ReminderSummary:
    schedules: int = 0  # looked at
    queued: int = 0  # reminders queued now
    already: int = 0  # queued by an earlier run
    silent: int = 0  # the partner wants no notifications (channel none) or is not active
    replaced: int = 0  # review-mode dates told by their draft notice instead


def subject_key(schedule_id: int, day: date) -> str:
    return f"reminder:{schedule_id}:{day.isoformat()}"


def draft_subject_key(schedule_id: int, day: date) -> str:
    return f"draft:{schedule_id}:{day.isoformat()}"


def notice_replaces_reminder(schedule: RecurringOrder, lead_days: int) -> bool:
    """A review-mode date whose draft appears before its day is told by the draft notice."""
    return schedule.mode == "review" and lead_days >= 1


def _queued(session: Session, kind: str, key: str) -> bool:
    return session.scalar(select(Notification.id).where(
        Notification.kind == kind, Notification.subject_key == key)) is not None


def _silent(partner: Partner) -> bool:
    return partner.preferred_channel == "none" or partner.status != "active"


def queue_draft_notice(session: Session, schedule: RecurringOrder, partner: Partner, draft_id: int,
                       day: date, *, lead: int) -> bool:
    """Queue "the order of <day> is ready for review" once (helper, no commit); True if queued."""
    if not notice_replaces_reminder(schedule, lead) or _silent(partner):
        return False
    if _queued(session, KIND, subject_key(schedule.id, day)):  # reminded while it was automatic
        return False
    return outbox.queue(session, partner_id=partner.id, kind=DRAFT_KIND,
                        subject_key=draft_subject_key(schedule.id, day), user_id=schedule.created_by_id,
                        payload={**_payload(schedule, partner, day), "draft_id": draft_id,
                                 "review_url": _link("recurring.draft", schedule_id=schedule.id,
                                                     draft_id=draft_id),
                                 "confirm_url": _link("recurring.confirm_draft", schedule_id=schedule.id,
                                                      draft_id=draft_id)})


def candidate_ids(session: Session, today: date) -> list[int]:
    """Schedules that may have a date within the longest reminder time."""
    return list(session.scalars(
        select(RecurringOrder.id).where(
            RecurringOrder.status != "cancelled",
            RecurringOrder.next_date <= today + timedelta(days=REMINDER_DAYS[1]))
        .order_by(RecurringOrder.id)))


def _link(endpoint: str, **values) -> str:
    if has_request_context():
        return public_url(endpoint, **values)
    with current_app.test_request_context():  # a job: no request, links go to PUBLIC_URL
        return public_url(endpoint, **values)


def reminder_date(session: Session, schedule: RecurringOrder, today: date, days: int) -> date | None:
    """The date ``days`` ahead if the schedule places an order then (not skipped, not paused)."""
    day = today + timedelta(days=days)
    if schedule.status == "cancelled" or schedule.next_date is None or day < schedule.next_date:
        return None
    if session.scalar(select(RecurringSkip.id).where(
            RecurringSkip.recurring_order_id == schedule.id, RecurringSkip.occurrence_date == day)):
        return None
    coming = upcoming(schedule.start_date, schedule.cadence, day, end=schedule.end_date,
                      paused=schedule.status == "paused", paused_until=schedule.paused_until, count=1)
    return day if coming == [day] else None


def send_reminders(factory: sessionmaker, today: date, *, ids: list[int] | None = None,
                   progress: Progress | None = None) -> ReminderSummary:
    """Queue the reminders of every date exactly ``reminder_days`` ahead; safe to run again."""
    summary = ReminderSummary()
    with factory() as session:
        todo = candidate_ids(session, today) if ids is None else ids
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        with factory() as session:
            schedules = session.scalars(select(RecurringOrder).where(RecurringOrder.id.in_(chunk))).all()
            partners = {p.id: p for p in session.scalars(
                select(Partner).where(Partner.id.in_({s.partner_id for s in schedules})))}
            days = settings.for_partners(session, partners)
            for schedule in schedules:
                summary.schedules += 1
                partner = partners[schedule.partner_id]
                day = reminder_date(session, schedule, today, days[partner.id].reminder_days)
                if day is None:
                    continue
                if _silent(partner):
                    summary.silent += 1
                    continue
                if notice_replaces_reminder(schedule, days[partner.id].review_lead_days) or _queued(
                        session, DRAFT_KIND, draft_subject_key(schedule.id, day)):
                    summary.replaced += 1
                    continue
                new = outbox.queue(session, partner_id=partner.id, kind=KIND,
                                   subject_key=subject_key(schedule.id, day), user_id=schedule.created_by_id,
                                   payload=_payload(schedule, partner, day))
                summary.queued += new
                summary.already += not new
            session.commit()
        if progress is not None:
            progress(len(chunk))
    return summary


def _payload(schedule: RecurringOrder, partner: Partner, day: date) -> dict:
    return {
        "recurring_order_id": schedule.id, "name": schedule.name or f"#{schedule.id}",
        "partner_name": partner.name, "occurrence_date": day.isoformat(), "mode": schedule.mode,
        "products": len(schedule.lines),
        "skip_url": _link("recurring.skip", schedule_id=schedule.id, date=day.isoformat()),
        "edit_url": _link("recurring.edit", schedule_id=schedule.id),
    }
