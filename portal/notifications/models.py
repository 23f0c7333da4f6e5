"""The notification outbox, and follow-up tasks for account managers."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import CHANNELS
from portal.core.types import UTCDateTime, utc_now
from portal.db import Base

NOTIFICATION_STATUSES = ("pending", "sent", "task", "skipped", "failed")
TASK_STATUSES = ("open", "done")


class Notification(Base):
    """Something to tell a partner; sent once by `flask notifications send`."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("kind", "subject_key"),  # the same news is never queued (or sent) twice
        CheckConstraint(f"status IN {NOTIFICATION_STATUSES}", name="status"),
        CheckConstraint(f"channel IS NULL OR channel IN {CHANNELS}", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_key: Mapped[str] = mapped_column(String(120))
    # None: decided at sending time from the partner's preferred channel.
    channel: Mapped[str | None] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


TASK_KINDS = ("phone", "visit", "manual", "feedback")  # outbox by channel, by hand, or a low NPS score


class Task(Base):
    """A follow-up in an account manager's list: a phone call or visit the outbox asked for, or
    one a manager added by hand. Done tasks are kept, with who marked them done and when."""

    __tablename__ = "tasks"
    __table_args__ = (CheckConstraint(f"status IN {TASK_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
