"""Partners (retail companies) and the price tiers they buy at."""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base
from portal.models.base import UTCDateTime, utc_now

if TYPE_CHECKING:
    from portal.models.user import User

PARTNER_STATUSES = ("active", "paused", "churned")
STAGES = ("prospect", "customer", "client", "supporter", "advocate", "partner")
CHANNELS = ("email", "phone", "visit", "none")


def new_referral_code() -> str:
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y").lower()


class PriceTier(Base):
    __tablename__ = "price_tiers"
    __table_args__ = (
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(f"status IN {PARTNER_STATUSES}", name="status"),
        CheckConstraint(f"stage IN {STAGES}", name="stage"),
        CheckConstraint(f"preferred_channel IN {CHANNELS}", name="channel"),
        CheckConstraint("contact_every_days IS NULL OR contact_every_days > 0", name="contact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    price_tier_id: Mapped[int | None] = mapped_column(ForeignKey("price_tiers.id"), index=True)
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20), default="customer")
    preferred_channel: Mapped[str] = mapped_column(String(10), default="email")
    contact_every_days: Mapped[int | None] = mapped_column(default=30)
    referral_code: Mapped[str] = mapped_column(String(20), unique=True, default=new_referral_code)
    # Every order ever stored for the partner (any source); bumped in the transaction that adds
    # one, so concurrent orders get distinct numbers (thank-you milestones) without a count(*).
    order_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    price_tier: Mapped[PriceTier | None] = relationship()
    account_manager: Mapped[User | None] = relationship(foreign_keys=[account_manager_id])

    @property
    def is_active(self) -> bool:
        return self.status == "active"
