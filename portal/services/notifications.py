"""The notification outbox (being written)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def queue(
    session: Session, *, partner_id: int | None, kind: str, subject_key: str,
    payload: dict[str, Any] | None = None, user_id: int | None = None, channel: str | None = None,
) -> bool:
    """Queue a notification once per (kind, subject_key) (helper, no commit); True if new."""
    raise NotImplementedError
