"""The interactions log: calls, visits, emails and notes a manager keeps with a partner.

Entries are added, never edited (the log is what happened); each is audited. Communication
preferences (``partners.preferred_channel`` and ``contact_every_days``) are shown beside it, with
when the partner is next due for contact from the latest entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import NotFound, ServiceError
from portal.workspace.relationship_models import INTERACTION_KINDS, Interaction

MAX_SUMMARY = 2000
SHOWN = 20
MAX_DAYS_BACK = 366


@dataclass(frozen=True)
class Entry:
    interaction: Interaction
    author: User | None


@dataclass(frozen=True)
class Log:
    entries: list[Entry]
    total: int
    last_contact: date | None
    next_contact: date | None  # the last contact + contact_every_days (None: no rhythm set)

    def due(self, today: date) -> bool:
        return self.next_contact is not None and self.next_contact <= today


def log_for(session: Session, partner: Partner, *, limit: int = SHOWN) -> Log:
    """The latest entries (newest first) and the contact rhythm: two queries."""
    rows = session.execute(
        select(Interaction, User).outerjoin(User, User.id == Interaction.author_id)
        .where(Interaction.partner_id == partner.id)
        .order_by(Interaction.happened_on.desc(), Interaction.id.desc()).limit(limit)
    ).all()
    total, last = session.execute(
        select(func.count(Interaction.id), func.max(Interaction.happened_on))
        .where(Interaction.partner_id == partner.id)).one()
    every = partner.contact_every_days if partner.preferred_channel != "none" else None
    upcoming = last + timedelta(days=every) if last and every else None
    return Log([Entry(i, u) for i, u in rows], total or 0, last, upcoming)


def add(session: Session, actor: Actor, partner_id: int, *, kind: str, happened_on: date, summary: str,
        today: date) -> Interaction:
    """Log an interaction with a partner the manager looks after (audited)."""
    if not actor.is_staff:
        raise NotFound(_("No such partner."))
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)
    summary = (summary or "").replace("\x00", "").strip()
    if kind not in INTERACTION_KINDS:
        raise ServiceError(_("Choose calls, visits, emails or notes."), field="kind")
    if not summary:
        raise ServiceError(_("Say what was discussed."), field="summary")
    if len(summary) > MAX_SUMMARY:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_SUMMARY), field="summary")
    if happened_on is None or happened_on > today + timedelta(days=1):
        raise ServiceError(_("The date is in the future."), field="happened_on")
    if happened_on < today - timedelta(days=MAX_DAYS_BACK):
        raise ServiceError(_("The date is more than a year ago."), field="happened_on")
    entry = Interaction(partner_id=partner.id, author_id=actor.user_id, kind=kind, happened_on=happened_on,
                        summary=summary)
    session.add(entry)
    session.flush()
    audit.record(session, "interaction_logged", actor_id=actor.user_id, target=entry, partner_id=partner.id,
                 kind=kind, happened_on=happened_on.isoformat())
    session.commit()
    return entry
