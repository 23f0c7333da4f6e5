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
