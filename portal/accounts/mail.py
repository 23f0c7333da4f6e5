"""How accounts sends an email: through the notification outbox, handed down at start-up.

``notifications`` sits above ``accounts`` (it reads partners and users), so accounts cannot
import the outbox; the factory puts ``notifications.outbox.queue_email`` into
``app.extensions["trellis.queue_email"]`` and the views hand it to the use cases, which queue
the email in their own transaction. ``flask notifications send`` delivers it (the log in
development, SMTP in production).
"""
from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session


class QueueEmail(Protocol):
    def __call__(self, session: Session, *, kind: str, subject_key: str, payload: dict[str, Any],
                 user_id: int | None = None, partner_id: int | None = None) -> bool: ...


def queue_email_from(app) -> QueueEmail:
    """The outbox's queue_email that the factory registered."""
    return app.extensions["trellis.queue_email"]
