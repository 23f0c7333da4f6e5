"""Staff pages of forecasts: the partner page's forecast section (an include), adjusting and
clearing, and the forecasts overview (latest run, how the managers' forecasts did).

Nothing here fits a model: every figure is read from the stored runs (``forecast_store``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.core.errors import NotFound, ServiceError
from portal.core.types import utc_now
from portal.db import get_session
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.formatting import month as month_label
from portal.web.forms import show_service_error
from portal.web.guards import actor, staff_required
from portal.workspace import chart, forecast_portfolio, forecast_store, forecast_words, monthly_sales
from portal.workspace.forecast_forms import AdjustmentForm

bp = Blueprint("forecasts", __name__, url_prefix="/manage")
HISTORY_MONTHS = 36


@dataclass(frozen=True)
class Section:
    view: forecast_store.PartnerForecastView
    history: list
    chart: chart.ForecastChart
    outcomes: list
    form: AdjustmentForm
    clear: dict


def _zone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def adjustment_form(view: forecast_store.PartnerForecastView, formdata=None) -> AdjustmentForm:
    form = AdjustmentForm(formdata=formdata)
    form.target.choices = [SelectChoice("total", _("Next-year total"))] + [
        SelectChoice(m.month.isoformat(), month_label(m.month)) for m in view.months]
    return form


def clear_confirmation(partner_id: int, adjustment) -> Confirmation:
    return Confirmation(
        url=url_for("forecasts.clear_adjustment", partner_id=partner_id, adjustment_id=adjustment.id),
        label=_("Clear"), title=_("Clear this adjustment?"),
        question=_("The statistical forecast stands again for this figure; the adjustment stays in "
                   "the history and the audit trail."),
        confirm_label=_("Yes, clear it"),
        back_url=url_for("workspace.partner", partner_id=partner_id) + "#forecast",
        back_label=_("Keep it"))


def section(partner_id: int, form: AdjustmentForm | None = None) -> Section:
    """Everything the partner page's forecast section shows, from stored rows only."""
    db = get_session()
    view = forecast_store.partner_forecast(db, actor(), partner_id)
    this_month = monthly_sales.local_month(utc_now(), _zone())
    end = view.run.first_month if view.run else this_month
    first = end - relativedelta(months=HISTORY_MONTHS)
    sales = monthly_sales.monthly_sales(db, first=first, last=end - relativedelta(months=1),
                                        time_zone=_zone(), partner_ids=[partner_id]).get(partner_id, {})
    history = monthly_sales.series(sales, min(sales) if sales else end, end - relativedelta(months=1)) \
        if sales else []
    bands = [chart.Band(m.month, m.mean, m.lower_80, m.upper_80, m.lower_95, m.upper_95) for m in view.months]
    outcomes = forecast_portfolio.outcomes(db, [partner_id], time_zone=_zone(), today_month=this_month)
    return Section(view, history, chart.build(history, bands, view.adjusted), outcomes,
                   form or adjustment_form(view),
                   {a.id: clear_confirmation(partner_id, a) for a in view.adjustments})


@bp.app_template_global("forecast_section")
def forecast_section(partner_id: int) -> Section:
    return section(partner_id)


@bp.app_context_processor
def forecast_words_in_templates():
    return {"forecast_words": forecast_words}


def _section_or_404(partner_id: int, form=None) -> Section:
    try:
        return section(partner_id, form)
    except NotFound as err:
        not_found(foreign=err.foreign)


@bp.post("/partners/<int:partner_id>/forecast/adjustments")
@login_required
@staff_required
def adjust(partner_id: int):
    """Override the next-year total or one month, with a note (audited)."""
    s = _section_or_404(partner_id)
    form = adjustment_form(s.view, request.form)
    if form.validate_on_submit():
        month = None if form.target.data == "total" else date.fromisoformat(form.target.data)
        try:
            forecast_store.add_adjustment(get_session(), actor(), partner_id, amount=form.amount.data,
                                          note=form.note.data, month=month)
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            show_service_error(form, ServiceError(str(err), field="target") if err.field == "month" else err)
        else:
            flash(_("Adjustment saved; the statistical forecast stays beside it."), "success")
            return redirect(url_for("workspace.partner", partner_id=partner_id) + "#forecast")
    return render_template("workspace/forecast_adjust.html", s=_section_or_404(partner_id, form),
                           partner=s.view.partner), 422


@bp.route("/partners/<int:partner_id>/forecast/adjustments/<int:adjustment_id>/clear",
          methods=["GET", "POST"])
@login_required
@staff_required
def clear_adjustment(partner_id: int, adjustment_id: int):
    """Clear an adjustment once confirmed (GET: the confirmation page)."""
    s = _section_or_404(partner_id)
    adjustment = next((a for a in s.view.adjustments if a.id == adjustment_id), None)
    if adjustment is None:
        not_found()
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return confirm_page(clear_confirmation(partner_id, adjustment), form)
    try:
        forecast_store.clear_adjustment(get_session(), actor(), partner_id, adjustment_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(_("Adjustment cleared."), "success")
    return redirect(url_for("workspace.partner", partner_id=partner_id) + "#forecast")


@bp.get("/forecasts")
@login_required
@staff_required
def overview():
    """The latest run, the portfolio's forecast and how the statistical and adjusted forecasts did."""
    db = get_session()
    me = actor()
    portfolio = forecast_portfolio.portfolio_forecast(db, me)
    accuracy = forecast_portfolio.manager_accuracy(
        db, me, time_zone=_zone(), today_month=monthly_sales.local_month(utc_now(), _zone()))
    return render_template("workspace/forecasts.html", p=portfolio, accuracy=accuracy)
