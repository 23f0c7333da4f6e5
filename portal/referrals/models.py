"""Referrals and their history.

A referral is a prospect company recommended by a partner (the *referrer*), from the signed-in
form, the public form behind the partner's referral link, or the API. Its ``*_key`` columns hold
the normalised company name, email and website domain that duplicate detection compares
(``portal.referrals.intake``); a duplicate keeps a link to what it duplicates.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Partner, User
from portal.core.types import Money, UTCDateTime, utc_now
from portal.db import Base
from portal.ordering.credits import Credit

STATUSES = ("submitted", "contacted", "qualified", "converted", "rejected", "duplicate")
OPEN_STATUSES = ("submitted", "contacted", "qualified")
SOURCES = ("portal", "link", "api")


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        CheckConstraint("consent", name="consent"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score"),  # never stored without the prospect's consent
        # The same form sent twice (double click, resubmitted page, API retry) is one referral.
        UniqueConstraint("referrer_id", "idempotency_key"),
        Index("ix_referrals_company_key", "company_key"),
        Index("ix_referrals_email_key", "email_key"),
        Index("ix_referrals_domain", "domain"),
        # A referrer's referrals, and those in one status (the lead score's converted count,
        # the totals of "My referrals") without reading all of them.
        Index("ix_referrals_referrer_status", "referrer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    referrer_name: Mapped[str] = mapped_column(String(200), default="")  # typed on the public form
    source: Mapped[str] = mapped_column(String(10))
    company_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    consent: Mapped[bool] = mapped_column(default=False)
    company_key: Mapped[str] = mapped_column(String(200))
    email_key: Mapped[str] = mapped_column(String(254))
    domain: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    # A duplicate points at the open referral or the existing partner it matched.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"))
    duplicate_of_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"))
    duplicate_reason: Mapped[str] = mapped_column(String(20), default="")  # email, domain, name
    # The lead score (0-100) and the points behind it, computed when the referral is saved or
    # changed (portal.referrals.scoring), never on a page view.
    score: Mapped[int] = mapped_column(default=0)
    score_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reject_reason: Mapped[str] = mapped_column(String(300), default="")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The partner this referral became (unique: a partner comes from at most one referral).
    converted_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), unique=True)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    referrer: Mapped[Partner] = relationship(foreign_keys=[referrer_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    duplicate_of: Mapped[Referral | None] = relationship(remote_side=[id])
    duplicate_of_partner: Mapped[Partner | None] = relationship(foreign_keys=[duplicate_of_partner_id])
    converted_partner: Mapped[Partner | None] = relationship(foreign_keys=[converted_partner_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralEvent.id")


class ReferralEvent(Base):
    """One change of a referral: who, when, from which status to which, and why."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


REWARD_STATUSES = ("pending", "granted")


class ReferralReward(Base):
    """What a converted referral earns its referrer (portal.referrals.rewards).

    ``pending`` from the conversion until the referred partner's orders meet the reward's
    condition, then ``granted``: a credit (portal.ordering.credits) the referrer's next orders
    spend. *Used* is not stored: it is a granted reward whose credit has nothing left, and it
    is granted again when a cancelled order gives its credit back. One reward per referral
    (unique), whatever runs at once.
    """

    __tablename__ = "referral_rewards"
    __table_args__ = (
        CheckConstraint(f"status IN {REWARD_STATUSES}", name="status"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), unique=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credits.id", ondelete="SET NULL"), unique=True)
    # The referred partner's delivered order that met the condition.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    referral: Mapped[Referral] = relationship()
    credit: Mapped[Credit | None] = relationship()
