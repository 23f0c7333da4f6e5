"""A partner admin manages the users of their own company."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import invitations, people
from portal.accounts.forms import InviteForm
from portal.accounts.mail import queue_email_from
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.forms import ActionForm, form_status, show_service_error
from portal.web.guards import actor, public_url, roles_required

bp = Blueprint("people", __name__, url_prefix="/company")


def revoke_confirmation(invitation) -> Confirmation:
    return Confirmation(
        url=url_for("people.revoke_invitation", invitation_id=invitation.id),
        label=_("Withdraw"), title=_("Withdraw the invitation for %(email)s?", email=invitation.email),
        question=_("Its link stops working at once, also if the email has been read already. "
                   "You can invite the same address again later."),
        confirm_label=_("Yes, withdraw the invitation"),
        back_url=url_for("people.users"), back_label=_("Keep the invitation"),
    )


def deactivate_confirmation(user, *, endpoint: str, back: str, back_args: dict | None = None) -> Confirmation:
    """Asked before deactivating a user, on /company/users and /admin/users alike; ``back_args``
    (a list's filters and page) lead back to the same place."""
    who = user.name or user.email
    return Confirmation(
        url=url_for(endpoint, user_id=user.id, **(back_args or {})),
        label=_("Deactivate"), title=_("Deactivate %(name)s?", name=who),
        question=_("%(email)s is signed out at once everywhere, their API tokens stop working and "
                   "the invitations they sent are withdrawn. You can reactivate them later; they "
                   "then sign in again.", email=user.email),
        confirm_label=_("Yes, deactivate"), back_url=url_for(back, **(back_args or {})),
        back_label=_("Keep them active"),
    )


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
            invitation, token = invitations.invite_user(
                db, actor(), email=form.email.data, name=form.name.data or "",
                role=form.role.data, valid_for=timedelta(days=days),
                link_for=lambda token: public_url("auth.accept_invitation", token=token),
                queue_email=queue_email_from(current_app), locale=str(get_locale() or "en"),
            )
        except ServiceError as err:
            show_service_error(form, err, default_field="email")
        else:
            # Post/Redirect/Get: the link is shown once, on the page the redirect leads to.
            session["invite_link"] = public_url("auth.accept_invitation", token=token)
            flash(_("Invitation emailed to %(email)s. You can also pass on the link below; it "
                    "works once.", email=invitation.email), "success")
            return redirect(url_for("people.users"))
    else:
        invite_link = session.pop("invite_link", None) if request.method == "GET" else None
    open_invitations = invitations.open_invitations(db, current_user.partner_id)
    colleagues = people.company_users(db, current_user.partner_id)
    return render_template(
        "accounts/company_users.html", form=form, action_form=ActionForm(), invite_link=invite_link,
        users=colleagues, invitations=open_invitations,
        withdraw={inv.id: revoke_confirmation(inv) for inv in open_invitations},
        deactivate={u.id: deactivate_confirmation(u, endpoint="people.deactivate", back="people.users")
                    for u in colleagues if u.active},
    ), form_status(form)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["GET", "POST"])
@login_required
@roles_required("partner_admin")
def revoke_invitation(invitation_id: int):
    """Ask, then withdraw an invitation that has not been accepted; its link stops working."""
    db = get_session()
    try:
        invitation = invitations.get_open_invitation(db, actor(), invitation_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return confirm_page(revoke_confirmation(invitation), form)
    invitations.revoke_invitation(db, actor(), invitation_id)
    flash(_("The invitation for %(email)s is withdrawn; its link no longer works.",
            email=invitation.email), "success")
    return redirect(url_for("people.users"))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@login_required
@roles_required("partner_admin")
def deactivate(user_id: int):
    """Ask, then deactivate a colleague; their sessions end at once."""
    return deactivate_user_page(user_id, endpoint="people.deactivate", back="people.users")


@bp.post("/users/<int:user_id>/activate")
@login_required
@roles_required("partner_admin")
def activate(user_id: int):
    """Let a deactivated colleague sign in again."""
    return change_user_active(user_id, True, back="people.users")


def deactivate_user_page(user_id: int, *, endpoint: str, back: str, back_args: dict | None = None):
    """The confirmation (GET) and the deactivation (POST) of a user, after the access check."""
    try:
        user = people.get_user_for(get_session(), actor(), user_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        if user.id == current_user.id or not user.active:
            flash(_("You cannot deactivate yourself.") if user.id == current_user.id
                  else _("%(email)s is deactivated already.", email=user.email), "error")
            return redirect(url_for(back, **(back_args or {})))
        return confirm_page(deactivate_confirmation(user, endpoint=endpoint, back=back,
                                                    back_args=back_args), form)
    return change_user_active(user_id, False, back=back, back_args=back_args, checked=True)


def change_user_active(user_id: int, active: bool, *, back: str, back_args: dict | None = None,
                       checked: bool = False):
    """Deactivate or reactivate a user for the signed-in admin or partner admin, then go ``back``.

    The service decides who may change whom (another company's user is NotFound). ``checked``:
    the caller validated the (confirmation) form already.
    """
    if checked or ActionForm().validate_on_submit():
        try:
            user = people.set_user_active(get_session(), actor(), user_id, active)
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("%(email)s can sign in again.", email=user.email) if active
                  else _("%(email)s is deactivated and signed out.", email=user.email), "success")
    return redirect(url_for(back, **(back_args or {})))
