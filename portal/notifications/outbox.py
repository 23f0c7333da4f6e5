"""The notification outbox: queueing news for partners, sending it once, and follow-up tasks.

Ordering code queues a notification in its own transaction (`queue`); `flask notifications send`
delivers what is pending (`send_pending`), one notification per transaction. A notification
leaves ``pending`` in the same transaction that delivers it, and a sender holds the row's lock
while delivering, so two senders never deliver the same notification.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any, Protocol

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import false, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.accounts.models import CHANNELS, Partner, User
from portal.core import audit
from portal.core.errors import NotFound, ServiceError
from portal.core.types import utc_now
from portal.notifications.models import Notification, Task

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_ERROR = 1000
TASK_PAGE_SIZE = 50

Progress = Callable[[int, int], None]


# --- mailers --------------------------------------------------------------------------------------

class Mailer(Protocol):
    def send(self, to: list[str], subject: str, body: str) -> None: ...


class LogMailer:
    """The development mailer: writes each message to the application log instead of sending it."""

    def __init__(self, logger: logging.Logger | None = None):
        self.logger = logger or log

    def send(self, to: list[str], subject: str, body: str) -> None:
        self.logger.info("email to %s\nSubject: %s\n\n%s", ", ".join(to), subject, body)


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS on port 587, implicit TLS on 465)."""

    def __init__(self, *, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 30):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, to: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        context = ssl.create_default_context()
        if self.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls and self.port != 465:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
        finally:
            # A failure to say goodbye after the message was accepted must not count as a
            # failed send: the notification would be sent again.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def mailer_from_settings(settings: Mapping[str, str]) -> Mailer:
    """The SMTP mailer when SMTP_HOST is set (e.g. os.environ), else the log mailer."""
    host = (settings.get("SMTP_HOST") or "").strip()
    if not host:
        return LogMailer()
    starttls = (settings.get("SMTP_STARTTLS") or "1").strip().lower() not in (
        "0", "false", "no", "off")
    port_text = (settings.get("SMTP_PORT") or "").strip()
    try:
        port = int(port_text) if port_text else (587 if starttls else 25)
    except ValueError:
        raise ServiceError(_("SMTP_PORT must be a number, not %(value)s.",
                             value=port_text)) from None
    user = (settings.get("SMTP_USER") or "").strip() or None
    sender = (settings.get("SMTP_FROM") or "").strip() or user
    if not sender:
        raise ServiceError(_("Set SMTP_FROM, the sender address of notification emails."))
    return SmtpMailer(host=host, port=port, sender=sender, user=user,
                      password=settings.get("SMTP_PASSWORD") or None, starttls=starttls)


# --- what each kind of notification says ----------------------------------------------------------

@dataclass(frozen=True)
class Template:
    subject: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], str]
    task: Callable[[dict[str, Any]], str]  # the title of an account manager's follow-up


TEMPLATES: dict[str, Template] = {
    "thank_you_first_order": Template(
        subject=lambda p: _("Thank you for your first order, %(partner)s!",
                            partner=p.get("partner_name", "")),
        body=lambda p: _(
            "Hello,\n\nthank you for placing your first order (no. %(order)s) with us. "
            "We are glad to have %(partner)s on board, and your account manager is there "
            "whenever you need anything.\n\nKind regards,\nThe Trellis team",
            order=p.get("order_id", ""), partner=p.get("partner_name", "")),
        task=lambda p: _("Thank %(partner)s for their first order (no. %(order)s)",
                         partner=p.get("partner_name", ""), order=p.get("order_id", "")),
    ),
    "thank_you_order_milestone": Template(
        subject=lambda p: _("%(partner)s: thank you for %(count)s orders!",
                            partner=p.get("partner_name", ""), count=p.get("order_count", "")),
        body=lambda p: _(
            "Hello,\n\norder no. %(order)s was your order number %(count)s with us. "
            "Thank you for your trust and for ordering through the portal.\n\n"
            "Kind regards,\nThe Trellis team",
            order=p.get("order_id", ""), count=p.get("order_count", "")),
        task=lambda p: _("Thank %(partner)s for %(count)s orders (latest: no. %(order)s)",
                         partner=p.get("partner_name", ""), count=p.get("order_count", ""),
                         order=p.get("order_id", "")),
    ),
}


def _template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"no template for notification kind {kind!r}") from None


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


def recipients(session: Session, notification: Notification) -> list[User]:
    """Who gets the email: the user named, else the partner's active admins, else its users."""
    if notification.user_id is not None:
        user = session.get(User, notification.user_id)
        same_partner = notification.partner_id in (None, getattr(user, "partner_id", None))
        if user is not None and user.active and same_partner:
            return [user]
    if notification.partner_id is None:
        return []
    active = select(User).where(User.partner_id == notification.partner_id,
                                User.active.is_(True)).order_by(User.id)
    admins = list(session.scalars(active.where(User.role == "partner_admin")))
    return admins or list(session.scalars(active))


def _email(session: Session, mailer: Mailer, notification: Notification) -> None:
    template = _template(notification.kind)
    to = recipients(session, notification)
    if not to:
        raise _Undeliverable("no active user to email")
    with force_locale(to[0].locale or "en"):
        subject = template.subject(notification.payload or {})
        body = template.body(notification.payload or {})
    mailer.send([user.email for user in to], subject, body)


def _create_task(session: Session, notification: Notification, partner: Partner,
                 channel: str) -> Task:
    template = _template(notification.kind)
    manager = session.get(User, partner.account_manager_id) if partner.account_manager_id else None
    with force_locale((manager.locale if manager else None) or "en"):
        title = template.task(notification.payload or {})
    task = Task(partner_id=partner.id, assignee_id=manager.id if manager else None,
                notification_id=notification.id, kind=channel, title=title[:300],
                due_on=utc_now().date(), status="open")
    session.add(task)
    session.flush()
    return task


# --- account managers' tasks ----------------------------------------------------------------------

@dataclass(frozen=True)
class TaskRow:
    task: Task
    partner: Partner
    assignee: User | None


@dataclass(frozen=True)
class TaskPage:
    rows: list[TaskRow]
    total: int
    page: int
    pages: int
    today: date


def _visible_tasks(user: User):
    stmt = select(Task, Partner, User).join(Partner, Task.partner_id == Partner.id).outerjoin(
        User, Task.assignee_id == User.id)
    if user.role == "admin":
        return stmt
    if user.role == "account_manager":
        return stmt.where(Partner.account_manager_id == user.id)
    return stmt.where(false())


def open_tasks(session: Session, user: User, *, page: int = 1,
               per_page: int = TASK_PAGE_SIZE) -> TaskPage:
    """Open tasks of the partners the staff user looks after (all for an admin), due first."""
    stmt = _visible_tasks(user).where(Task.status == "open")
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = session.execute(
        stmt.order_by(Task.due_on.is_(None), Task.due_on, Task.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return TaskPage([TaskRow(*row) for row in rows], total, page, pages, utc_now().date())


def complete_task(session: Session, user: User, task_id: int) -> Task:
    """Mark a task done; NotFound for a task of a partner the user does not look after."""
    row = session.execute(_visible_tasks(user).where(Task.id == task_id)).first()
    if row is None:
        raise NotFound(_("No such task."))
    task = row[0]
    if task.status == "done":
        raise ServiceError(_("This task is already done."))
    task.status = "done"
    task.done_at = utc_now()
    audit.record(session, "task_done", actor_id=user.id, target=task, partner_id=task.partner_id,
                 title=task.title)
    session.commit()
    return task
