"""Money: Decimal, cents, ROUND_HALF_UP, and the largest amount a NUMERIC(12, 2) column holds."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_MONEY = Decimal("9999999999.99")  # the largest amount NUMERIC(12, 2) holds


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to cents with the documented rule, ROUND_HALF_UP."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
