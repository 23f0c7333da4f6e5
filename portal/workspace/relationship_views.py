"""The relationship pages: the portfolio (the manager's home) and its CSV, the ladder stage and
the interactions log on a partner's page, and the partner users' NPS question."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.core.errors import Conflict, NotFound, ServiceError
from portal.core.labels import label
from portal.db import get_session
from portal.web.errors import not_found
from portal.web.forms import show_service_error
from portal.web.guards import actor, partner_required, staff_required
from portal.workspace import feedback, forecast_words, interactions, ladder, partner_settings, portfolio_table
from portal.workspace.partner_views import _overview, _page, settings_form
from portal.workspace.relationship_forms import (
    KIND_LABELS,
    RISK_LABELS,
    FeedbackForm,
    InteractionForm,
    PortfolioFilterForm,
    StageForm,
)
from portal.workspace.relationship_page import zone

bp = Blueprint("relationship", __name__)


@bp.app_context_processor
def _labels() -> dict:
    return {"risk_labels": RISK_LABELS, "kind_labels": KIND_LABELS, "ladder_reasons": ladder.REASONS}


def _filters() -> tuple[portfolio_table.Filters, int, list[str], PortfolioFilterForm]:
    """The validated filters (an invalid one is dropped and named in ``ignored``) and the page."""
    form = PortfolioFilterForm(request.args)
    form.validate()
    ignored = [str(form[name].label.text) if form[name].label.text else name for name in form.errors]
    good = {name: form[name].data for name in ("q", "stage", "risk", "trust", "overdue", "manager", "sort", "dir",
                                               "page") if name not in form.errors}
    filters = portfolio_table.Filters(
        q=(good.get("q") or "").strip(), stage=good.get("stage") or None, risk=good.get("risk") or None,
        overdue=bool(good.get("overdue")), trust=good.get("trust") or None,
        manager_id=good.get("manager") if actor().sees_all else None,
        sort=good.get("sort") or "risk", direction=good.get("dir") or "desc")
    return filters, good.get("page") or 1, ignored, form


def _args(filters: portfolio_table.Filters) -> dict:
    """The query arguments of links: only validated filters, never raw input."""
    args = {"q": filters.q, "stage": filters.stage, "risk": filters.risk, "trust": filters.trust,
            "overdue": "y" if filters.overdue else None,
            "manager": filters.manager_id, "sort": filters.sort, "dir": filters.direction}
    return {key: value for key, value in args.items() if value}


@bp.get("/manage/portfolio")
@login_required
@staff_required
def portfolio():
    """The partners this staff member looks after with their health (admin: all, by manager)."""
    filters, page, ignored, form = _filters()
    found = portfolio_table.portfolio(get_session(), actor(), filters, page=page, zone=zone())
    managers = partner_settings.manager_choices(get_session()) if actor().sees_all else []
    return render_template("workspace/portfolio.html", p=found, fc=found.forecast, filters=filters,
                           args=_args(filters), ignored=ignored, form=form, managers=managers,
                           columns=portfolio_table.COLUMNS, trust_words=forecast_words.trust_words)


@bp.get("/manage/portfolio/export.csv")
@login_required
@staff_required
def portfolio_csv():
    """The filtered portfolio table as CSV (every matching row, not only the page)."""
    filters, _page_number, _ignored, _form = _filters()
    found, _alerts, _total = portfolio_table.rows(get_session(), actor(), filters, zone=zone())
    name = f"portfolio-{datetime.now(zone()):%Y-%m-%d}.csv"
    return Response("".join(portfolio_table.to_csv(found)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/manage/partners/<int:partner_id>/stage")
@login_required
@staff_required
def set_stage(partner_id: int):
    """Confirm the suggested ladder stage or set another, with a note (audited, kept in history)."""
    overview = _overview(partner_id)
    form = StageForm()
    rel_suggested = request.form.get("suggested", "")
    if form.validate_on_submit():
        try:
            ladder.set_stage(get_session(), actor(), partner_id, form.stage.data, suggested=rel_suggested,
                             note=form.note.data or "")
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Stage set: %(stage)s.", stage=label(form.stage.data)), "success")
            return redirect(url_for("workspace.partner", partner_id=partner_id, _anchor="relationship"))
    return _page(overview, settings_form(overview), 422, stage_form=form)


@bp.post("/manage/partners/<int:partner_id>/interactions")
@login_required
@staff_required
def add_interaction(partner_id: int):
    """Log a call, visit, email or note with the partner (audited)."""
    overview = _overview(partner_id)
    form = InteractionForm()
    if form.validate_on_submit():
        try:
            interactions.add(get_session(), actor(), partner_id, kind=form.kind.data,
                             happened_on=form.happened_on.data, summary=form.summary.data,
                             today=datetime.now(zone()).date())
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Added to the interactions log."), "success")
            return redirect(url_for("workspace.partner", partner_id=partner_id, _anchor="interactions"))
    return _page(overview, settings_form(overview), 422, interaction_form=form)


@bp.route("/feedback", methods=["GET", "POST"])
@login_required
@partner_required
def give_feedback():
    """The NPS question for a partner user: at most once a quarter, after a delivered order."""
    db = get_session()
    me = actor()
    today = datetime.now(zone()).date()
    form = FeedbackForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            feedback.give(db, me, score=form.score.data, comment=form.comment.data or "", today=today)
        except Conflict as err:
            flash(str(err), "info")
            return redirect(url_for("main.dashboard"))
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for("main.dashboard"))
    elif request.method == "GET" and not feedback.may_answer(db, me, today):
        return render_template("workspace/feedback.html", form=None,
                               next_quarter=feedback.next_quarter_starts(today))
    return render_template("workspace/feedback.html", form=form), 422 if form.errors else 200
