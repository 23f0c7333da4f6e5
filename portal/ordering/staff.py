"""What staff read on the ordering pages: the partners they may pick (orders list, catalog) —
only those they look after, every partner for an admin, any other id ``NotFound`` — and an
order's history of status changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access
from portal.core.access import Actor, PartnerRef
from portal.core.errors import NotFound
from portal.core.models import AuditEvent
from portal.ordering.models import ORDER_STATUSES, Order


def visible_partners(session: Session, actor: Actor) -> list[PartnerRef]:
    """The partners the staff member may pick, by name (none for a partner user)."""
    if not actor.is_staff:
        return []
    stmt = access.scope(select(Partner.id, Partner.code, Partner.name, Partner.price_tier_id),
                        actor, Partner.id).order_by(Partner.name, Partner.id)
    return [PartnerRef(*row) for row in session.execute(stmt)]


def chosen_partner(session: Session, actor: Actor, partner_id: int) -> PartnerRef:
    """A partner the staff member looks after; a missing one and another manager's are the same
    ``NotFound`` (the second ``foreign``, so the page's 404 is audited)."""
    if not actor.is_staff:
        raise NotFound(_("No such partner."))
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id,
                                 message=_("No such partner."))
    return PartnerRef(partner.id, partner.code, partner.name, partner.price_tier_id)


@dataclass(frozen=True)
class OrderEvent:
    at: datetime
    status: str          # the status the order moved to
    by: str | None       # who moved it (None: the partner's own order, or a job)
    reason: str = ""     # staff's reason for a cancellation


_ORDER_ACTIONS = {"order_placed": "submitted", **{f"order_{s}": s for s in ORDER_STATUSES if s != "submitted"}}


def order_history(session: Session, order: Order) -> list[OrderEvent]:
    """An order's status changes from the audit trail, oldest first: when, who and why."""
    rows = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.detail, User.name, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.partner_id == order.partner_id, AuditEvent.target_type == "orders",
               AuditEvent.target_id == order.id, AuditEvent.action.in_(list(_ORDER_ACTIONS)))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [OrderEvent(at, _ORDER_ACTIONS[action], name or email, str((detail or {}).get("reason", "")))
            for at, action, detail, name, email in rows]
