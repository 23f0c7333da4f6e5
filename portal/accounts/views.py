"""Sign in, sign out, the account page, forgotten passwords, the language and accepting an
invitation."""
from __future__ import annotations

from datetime import timedelta

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
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import invitations, people, resets
from portal.accounts import sessions as auth
from portal.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ResetPasswordForm,
)
from portal.accounts.mail import queue_email_from
from portal.core.errors import AuthError, NotFound, ServiceError
from portal.core.text import normalize_email
from portal.db import get_session
from portal.extensions import limiter
from portal.web.forms import ActionForm, form_status, show_service_error
from portal.web.guards import acting_user, client_ip, public_url, safe_next_url

bp = Blueprint("auth", __name__)


def _fresh_session(locale: str | None = None) -> None:
    """A new session (and CSRF secret), keeping only the language the visitor chose."""
    locale = locale or session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _sign_out_here() -> None:
    """End whatever session this browser has (someone else may have been signed in here), then
    start a fresh one."""
    if current_user.is_authenticated:
        auth.logout(get_session(), current_user.get_id(), ip=client_ip())
        logout_user()
    _fresh_session()


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
            _fresh_session()  # a fresh session (and CSRF secret) at every sign-in
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 401


@bp.post("/logout")
@login_required
def logout():
    """End the session on the server and in the browser."""
    form = ActionForm()
    if form.validate_on_submit():
        locale = current_user.locale
        auth.logout(get_session(), current_user.get_id(), ip=client_ip())
        logout_user()
        _fresh_session(locale)  # the sign-in page stays in the user's language
        with force_locale(locale):
            flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.failed_sign_ins_per_email(lambda: getattr(current_user, "email", ""),
                                   failed=lambda _response: g.get("wrong_password", False))
def account():
    """The user's own account: password change and language."""
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
    language = LanguageForm(formdata=None, locale=current_user.locale, next=url_for("auth.account"))
    return render_template("accounts/account.html", form=form, language_form=language), form_status(form)


@bp.post("/language")
def language():
    """Choose English or Polish: kept on the user when signed in (audited), else in the session."""
    form = LanguageForm()
    back = safe_next_url(form.next.data) or url_for("main.index")
    if not form.validate_on_submit():
        return redirect(back)  # a tampered choice changes nothing
    if current_user.is_authenticated:
        changed = people.set_locale(get_session(), acting_user(), form.locale.data,
                                    languages=current_app.config["LANGUAGES"])
        if changed and back == url_for("auth.account"):
            with force_locale(form.locale.data):
                flash(_("Language saved: the portal and its emails use it from now on."), "success")
    else:
        session["locale"] = form.locale.data
    return redirect(back)


def _email_of_reset_request() -> str:
    return "reset-email:" + normalize_email(request.form.get("email", ""))[:254]


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_EMAIL"], methods=["POST"],
               key_func=_email_of_reset_request, scope="reset-email",
               deduct_when=lambda response: response.status_code == 302)  # a request, not a typo
def forgot_password():
    """Ask for a link to set a new password; the answer is the same whether the email is known."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        resets.request_reset(
            get_session(), form.email.data,
            link_for=lambda token: public_url("auth.reset_password", token=token),
            queue_email=queue_email_from(current_app),
            valid_for=timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"]),
        )
        return redirect(url_for("auth.reset_requested"))
    return render_template("accounts/forgot_password.html", form=form), form_status(form)


@bp.get("/forgot-password/sent")
def reset_requested():
    """What everyone sees after asking for a link, whether or not the email has an account."""
    return render_template("accounts/reset_requested.html",
                           minutes=current_app.config["PASSWORD_RESET_MINUTES"])


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def reset_password(token: str):
    """Choose a new password with the link from the email; then sign in with it."""
    db = get_session()
    try:
        reset = resets.find_reset(db, token)
    except NotFound as err:
        return render_template("accounts/reset_invalid.html", message=str(err)), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            resets.reset_password(db, token, form.password.data)
        except NotFound as err:
            return render_template("accounts/reset_invalid.html", message=str(err)), 404
        except ServiceError as err:
            show_service_error(form, err, default_field="password")
        else:
            _sign_out_here()
            flash(_("Your password is changed and you are signed out everywhere. Sign in with "
                    "your new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("accounts/reset_password.html", form=form, email=reset.user.email), \
        form_status(form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def accept_invitation(token: str):
    """An invitee sets a name and password, and is signed in."""
    db = get_session()
    try:
        invitation = invitations.find_invitation(db, token)
    except ServiceError as err:
        return render_template("web/error.html", code=404, message=str(err)), 404
    form = AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        try:
            user, _token = invitations.accept_invitation(
                db, token, password=form.password.data, name=form.name.data,
                locale=str(get_locale() or "en"), ip=client_ip(),
                user_agent=request.headers.get("User-Agent"),
                policy=current_app.extensions["trellis.session_policy"],
            )
        except ServiceError as err:
            show_service_error(form, err)
        else:
            _sign_out_here()
            login_user(user)
            flash(_("Welcome to %(company)s! Your account is ready.", company=user.partner.name),
                  "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/accept.html", form=form, invitation=invitation), form_status(form)
