"""The wholesaler's catalog and explicit per-tier prices."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.types import Money, UTCDateTime, utc_now
from portal.core.vat import DEFAULT_VAT_RATE, VAT_RATES
from portal.db import Base


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("base_price >= 0", name="base_price"),
        CheckConstraint("pack_size > 0", name="pack_size"),
        CheckConstraint(f"vat_rate IN {VAT_RATES}", name="vat_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80), default="", index=True)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    pack_size: Mapped[int] = mapped_column(default=1)
    base_price: Mapped[Decimal] = mapped_column(Money)  # net of VAT
    vat_rate: Mapped[int] = mapped_column(default=DEFAULT_VAT_RATE)  # percent
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class TierPrice(Base):
    """An explicit price a tier pays for one product (wins over the tier's discount)."""

    __tablename__ = "tier_prices"
    __table_args__ = (CheckConstraint("price >= 0", name="price"),)

    tier_id: Mapped[int] = mapped_column(
        ForeignKey("price_tiers.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    price: Mapped[Decimal] = mapped_column(Money)
