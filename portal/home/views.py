"""Home, dashboards and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.db import get_session
from portal.extensions import csrf, limiter
from portal.home import dashboards, quiet
from portal.notifications import outbox
from portal.recurring import drafts as standing_drafts
from portal.recurring import engine
from portal.recurring import ledger as standing_ledger
from portal.web.forms import ActionForm
from portal.web.guards import actor
from portal.workspace import feedback as nps_feedback
from portal.workspace import relationship_page

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Send signed-in users to their dashboard, others to the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    """A dashboard per role: a partner's orders and spend, a manager's follow-ups, the admin's queue."""
    me = actor()
    db = get_session()
    standing_next = None
    to_review: list = []
    ask_feedback = False
    if me.partner is not None:
        zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
        board = dashboards.for_buyer(db, me, time_zone=zone)
        standing_next = standing_ledger.next_standing_order(db, me, engine.today_in(zone))
        to_review = standing_drafts.pending(db, me, engine.today_in(zone))  # one query
        ask_feedback = nps_feedback.may_answer(db, me, engine.today_in(zone))
        kind = "partner"
    elif me.role == "admin":
        board, kind = dashboards.for_admin(db, me), "admin"
    else:
        board, kind = dashboards.for_manager(db, me, zone=relationship_page.zone()), "manager"
    return render_template("home/dashboard.html", kind=kind, board=board, quiet=quiet,
                           standing_next=standing_next, to_review=to_review[:dashboards.LIST_LIMIT],
                           to_review_count=len(to_review), ask_feedback=ask_feedback,
                           action_form=ActionForm(), new_partner_days=dashboards.NEW_PARTNER_DAYS,
                           notification_kinds=dashboards.NOTIFICATION_KINDS,
                           max_attempts=outbox.MAX_ATTEMPTS)


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """200 when the database and the rate limiter's storage answer, 503 otherwise."""
    checks = {"database": "ok", "rate_limit_storage": "ok"}
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    try:
        limiter_ok = limiter.storage.check()  # False (or an error) when Redis does not answer
    except Exception:
        limiter_ok = False
    if not limiter_ok:
        checks["rate_limit_storage"] = "unreachable"
    if "unreachable" in checks.values():
        return jsonify(status="unavailable", **checks), 503
    return jsonify(status="ok", **checks)
