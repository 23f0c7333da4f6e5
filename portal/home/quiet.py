"""Partners who have gone quiet: no order for longer than their own usual gap.

A partner's usual gap is the median number of days between its orders over the last year; it has
gone quiet when its last order is more than twice that long ago (at least ``MIN_DAYS``), or more
than ``DEFAULT_DAYS`` ago when it placed fewer than ``MIN_ORDERS`` orders in the year (or never
ordered since it joined). Active partners only; cancelled orders do not count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.core import access
from portal.core.access import Actor
from portal.ordering.models import Order

DEFAULT_DAYS = 60
MIN_DAYS = 14
MIN_ORDERS = 4
FACTOR = 2
WINDOW_DAYS = 365


@dataclass(frozen=True)
class QuietPartner:
    partner_id: int
    name: str
    code: str
    last_order_at: datetime | None  # None: never ordered
    usual_gap_days: float | None    # None: too few orders to tell
    threshold_days: int
    days_quiet: int

    @property
    def overdue(self) -> float:
        return self.days_quiet / self.threshold_days


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def threshold(order_times: list[datetime]) -> tuple[int, float | None]:
    """(days of silence that make a partner quiet, its usual gap in days) from its orders' times."""
    if len(order_times) < MIN_ORDERS:
        return DEFAULT_DAYS, None
    times = sorted(_aware(t) for t in order_times)
    gap = median((b - a).total_seconds() / 86400 for a, b in zip(times, times[1:], strict=False))
    return max(math.ceil(gap * FACTOR), MIN_DAYS), gap


def quiet_partners(session: Session, actor: Actor, *, now: datetime | None = None, limit: int = 10
                   ) -> tuple[list[QuietPartner], int]:
    """The most overdue quiet partners the actor looks after (up to ``limit``), and how many there
    are in all: two queries, however many partners and orders."""
    now = _aware(now or datetime.now(UTC))
    counted = and_(Order.partner_id == Partner.id, Order.status != "cancelled")
    partners = session.execute(
        access.scope(select(Partner.id, Partner.name, Partner.code, Partner.created_at,
                            func.max(Order.created_at)), actor, Partner.id)
        .outerjoin(Order, counted).where(Partner.status == "active")
        .group_by(Partner.id, Partner.name, Partner.code, Partner.created_at)
    ).all()
    recent: dict[int, list[datetime]] = {}
    for partner_id, created_at in session.execute(
        access.scope(select(Order.partner_id, Order.created_at), actor, Order.partner_id)
        .join(Partner, counted).where(Partner.status == "active",
                                       Order.created_at >= now - timedelta(days=WINDOW_DAYS))
    ):
        recent.setdefault(partner_id, []).append(created_at)
    quiet = []
    for partner_id, name, code, joined, last in partners:
        days, gap = threshold(recent.get(partner_id, []))
        since = _aware(last if last is not None else joined)
        silent = (now - since).days
        if silent > days:
            quiet.append(QuietPartner(partner_id, name, code, last, gap, days, silent))
    quiet.sort(key=lambda q: (-q.overdue, q.name))
    return quiet[:limit], len(quiet)
