"""The relationship side of the workspace: what managers log about a partner (interactions),
the ladder stage changes they confirm or override, and the NPS feedback partner users give."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import STAGES
from portal.core.types import UTCDateTime, utc_now
from portal.db import Base

INTERACTION_KINDS = ("call", "visit", "email", "note")


class Interaction(Base):
    """A call, visit, email or note a manager logged for a partner (kept; never edited)."""

    __tablename__ = "interactions"
    __table_args__ = (
        CheckConstraint(f"kind IN {INTERACTION_KINDS}", name="kind"),
        Index("ix_interactions_partner_id_happened_on", "partner_id", "happened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    happened_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class StageChange(Base):
    """A manager confirming or overriding a partner's ladder stage: from, to, what the portal
    suggested at that moment, who, when and why (``partners.stage`` holds the current one)."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        CheckConstraint(f"to_stage IN {STAGES}", name="to_stage"),
        Index("ix_stage_changes_partner_id_created_at", "partner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_stage: Mapped[str] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    suggested_stage: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Feedback(Base):
    """One NPS answer (0-10 and a comment) by a partner user; at most one per user and quarter
    (the unique key makes two answers at once one answer). A score of 6 or less opened
    ``task_id``, the manager's follow-up."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score"),
        UniqueConstraint("user_id", "quarter"),
        Index("ix_feedback_partner_id_created_at", "partner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    quarter: Mapped[str] = mapped_column(String(7))  # "2026Q4", in the wholesaler's time zone
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
