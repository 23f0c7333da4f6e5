"""A partner admin manages the users of their own company."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import people
from portal.accounts.forms import InviteForm
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.errors import not_found
from portal.web.forms import ActionForm, form_status, show_service_error
from portal.web.guards import actor, public_url, roles_required

bp = Blueprint("people", __name__, url_prefix="/company")


@bp.route("/users", methods=["GET", "POST"])
@login_required
@roles_required("partner_admin")
def users():
    """List the company's users and invite new ones."""
    db = get_session()
    form = InviteForm()
    invite_link = None
    if form.validate_on_submit():
        try:
            days = current_app.config["INVITATION_DAYS"]
            invitation, token = people.invite_user(
                db, actor(), email=form.email.data, name=form.name.data or "",
                role=form.role.data, valid_for=timedelta(days=days),
            )
        except ServiceError as err:
            show_service_error(form, err, default_field="email")
        else:
            # Post/Redirect/Get: the link is shown once, on the page the redirect leads to.
            session["invite_link"] = public_url("auth.accept_invitation", token=token)
            flash(_("Invitation created for %(email)s. Send them the link below; it works once.",
                    email=invitation.email), "success")
            return redirect(url_for("people.users"))
    else:
        invite_link = session.pop("invite_link", None) if request.method == "GET" else None
    return render_template(
        "accounts/company_users.html", form=form, action_form=ActionForm(), invite_link=invite_link,
        users=people.company_users(db, current_user.partner_id),
        invitations=people.open_invitations(db, current_user.partner_id),
    ), form_status(form)


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
@roles_required("partner_admin")
def revoke_invitation(invitation_id: int):
    """Withdraw an invitation that has not been accepted; its link stops working."""
    if ActionForm().validate_on_submit():
        try:
            invitation = people.revoke_invitation(get_session(), actor(), invitation_id)
        except NotFound as err:
            not_found(foreign=err.foreign)
        flash(_("The invitation for %(email)s is withdrawn; its link no longer works.",
                email=invitation.email), "success")
    return redirect(url_for("people.users"))


@bp.post("/users/<int:user_id>/deactivate")
@login_required
@roles_required("partner_admin")
def deactivate(user_id: int):
    """Deactivate a colleague; their sessions end at once."""
    return change_user_active(user_id, False, back="people.users")


@bp.post("/users/<int:user_id>/activate")
@login_required
@roles_required("partner_admin")
def activate(user_id: int):
    """Let a deactivated colleague sign in again."""
    return change_user_active(user_id, True, back="people.users")


def change_user_active(user_id: int, active: bool, *, back: str):
    """Deactivate or reactivate a user for the signed-in admin or partner admin, then go ``back``.

    The service decides who may change whom (another company's user is NotFound).
    """
    if ActionForm().validate_on_submit():
        try:
            user = people.set_user_active(get_session(), actor(), user_id, active)
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("%(email)s can sign in again.", email=user.email) if active
                  else _("%(email)s is deactivated and signed out.", email=user.email), "success")
    return redirect(url_for(back))
