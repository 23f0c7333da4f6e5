"""Demo follow-ups: open and done tasks for the account managers, the notifications some of them
came from, and a couple of notifications the outbox gave up on (for the admin's dashboard).

Its own random stream, so adding these leaves the order history of a seed unchanged.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.notifications.models import Notification, Task
from portal.ordering.models import Order

MANUAL = [
    ("Call about the Christmas assortment", "They asked for the bakery list before November."),
    ("Visit: check the shelf layout of the drinks", ""),
    ("Ask how the new frozen range sells", "Compare with last summer's order sizes."),
    ("Agree a delivery day for next month", ""),
    ("Send the new price list and follow up by phone", "Gold tier from next quarter?"),
    ("Ask about the late delivery of the last order", ""),
]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def add(session: Session, partners: list[Partner], *, seed: int, today: date) -> int:
    """Add the demo tasks and notifications (helper, no commit); returns how many tasks."""
    rng = random.Random(seed * 7919 + 17)
    active = [p for p in partners if p.status == "active" and p.account_manager_id]
    counts = {partner_id: (last, count) for partner_id, last, count in session.execute(
        select(Order.partner_id, func.max(Order.id), func.count(Order.id))
        .where(Order.status != "cancelled").group_by(Order.partner_id)
    )}
    latest = {partner_id: last for partner_id, (last, _count) in counts.items()}
    callers = [p for p in active if p.preferred_channel in ("phone", "visit") and p.id in latest]
    tasks: list[Task] = []
    # Thank-yous the outbox turned into a call or a visit, for partners who prefer one.
    for n, partner in enumerate(callers[:4]):
        order_id, count = counts[partner.id]
        queued = today - timedelta(days=rng.randint(0, 3))
        notification = Notification(
            partner_id=partner.id, kind="thank_you_order_milestone", channel=None, status="task",
            subject_key=f"partner:{partner.id}:orders:demo-{n}", attempts=0,
            payload={"order_id": order_id, "order_count": count, "partner_name": partner.name},
            created_at=_at(queued, 8), sent_at=_at(queued, 9))
        session.add(notification)
        session.flush()
        tasks.append(Task(
            partner_id=partner.id, assignee_id=partner.account_manager_id, notification_id=notification.id,
            kind=partner.preferred_channel, status="open", due_on=queued, created_at=_at(queued, 9),
            title=f"Thank {partner.name} for {count} orders (latest: no. {order_id})"))
    # Added by hand: five open (one overdue, one without a date), seven done, with who and when.
    by_manager: dict[int, list[Partner]] = {}
    for partner in active:
        by_manager.setdefault(partner.account_manager_id, []).append(partner)
    portfolios = [by_manager[m] for m in sorted(by_manager)]
    for n in range(12 if active else 0):
        title, note = MANUAL[n % len(MANUAL)]
        portfolio = portfolios[n % len(portfolios)]  # every manager gets some
        partner = portfolio[(n * 5 + 1) % len(portfolio)]
        manager = partner.account_manager_id
        created = today - timedelta(days=rng.randint(3, 40))
        task = Task(partner_id=partner.id, assignee_id=manager, created_by_id=manager, kind="manual",
                    title=title, note=note, created_at=_at(created, 10), status="open",
                    due_on=today + timedelta(days=rng.randint(0, 10)))
        if n == 1:
            task.due_on = today - timedelta(days=2)
        elif n == 3:
            task.due_on = None
        elif n >= 5:
            task.due_on = created + timedelta(days=rng.randint(2, 7))
            task.status, task.done_by_id = "done", manager
            task.done_at = _at(min(created + timedelta(days=rng.randint(1, 6)), today - timedelta(days=1)), 15)
        tasks.append(task)
    session.add_all(tasks)
    # Notifications the outbox gave up on.
    emailed = [p for p in active if p.preferred_channel == "email"][:2]
    for n, partner in enumerate(emailed):
        queued = today - timedelta(days=3 + n)
        session.add(Notification(
            partner_id=partner.id, kind="thank_you_order_milestone", status="failed", attempts=5,
            subject_key=f"partner:{partner.id}:orders:demo-failed-{n}",
            payload={"order_id": latest.get(partner.id), "partner_name": partner.name,
                     "order_count": counts.get(partner.id, (None, 0))[1]},
            last_error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable" if n == 0
            else "no active user to email", created_at=_at(queued, 7)))
    session.flush()
    return len(tasks)
