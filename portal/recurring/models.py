"""Standing orders, their lines, skipped dates and the run ledger."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import DeliveryAddress, Partner
from portal.catalog.models import Product
from portal.core.types import UTCDateTime, utc_now
from portal.db import Base
from portal.recurring.schedules import CADENCES

MODES = ("auto", "review")
STATUSES = ("active", "paused", "cancelled")
# What became of one occurrence: an order was placed; the partner skipped the date; the schedule
# was paused then; it could not be placed (reason kept); or it was passed over after downtime
# because a later occurrence was due too (only the latest missed one is placed).
OUTCOMES = ("created", "skipped", "paused", "failed", "missed")
MAX_LINES = 200


class RecurringOrder(Base):
    __tablename__ = "recurring_orders"
    __table_args__ = (
        CheckConstraint(f"cadence IN {tuple(CADENCES)}", name="cadence"),
        CheckConstraint(f"mode IN {MODES}", name="mode"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        Index("ix_recurring_orders_due", "status", "next_date"),
        UniqueConstraint("partner_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100), default="")
    cadence: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    mode: Mapped[str] = mapped_column(String(10), default="auto")
    status: Mapped[str] = mapped_column(String(20), default="active")
    paused_until: Mapped[date | None]  # a paused schedule resumes on this day (None: until resumed)
    # The first occurrence without a run (None: past the end date). Generation reads and advances
    # it in the occurrence's transaction, so finding what is due is one indexed query.
    next_date: Mapped[date | None]
    # The delivery address the orders go to (None, or the address removed: the default one).
    address_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_addresses.id", ondelete="SET NULL"))
    # The PO reference each order gets, with placeholders (portal/recurring/plan.py).
    po_pattern: Mapped[str] = mapped_column(String(35), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # API creates: a retry with the same key answers the first schedule (a different body: 409).
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    partner: Mapped[Partner] = relationship()
    address: Mapped[DeliveryAddress | None] = relationship()
    lines: Mapped[list[RecurringLine]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="RecurringLine.id")
    skips: Mapped[list[RecurringSkip]] = relationship(cascade="all, delete-orphan")


class RecurringLine(Base):
    __tablename__ = "recurring_lines"
    __table_args__ = (
        UniqueConstraint("recurring_order_id", "product_id"),
        CheckConstraint("quantity > 0 AND quantity <= 100000", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_order_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int]

    schedule: Mapped[RecurringOrder] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class RecurringSkip(Base):
    """A date the partner chose to skip (only that date; the anchor never moves)."""

    __tablename__ = "recurring_skips"
    __table_args__ = (UniqueConstraint("recurring_order_id", "occurrence_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_order_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_orders.id", ondelete="CASCADE"), index=True)
    occurrence_date: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RecurringRun(Base):
    """One occurrence's outcome. The unique (schedule, date) pair is what makes generation
    exactly-once: whichever process inserts it first owns the occurrence."""

    __tablename__ = "recurring_runs"
    __table_args__ = (
        UniqueConstraint("recurring_order_id", "occurrence_date"),
        CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"),
        Index("ix_recurring_runs_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_order_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_orders.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    occurrence_date: Mapped[date]
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="")  # a code: product_unavailable, ...
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    # Lines that could not be ordered (sku, name, quantity, why), and other detail for the ledger.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


# Partner settings bounds: the days before a date that a review draft appears / a reminder goes.
LEAD_DAYS = (0, 14)
REMINDER_DAYS = (1, 14)


class RecurringSettings(Base):
    """A partner's standing-order settings (no row: the defaults, see portal/recurring/settings.py)."""

    __tablename__ = "recurring_settings"
    __table_args__ = (
        CheckConstraint(f"review_lead_days BETWEEN {LEAD_DAYS[0]} AND {LEAD_DAYS[1]}", name="lead_days"),
        CheckConstraint(f"reminder_days BETWEEN {REMINDER_DAYS[0]} AND {REMINDER_DAYS[1]}",
                        name="reminder_days"),
    )

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    review_lead_days: Mapped[int] = mapped_column(default=3)
    reminder_days: Mapped[int] = mapped_column(default=2)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class RecurringDraft(Base):
    """A review-mode occurrence's order before its day: the partner changes or confirms it, or it
    is placed as it stands on the day. Unique per (schedule, date): made once however often the
    drafts job runs; whether it was placed is the run row's business (one per date)."""

    __tablename__ = "recurring_drafts"
    __table_args__ = (UniqueConstraint("recurring_order_id", "occurrence_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_order_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_orders.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    occurrence_date: Mapped[date]
    # [{"product_id": 1, "quantity": 24}, ...] as copied from the schedule, then as changed.
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Up by one with every change of the lines: a change names the version it was made from and is
    # refused when the draft has moved on (two people changing it at once: one wins, one is told).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
