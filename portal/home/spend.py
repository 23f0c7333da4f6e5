"""A partner's spend this year against last year, month by month, and the chart that shows it.

Months are the wholesaler's (``TRELLIS_TIMEZONE``): an order placed at 23:30 UTC on 31 January
is a February order in Warsaw. Amounts are the orders' net totals; cancelled orders are left out.
The chart is plain SVG geometry computed here, so the page needs no script and no CDN.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.money import ZERO
from portal.ordering.models import Order

# The chart's box (SVG user units); the CSS scales it to the column's width.
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 26


@dataclass(frozen=True)
class MonthSpend:
    month: date          # the first day of the month, this year
    this_year: Decimal | None  # None for a month still to come
    last_year: Decimal

    @property
    def change(self) -> Decimal | None:
        """This year's month against last year's (0.1 = 10 % more); None without both."""
        if self.this_year is None or not self.last_year:
            return None
        return (self.this_year - self.last_year) / self.last_year


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str          # "this" or "last"
    month: date          # the month the bar stands for (last year's for "last")
    value: Decimal


@dataclass(frozen=True)
class Gridline:
    y: float
    value: Decimal


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int           # x of the plot's right edge
    bars: list[Bar]
    gridlines: list[Gridline]
    labels: list[tuple[float, float, date]]  # x, y and month of each month's label


@dataclass(frozen=True)
class SpendComparison:
    year: int
    months: list[MonthSpend]
    this_year_to_date: Decimal   # January to this month
    last_year_to_date: Decimal   # the same months a year before
    last_year_total: Decimal
    chart: Chart

    @property
    def change(self) -> Decimal | None:
        """This year against the same months of last year (0.1 = 10 % more); None without a base."""
        if not self.last_year_to_date:
            return None
        return (self.this_year_to_date - self.last_year_to_date) / self.last_year_to_date

    @property
    def has_orders(self) -> bool:
        return bool(self.this_year_to_date or self.last_year_total)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite: naive UTC


def yearly_spend(session: Session, partner_id: int, *, time_zone: str, now: datetime | None = None
                 ) -> SpendComparison:
    """The partner's net spend per month, this year and last, in the wholesaler's months (one query)."""
    zone = ZoneInfo(time_zone)
    local_now = _aware(now or datetime.now(UTC)).astimezone(zone)
    year = local_now.year
    start = datetime(year - 1, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    totals: dict[tuple[int, int], Decimal] = {}
    for created_at, total in session.execute(
        select(Order.created_at, Order.total)
        .where(Order.partner_id == partner_id, Order.status != "cancelled",
               Order.created_at >= start, Order.created_at < end)
    ):
        local = _aware(created_at).astimezone(zone)
        key = (local.year, local.month)
        totals[key] = totals.get(key, ZERO) + total
    months = [
        MonthSpend(date(year, m, 1), totals.get((year, m), ZERO) if m <= local_now.month else None,
                   totals.get((year - 1, m), ZERO))
        for m in range(1, 13)
    ]
    this_to_date = sum((m.this_year for m in months if m.this_year is not None), ZERO)
    last_to_date = sum((m.last_year for m in months[:local_now.month]), ZERO)
    last_total = sum((m.last_year for m in months), ZERO)
    return SpendComparison(year, months, this_to_date, last_to_date, last_total, chart(months))


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (the top of the chart's scale)."""
    if value <= 0:
        return Decimal(100)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # not reached


def chart(months: list[MonthSpend]) -> Chart:
    """Grouped bars (last year, this year) per month, with three gridlines, scaled to the box."""
    top = nice_ceiling(max([m.last_year for m in months] + [m.this_year or ZERO for m in months]))
    plot_h = HEIGHT - TOP - BOTTOM
    group = (WIDTH - LEFT - RIGHT) / len(months)
    bar_w = round(group * 0.36, 1)
    base = HEIGHT - BOTTOM

    def bar(i: int, series: str, value: Decimal) -> Bar:
        h = round(float(value / top) * plot_h, 1)
        x = LEFT + i * group + group * (0.12 if series == "last" else 0.52)
        month = months[i].month
        if series == "last":
            month = month.replace(year=month.year - 1)
        return Bar(round(x, 1), round(base - h, 1), bar_w, h, series, month, value)

    bars = []
    for i, m in enumerate(months):
        bars.append(bar(i, "last", m.last_year))
        if m.this_year is not None:
            bars.append(bar(i, "this", m.this_year))
    gridlines = [Gridline(round(base - plot_h * share, 1), top * Decimal(str(share))) for share in (0, 0.5, 1)]
    labels = [(round(LEFT + (i + 0.5) * group, 1), HEIGHT - 8, m.month) for i, m in enumerate(months)]
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, bars, gridlines, labels)
