"""Demo standing orders: about a third of the partners, every cadence, mode and state, a year of runs.

The ledgers are made by the real engine, one occurrence date at a time (so each is placed, not
caught up), and the orders it placed are then dated on their occurrence day, as they would have
been had the portal been running all year.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Partner, User
from portal.catalog.models import Product
from portal.ordering.models import Order
from portal.ordering.store import recount
from portal.recurring import drafts, engine
from portal.recurring.models import RecurringLine, RecurringOrder, RecurringRun, RecurringSkip
from portal.recurring.schedules import occurrences

NAMES = {"weekly": "Weekly fresh goods", "biweekly": "Fortnightly drinks",
         "monthly": "Monthly restock", "quarterly": "Quarterly household"}


def load_standing_orders(session: Session, *, seed: int, today: date,
                         progress: Callable[[str, int, int], None] | None = None) -> int:
    """Add the demo's standing orders and their year of runs; the number of runs made."""
    rng = random.Random(seed * 7919)
    report = progress or (lambda stage, done, total: None)
    partners = session.scalars(select(Partner).order_by(Partner.id)).all()
    sold = session.scalars(select(Product).where(Product.active).order_by(Product.id)).all()
    retired = session.scalars(select(Product).where(Product.active.is_(False)).order_by(Product.id)).all()
    buyers = {p_id: u_id for p_id, u_id in session.execute(
        select(User.partner_id, User.id).where(User.role == "buyer").order_by(User.id.desc()))}
    cadences = ["monthly", "weekly", "biweekly", "quarterly"]
    schedules: list[tuple[RecurringOrder, tuple[date, date] | None, date | None, bool]] = []
    for i, partner in enumerate(partners):
        if i % 3 and i != 1:
            continue
        cadence = "monthly" if i == 0 else cadences[(i // 3) % 4]
        start = today - relativedelta(months=12) + timedelta(days=rng.randint(0, 27))
        picks = rng.sample(sold, rng.randint(2, 5))
        lines = [RecurringLine(product_id=p.id, quantity=p.pack_size * rng.randint(1, 3)) for p in picks]
        if i == 6 and retired:  # one whose product was discontinued: its orders leave it out
            lines.append(RecurringLine(product_id=retired[0].id, quantity=retired[0].pack_size))
        schedule = RecurringOrder(
            partner_id=partner.id, created_by_id=buyers.get(partner.id), name=NAMES[cadence],
            cadence=cadence, start_date=start, mode="review" if i in (3, 21) else "auto",
            status="active", next_date=start,
            lines=lines, created_at=datetime.combine(start - timedelta(days=3), time(9), tzinfo=UTC))
        session.add(schedule)
        pause = None
        if i == 9:  # paused for a summer, resumed by itself
            pause = (start + relativedelta(months=5), start + relativedelta(months=7))
        schedules.append((schedule, pause, today - timedelta(days=20) if i == 12 else None, i == 15))
    session.flush()
    for schedule, _pause, _cancel, _paused_now in schedules[:3]:  # a skipped date now and then
        dates = list(occurrences(schedule.start_date, schedule.cadence, through=today))
        if len(dates) > 4:
            session.add(RecurringSkip(recurring_order_id=schedule.id, occurrence_date=dates[3]))
    session.commit()

    made = 0
    for n, (schedule, pause, cancel_on, paused_now) in enumerate(schedules, start=1):
        for day in occurrences(schedule.start_date, schedule.cadence, through=today - timedelta(days=1)):
            if cancel_on is not None and day >= cancel_on:
                session.execute(update(RecurringOrder).where(RecurringOrder.id == schedule.id)
                                .values(status="cancelled", next_date=None))
                session.commit()
                break
            if pause is not None and day >= pause[0] and schedule.status == "active" and day < pause[1]:
                session.execute(update(RecurringOrder).where(RecurringOrder.id == schedule.id)
                                .values(status="paused", paused_until=pause[1]))
                session.commit()
            made += engine.generate_schedule(session, schedule.id, day, engine.RunSummary())
            session.refresh(schedule)
        if paused_now:  # paused by the partner last week, back in three weeks
            session.execute(update(RecurringOrder).where(RecurringOrder.id == schedule.id)
                            .values(status="paused", paused_until=today + timedelta(days=21)))
            session.commit()
        report("standing orders", n, len(schedules))
    _date_the_orders(session, today)
    recount(session)
    session.commit()
    # Review mode: the drafts of the dates within the lead days, as the morning job makes them
    # (without their notices: loading a demo tells no one anything).
    drafts.prepare(sessionmaker(bind=session.get_bind(), expire_on_commit=False), today, notify=False)
    return made


def _date_the_orders(session: Session, today: date) -> None:
    """Date each order a standing order placed on its day (not the day of the load); those more
    than a week old have been delivered since."""
    rows = session.execute(select(RecurringRun.order_id, RecurringRun.occurrence_date)
                           .where(RecurringRun.order_id.is_not(None))).all()
    for order_id, day in rows:
        when = datetime.combine(day, time(6), tzinfo=UTC)
        values = {"created_at": when, "updated_at": when}
        if day < today - timedelta(days=7):
            values.update(status="delivered", promised_date=day + timedelta(days=2),
                          delivered_at=when + timedelta(days=2))
        session.execute(update(Order).where(Order.id == order_id).values(**values))
    for run_day, run_id in session.execute(select(RecurringRun.occurrence_date, RecurringRun.id)).all():
        session.execute(update(RecurringRun).where(RecurringRun.id == run_id).values(
            created_at=datetime.combine(run_day, time(6), tzinfo=UTC)))
