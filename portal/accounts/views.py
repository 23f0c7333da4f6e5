"""Sign in, sign out, the account page and accepting an invitation."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import people
from portal.accounts import sessions as auth
from portal.accounts.forms import AcceptInvitationForm, ChangePasswordForm, LoginForm
from portal.core.errors import AuthError, ServiceError
from portal.db import get_session
from portal.extensions import limiter
from portal.web.forms import ActionForm, form_status, show_service_error
from portal.web.guards import acting_user, client_ip, safe_next_url

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"], methods=["POST"])
@limiter.failed_sign_ins_per_email(lambda: request.form.get("email", ""), success_status=302)
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user, token = auth.login(
                get_session(), form.email.data, form.password.data, ip=client_ip(),
                user_agent=request.headers.get("User-Agent"),
                policy=current_app.extensions["trellis.session_policy"],
            )
        except AuthError as err:
            form.password.errors.append(str(err))
        else:
            session.clear()  # a fresh session (and CSRF secret) at every sign-in
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 401


@bp.post("/logout")
@login_required
def logout():
    """End the session on the server and in the browser."""
    form = ActionForm()
    if form.validate_on_submit():
        auth.logout(get_session(), current_user.get_id(), ip=client_ip())
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.failed_sign_ins_per_email(lambda: getattr(current_user, "email", ""),
                                   failed=lambda _response: g.get("wrong_password", False))
def account():
    """The user's own account: password change."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            auth.change_password(get_session(), acting_user(), form.current_password.data,
                                 form.password.data, ip=client_ip())
        except ServiceError as err:
            g.wrong_password = isinstance(err, AuthError)  # a guess: counts against the sign-in limit
            show_service_error(form, err, default_field="password")
        else:
            flash(_("Your password is changed. Your other sessions are signed out and your API tokens revoked."),
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("accounts/account.html", form=form), form_status(form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def accept_invitation(token: str):
    """An invitee sets a name and password, then signs in."""
    db = get_session()
    try:
        invitation = people.find_invitation(db, token)
    except ServiceError as err:
        return render_template("web/error.html", code=404, message=str(err)), 404
    form = AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        try:
            people.accept_invitation(db, token, password=form.password.data, name=form.name.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Welcome! Sign in with your email and new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("accounts/accept.html", form=form, invitation=invitation), form_status(form)
