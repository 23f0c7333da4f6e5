"""The operator's pages: partners and staff."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.accounts import people
from portal.accounts.forms import PartnerForm, PartnerStatusForm, UserForm
from portal.accounts.models import PARTNER_STATUSES, ROLES, Partner
from portal.accounts.people_views import (
    change_user_active,
    deactivate_confirmation,
    deactivate_user_page,
)
from portal.core.errors import ServiceError
from portal.core.labels import label
from portal.db import get_session
from portal.web.forms import ActionForm, form_status, list_filters, show_service_error
from portal.web.guards import actor, admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/partners/new", methods=["GET", "POST"])
@login_required
@admin_required
def new_partner():
    """Create a partner company."""
    db = get_session()
    form = PartnerForm()
    form.tier.choices = [SelectChoice("", "—")] + [SelectChoice(name) for name in people.tier_names(db)]
    form.manager.choices = [SelectChoice("", "—")] + [
        SelectChoice(u.email, u.name or u.email) for u in people.account_managers(db)
    ]
    if form.validate_on_submit():
        try:
            partner = people.create_partner(
                db, name=form.name.data, code=form.code.data, tier_name=form.tier.data or None,
                manager_email=form.manager.data or None, actor=actor(),
            )
        except ServiceError as err:
            show_service_error(form, err, default_field="name")
        else:
            flash(_("Partner %(name)s created.", name=partner.name), "success")
            return redirect(url_for("workspace.partner", partner_id=partner.id))
    return render_template("accounts/partner_form.html", form=form), form_status(form)


@bp.route("/partners/<int:partner_id>/status", methods=["GET", "POST"])
@login_required
@admin_required
def partner_status(partner_id: int):
    """Confirm, then set, a partner's status; pausing or churning signs its users out at once."""
    db = get_session()
    partner = db.get(Partner, partner_id)
    if partner is None:
        abort(404)
    form = PartnerStatusForm(status=request.args.get("status"))
    if form.validate_on_submit():
        try:
            people.set_partner_status(db, code=partner.code, status=form.status.data,
                                      actor=actor())
        except ServiceError as err:
            flash(str(err), "error")
        else:
            if partner.is_active:
                flash(_("%(name)s is active again; its users can sign in.", name=partner.name),
                      "success")
            else:
                flash(_("%(name)s is %(status)s now; its users are signed out.", name=partner.name,
                        status=label(partner.status)), "success")
        return redirect(url_for("workspace.partner", partner_id=partner.id))
    if request.method == "POST":
        abort(400)  # a tampered status: the CSRF token is checked before the view
    if form.status.data not in PARTNER_STATUSES or form.status.data == partner.status:
        abort(404)
    return render_template("accounts/partner_status.html", partner=partner, form=form,
                           users=people.company_users(db, partner.id))


def _user_filters(args) -> dict[str, str | int]:
    """The users list's search, role and active filters and page, from the address bar; values
    that are not one of the choices are dropped."""
    values = list_filters(args)
    role = args.get("role", "")
    active = args.get("active", "")
    return {"q": values["q"], "role": role if role in ROLES else "",
            "active": active if active in ("yes", "no") else "", "page": values["page"]}


def _in_url(filters: dict) -> dict:
    """The filters worth putting in a link (no empty ones, no page 1)."""
    return {k: v for k, v in filters.items() if v and not (k == "page" and v == 1)}


@bp.route("/users", methods=["GET", "POST"])
@login_required
@admin_required
def users():
    """All users, searched, filtered and paged; create staff and partner users."""
    db = get_session()
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = people.create_user(
                db, email=form.email.data, password=form.password.data, role=form.role.data,
                name=form.name.data or "", partner_code=form.partner.data or None,
                actor=actor(),
            )
        except ServiceError as err:
            show_service_error(form, err, default_field="email")
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users", q=user.email))
    filters = _user_filters(request.args)
    page = people.find_users(db, q=filters["q"], role=filters["role"], active=filters["active"],
                             page=filters["page"])
    keep = _in_url({**filters, "page": page.page})
    deactivate = {
        user.id: deactivate_confirmation(user, endpoint="admin.deactivate_user", back="admin.users",
                                         back_args=keep)
        for user, _code, _name in page.items if user.active and user.id != current_user.id
    }
    return render_template("accounts/admin_users.html", form=form, page=page, filters=filters,
                           keep=keep, deactivate=deactivate, roles=ROLES,
                           action_form=ActionForm()), form_status(form)


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@login_required
@admin_required
def deactivate_user(user_id: int):
    """Ask, then deactivate any user; their sessions and API tokens end at once."""
    return deactivate_user_page(user_id, endpoint="admin.deactivate_user", back="admin.users",
                                back_args=_in_url(_user_filters(request.args)))


@bp.post("/users/<int:user_id>/activate")
@login_required
@admin_required
def activate_user(user_id: int):
    """Let a deactivated user sign in again."""
    return change_user_active(user_id, True, back="admin.users",
                              back_args=_in_url(_user_filters(request.args)))
