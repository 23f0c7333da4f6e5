"""NPS feedback from partner users, and the follow-up loop it opens for the manager.

A partner user (buyer or partner admin) answers "How likely are you to recommend us?" with 0–10
and an optional comment **at most once a quarter, per user** (each person at the partner has
their own view; the partner's NPS counts every answer). Quarters are calendar quarters in the
wholesaler's time zone (``today`` comes from the caller). The question is offered once the
partner has had an order delivered. A score of ``FOLLOW_UP_AT`` (6) or less opens a follow-up
task (kind ``feedback``) for the partner's account manager, due in ``FOLLOW_UP_DAYS``; the staff
partner page shows each answer with its task: opened when, done when and by whom.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.accounts.models import Partner, User
from portal.core import audit
from portal.core.access import Actor
from portal.core.errors import Conflict, NotFound, ServiceError
from portal.notifications.models import Task
from portal.ordering.models import Order
from portal.workspace.relationship_models import Feedback

MAX_COMMENT = 2000
FOLLOW_UP_AT = 6
FOLLOW_UP_DAYS = 7
SHOWN = 20


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def next_quarter_starts(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3 + 1
    return date(day.year + 1, 1, 1) if month > 12 else date(day.year, month, 1)


class AlreadyAnswered(Conflict):
    code = "already_answered"


def may_answer(session: Session, actor: Actor, today: date) -> bool:
    """Whether to offer the question: a partner user, a delivered order, no answer this quarter."""
    if not actor.is_partner_user or actor.user_id is None:
        return False
    return bool(session.scalar(select(
        exists().where(Order.partner_id == actor.partner_id, Order.status == "delivered")
        & ~exists().where(Feedback.user_id == actor.user_id, Feedback.quarter == quarter_of(today)))))


def give(session: Session, actor: Actor, *, score: int, comment: str, today: date) -> Feedback:
    """Store a partner user's answer; ``AlreadyAnswered`` (a conflict) for a second one in the
    quarter (two at once: the unique key keeps one); a score of 6 or less opens the follow-up."""
    if not actor.is_partner_user or actor.partner_id is None:
        raise NotFound(_("Only partner users give feedback."))
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        raise ServiceError(_("Choose a score from 0 to 10."), field="score")
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_COMMENT), field="comment")
    quarter = quarter_of(today)
    if session.scalar(select(Feedback.id).where(Feedback.user_id == actor.user_id, Feedback.quarter == quarter)):
        raise AlreadyAnswered(_("You have answered this quarter already; thank you. You can answer "
                                "again from %(date)s.", date=next_quarter_starts(today).isoformat()))
    if not session.scalar(select(exists().where(Order.partner_id == actor.partner_id,
                                                Order.status == "delivered"))):
        raise ServiceError(_("We ask for feedback after your first delivered order."))
    answer = Feedback(partner_id=actor.partner_id, user_id=actor.user_id, quarter=quarter, score=score,
                      comment=comment)
    session.add(answer)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered(_("You have answered this quarter already; thank you.")) from None
    if score <= FOLLOW_UP_AT:
        partner = session.get(Partner, actor.partner_id)
        manager = partner.account_manager
        with force_locale(manager.locale if manager is not None else "en"):  # the manager reads it
            title = _("Follow up on feedback: %(score)d of 10 from %(partner)s", score=score,
                      partner=partner.name)
        task = Task(partner_id=partner.id, assignee_id=partner.account_manager_id, kind="feedback",
                    title=title,
                    note=comment, due_on=today + timedelta(days=FOLLOW_UP_DAYS), status="open")
        session.add(task)
        session.flush()
        answer.task_id = task.id
    audit.record(session, "feedback_given", actor_id=actor.user_id, target=answer, partner_id=actor.partner_id,
                 score=score, quarter=quarter, task_id=answer.task_id)
    session.commit()
    return answer


@dataclass(frozen=True)
class Answer:
    feedback: Feedback
    user: User | None
    task: Task | None
    done_by: User | None


def for_partner(session: Session, partner_id: int, *, limit: int = SHOWN) -> list[Answer]:
    """A partner's latest answers with their follow-up tasks (one query); the caller checked access."""
    done_by = aliased(User)
    rows = session.execute(
        select(Feedback, User, Task, done_by).outerjoin(User, User.id == Feedback.user_id)
        .outerjoin(Task, Task.id == Feedback.task_id).outerjoin(done_by, done_by.id == Task.done_by_id)
        .where(Feedback.partner_id == partner_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
    ).all()
    return [Answer(*row) for row in rows]
