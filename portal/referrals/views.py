"""Referral pages for partners: "My referrals" with the referral link, the signed-in form, and
the public form behind each partner's link (``/r/<code>``, no sign-in, rate-limited)."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from portal.accounts.models import Partner
from portal.core.errors import ServiceError
from portal.db import get_session
from portal.extensions import limiter
from portal.referrals import intake, listing, rewards
from portal.referrals.forms import PublicReferralForm, ReferralForm
from portal.referrals.limits import per_user_limit
from portal.referrals.models import Referral
from portal.web.forms import form_status, page_from, show_service_error
from portal.web.guards import actor, partner_required, public_url

bp = Blueprint("referrals", __name__)


def _thanks(referral: Referral) -> str:
    if referral.status == "duplicate":
        return _("Thank you! %(company)s is already known to us, so we will not contact them twice. "
                 "We are glad you thought of us.", company=referral.company_name)
    return _("Thank you! We will contact %(company)s soon; you can follow the referral here.",
             company=referral.company_name)


@bp.get("/referrals")
@login_required
@partner_required
def index():
    """The partner's referrals, their statuses and the referral link to share."""
    db, who = get_session(), actor()
    page = listing.mine(db, who, page=page_from(request.args))
    return render_template(
        "referrals/index.html", referrals=page, totals=listing.totals(db, who),
        rewards=rewards.for_referrals(db, [r.id for r in page.items]),
        reward_totals=rewards.totals(db, who.partner_id), rule=rewards.rule(),
        link=public_url("referrals.public", code=db.get(Partner, who.partner_id).referral_code))


@bp.route("/referrals/new", methods=["GET", "POST"])
@login_required
@partner_required
@per_user_limit()
def new():
    """Recommend a retailer."""
    form = ReferralForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        db, who = get_session(), actor()
        try:
            referral, _created = intake.submit(
                db, db.get(Partner, who.partner_id), form.data_for_intake(),
                key=form.idempotency_key.data, source="portal", submitted_by_id=who.user_id)
        except ServiceError as err:
            show_service_error(form, err, default_field="company_name")
        else:
            flash(_thanks(referral), "success")
            return redirect(url_for("referrals.index"))
    return render_template("referrals/form.html", form=form), form_status(form)


def _referrer(code: str) -> Partner:
    """The active partner whose referral link this is; 404 for an unknown or disabled one."""
    if len(code) > 20:  # no code is longer: never match a prefix of what was typed
        abort(404)
    partner = get_session().scalar(select(Partner).where(Partner.referral_code == code))
    if partner is None or partner.status != "active":
        abort(404)
    return partner


def _code() -> str:
    return "referral-code:" + (request.view_args or {}).get("code", "")[:20]


@bp.route("/r/<code>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REFERRAL_RATE_LIMIT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["REFERRAL_RATE_LIMIT_CODE"], methods=["POST"],
               key_func=_code, scope="referral-code")
def public(code: str):
    """The public referral form behind a partner's link."""
    partner = _referrer(code)
    form = PublicReferralForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        if form.fax.data:  # the honeypot: a robot filled it in; it is told all went well
            return redirect(url_for("referrals.thanks", code=code))
        try:
            intake.submit(get_session(), partner, form.data_for_intake(form.referrer_name.data or ""),
                          key=form.idempotency_key.data, source="link")
        except ServiceError as err:
            show_service_error(form, err, default_field="company_name")
        else:
            return redirect(url_for("referrals.thanks", code=code))
    return render_template("referrals/public.html", form=form, partner=partner), form_status(form)


@bp.get("/r/<code>/thanks")
def thanks(code: str):
    """After the public form: thanks, whatever became of it (nothing about other companies)."""
    return render_template("referrals/thanks.html", partner=_referrer(code))
