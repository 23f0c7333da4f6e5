"""What a partner pays: explicit tier price, else base price less the tier's discount."""
from __future__ import annotations

from decimal import Decimal

from portal.core.money import to_money


def unit_price(
    base_price: Decimal, discount_percent: Decimal | None = None, explicit: Decimal | None = None
) -> Decimal:
    """The unit price charged, rounded ROUND_HALF_UP to 0.01."""
    if explicit is not None:
        return to_money(explicit)
    if not discount_percent:
        return to_money(base_price)
    return to_money(base_price * (Decimal(100) - Decimal(discount_percent)) / Decimal(100))
