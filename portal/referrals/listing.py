"""Reading referrals: a partner's own (what its users may see: never internal notes)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.access import Actor
from portal.core.paging import Page, paginate
from portal.referrals.models import Referral

PER_PAGE = 25


@dataclass(frozen=True)
class Totals:
    submitted: int
    open: int
    converted: int


def mine(session: Session, actor: Actor, *, page: int = 1) -> Page[Referral]:
    """The actor's partner's referrals, newest first."""
    stmt = (select(Referral).where(Referral.referrer_id == actor.partner_id)
            .order_by(Referral.created_at.desc(), Referral.id.desc()))
    return paginate(session, stmt, page=page, per_page=PER_PAGE)


def totals(session: Session, actor: Actor) -> Totals:
    """How many referrals the partner made, how many are being worked on and how many converted."""
    counts = dict(session.execute(
        select(Referral.status, func.count()).where(Referral.referrer_id == actor.partner_id)
        .group_by(Referral.status)).all())
    return Totals(submitted=sum(counts.values()),
                  open=sum(counts.get(s, 0) for s in ("submitted", "contacted", "qualified")),
                  converted=counts.get("converted", 0))
