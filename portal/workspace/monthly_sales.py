"""Monthly net sales per partner in the wholesaler's months, with one aggregate query.

What counts as a sale: orders that are confirmed, shipped or delivered (a submitted order is not
yet accepted, a cancelled one never happened), at their net total. A month is the wholesaler's
(``TRELLIS_TIMEZONE``): an order placed at 23:30 UTC on 31 January is a February order in Warsaw.

The month is computed in the database so the query groups by partner and month:
PostgreSQL converts with ``timezone(zone, created_at)``; SQLite has no time zones, so the
zone's UTC offsets over the queried stretch (they change twice a year) become a CASE of
``strftime`` modifiers. Months without sales are not rows; :func:`series` fills them with zero.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from portal.core.money import ZERO
from portal.ordering.models import Order

SALES_STATUSES = ("confirmed", "shipped", "delivered")


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def local_month(moment: datetime, time_zone: str) -> date:
    """The wholesaler's month (its first day) of a UTC moment."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return month_start(moment.astimezone(ZoneInfo(time_zone)).date())


def month_bound(month: date, time_zone: str) -> datetime:
    """The UTC moment a local month starts."""
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def _offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(UTC moment from which it holds, offset in minutes) for each offset in [start, end)."""
    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)

    spans = [(start, offset(start))]
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        if offset(following) != spans[-1][1]:
            moment = day
            while offset(moment) == spans[-1][1]:  # the change, to the hour (to the minute below)
                moment += timedelta(hours=1)
            moment -= timedelta(hours=1)
            while offset(moment) == spans[-1][1]:
                moment += timedelta(minutes=1)
            spans.append((moment, offset(moment)))
        day = following
    return spans


@lru_cache(maxsize=64)
def _day_offsets(time_zone: str, first: date, last: date) -> tuple[tuple[datetime, int], ...]:
    """``_offsets`` over whole UTC days (a superset of the stretch asked for), kept: pages ask
    for the same stretch many times a day."""
    return tuple(_offsets(ZoneInfo(time_zone), datetime.combine(first, datetime.min.time(), UTC),
                          datetime.combine(last, datetime.min.time(), UTC)))


def _local_text(session: Session, time_zone: str, start: datetime, end: datetime, pattern: str):
    """``created_at`` in the zone as text (``pattern``: ``%Y-%m`` or ``%Y-%m-%d``), for the
    orders placed in [start, end)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return func.to_char(func.timezone(time_zone, Order.created_at),
                            pattern.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD"))
    spans = _day_offsets(time_zone, start.date(), end.date() + timedelta(days=1))
    if len(spans) == 1:
        modifier = literal(f"{spans[0][1]:+d} minutes")
    else:
        modifier = case(*[(Order.created_at < spans[i + 1][0], f"{minutes:+d} minutes")
                          for i, (_moment, minutes) in enumerate(spans[:-1])],
                        else_=f"{spans[-1][1]:+d} minutes")
    return func.strftime(pattern, Order.created_at, modifier)


def _month_expression(session: Session, time_zone: str, start: datetime, end: datetime):
    return _local_text(session, time_zone, start, end, "%Y-%m")


def local_day_expression(session: Session, time_zone: str, start: datetime, end: datetime):
    """An order's day in the zone as ``YYYY-MM-DD`` text, computed in the database (for orders
    placed in [start, end)), so a query can ask for distinct order days."""
    return _local_text(session, time_zone, start, end, "%Y-%m-%d")


def monthly_sales(session: Session, *, first: date, last: date, time_zone: str,
                  partner_ids: Iterable[int] | None = None) -> dict[int, dict[date, Decimal]]:
    """Partner id -> {month: net sales} for the local months ``first`` to ``last`` (inclusive),
    only months with sales; one query, grouped by partner and month in the database."""
    start = month_bound(month_start(first), time_zone)
    end = month_bound(month_start(last) + relativedelta(months=1), time_zone)
    month = _month_expression(session, time_zone, start, end).label("month")
    stmt = (select(Order.partner_id, month, func.sum(Order.total))
            .where(Order.status.in_(SALES_STATUSES), Order.created_at >= start, Order.created_at < end)
            .group_by(Order.partner_id, month))
    if partner_ids is not None:
        stmt = stmt.where(Order.partner_id.in_(list(partner_ids)))
    out: dict[int, dict[date, Decimal]] = {}
    for partner_id, key, total in session.execute(stmt):
        year, number = str(key).split("-")
        out.setdefault(partner_id, {})[date(int(year), int(number), 1)] = Decimal(str(total)).quantize(
            Decimal("0.01"))
    return out


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month += relativedelta(months=1)
    return months


def series(sales: dict[date, Decimal], first: date, last: date) -> list[tuple[date, Decimal]]:
    """Every month from ``first`` to ``last``, months without sales as zero."""
    return [(month, sales.get(month, ZERO)) for month in months_between(first, last)]
