"""What each role's dashboard shows."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.core import access
from portal.core.access import Actor, PartnerRef
from portal.ordering.models import Order


@dataclass
class Summary:
    partner: PartnerRef | None = None
    order_count: int = 0
    last_order: Order | None = None
    ordered_total: Decimal = Decimal("0.00")
    company_users: int = 0
    partner_count: int = 0
    partners_by_status: dict[str, int] = field(default_factory=dict)


def for_user(session: Session, actor: Actor) -> Summary:
    """Counts for the signed-in user's dashboard, in a fixed number of queries."""
    if actor.partner_id is not None:
        count, total = session.execute(
            select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
            .where(Order.partner_id == actor.partner_id, Order.status != "cancelled")
        ).one()
        last = session.scalar(
            select(Order).where(Order.partner_id == actor.partner_id)
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
        )
        users = session.scalar(
            select(func.count(User.id)).where(User.partner_id == actor.partner_id, User.active)
        )
        return Summary(partner=actor.partner, order_count=count, last_order=last,
                       ordered_total=Decimal(total).quantize(Decimal("0.01")), company_users=users)
    rows = session.execute(
        access.scope(select(Partner.status, func.count(Partner.id)), actor, Partner.id).group_by(Partner.status)
    ).all()
    by_status = {status: n for status, n in rows}
    return Summary(partner_count=sum(by_status.values()), partners_by_status=by_status)
