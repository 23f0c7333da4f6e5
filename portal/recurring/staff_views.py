"""Staff: the results of standing-order generation across partners (``/manage/standing-runs``),
filtered by day, partner and outcome, with a CSV export of the same rows."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.core.errors import NotFound
from portal.core.labels import label
from portal.core.types import MAX_ROW_ID
from portal.db import get_session
from portal.ordering import staff
from portal.recurring import staff_runs
from portal.recurring.forms import RunFilterForm
from portal.recurring.models import OUTCOMES
from portal.web.errors import not_found
from portal.web.forms import page_from
from portal.web.guards import actor, staff_required

bp = Blueprint("standing_runs", __name__, url_prefix="/manage/standing-runs")


def _filters() -> tuple[RunFilterForm, staff_runs.RunFilters, dict]:
    """The filters of the address bar: the partner is checked first (another's is a 404)."""
    partner_id = request.args.get("partner", type=int)
    if partner_id is not None and not 1 <= partner_id <= MAX_ROW_ID:
        partner_id = None
    if partner_id is not None:
        try:
            staff.chosen_partner(get_session(), actor(), partner_id)
        except NotFound as err:
            not_found(foreign=err.foreign)
    form = RunFilterForm(request.args)
    form.partner.choices = [SelectChoice("", _("All partners"))] + [
        SelectChoice(p.id, f"{p.name} ({p.code})") for p in staff.visible_partners(get_session(), actor())]
    form.outcome.choices = [SelectChoice("", _("Any outcome"))] + [
        SelectChoice(o, label(o)) for o in OUTCOMES]
    if not form.validate():
        filters = staff_runs.RunFilters(partner_id=partner_id)
    else:
        filters = staff_runs.RunFilters(date_from=form.date_from.data, date_to=form.date_to.data,
                                        partner_id=partner_id, outcome=form.outcome.data or "")
    args = {"partner": filters.partner_id, "outcome": filters.outcome,
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None}
    return form, filters, {key: value for key, value in args.items() if value}


@bp.get("")
@login_required
@staff_required
def index():
    """What became of every standing-order date of the partners this staff member looks after."""
    form, filters, args = _filters()
    page = staff_runs.list_runs(get_session(), actor(), filters, page=page_from(request.args))
    return render_template("recurring/staff_runs.html", form=form, page=page, args=args)


@bp.get("/export.csv")
@login_required
@staff_required
def export():
    """The filtered runs as CSV."""
    _form, filters, _args = _filters()
    rows = staff_runs.runs_csv(get_session(), actor(), filters)
    return Response(stream_with_context(rows), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="standing-order-runs.csv"'})
