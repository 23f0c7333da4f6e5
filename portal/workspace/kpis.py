"""Relationship KPIs for a whole page (or portfolio) of partners, in a fixed number of queries.

Every figure counts orders that were not cancelled, at their net total (``orders.total``):

* **revenue per year**: net sales per calendar year (UTC);
* **order count** (all time) and **cadence** (the median gap between order days, ``rhythm``; order
  days in the wholesaler's time zone, over the last two years);
* **average order value**: net sales / orders, all time;
* **last 12 months** and the **12 before**, and **growth** = last / before − 1 (None without
  sales in the 12 before);
* **retention**: active (an order) in both the last 12 months and the 12 before;
* **on-time delivery**: of the delivered orders with a promised date, the share delivered on or
  before it (``delivered_at``'s date, UTC, against ``promised_date``);
* **customer lifetime value** (CLV), a plain, documented estimate of net sales over a
  relationship: ``average order value × orders per year × LIFESPAN_YEARS``, where orders per year
  = orders / years since the first order (at least one year) and ``LIFESPAN_YEARS`` (5) is the
  wholesaler's assumed length of a partnership. Net sales, not margin: the portal knows no costs;
* **standing orders**: active ones;
* **referrals made / converted** (``_referrals``): referrals whose referrer is the partner, left
  out those marked ``duplicate`` (a company already referred or already a partner: no new
  referral, and the referrer may well not know); converted = those with status ``converted``.
  Rejected and still open ones count as made: the partner did refer someone;
* **NPS**: the latest answer and the partner's NPS over the last 12 months (% of answers 9–10
  minus % of 0–6, as a whole number from −100 to 100);
* **rhythm, churn risk and the suggested ladder stage** (``rhythm``, ``ladder``).

``compute`` issues ``QUERIES`` queries whatever the number of partners (the tests count them).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from portal.ordering.models import Order
from portal.recurring.models import RecurringOrder
from portal.referrals.models import Referral
from portal.workspace import ladder, monthly_sales, rhythm
from portal.workspace.relationship_models import Feedback

LIFESPAN_YEARS = 5
RHYTHM_DAYS = 2 * 365  # the order days read for the rhythm: the last two years
QUERIES = 6
ZERO = Decimal("0")


@dataclass(frozen=True)
class Kpis:
    partner_id: int
    order_count: int = 0
    net_sales: Decimal = ZERO
    first_order_at: datetime | None = None
    revenue_by_year: dict[int, Decimal] = field(default_factory=dict)
    last_12: Decimal = ZERO
    previous_12: Decimal = ZERO
    orders_12: int = 0
    orders_previous_12: int = 0
    delivered_promised: int = 0
    delivered_on_time: int = 0
    standing_orders: int = 0
    referrals_made: int = 0
    referrals_converted: int = 0
    latest_nps: int | None = None
    latest_nps_at: datetime | None = None
    nps: int | None = None
    nps_answers: int = 0
    rhythm: rhythm.Rhythm = rhythm.Rhythm(0, None, None, None, None, False)
    steady: bool = False
    years: float = 1.0  # since the first order, at least 1

    @property
    def average_order_value(self) -> Decimal | None:
        return (self.net_sales / self.order_count).quantize(Decimal("0.01")) if self.order_count else None

    @property
    def growth(self) -> Decimal | None:
        return _growth(self.last_12, self.previous_12)

    @property
    def retained(self) -> bool:
        return self.orders_12 > 0 and self.orders_previous_12 > 0

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.delivered_promised:
            return None
        return Decimal(self.delivered_on_time) / Decimal(self.delivered_promised)

    @property
    def orders_per_year(self) -> Decimal:
        return Decimal(self.order_count) / Decimal(str(round(self.years, 4)))

    @property
    def lifetime_value(self) -> Decimal:
        """AOV × orders per year × LIFESPAN_YEARS (see the module docstring)."""
        if not self.order_count:
            return ZERO
        return (self.average_order_value * self.orders_per_year * LIFESPAN_YEARS).quantize(Decimal("0.01"))

    @property
    def churn_risk(self) -> str | None:
        return rhythm.churn_risk(self.rhythm, self.growth)

    @property
    def suggested_stage(self) -> str:
        return ladder.suggest(ladder.Behaviour(
            order_days=self.rhythm.order_days if self.rhythm.order_days else min(self.order_count, 1),
            latest_nps=self.latest_nps, referrals_made=self.referrals_made,
            active_standing_orders=self.standing_orders, steady=self.steady))


def _growth(last_12: Decimal, previous_12: Decimal) -> Decimal | None:
    """Last 12 months against the 12 before, as a share; None without sales in the 12 before."""
    if not previous_12:
        return None
    return (last_12 - previous_12) / previous_12


@dataclass(frozen=True)
class Keys:
    """What the portfolio sorts, filters and alerts on for *every* partner (``keys``): the last 12
    months' sales and the 12 before, the rhythm and the latest NPS answer of the last 12 months.
    The same figures as ``Kpis`` (the same rules), in ``KEY_QUERIES`` cheaper queries."""

    partner_id: int
    last_12: Decimal = ZERO
    previous_12: Decimal = ZERO
    latest_nps: int | None = None
    rhythm: rhythm.Rhythm = rhythm.Rhythm(0, None, None, None, None, False)
    days: frozenset[date] = frozenset()  # the order days read (``compute`` can reuse them)

    @property
    def growth(self) -> Decimal | None:
        return _growth(self.last_12, self.previous_12)

    @property
    def churn_risk(self) -> str | None:
        return rhythm.churn_risk(self.rhythm, self.growth)


KEY_QUERIES = 3


def keys(session: Session, partner_ids: list[int], *, now: datetime | None = None,
         zone: tzinfo = UTC) -> dict[int, Keys]:
    """The sort and filter figures of these partners (every id gets an entry), in ``KEY_QUERIES``
    queries: sales of the last two years in one grouped sum, the order days, the NPS answers."""
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    ids = sorted(set(partner_ids))
    if not ids:
        return {}
    year_ago, two_years_ago = now - timedelta(days=365), now - timedelta(days=730)
    in_12 = Order.created_at >= year_ago
    sales = {pid: (Decimal(last), Decimal(before)) for pid, last, before in session.execute(
        select(Order.partner_id, func.coalesce(func.sum(case((in_12, Order.total), else_=0)), 0),
               func.coalesce(func.sum(case((in_12, 0), else_=Order.total)), 0))
        .where(Order.partner_id.in_(ids), Order.status != "cancelled", Order.created_at >= two_years_ago)
        .group_by(Order.partner_id))}
    days = _order_days(session, ids, now, zone)
    latest = _latest_answers(session, ids, year_ago)
    out = {}
    for pid in ids:
        last, before = sales.get(pid, (ZERO, ZERO))
        scores = latest.get(pid)
        mine = frozenset(days.get(pid, ()))
        out[pid] = Keys(pid, last, before, scores[-1][0] if scores else None, rhythm.rhythm(mine, today), mine)
    return out


def rhythms(session: Session, partner_ids: list[int], *, now: datetime | None = None,
            zone: tzinfo = UTC) -> dict[int, rhythm.Rhythm]:
    """Each partner's order rhythm by the portfolio's rule (``Keys.rhythm``), in one query."""
    now = now or datetime.now(UTC)
    ids = sorted(set(partner_ids))
    days = _order_days(session, ids, now, zone) if ids else {}
    today = now.astimezone(zone).date()
    return {pid: rhythm.rhythm(days.get(pid, ()), today) for pid in ids}


def _latest_answers(session: Session, ids: list[int], since: datetime) -> dict[int, list[tuple[int, datetime]]]:
    """Each partner's NPS answers since ``since``, oldest first."""
    answers: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for pid, score, created in session.execute(
        select(Feedback.partner_id, Feedback.score, Feedback.created_at)
        .where(Feedback.partner_id.in_(ids), Feedback.created_at >= since)
        .order_by(Feedback.created_at, Feedback.id)
    ):
        answers[pid].append((score, created))
    return answers


def nps(scores: list[int]) -> int | None:
    """Net Promoter Score of the answers: % promoters (9-10) − % detractors (0-6), rounded."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def _referrals(session: Session, partner_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Referrals made (duplicates left out) and converted per partner, in one grouped query."""
    made = Referral.status != "duplicate"
    return {pid: (made_count, converted) for pid, made_count, converted in session.execute(
        select(Referral.referrer_id, func.count(case((made, 1))),
               func.count(case((Referral.status == "converted", 1))))
        .where(Referral.referrer_id.in_(partner_ids)).group_by(Referral.referrer_id))}


def compute(session: Session, partner_ids: list[int], *, now: datetime | None = None,
            zone: tzinfo = UTC, order_days: dict[int, frozenset[date]] | None = None) -> dict[int, Kpis]:
    """The KPIs of these partners (every id gets an entry), in ``QUERIES`` queries (one fewer
    with ``order_days``: the days ``keys`` read for the same moment and zone)."""
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    ids = sorted(set(partner_ids))
    if not ids:
        return {}
    year_ago, two_years_ago = now - timedelta(days=365), now - timedelta(days=730)
    live = Order.status != "cancelled"
    mine = Order.partner_id.in_(ids)
    in_12 = Order.created_at >= year_ago
    in_prev = (Order.created_at >= two_years_ago) & (Order.created_at < year_ago)

    values: dict[int, dict] = defaultdict(dict)
    delivered = (Order.status == "delivered") & Order.promised_date.is_not(None) & Order.delivered_at.is_not(None)
    on_time = delivered & (func.date(Order.delivered_at) <= Order.promised_date)
    for pid, count, total, first, last_12, prev_12, orders_12, orders_prev, promised, in_time in session.execute(
        select(Order.partner_id, func.count(Order.id), func.coalesce(func.sum(Order.total), 0),
               func.min(Order.created_at),
               func.coalesce(func.sum(case((in_12, Order.total), else_=0)), 0),
               func.coalesce(func.sum(case((in_prev, Order.total), else_=0)), 0),
               func.count(case((in_12, 1))), func.count(case((in_prev, 1))),
               func.count(case((delivered, 1))), func.count(case((on_time, 1))))
        .where(mine, live).group_by(Order.partner_id)
    ):
        values[pid].update(order_count=count, net_sales=Decimal(total), first_order_at=first,
                           last_12=Decimal(last_12), previous_12=Decimal(prev_12),
                           orders_12=orders_12, orders_previous_12=orders_prev,
                           delivered_promised=promised, delivered_on_time=in_time)

    year = extract("year", Order.created_at)
    by_year: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for pid, y, total in session.execute(
        select(Order.partner_id, year, func.sum(Order.total)).where(mine, live)
        .group_by(Order.partner_id, year)
    ):
        by_year[pid][int(y)] = Decimal(total)

    days = order_days if order_days is not None else _order_days(session, ids, now, zone)

    for pid, count in session.execute(
        select(RecurringOrder.partner_id, func.count(RecurringOrder.id))
        .where(RecurringOrder.partner_id.in_(ids), RecurringOrder.status == "active")
        .group_by(RecurringOrder.partner_id)
    ):
        values[pid]["standing_orders"] = count

    answers = _latest_answers(session, ids, year_ago)

    referrals = _referrals(session, ids)
    result = {}
    for pid in ids:
        v = values.get(pid, {})
        first = v.get("first_order_at")
        years = max(1.0, (now - first).days / 365.25) if first else 1.0
        r = rhythm.rhythm(days.get(pid, []), today)
        scores = answers.get(pid, [])
        made, converted = referrals.get(pid, (0, 0))
        result[pid] = Kpis(
            partner_id=pid, **v, revenue_by_year=dict(sorted(by_year.get(pid, {}).items())),
            referrals_made=made, referrals_converted=converted,
            latest_nps=scores[-1][0] if scores else None, latest_nps_at=scores[-1][1] if scores else None,
            nps=nps([s for s, _at in scores]), nps_answers=len(scores),
            rhythm=r, steady=rhythm.steady(days.get(pid, []), today, r), years=years)
    return result


def _zone_name(zone: tzinfo) -> str | None:
    if zone is UTC:
        return "UTC"
    return getattr(zone, "key", None)


def _order_days(session: Session, ids: list[int], now: datetime, zone: tzinfo) -> dict[int, set[date]]:
    """The days (in ``zone``) each partner ordered on in the rhythm window, one query. The day is
    computed and made distinct in the database (``monthly_sales.local_day_expression``): reading
    every order's timestamp and converting it here was most of the portfolio page's time."""
    since = now - timedelta(days=RHYTHM_DAYS)
    live = Order.status != "cancelled"
    days: dict[int, set[date]] = defaultdict(set)
    name = _zone_name(zone)
    if name is None:  # a zone without a name: convert each timestamp here
        for pid, created in session.execute(select(Order.partner_id, Order.created_at).where(
                Order.partner_id.in_(ids), live, Order.created_at >= since)):
            days[pid].add(_day(created, zone))
        return days
    day = monthly_sales.local_day_expression(session, name, since, now + timedelta(days=1))
    parsed: dict[str, date] = {}
    for pid, text in session.execute(select(Order.partner_id, day).distinct().where(
            Order.partner_id.in_(ids), live, Order.created_at >= since)):
        value = parsed.get(text)
        if value is None:
            value = parsed[text] = date.fromisoformat(text)
        days[pid].add(value)
    return days


def _day(created, zone: tzinfo) -> date:
    """An order's day in ``zone``, from an aware or naive UTC datetime."""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(zone).date()


def at_noon(day: date) -> datetime:
    """A day as a UTC datetime at noon (tests and the demo build histories with it)."""
    return datetime.combine(day, time(12), tzinfo=UTC)
