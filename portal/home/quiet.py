"""Partners who have gone quiet: the portfolio's "overdue" rule, on the manager's dashboard.

One rule for both pages, so they never disagree about a partner (``workspace.rhythm``):

* a partner **with a rhythm** (three or more order days in the last two years) has gone quiet
  when the days since its last order are more than the 90th percentile of its own gaps between
  order days: exactly the partners the portfolio lists as "overdue beyond their own rhythm";
* a partner **without one** (a new partner, or one that ordered once or twice) when it has not
  ordered for more than ``rhythm.NEW_MEDIUM_DAYS`` days (or, never having ordered, joined that
  long ago): the point where the portfolio's churn risk for it turns from low to medium.

Active partners only; cancelled orders do not count. Most overdue first (days past the limit),
as in the portfolio.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.core import access
from portal.core.access import Actor
from portal.ordering.models import Order
from portal.workspace import kpis, rhythm

NO_RHYTHM_DAYS = rhythm.NEW_MEDIUM_DAYS


@dataclass(frozen=True)
class QuietPartner:
    partner_id: int
    name: str
    code: str
    last_order_on: date | None     # None: never ordered
    usual_gap_days: float | None   # the median gap; None: too few order days to tell
    limit_days: float              # quiet after this many silent days
    days_quiet: int

    @property
    def days_past(self) -> int:
        return int(self.days_quiet - self.limit_days)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def quiet_partners(session: Session, actor: Actor, *, now: datetime | None = None, limit: int = 10,
                   zone: tzinfo = UTC) -> tuple[list[QuietPartner], int]:
    """The most overdue quiet partners the actor looks after (up to ``limit``), and how many there
    are in all: two queries, however many partners and orders."""
    now = _aware(now or datetime.now(UTC))
    today = now.astimezone(zone).date()
    counted = and_(Order.partner_id == Partner.id, Order.status != "cancelled")
    partners = session.execute(
        access.scope(select(Partner.id, Partner.name, Partner.code, Partner.created_at,
                            func.max(Order.created_at)), actor, Partner.id)
        .outerjoin(Order, counted).where(Partner.status == "active")
        .group_by(Partner.id, Partner.name, Partner.code, Partner.created_at)
    ).all()
    rhythms = kpis.rhythms(session, [p.id for p in partners], now=now, zone=zone)

    def days_since(moment: datetime) -> int:
        return max(0, (today - _aware(moment).astimezone(zone).date()).days)

    quiet = []
    for partner_id, name, code, joined, last in partners:
        r = rhythms[partner_id]
        found = rhythm.gone_quiet(r, days_since(joined), None if last is None else days_since(last))
        if found is not None:
            last_on = r.last_order or (None if last is None else _aware(last).astimezone(zone).date())
            quiet.append(QuietPartner(partner_id, name, code, last_on, r.usual_gap, found[1], found[0]))
    quiet.sort(key=lambda q: (-q.days_past, q.name))
    return quiet[:limit], len(quiet)
