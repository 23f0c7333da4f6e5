"""Orders and their lines, priced as charged."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Partner
from portal.catalog.models import Product
from portal.core.money import ZERO
from portal.core.types import Money, UTCDateTime, utc_now
from portal.core.vat import DEFAULT_VAT_RATE, VatSummary, summarise
from portal.db import Base

ORDER_SOURCES = ("portal", "reorder", "recurring", "api", "import")
ORDER_STATUSES = ("submitted", "confirmed", "shipped", "delivered", "cancelled")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"source IN {ORDER_SOURCES}", name="source"),
        CheckConstraint(f"status IN {ORDER_STATUSES}", name="status"),
        CheckConstraint("total >= 0", name="total"),
        CheckConstraint("vat_total >= 0", name="vat_total"),
        CheckConstraint("credit_applied >= 0", name="credit_applied"),
        UniqueConstraint("partner_id", "idempotency_key"),
        UniqueConstraint("partner_id", "external_ref"),
        Index("ix_orders_partner_id_created_at", "partner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20), default="portal")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # SHA-256 of the normalised request, so a reused key with a different body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The wholesaler's own reference for imported history (order_ref, or the day of the order).
    external_ref: Mapped[str | None] = mapped_column(String(100))
    requested_delivery_date: Mapped[date | None]
    promised_date: Mapped[date | None]
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # The partner's own purchase-order number, as they typed it (optional).
    po_reference: Mapped[str | None] = mapped_column(String(35))
    # A copy of the delivery address as it was when the order was placed (see
    # accounts.addresses.snapshot): later edits of the partner's addresses do not change it.
    delivery_address: Mapped[dict | None] = mapped_column(JSON)
    # Net of VAT: the sum of the lines less the credit applied (a referral reward,
    # ordering.credits); VAT per rate on the net sums after the credit (core.vat); gross = both.
    total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    credit_applied: Mapped[Decimal] = mapped_column(Money, default=ZERO, server_default="0")
    vat_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    gross_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    partner: Mapped[Partner] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    @property
    def net_total(self) -> Decimal:
        return self.total

    @property
    def subtotal(self) -> Decimal:
        """The lines' net sum, before the credit."""
        return self.total + self.credit_applied

    @property
    def vat_summary(self) -> VatSummary:
        """VAT per rate, from the lines as charged less the credit (adds up to vat_total)."""
        return summarise(((line.vat_rate, line.line_total) for line in self.lines), self.credit_applied)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    line_total: Mapped[Decimal] = mapped_column(Money)  # net
    vat_rate: Mapped[int] = mapped_column(default=DEFAULT_VAT_RATE)  # percent, as charged

    order: Mapped[Order] = relationship(back_populates="lines")


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id"),
        CheckConstraint("quantity > 0 AND quantity <= 100000", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    product: Mapped[Product] = relationship()
