"""The account manager's follow-up tasks (left by the outbox for partners who prefer a call or a
visit): the open ones of their partners, and marking one done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import NotFound, ServiceError
from portal.core.paging import paginate
from portal.core.types import utc_now
from portal.notifications.models import Task

PAGE_SIZE = 50


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


def _visible_tasks(actor: Actor):
    stmt = select(Task, Partner, User).join(Partner, Task.partner_id == Partner.id).outerjoin(
        User, Task.assignee_id == User.id)
    if not actor.is_staff:
        return stmt.where(Task.id.is_(None))  # tasks are staff work
    return access.scope(stmt, actor, Task.partner_id)


def open_tasks(session: Session, actor: Actor, *, page: int = 1, per_page: int = PAGE_SIZE) -> TaskPage:
    """Open tasks of the partners the staff member looks after (all for an admin), due first."""
    stmt = _visible_tasks(actor).where(Task.status == "open")
    found = paginate(session, stmt.order_by(Task.due_on.is_(None), Task.due_on, Task.id), page=page,
                     per_page=per_page, scalars=False)
    return TaskPage([TaskRow(*row) for row in found.items], found.total, found.page, found.pages,
                    utc_now().date())


def complete_task(session: Session, actor: Actor, task_id: int) -> Task:
    """Mark a task done; NotFound for a task of a partner the user does not look after."""
    task = session.get(Task, task_id)
    if task is None or not actor.is_staff:
        raise NotFound(_("No such task."))
    if not access.may_see_partner(session, actor, task.partner_id):
        raise NotFound(_("No such task."), foreign=True)
    if task.status == "done":
        raise ServiceError(_("This task is already done."))
    task.status = "done"
    task.done_at = utc_now()
    audit.record(session, "task_done", actor_id=actor.user_id, ip=actor.ip, target=task, partner_id=task.partner_id,
                 title=task.title)
    session.commit()
    return task
