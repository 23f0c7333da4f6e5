"""Review mode and settings pages: change or confirm a draft of one date; the company's
standing-order settings (review lead days, reminder days; partner admins)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.catalog import browse as catalog
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.ordering import cart
from portal.recurring import drafts, settings
from portal.recurring.forms import DraftForm, SettingsForm
from portal.recurring.views import _lines_text, _today, bp, skip_confirmation
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.formatting import local_date
from portal.web.forms import form_status, show_service_error
from portal.web.guards import actor, partner_required, roles_required


def _draft(schedule_id: int, draft_id: int):
    try:
        return drafts.get(get_session(), actor(), schedule_id, draft_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def _back(schedule_id: int):
    return redirect(url_for("recurring.detail", schedule_id=schedule_id))


def _lines(form: DraftForm) -> list[tuple[int, int]] | None:
    parsed, bad = cart.parse_lines(form.lines.data or "")
    products = catalog.priced_by_sku(get_session(), actor().partner, [sku for _n, sku, _q in parsed])
    lines, problems = [], [f"{b.line_no}: {b.text} — {b.reason}" for b in bad]
    for line_no, sku, quantity in parsed:
        product = products.get(sku)
        if product is None or not product.active:
            problems.append(_("%(n)d: %(sku)s — not in the catalog.", n=line_no, sku=sku))
        else:
            lines.append((product.id, quantity))
    if problems:
        form.lines.errors = [*form.lines.errors, *problems]
        return None
    return lines


@bp.route("/<int:schedule_id>/drafts/<int:draft_id>", methods=["GET", "POST"])
@login_required
@partner_required
def draft(schedule_id: int, draft_id: int):
    """Change the order of one date of a review-mode standing order (that date only)."""
    schedule, row = _draft(schedule_id, draft_id)
    form = DraftForm()
    if request.method == "GET":
        _as_it_stands(form, row)
    elif form.validate_on_submit() and (lines := _lines(form)) is not None:
        try:
            drafts.change(get_session(), actor(), schedule_id, draft_id, lines, today=_today(),
                          version=int(form.version.data))
        except ServiceError as err:
            if err.code == "draft_changed":  # someone else saved first: show theirs, ask again
                schedule, row = _draft(schedule_id, draft_id)
                _as_it_stands(form, row)
                form.lines.errors = [str(err)]
            else:
                show_service_error(form, err, default_field="lines")
        else:
            flash(_("The order of %(date)s is changed. It is placed on that day unless you confirm it "
                    "sooner.", date=local_date(row.occurrence_date)), "success")
            return _back(schedule_id)
    return render_template("recurring/draft.html", form=form, schedule=schedule, draft=row,
                           confirm=confirm_confirmation(schedule, row),
                           skip=skip_confirmation(schedule, row.occurrence_date)), form_status(form)


def _as_it_stands(form: DraftForm, row) -> None:
    form.lines.data = _lines_text((p.sku, q) for p, q in drafts.lines_of(get_session(), row))
    form.version.data = str(row.version)
    form.lines.raw_data = None  # show these lines, not the ones posted


def confirm_confirmation(schedule, row, version: int | None = None) -> Confirmation:
    # The version the partner saw (the draft's or the standing order's page): confirming places
    # it only if nobody changed it since (else a message, and the page shows the change).
    return Confirmation(
        url=url_for("recurring.confirm_draft", schedule_id=schedule.id, draft_id=row.id,
                    version=version or row.version),
        label=_("Confirm and place now"),
        title=_("Place the order of %(date)s now?", date=local_date(row.occurrence_date)),
        question=_("The order is placed now, with the products of this draft, instead of on "
                   "%(date)s. The next dates stay as they are.", date=local_date(row.occurrence_date)),
        confirm_label=_("Yes, place it now"), danger=False,
        back_url=url_for("recurring.detail", schedule_id=schedule.id), back_label=_("Not yet"))


@bp.route("/<int:schedule_id>/drafts/<int:draft_id>/confirm", methods=["GET", "POST"])
@login_required
@partner_required
def confirm_draft(schedule_id: int, draft_id: int):
    schedule, row = _draft(schedule_id, draft_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return confirm_page(confirm_confirmation(schedule, row, request.args.get("version", type=int)), form)
    try:
        run = drafts.confirm(get_session(), actor(), schedule_id, draft_id, today=_today(),
                             version=request.args.get("version", type=int))
    except ServiceError as err:
        flash(str(err), "error")
        return _back(schedule_id)
    flash(_("Order #%(id)d is placed.", id=run.order_id), "success")
    return redirect(url_for("orders.detail", order_id=run.order_id))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@roles_required("partner_admin")
def settings_page():
    """The company's standing-order settings: review lead days and reminder days."""
    current = settings.for_partner(get_session(), actor().partner_id)
    form = SettingsForm(data={"review_lead_days": current.review_lead_days,
                              "reminder_days": current.reminder_days} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            settings.update(get_session(), actor(), review_lead_days=form.review_lead_days.data,
                            reminder_days=form.reminder_days.data)
        except ServiceError as err:
            show_service_error(form, err, default_field="review_lead_days")
        else:
            flash(_("The standing-order settings are saved."), "success")
            return redirect(url_for("recurring.settings_page"))
    return render_template("recurring/settings.html", form=form), form_status(form)
