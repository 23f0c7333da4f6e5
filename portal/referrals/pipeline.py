"""Working referrals (account managers and admin): statuses, assignment, notes, every change kept.

``submitted → contacted → qualified → converted``, or ``rejected`` (with a reason) from any open
status; a rejected or duplicate referral can be reopened (back to ``submitted``) when it was
a mistake. ``converted`` is reached only by converting (a new partner is made), never by
setting the status. A manager works the referrals assigned to them and those of the partners
they manage; admin all of them. Every change is a ``ReferralEvent`` (who, when, from, to, note)
and an audit event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Partner, User
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import AuthError, NotFound, ServiceError
from portal.core.labels import label as _label
from portal.core.paging import Page, paginate
from portal.core.types import utc_now
from portal.referrals import scoring
from portal.referrals.models import OPEN_STATUSES, STATUSES, Referral, ReferralEvent

# Where each status may go by hand (conversion is its own use case).
TRANSITIONS = {
    "submitted": ("contacted", "qualified", "rejected"),
    "contacted": ("qualified", "rejected"),
    "qualified": ("contacted", "rejected"),
    "rejected": ("submitted",),
    "duplicate": ("submitted",),
    "converted": (),
}
AGES = {"week": 7, "month": 30, "quarter": 91}
MAX_NOTE = 2000
PER_PAGE = 25


def visible(stmt: Select, actor: Actor) -> Select:
    """Only the referrals the actor may work on (or, for a partner user, its own)."""
    if actor.sees_all:
        return stmt
    if actor.is_partner_user:
        return stmt.where(Referral.referrer_id == actor.partner_id)
    if actor.role == "account_manager":
        return stmt.where(or_(Referral.manager_id == actor.user_id,
                              access.partner_condition(actor, Referral.referrer_id)))
    return stmt.where(Referral.id.is_(None))


def _staff(actor: Actor) -> None:
    if not (actor.sees_all or actor.role == "account_manager"):
        raise AuthError(_("Only account managers and administrators work on referrals."))


def get(session: Session, actor: Actor, referral_id: int) -> Referral:
    """A referral the actor may work on, with its history; NotFound otherwise."""
    _staff(actor)
    referral = session.scalar(visible(select(Referral), actor).where(Referral.id == referral_id).options(
        selectinload(Referral.events).selectinload(ReferralEvent.actor)))
    if referral is None:
        raise NotFound(_("No such referral."),
                       foreign=session.get(Referral, referral_id) is not None)
    return referral


@dataclass(frozen=True)
class Filters:
    status: str = ""
    referrer: int | None = None
    manager: int | None = None
    age: str = ""  # week, month, quarter, older


def listing(session: Session, actor: Actor, filters: Filters, *, page: int = 1,
            now: datetime | None = None) -> Page[Referral]:
    """The referrals the actor works on, filtered, best lead first among the open ones."""
    _staff(actor)
    stmt = visible(select(Referral), actor).options(selectinload(Referral.referrer),
                                                      selectinload(Referral.manager))
    if filters.status in STATUSES:
        stmt = stmt.where(Referral.status == filters.status)
    elif filters.status == "open":
        stmt = stmt.where(Referral.status.in_(OPEN_STATUSES))
    if filters.referrer is not None:
        stmt = stmt.where(Referral.referrer_id == filters.referrer)
    if filters.manager is not None:
        stmt = stmt.where(Referral.manager_id == filters.manager)
    now = now or utc_now()
    if filters.age in AGES:
        stmt = stmt.where(Referral.created_at >= now - timedelta(days=AGES[filters.age]))
    elif filters.age == "older":
        stmt = stmt.where(Referral.created_at < now - timedelta(days=AGES["quarter"]))
    stmt = stmt.order_by(Referral.status.not_in(OPEN_STATUSES), Referral.score.desc(),
                         Referral.created_at.desc(), Referral.id.desc())
    return paginate(session, stmt, page=page, per_page=PER_PAGE)


def _event(session: Session, actor: Actor, referral: Referral, to_status: str, note: str, action: str,
           **detail) -> None:
    referral.events.append(ReferralEvent(actor_id=actor.user_id, from_status=referral.status,
                                         to_status=to_status, note=note))
    audit.record(session, action, actor_id=actor.user_id, target=referral,
                 partner_id=referral.referrer_id, from_status=referral.status, to_status=to_status, **detail)


def _clean(note: str) -> str:
    note = (note or "").replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        raise ServiceError(_("At most %(count)d characters.", count=MAX_NOTE), field="note")
    return note


def change_status(session: Session, actor: Actor, referral_id: int, to_status: str, *,
                  note: str = "") -> Referral:
    """Move a referral along the pipeline (commits); a rejection needs its reason."""
    referral = get(session, actor, referral_id)
    note = _clean(note)
    if to_status not in TRANSITIONS.get(referral.status, ()):
        raise ServiceError(_("A referral that is %(from)s cannot become %(to)s.",
                             **{"from": _label(referral.status), "to": _label(to_status)}),
                           field="status", code="illegal_transition")
    if to_status == "rejected" and not note:
        raise ServiceError(_("Say why the referral is not taken further."), field="note")
    _event(session, actor, referral, to_status, note, "referral_status_changed")
    referral.status = to_status
    referral.reject_reason = note if to_status == "rejected" else ""
    if to_status == "submitted":  # reopened: no longer a duplicate of anything
        referral.duplicate_of_id = referral.duplicate_of_partner_id = None
        referral.duplicate_reason = ""
    scoring.rescore(session, referral)
    session.commit()
    return referral


def add_note(session: Session, actor: Actor, referral_id: int, note: str) -> Referral:
    """An internal note on the referral (commits); the referrer never sees it."""
    referral = get(session, actor, referral_id)
    note = _clean(note)
    if not note:
        raise ServiceError(_("Write the note first."), field="note")
    _event(session, actor, referral, referral.status, note, "referral_noted")
    session.commit()
    return referral


def assign(session: Session, actor: Actor, referral_id: int, manager_id: int) -> Referral:
    """Give the referral to an account manager (commits)."""
    referral = get(session, actor, referral_id)
    manager = session.get(User, manager_id)
    if manager is None or manager.role != "account_manager" or not manager.active:
        raise ServiceError(_("Choose an active account manager."), field="manager_id")
    if manager.id != referral.manager_id:
        _event(session, actor, referral, referral.status,
               _("Assigned to %(name)s.", name=manager.name or manager.email), "referral_assigned",
               manager_id=manager.id)
        referral.manager_id = manager.id
        session.commit()
    return referral


def managers(session: Session) -> list[User]:
    """The active account managers, for assignment and the filter."""
    return list(session.scalars(select(User).where(User.role == "account_manager", User.active.is_(True))
                                .order_by(User.name, User.email)))


def referrers(session: Session, actor: Actor) -> list[Partner]:
    """The partners that made referrals the actor may see, for the filter."""
    ids = visible(select(Referral.referrer_id), actor).distinct().scalar_subquery()
    return list(session.scalars(select(Partner).where(Partner.id.in_(ids)).order_by(Partner.name)))

