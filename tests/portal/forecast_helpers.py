"""Shared set-up for the forecast tests: partners with monthly order histories."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import insert

from portal.core.types import utc_now
from portal.models import Order

TZ = "Europe/Warsaw"


def add_history(db, partner, months: int, *, level: float = 1000.0, end: date | None = None,
                status: str = "delivered") -> None:
    """One order a month (mid-month, noon UTC) for ``months`` months before ``end`` (this month)."""
    now = utc_now()
    end = end or date(now.year, now.month, 1)
    rows = []
    for i in range(months, 0, -1):
        month = end - relativedelta(months=i)
        amount = level * (1 + 0.25 * math.sin(2 * math.pi * month.month / 12)) * (1 + 0.01 * (months - i) / 12)
        rows.append({"partner_id": partner.id, "source": "import", "status": status,
                     "total": Decimal(str(round(amount, 2))), "vat_total": Decimal("0"),
                     "gross_total": Decimal(str(round(amount, 2))), "note": "",
                     "created_at": datetime(month.year, month.month, 15, 12, tzinfo=UTC),
                     "updated_at": datetime(month.year, month.month, 15, 12, tzinfo=UTC)})
    if rows:
        db.execute(insert(Order), rows)
    db.commit()


def store_run(db, first_month: date, finished: datetime, rows: dict):
    """A complete run; rows: partner id -> (total, sd, status[, mase]) with 12 equal months.
    The 80 % bounds are total ± z·sd; ``mase`` (default 0.8) is against a naive 1.0."""
    from dateutil.relativedelta import relativedelta

    from portal.models import ForecastMonth, ForecastRun, PartnerForecast
    from portal.workspace.forecast_portfolio import Z80

    run = ForecastRun(status="complete", first_month=first_month, started_at=finished,
                      finished_at=finished, partner_count=len(rows), settings={"horizon": 12})
    db.add(run)
    db.flush()
    for pid, (total, sd, status, *rest) in rows.items():
        half = Decimal(str(round(Z80 * sd, 2)))
        row = PartnerForecast(run_id=run.id, partner_id=pid, status=status, library_status=status,
                              model="theta", reason="boom" if status == "failed" else "")
        if status != "failed":
            amount = Decimal(total)
            row.total, row.total_lower_80, row.total_upper_80 = amount, max(Decimal(0), amount - half), amount + half
            row.total_lower_95, row.total_upper_95 = row.total_lower_80, row.total_upper_80
            row.mase, row.naive_mase = (rest[0] if rest else 0.8), 1.0
            for i in range(12):
                mean = amount / 12
                row.months.append(ForecastMonth(month=first_month + relativedelta(months=i), mean=mean,
                                                lower_80=mean, upper_80=mean, lower_95=mean, upper_95=mean))
        db.add(row)
    db.commit()
    return run
