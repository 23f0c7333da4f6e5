"""Who brought whom: referrals per referrer, the revenue of the partners they brought in, and
conversion over time.

Revenue is net sales (order lines as charged, cancelled orders left out) of the partners whose
``referred_by`` is the referrer, over the last 365 days. The conversion rate counts converted
referrals against the referrals that could convert (duplicates left out). Time to convert is
from the referral's arrival to its conversion, in days; by quarter of arrival. Four queries
for the whole report (with the rewards granted), however many referrers. A manager sees the
referrers among their partners.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner
from portal.core import access
from portal.core.access import Actor
from portal.core.types import utc_now
from portal.ordering.models import Order, OrderLine
from portal.referrals.models import Referral, ReferralReward

QUARTERS = 8


@dataclass(frozen=True)
class ReferrerRow:
    partner_id: int
    name: str
    code: str
    made: int
    duplicates: int
    converted: int
    revenue: Decimal  # last 365 days, of the partners they brought in
    rewarded: Decimal = Decimal("0")  # rewards granted to them (referrals.rewards), spent or not

    @property
    def rate(self) -> Decimal | None:
        eligible = self.made - self.duplicates
        return (Decimal(self.converted) / eligible) if eligible else None


@dataclass(frozen=True)
class QuarterRow:
    start: date
    submitted: int
    converted: int
    median_days: float | None

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.converted) / self.submitted if self.submitted else None


def by_referrer(session: Session, actor: Actor, *, now: datetime | None = None) -> list[ReferrerRow]:
    """The leaderboard: every referrer the actor may see, most revenue brought in first."""
    now = now or utc_now()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    stmt = access.scope(select(Referral.referrer_id, Referral.status, func.count()), actor, Referral.referrer_id)
    for referrer_id, status, n in session.execute(stmt.group_by(Referral.referrer_id, Referral.status)):
        counts[referrer_id][status] = n
    referred = select(Partner.id.label("id"), Partner.referred_by_id.label("by")).where(
        Partner.referred_by_id.is_not(None)).subquery()
    revenue_stmt = access.scope(
        select(referred.c.by, func.coalesce(func.sum(OrderLine.line_total), 0))
        .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .join(referred, referred.c.id == Order.partner_id)
        .where(Order.status != "cancelled", Order.created_at >= now - timedelta(days=365),
               Order.created_at < now), actor, referred.c.by)
    revenue = dict(session.execute(revenue_stmt.group_by(referred.c.by)).all())
    rewarded = dict(session.execute(access.scope(
        select(ReferralReward.referrer_id, func.sum(ReferralReward.amount))
        .where(ReferralReward.status == "granted"), actor, ReferralReward.referrer_id)
        .group_by(ReferralReward.referrer_id)).all())
    ids = set(counts) | set(revenue)
    partners = {p.id: p for p in session.scalars(select(Partner).where(Partner.id.in_(ids)))} if ids else {}
    rows = [ReferrerRow(pid, partners[pid].name, partners[pid].code, sum(counts[pid].values()),
                        counts[pid].get("duplicate", 0), counts[pid].get("converted", 0),
                        Decimal(revenue.get(pid, 0)), Decimal(rewarded.get(pid, 0)))
            for pid in ids if pid in partners]
    return sorted(rows, key=lambda r: (-r.revenue, -r.converted, -r.made, r.name))


def _quarter(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def over_time(session: Session, actor: Actor, *, today: date | None = None) -> list[QuarterRow]:
    """Referrals by quarter of arrival (the last eight): how many, how many converted, how fast."""
    today = today or utc_now().date()
    first = _quarter(today)
    for _ in range(QUARTERS - 1):
        first = _quarter(first - timedelta(days=1))
    start = datetime(first.year, first.month, 1, tzinfo=utc_now().tzinfo)
    stmt = access.scope(select(Referral.created_at, Referral.status, Referral.converted_at), actor,
                        Referral.referrer_id).where(Referral.created_at >= start, Referral.status != "duplicate")
    submitted: dict[date, int] = defaultdict(int)
    converted: dict[date, list[float]] = defaultdict(list)
    for created_at, status, converted_at in session.execute(stmt):
        quarter = _quarter(created_at.date())
        submitted[quarter] += 1
        if status == "converted" and converted_at is not None:
            converted[quarter].append(max(0.0, (converted_at - created_at).total_seconds() / 86400))
    rows, quarter = [], first
    while quarter <= today:
        days = converted.get(quarter, [])
        rows.append(QuarterRow(quarter, submitted.get(quarter, 0), len(days),
                               statistics.median(days) if days else None))
        quarter = _quarter(quarter + timedelta(days=95))
    return rows
