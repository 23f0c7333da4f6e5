"""What the partner page's relationship sections need (shared by the page and its POST views)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from portal.db import get_session
from portal.workspace import relationship
from portal.workspace.relationship_forms import InteractionForm, StageForm


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def context(partner, stage_form: StageForm | None = None, interaction_form: InteractionForm | None = None) -> dict:
    rel = relationship.for_partner(get_session(), partner, zone=zone())
    if stage_form is None:
        stage_form = StageForm(data={"stage": rel.suggested})
    if interaction_form is None:
        interaction_form = InteractionForm(data={"kind": "call", "happened_on": rel.today})
    return {"rel": rel, "stage_form": stage_form, "interaction_form": interaction_form}
