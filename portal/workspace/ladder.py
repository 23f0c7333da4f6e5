"""The relationship ladder: prospect → customer → client → supporter → advocate → partner.

The portal *suggests* a stage from behaviour; the manager confirms it or sets another, with a
note, and ``partners.stage`` holds what they decided (``stage_changes`` keeps the history: who,
when, from → to, the suggestion at the time and the note). Pages show both when they differ.

The suggestion is the highest rung whose condition holds (rungs are not required in sequence: a
partner with a standing order that orders steadily is a partner whether or not it ever referred
anyone):

* ``prospect``: no order yet;
* ``customer``: a first order (not cancelled);
* ``client``: repeat orders (two or more order days);
* ``supporter``: the partner's latest NPS answer in the last 12 months is 9 or 10 (a promoter);
* ``advocate``: the partner made a referral (``kpis.referrals_made``: duplicates left out);
* ``partner``: an active standing order and twelve months of steady ordering (``rhythm.steady``).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.accounts.models import STAGES, Partner
from portal.core import access, audit
from portal.core.access import Actor
from portal.core.errors import NotFound, ServiceError
from portal.workspace.relationship_models import StageChange

PROMOTER = 9
MAX_NOTE = 2000


@dataclass(frozen=True)
class Behaviour:
    order_days: int
    latest_nps: int | None
    referrals_made: int
    active_standing_orders: int
    steady: bool


def suggest(b: Behaviour) -> str:
    """The suggested stage (one of ``STAGES``)."""
    if b.active_standing_orders > 0 and b.steady:
        return "partner"
    if b.referrals_made > 0:
        return "advocate"
    if b.latest_nps is not None and b.latest_nps >= PROMOTER:
        return "supporter"
    if b.order_days >= 2:
        return "client"
    if b.order_days >= 1:
        return "customer"
    return "prospect"


REASONS = {
    "prospect": _l("No order yet."),
    "customer": _l("A first order."),
    "client": _l("Repeat orders."),
    "supporter": _l("Their latest feedback is a 9 or 10."),
    "advocate": _l("They referred another company."),
    "partner": _l("A standing order and twelve months of steady ordering."),
}


def rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else 0


def set_stage(session: Session, actor: Actor, partner_id: int, stage: str, *, suggested: str,
              note: str = "") -> StageChange:
    """Confirm the suggested stage or set another (``NotFound`` for a partner the manager does
    not look after): ``partners.stage`` changes, a ``stage_changes`` row keeps from → to, the
    suggestion, who, when and the note, and the change is audited. Overriding the suggestion
    needs a note; confirming the stage the partner already has is refused."""
    if not actor.is_staff:
        raise NotFound(_("No such partner."))
    partner = access.get_visible(session, actor, Partner, partner_id, partner_of=lambda p: p.id)
    note = (note or "").replace("\x00", "").strip()
    if stage not in STAGES:
        raise ServiceError(_("Choose one of the stages."), field="stage")
    if len(note) > MAX_NOTE:
        raise ServiceError(_("At most %(n)d characters.", n=MAX_NOTE), field="note")
    if stage == partner.stage:
        raise ServiceError(_("The partner is at this stage already."), field="stage")
    if stage != suggested and not note:
        raise ServiceError(_("Say why you set a stage other than the suggested one."), field="note")
    change = StageChange(partner_id=partner.id, changed_by_id=actor.user_id, from_stage=partner.stage,
                         to_stage=stage, suggested_stage=suggested if suggested in STAGES else stage, note=note)
    partner.stage = stage
    session.add(change)
    session.flush()
    audit.record(session, "partner_stage_set", actor_id=actor.user_id, target=partner, partner_id=partner.id,
                 before=change.from_stage, after=stage, suggested=change.suggested_stage, note=note)
    session.commit()
    return change

