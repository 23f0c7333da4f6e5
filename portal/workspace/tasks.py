"""The account manager's follow-up tasks: the ones the outbox leaves for partners who prefer a
call or a visit, and the ones a manager adds by hand. Open and done lists of their partners,
adding one, and marking one done (kept, with who and when)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from portal.accounts.models import Partner, User
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import NotFound, ServiceError
from portal.core.paging import paginate
from portal.core.types import utc_now
from portal.notifications.models import Notification, Task

PAGE_SIZE = 50
MAX_TITLE = 300
MAX_NOTE = 2000
MAX_DAYS_AHEAD = 5 * 366
SHOWS = ("open", "done")


@dataclass(frozen=True)
class Contact:
    """Whom to call or visit at the partner: its contact person (the partner's administrator)."""

    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class TaskRow:
    task: Task
    partner: Partner
    assignee: User | None
    done_by: User | None
    created_by: User | None
    notification: Notification | None
    contact: Contact

    @property
    def order_id(self) -> int | None:
        """The order that caused the task (a thank-you for it), if any."""
        payload = self.notification.payload if self.notification is not None else None
        value = (payload or {}).get("order_id")
        return value if isinstance(value, int) else None


@dataclass(frozen=True)
class TaskPage:
    rows: list[TaskRow]
    total: int
    page: int
    pages: int
    today: date
    show: str


_assignee, _done_by, _created_by = aliased(User), aliased(User), aliased(User)


def _visible_tasks(actor: Actor):
    stmt = (select(Task, Partner, _assignee, _done_by, _created_by, Notification)
            .join(Partner, Task.partner_id == Partner.id)
            .outerjoin(_assignee, Task.assignee_id == _assignee.id)
            .outerjoin(_done_by, Task.done_by_id == _done_by.id)
            .outerjoin(_created_by, Task.created_by_id == _created_by.id)
            .outerjoin(Notification, Task.notification_id == Notification.id))
    if not actor.is_staff:
        return stmt.where(Task.id.is_(None))  # tasks are staff work
    return access.scope(stmt, actor, Task.partner_id)


def contacts(session: Session, partner_ids: list[int]) -> dict[int, Contact]:
    """Each partner's people to contact, in one query: its first active administrator, else its
    first active user (used when the partner has no contact person of its own)."""
    if not partner_ids:
        return {}
    people = session.execute(
        select(User.partner_id, User.name, User.email, User.role)
        .where(User.partner_id.in_(set(partner_ids)), User.active.is_(True))
        .order_by(User.partner_id, User.role != "partner_admin", User.id)
    ).all()
    found: dict[int, Contact] = {}
    for partner_id, name, email, _role in people:
        found.setdefault(partner_id, Contact(name=name or "", email=email))
    return found


def _contact(partner: Partner, fallback: Contact | None) -> Contact:
    # The partner's own contact person when one is entered (the contact_* columns of the staff
    # partner page), else its administrator, as the partner page shows it.
    own = Contact(getattr(partner, "contact_name", "") or "", getattr(partner, "contact_email", "") or "",
                  getattr(partner, "contact_phone", "") or "")
    if own.name or own.email or own.phone:
        return own
    return fallback or Contact()


def _rows(session: Session, found) -> list[TaskRow]:
    people = contacts(session, [row[1].id for row in found])
    return [TaskRow(task, partner, assignee, done_by, created_by, notification,
                    _contact(partner, people.get(partner.id)))
            for task, partner, assignee, done_by, created_by, notification in found]


def list_tasks(session: Session, actor: Actor, *, show: str = "open", page: int = 1,
               per_page: int = PAGE_SIZE) -> TaskPage:
    """Open tasks (due first) or done ones (latest first) of the partners the staff member looks
    after (all for an admin), with the partners' contacts and what caused each: three queries."""
    show = show if show in SHOWS else "open"
    stmt = _visible_tasks(actor).where(Task.status == show)
    if show == "open":
        stmt = stmt.order_by(Task.due_on.is_(None), Task.due_on, Task.id)
    else:
        stmt = stmt.order_by(Task.done_at.desc(), Task.id.desc())
    found = paginate(session, stmt, page=page, per_page=per_page, scalars=False)
    return TaskPage(_rows(session, found.items), found.total, found.page, found.pages,
                    utc_now().date(), show)


def get_task(session: Session, actor: Actor, task_id: int) -> Task:
    """A task of a partner the staff member looks after; NotFound otherwise (foreign when it exists)."""
    task = session.get(Task, task_id)
    if task is None or not actor.is_staff:
        raise NotFound(_("No such task."))
    if not access.may_see_partner(session, actor, task.partner_id):
        raise NotFound(_("No such task."), foreign=True)
    return task


def partner_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The partners a task may be added for: the ones the actor looks after, by name."""
    if not actor.is_staff:
        return []
    rows = session.execute(
        access.scope(select(Partner.id, Partner.name, Partner.code), actor, Partner.id)
        .order_by(Partner.name, Partner.id)
    ).all()
    return [(pid, f"{name} ({code})") for pid, name, code in rows]


def add_task(session: Session, actor: Actor, *, partner_id: int, title: str, due_on: date | None,
             note: str = "", today: date | None = None) -> Task:
    """Add a task by hand for a partner the manager looks after (audited)."""
    if not actor.is_staff:
        raise NotFound(_("No such partner."))
    title, note = (title or "").strip(), (note or "").strip()
    if not title:
        raise ServiceError(_("Say what is to be done."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_TITLE), field="title")
    if len(note) > MAX_NOTE:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_NOTE), field="note")
    today = today or utc_now().date()
    if due_on is not None and due_on < today - timedelta(days=1):  # yesterday: a time-zone's grace
        raise ServiceError(_("The due date is in the past."), field="due_on")
    if due_on is not None and due_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ServiceError(_("The due date is too far ahead."), field="due_on")
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id,
                                 message=_("No such partner."))
    task = Task(partner_id=partner.id, assignee_id=partner.account_manager_id or actor.user_id,
                created_by_id=actor.user_id, kind="manual", title=title, note=note, due_on=due_on,
                status="open")
    session.add(task)
    session.flush()
    audit.record(session, "task_added", actor_id=actor.user_id, ip=actor.ip, target=task,
                 partner_id=partner.id, title=title)
    session.commit()
    return task


def complete_task(session: Session, actor: Actor, task_id: int) -> Task:
    """Mark a task done, keeping who and when; NotFound for a task of a partner the user does
    not look after, a refusal when it is done already (two clicks at once: one succeeds)."""
    task = get_task(session, actor, task_id)
    done_at = utc_now()
    changed = session.execute(
        update(Task).where(Task.id == task.id, Task.status == "open")
        .values(status="done", done_at=done_at, done_by_id=actor.user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        session.rollback()
        raise ServiceError(_("This task is already done."))
    audit.record(session, "task_done", actor_id=actor.user_id, ip=actor.ip, target=task, partner_id=task.partner_id,
                 title=task.title)
    session.commit()
    session.refresh(task)
    return task
