"""The notification outbox: queueing news for partners and delivering it once, by channel.

Ordering code queues a notification in its own transaction (`queue`, or `queue_many` for a
batch); `flask notifications send` delivers what is pending (`send_pending`), one notification
per transaction. A notification leaves ``pending`` in the same transaction that delivers it,
and a sender holds the row's lock while delivering, so two senders never deliver the same
notification.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.accounts.models import CHANNELS, Partner, User
from portal.core.types import utc_now
from portal.notifications.mailers import Mailer
from portal.notifications.messages import TEMPLATES, template_for
from portal.notifications.models import Notification, Task

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_ERROR = 1000

Progress = Callable[[int, int], None]


# --- queueing -------------------------------------------------------------------------------------

_QUEUE = {
    name: dialect_insert(Notification.__table__)
    .on_conflict_do_nothing(index_elements=["kind", "subject_key"])
    .returning(Notification.__table__.c.id)
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def queue(
    session: Session, *, partner_id: int | None, kind: str, subject_key: str,
    payload: dict[str, Any] | None = None, user_id: int | None = None, channel: str | None = None,
) -> bool:
    """Queue a notification once per (kind, subject_key) (helper, no commit); True if new."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    # ON CONFLICT DO NOTHING: a notification queued before, or by a concurrent transaction
    # (PostgreSQL waits for it), is left alone and the caller's transaction stays usable.
    connection = session.connection()
    new_id = connection.execute(_QUEUE[connection.dialect.name], {
        "partner_id": partner_id, "user_id": user_id, "kind": kind, "subject_key": subject_key,
        "payload": dict(payload or {}), "channel": channel, "status": "pending", "attempts": 0,
    }).scalar()
    return new_id is not None


def queue_many(session: Session, notes: Iterable[dict[str, Any]]) -> int:
    """``queue`` for many notifications at once (helper, no commit): each a dict of queue's
    keyword arguments (``partner_id``, ``kind``, ``subject_key``, optional ``payload``,
    ``user_id``, ``channel``). The same once-per-(kind, subject_key) rule, the first of
    repeated keys winning as if queued one by one; one statement per thousand notifications
    instead of one each. Returns how many were new."""
    rows, seen = [], set()
    for note in notes:
        channel = note.get("channel")
        if channel is not None and channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        key = (note["kind"], note["subject_key"])
        if key in seen:
            continue
        seen.add(key)
        rows.append({"partner_id": note["partner_id"], "user_id": note.get("user_id"), "kind": key[0],
                     "subject_key": key[1], "payload": dict(note.get("payload") or {}),
                     "channel": channel, "status": "pending", "attempts": 0})
    if not rows:
        return 0
    connection = session.connection()
    # An INSERT ... RETURNING with many parameter sets is sent as multi-row INSERTs (SQLAlchemy's
    # "insertmanyvalues"); ON CONFLICT DO NOTHING leaves the taken keys alone, as in queue().
    return len(connection.execute(_QUEUE[connection.dialect.name], rows).all())


def queue_email(
    session: Session, *, kind: str, subject_key: str, payload: dict[str, Any],
    user_id: int | None = None, partner_id: int | None = None,
) -> bool:
    """Queue an account email (a reset link, an invitation) (helper, no commit).

    Always an email, whatever the partner's preferred channel: these are not news a manager
    could phone in. It goes to ``payload["to"]`` when set (an invitee has no account yet), else
    to the user named; the template's secret fields (the link) are dropped once it is delivered.
    """
    return queue(session, partner_id=partner_id, kind=kind, subject_key=subject_key,
                 payload=payload, user_id=user_id, channel="email")


# --- sending --------------------------------------------------------------------------------------

@dataclass
class SendSummary:
    sent: int = 0  # emails delivered
    tasks: int = 0  # follow-up tasks created for account managers
    skipped: int = 0  # the partner wants no notifications
    failed: int = 0  # gave up after MAX_ATTEMPTS
    retrying: int = 0  # failed this time, stays pending for the next run

    @property
    def processed(self) -> int:
        return self.sent + self.tasks + self.skipped + self.failed + self.retrying


class _Undeliverable(Exception):
    """Delivery failed for a reason worth retrying later (no recipient yet, SMTP down...)."""


def send_pending(
    session: Session, *, mailer: Mailer, limit: int | None = None,
    progress: Progress | None = None,
) -> SendSummary:
    """Deliver pending notifications, each in its own transaction; returns what happened."""
    stmt = (select(Notification.id).where(Notification.status == "pending")
            .order_by(Notification.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    ids = list(session.scalars(stmt))
    session.rollback()  # end the read; each notification gets a transaction of its own
    summary = SendSummary()
    for done, notification_id in enumerate(ids, start=1):
        outcome = _send_one(session, mailer, notification_id)
        if outcome is not None:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        if progress is not None:
            progress(done, len(ids))
    return summary


def _send_one(session: Session, mailer: Mailer, notification_id: int) -> str | None:
    """One notification in one transaction; the SendSummary field to count, None if not ours."""
    notification = _claim(session, notification_id)
    if notification is None:  # sent by another sender meanwhile, or locked by one now
        session.rollback()
        return None
    partner = session.get(Partner, notification.partner_id) if notification.partner_id else None
    channel = notification.channel or (partner.preferred_channel if partner else "email")
    try:
        if channel == "none":
            notification.status = "skipped"
            outcome = "skipped"
        elif channel in ("phone", "visit"):
            if partner is None:
                raise _Undeliverable("a phone call or visit needs a partner")
            _create_task(session, notification, partner, channel)
            notification.status = "task"
            notification.sent_at = utc_now()
            outcome = "tasks"
        else:
            _email(session, mailer, notification)
            notification.status = "sent"
            notification.sent_at = utc_now()
            outcome = "sent"
        notification.last_error = None
        _forget_secrets(notification)
    except Exception as err:  # one bad notification never stops the others
        session.rollback()
        log.warning("notification %s not delivered: %s", notification_id, err)
        notification = _claim(session, notification_id)
        if notification is None:
            session.rollback()
            return None
        notification.attempts += 1
        notification.last_error = (f"{type(err).__name__}: {err}" if not isinstance(
            err, _Undeliverable) else str(err))[:MAX_ERROR]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
            outcome = "failed"
            _forget_secrets(notification)
        else:
            outcome = "retrying"
    session.commit()
    return outcome


def _claim(session: Session, notification_id: int) -> Notification | None:
    """Lock a still-pending notification for this transaction; None when another sender has it."""
    return session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending")
        .with_for_update(skip_locked=True)  # a no-op on SQLite, which has a single writer
        .execution_options(populate_existing=True)
    )


def recipients(session: Session, notification: Notification, *, fallback: bool = True) -> list[User]:
    """Who gets the email: the user named, else (``fallback``) the partner's active admins, else
    its users."""
    if notification.user_id is not None:
        user = session.get(User, notification.user_id)
        same_partner = notification.partner_id in (None, getattr(user, "partner_id", None))
        if user is not None and user.active and same_partner:
            return [user]
    if notification.partner_id is None or not fallback:
        return []
    active = select(User).where(User.partner_id == notification.partner_id,
                                User.active.is_(True)).order_by(User.id)
    admins = list(session.scalars(active.where(User.role == "partner_admin")))
    return admins or list(session.scalars(active))


def _email(session: Session, mailer: Mailer, notification: Notification) -> None:
    template = template_for(notification.kind)
    payload = notification.payload or {}
    if payload.get("to"):  # an address without an account yet (an invitee)
        addresses, locale = [payload["to"]], payload.get("locale")
    else:
        # A one-time link is for its person only: never passed on to their company's admins.
        to = recipients(session, notification, fallback=not template.secret)
        if not to:
            raise _Undeliverable("no active user to email")
        addresses, locale = [user.email for user in to], to[0].locale
    with force_locale(locale or "en"):
        subject = template.subject(payload)
        body = template.body(payload)
    mailer.send(addresses, subject, body)


def _forget_secrets(notification: Notification) -> None:
    """Drop what must not outlive delivery (a reset or invitation link) from the stored payload."""
    template = TEMPLATES.get(notification.kind)
    secret = template.secret if template is not None else ()
    if secret and notification.payload and any(key in notification.payload for key in secret):
        notification.payload = {k: v for k, v in notification.payload.items() if k not in secret}


def _create_task(session: Session, notification: Notification, partner: Partner,
                 channel: str) -> Task:
    template = template_for(notification.kind)
    manager = session.get(User, partner.account_manager_id) if partner.account_manager_id else None
    with force_locale((manager.locale if manager else None) or "en"):
        title = template.task(notification.payload or {})
    task = Task(partner_id=partner.id, assignee_id=manager.id if manager else None,
                notification_id=notification.id, kind=channel, title=title[:300],
                due_on=utc_now().date(), status="open")
    session.add(task)
    session.flush()
    return task
