"""The account manager's (and admin's) pages of partners: the portfolio and one partner."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from portal.core.errors import NotFound
from portal.db import get_session
from portal.web.errors import not_found
from portal.web.guards import actor, staff_required
from portal.workspace import portfolio
from portal.workspace.forms import PartnerSearchForm

bp = Blueprint("workspace", __name__, url_prefix="/manage")


@bp.get("/partners")
@login_required
@staff_required
def partners():
    """The partners this staff member looks after (all of them for an admin)."""
    form = PartnerSearchForm(request.args)
    valid = form.validate()
    query = (form.q.data or "") if valid else ""
    page = portfolio.list_partners(get_session(), actor(), query=query,
                                   page=(form.page.data or 1) if valid else 1)
    return render_template("workspace/partners.html", partners=page.items, page=page.page, total=page.total,
                           pages=page.pages, q=query, form=form)


@bp.get("/partners/<int:partner_id>")
@login_required
@staff_required
def partner(partner_id: int):
    """One partner: its people and order totals."""
    try:
        overview = portfolio.partner_overview(get_session(), actor(), partner_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    return render_template("workspace/partner.html", partner=overview.partner, users=overview.users,
                           order_count=overview.order_count, order_total=overview.order_total)
