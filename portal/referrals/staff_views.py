"""The referral pipeline for account managers and admin: the list with filters, one referral
with its score, history, status change, assignment and internal notes, and converting it."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.accounts.mail import queue_email_from
from portal.core.errors import NotFound, ServiceError
from portal.core.labels import label
from portal.db import get_session
from portal.ordering.exports import neutralise
from portal.referrals import attribution, conversion, pipeline, rewards
from portal.referrals.forms import AssignForm, ConvertForm, NoteForm, PipelineFilterForm, StatusForm
from portal.referrals.intake import company_key
from portal.referrals.models import OPEN_STATUSES, Referral
from portal.web.errors import not_found
from portal.web.forms import form_status, show_service_error
from portal.web.guards import actor, public_url, staff_required

bp = Blueprint("referral_pipeline", __name__, url_prefix="/manage/referrals")


@bp.get("")
@login_required
@staff_required
def index():
    """The referrals this staff member works on, best open lead first."""
    db, who = get_session(), actor()
    form = PipelineFilterForm(request.args)
    valid = form.validate()
    filters = pipeline.Filters(
        status=form.status.data or "" if valid else "", referrer=form.referrer.data if valid else None,
        manager=form.manager.data if valid else None, age=form.age.data or "" if valid else "")
    page = pipeline.listing(db, who, filters, page=(form.page.data or 1) if valid else 1)
    args = {k: v for k, v in (("status", filters.status), ("referrer", filters.referrer),
                              ("manager", filters.manager), ("age", filters.age)) if v}
    return render_template("referrals/pipeline.html", page=page, form=form, args=args,
                           referrers=pipeline.referrers(db, who),
                           managers=pipeline.managers(db) if who.sees_all else [])


def _referral(referral_id: int) -> Referral:
    try:
        return pipeline.get(get_session(), actor(), referral_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def _forms(referral: Referral, formdata=None):
    status = StatusForm(formdata, prefix="s")
    status.status.choices = [SelectChoice(s, label(s)) for s in pipeline.TRANSITIONS[referral.status]]
    assign = AssignForm(formdata, prefix="a")
    assign.manager_id.choices = [SelectChoice(u.id, u.name or u.email) for u in pipeline.managers(get_session())]
    if formdata is None:
        assign.manager_id.data = referral.manager_id
    return status, NoteForm(formdata, prefix="n"), assign


def _page(referral: Referral, forms, status: int = 200):
    status_form, note_form, assign_form = forms
    reward = rewards.for_referrals(get_session(), [referral.id]).get(referral.id)
    return render_template("referrals/referral.html", referral=referral, status_form=status_form,
                           note_form=note_form, assign_form=assign_form, reward=reward), status


@bp.get("/<int:referral_id>")
@login_required
@staff_required
def detail(referral_id: int):
    referral = _referral(referral_id)
    return _page(referral, _forms(referral))


def _act(referral_id: int, which: int, call, done: str):
    referral = _referral(referral_id)
    forms = _forms(referral, request.form)
    form = forms[which]
    if form.validate():
        try:
            call(form)
        except ServiceError as err:
            show_service_error(form, err, default_field="note")
        else:
            flash(done, "success")
            return redirect(url_for("referral_pipeline.detail", referral_id=referral_id))
    return _page(referral, forms, form_status(form) if form.errors else 422)


@bp.post("/<int:referral_id>/status")
@login_required
@staff_required
def change_status(referral_id: int):
    return _act(referral_id, 0, lambda form: pipeline.change_status(
        get_session(), actor(), referral_id, form.status.data, note=form.note.data or ""),
        _("The referral's status is changed."))


@bp.post("/<int:referral_id>/notes")
@login_required
@staff_required
def add_note(referral_id: int):
    return _act(referral_id, 1, lambda form: pipeline.add_note(
        get_session(), actor(), referral_id, form.note.data or ""), _("The note is added."))


@bp.post("/<int:referral_id>/assign")
@login_required
@staff_required
def assign(referral_id: int):
    return _act(referral_id, 2, lambda form: pipeline.assign(
        get_session(), actor(), referral_id, form.manager_id.data), _("The referral is assigned."))


def suggested_code(name: str) -> str:
    """A partner code to start from: the company's name in capitals, letters and digits only."""
    return "-".join(company_key(name).upper().split())[:30] or "NEW"


@bp.route("/<int:referral_id>/convert", methods=["GET", "POST"])
@login_required
@staff_required
def convert(referral_id: int):
    """Make the referral's company a partner: a page of its own, since it cannot be undone."""
    referral = _referral(referral_id)
    if referral.status not in OPEN_STATUSES:
        flash(_("Only an open referral can become a partner."), "error")
        return redirect(url_for("referral_pipeline.detail", referral_id=referral_id))
    form = ConvertForm()
    if request.method == "GET":
        form.name.data, form.code.data = referral.company_name, suggested_code(referral.company_name)
        form.invite_email.data, form.invite_name.data = referral.email, referral.contact_name
    elif form.validate_on_submit():
        try:
            done = conversion.convert(
                get_session(), actor(), referral_id,
                conversion.NewPartner(form.name.data, form.code.data, form.invite_email.data or "",
                                      form.invite_name.data or ""),
                link_for=lambda token: public_url("auth.accept_invitation", token=token),
                queue_email=queue_email_from(current_app), locale=str(get_locale() or "en"))
        except ServiceError as err:
            show_service_error(form, err, default_field="code")
        else:
            flash(_("%(name)s is a partner now.", name=done.partner.name), "success")
            if done.invited:
                flash(_("An invitation is on its way to %(email)s.", email=done.invited), "success")
            elif done.invitation_error:
                flash(_("Nobody was invited: %(reason)s", reason=done.invitation_error), "error")
            return redirect(url_for("workspace.partner", partner_id=done.partner.id))
    return render_template("referrals/convert.html", referral=referral, form=form), form_status(form)


def _report_rows():
    return attribution.by_referrer(get_session(), actor())


@bp.get("/report")
@login_required
@staff_required
def report():
    """Attribution: per referrer, referrals made and converted and the revenue they brought in."""
    return render_template("referrals/report.html", rows=_report_rows(),
                           quarters=attribution.over_time(get_session(), actor()))


@bp.get("/report.csv")
@login_required
@staff_required
def report_csv():
    """The leaderboard as CSV (cells a spreadsheet would run as formulas are quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["partner_code", "partner_name", "referrals", "duplicates", "converted",
                     "conversion_rate", "revenue_last_365_days", "rewards_granted"])
    for row in _report_rows():
        writer.writerow([neutralise(row.code), neutralise(row.name), row.made, row.duplicates, row.converted,
                         "" if row.rate is None else f"{row.rate:.4f}", f"{row.revenue:.2f}",
                         f"{row.rewarded:.2f}"])
    return Response(buffer.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="referrers.csv"'})
