"""The account manager's (and admin's) pages of partners: the portfolio and one partner."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.accounts import addresses as delivery_addresses
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.errors import not_found
from portal.web.forms import show_service_error
from portal.web.guards import actor, staff_required
from portal.workspace import partner_settings, portfolio, relationship_page
from portal.workspace.forms import PartnerSearchForm, PartnerSettingsForm

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


def _overview(partner_id: int) -> portfolio.PartnerOverview:
    try:
        return portfolio.partner_overview(get_session(), actor(), partner_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def settings_form(overview: portfolio.PartnerOverview, formdata=None) -> PartnerSettingsForm:
    """The settings form with only the fields this user may change, filled from the partner."""
    partner = overview.partner
    columns = PartnerSettingsForm.COLUMNS
    initial = {field: getattr(partner, column) for field, column in columns.items()}
    form = PartnerSettingsForm(formdata=formdata, data=initial)
    editable = partner_settings.editable_fields(actor())
    for field, column in columns.items():
        if column not in editable:
            delattr(form, field)
    db = get_session()
    if "tier" in form:
        form.tier.choices = [SelectChoice("", _("List prices (no tier)"))] + [
            SelectChoice(t.id, t.name) for t in partner_settings.tier_choices(db)]
    if "manager" in form:
        managers = partner_settings.manager_choices(db)
        if partner.account_manager is not None and partner.account_manager_id not in {m.id for m in managers}:
            managers.append(partner_settings.Choice(partner.account_manager_id,  # kept, if inactive
                                                    partner.account_manager.name or partner.account_manager.email))
        form.manager.choices = [SelectChoice("", _("Nobody"))] + [SelectChoice(m.id, m.name) for m in managers]
    return form


def _page(overview: portfolio.PartnerOverview, form: PartnerSettingsForm, status: int = 200, **forms):
    addresses = delivery_addresses.list_for(get_session(), actor(), overview.partner.id)
    return render_template("workspace/partner.html", o=overview, partner=overview.partner,
                           form=form, addresses=addresses,
                           **relationship_page.context(overview.partner, **forms)), status


@bp.get("/partners/<int:partner_id>")
@login_required
@staff_required
def partner(partner_id: int):
    """One partner: contact, orders and sales, top products, people, tasks and its settings."""
    overview = _overview(partner_id)
    return _page(overview, settings_form(overview))


@bp.post("/partners/<int:partner_id>/edit")
@login_required
@staff_required
def edit_partner(partner_id: int):
    """Change the partner's settings this user may change (audited)."""
    overview = _overview(partner_id)
    form = settings_form(overview, formdata=request.form)
    if not form.validate_on_submit():
        return _page(overview, form, 422)
    changes = {PartnerSettingsForm.COLUMNS[field.name]: field.data for field in form
               if field.name in PartnerSettingsForm.COLUMNS}
    try:
        changed = partner_settings.update_partner(get_session(), actor(), partner_id, changes)
    except NotFound as err:
        not_found(foreign=err.foreign)
    except ServiceError as err:
        field = {column: name for name, column in PartnerSettingsForm.COLUMNS.items()}.get(err.field or "")
        show_service_error(form, ServiceError(str(err), field=field))
        return _page(overview, form, 422)
    if changed:
        fields = {column: name for name, column in PartnerSettingsForm.COLUMNS.items()}
        names = ", ".join(str(form[fields[column]].label.text) for column in changed)
        flash(_("Saved: %(fields)s.", fields=names), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("workspace.partner", partner_id=partner_id))

