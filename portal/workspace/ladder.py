"""The relationship ladder: prospect → customer → client → supporter → advocate → partner.

The portal *suggests* a stage from behaviour; the manager confirms it or sets another, with a
note, and ``partners.stage`` holds what they decided (``stage_changes`` keeps the history: who,
when, from → to, the suggestion at the time and the note). Pages show both when they differ.

The suggestion is the highest rung whose condition holds (rungs are not required in sequence: a
partner with a standing order that orders steadily is a partner even though referrals do not
exist yet):

* ``prospect``: no order yet;
* ``customer``: a first order (not cancelled);
* ``client``: repeat orders (two or more order days);
* ``supporter``: the partner's latest NPS answer in the last 12 months is 9 or 10 (a promoter);
* ``advocate``: the partner made a referral (issue 14: ``kpis.referrals_made`` is 0 until then);
* ``partner``: an active standing order and twelve months of steady ordering (``rhythm.steady``).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.accounts.models import STAGES

PROMOTER = 9


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
