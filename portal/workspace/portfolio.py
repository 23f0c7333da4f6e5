"""The account manager's portfolio: the partners they look after, and one partner's overview."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access, text
from portal.core.access import Actor
from portal.core.paging import Page, paginate
from portal.ordering.models import Order

PAGE_SIZE = 50


def list_partners(session: Session, actor: Actor, *, query: str = "", page: int = 1,
                  per_page: int = PAGE_SIZE) -> Page[Partner]:
    """The partners the actor looks after (every partner for an admin), by name, searchable."""
    stmt = access.scope(select(Partner), actor, Partner.id)
    matches = text.contains(query, Partner.name, Partner.code)
    if matches is not None:
        stmt = stmt.where(matches)
    return paginate(session, stmt.order_by(Partner.name, Partner.id), page=page, per_page=per_page)


@dataclass(frozen=True)
class PartnerOverview:
    partner: Partner
    users: list[User]
    order_count: int
    order_total: Decimal


def partner_overview(session: Session, actor: Actor, partner_id: int) -> PartnerOverview:
    """One partner the actor may see: its people and order totals (``NotFound`` otherwise)."""
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)
    users = session.scalars(select(User).where(User.partner_id == partner.id).order_by(User.email)).all()
    count, total = session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.partner_id == partner.id, Order.status != "cancelled")
    ).one()
    return PartnerOverview(partner, list(users), count, Decimal(total))
