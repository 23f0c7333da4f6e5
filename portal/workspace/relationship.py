"""The relationship part of a staff partner page: KPIs, the ladder (current, suggested, history),
the interactions log with communication preferences, and the feedback received with its loop."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Partner, User
from portal.workspace import feedback, interactions, kpis
from portal.workspace.relationship_models import StageChange

HISTORY = 20


@dataclass(frozen=True)
class StageStep:
    change: StageChange
    by: User | None


@dataclass(frozen=True)
class Relationship:
    k: kpis.Kpis
    suggested: str
    history: list[StageStep]
    log: interactions.Log
    answers: list[feedback.Answer]
    today: date

    @property
    def follows_suggestion(self) -> bool:
        return self.suggested == self.k_stage

    k_stage: str = ""


def for_partner(session: Session, partner: Partner, *, now: datetime | None = None,
                zone: tzinfo = UTC) -> Relationship:
    """Everything the relationship sections show, for a partner the caller may see (checked by
    the caller): ``kpis.QUERIES`` + 4 queries."""
    now = now or datetime.now(UTC)
    figures = kpis.compute(session, [partner.id], now=now, zone=zone)[partner.id]
    history = [StageStep(c, u) for c, u in session.execute(
        select(StageChange, User).outerjoin(User, User.id == StageChange.changed_by_id)
        .where(StageChange.partner_id == partner.id)
        .order_by(StageChange.created_at.desc(), StageChange.id.desc()).limit(HISTORY))]
    return Relationship(figures, figures.suggested_stage, history, interactions.log_for(session, partner),
                        feedback.for_partner(session, partner.id), now.astimezone(zone).date(),
                        k_stage=partner.stage)
