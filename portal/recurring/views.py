"""The partner's standing orders: list, set up (from scratch, the cart or a past order), detail
with the next dates and the run ledger, change, pause, resume, skip a date, cancel."""
from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from wtforms import SelectChoice

from portal.accounts import addresses
from portal.catalog import browse as catalog
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.ordering import cart, queries
from portal.recurring import drafts, engine, ledger, standing
from portal.recurring import settings as recurring_settings
from portal.recurring.forms import NewScheduleForm, PauseForm, ScheduleForm
from portal.recurring.models import RecurringOrder, RecurringRun
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.formatting import local_date
from portal.web.forms import ActionForm, form_status, page_from, show_service_error
from portal.web.guards import actor, partner_required

bp = Blueprint("recurring", __name__, url_prefix="/standing-orders")


def _today() -> date:
    return engine.today_in(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _schedule(schedule_id: int):
    try:
        return standing.get(get_session(), actor(), schedule_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


@bp.get("")
@login_required
@partner_required
def index():
    """The company's standing orders with their next dates."""
    rows = ledger.overview(get_session(), actor(), _today())
    to_review = drafts.open_drafts(get_session(), actor(), [row.schedule.id for row in rows], _today())
    return render_template("recurring/index.html", rows=rows, to_review=to_review)


def _lines_text(lines) -> str:
    return "\n".join(f"{sku} {quantity}" for sku, quantity in lines)


def _prefill(form: ScheduleForm) -> None:
    """From a past order (?from_order=ID) or the cart (?from=cart); never from a made order's schedule."""
    db, me = get_session(), actor()
    if request.args.get("from") == "cart":
        view = cart.view(db, me)
        form.lines.data = _lines_text((item.product.sku, item.quantity) for item in view.items)
    elif (order_id := request.args.get("from_order", type=int)) is not None:
        try:
            order = queries.get_order(db, me.partner_id, order_id)
        except NotFound as err:
            not_found(foreign=err.foreign)
        form.lines.data = _lines_text((line.sku, line.quantity) for line in order.lines)


def _data(form: ScheduleForm) -> standing.ScheduleData | None:
    """The form's schedule, with its `SKU quantity` lines turned into products (errors on the form)."""
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
    return standing.ScheduleData(
        name=form.name.data or "", cadence=form.cadence.data, start_date=form.start_date.data,
        end_date=form.end_date.data, mode=form.mode.data, note=form.note.data or "", lines=lines,
        po_pattern=form.po_pattern.data or "",
        address_id=int(form.address_id.data) if str(form.address_id.data or "").isdigit() else None)


def _address_choices(form: ScheduleForm) -> None:
    """The company's delivery addresses ("" first: whichever is the default when an order is placed)."""
    found = addresses.list_for(get_session(), actor(), actor().partner_id)
    form.address_id.choices = [SelectChoice("", _("The default delivery address"))] + [
        SelectChoice(str(a.id), f"{a.label} — {a.street}, {a.postal_code} {a.city}") for a in found]


@bp.route("/new", methods=["GET", "POST"])
@login_required
@partner_required
def new():
    """Set up a standing order."""
    form = NewScheduleForm()
    _address_choices(form)
    if request.method == "GET":
        _prefill(form)
        form.start_date.data = form.start_date.data or _today()
        form.idempotency_key.data = uuid.uuid4().hex
    elif form.validate_on_submit() and (data := _data(form)) is not None:
        try:
            schedule, _created = standing.create(get_session(), actor(), data, today=_today(),
                                                 key=form.idempotency_key.data)
        except ServiceError as err:
            show_service_error(form, err, default_field="lines")
        else:
            flash(_("The standing order is set up. Its first order is placed on %(date)s.",
                    date=local_date(schedule.start_date)), "success")
            return redirect(url_for("recurring.detail", schedule_id=schedule.id))
    return render_template("recurring/form.html", form=form, schedule=None), form_status(form)


@bp.get("/<int:schedule_id>")
@login_required
@partner_required
def detail(schedule_id: int):
    """One standing order: lines, next dates, the orders it made and its run ledger."""
    schedule = _schedule(schedule_id)
    db, today = get_session(), _today()
    dates = standing.next_dates(db, schedule, today)
    runs = ledger.runs(db, actor(), schedule.id, page=page_from(request.args))
    open_drafts = drafts.open_drafts(db, actor(), [schedule.id], today)[schedule.id]
    review = [(draft, drafts.lines_of(db, draft)) for draft in open_drafts]
    return render_template(
        "recurring/detail.html", schedule=schedule, dates=dates, runs=runs, action_form=ActionForm(),
        review=review, settings=recurring_settings.for_partner(db, schedule.partner_id),
        pause_form=PauseForm(), cancel=cancel_confirmation(schedule) if schedule.status != "cancelled" else None,
        skips={day: skip_confirmation(schedule, day) for day in dates} if schedule.status != "cancelled" else {})


@bp.route("/<int:schedule_id>/edit", methods=["GET", "POST"])
@login_required
@partner_required
def edit(schedule_id: int):
    """Change lines, cadence, dates or mode from the next occurrence on."""
    schedule = _schedule(schedule_id)
    form = ScheduleForm(obj=schedule)
    _address_choices(form)
    if request.method == "GET":
        form.address_id.data = str(schedule.address_id or "")
        form.lines.data = _lines_text((line.product.sku, line.quantity) for line in schedule.lines)
    elif form.validate_on_submit() and (data := _data(form)) is not None:
        try:
            standing.update_schedule(get_session(), actor(), schedule_id, data, today=_today())
        except ServiceError as err:
            show_service_error(form, err, default_field="lines")
        else:
            flash(_("The standing order is changed from its next date on."), "success")
            return redirect(url_for("recurring.detail", schedule_id=schedule_id))
    return render_template("recurring/form.html", form=form, schedule=schedule), form_status(form)


def _act(schedule_id: int, done: str, action) -> object:
    try:
        action()
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(done, "success")
    return redirect(url_for("recurring.detail", schedule_id=schedule_id))


@bp.post("/<int:schedule_id>/pause")
@login_required
@partner_required
def pause(schedule_id: int):
    _schedule(schedule_id)
    form = PauseForm()
    if not form.validate_on_submit():
        flash(_("Enter the resume date as a date, or leave it empty."), "error")
        return redirect(url_for("recurring.detail", schedule_id=schedule_id))
    return _act(schedule_id, _("The standing order is paused."), lambda: standing.pause(
        get_session(), actor(), schedule_id, until=form.until.data, today=_today()))


@bp.post("/<int:schedule_id>/resume")
@login_required
@partner_required
def resume(schedule_id: int):
    _schedule(schedule_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("recurring.detail", schedule_id=schedule_id))
    return _act(schedule_id, _("The standing order is running again."),
                lambda: standing.resume(get_session(), actor(), schedule_id, today=_today()))


def skip_confirmation(schedule, day: date) -> Confirmation:
    return Confirmation(
        url=url_for("recurring.skip", schedule_id=schedule.id, date=day.isoformat()),
        label=_("Skip"), title=_("Skip the order of %(date)s?", date=local_date(day)),
        question=_("No order is placed on %(date)s; the dates after it stay as they are. A skipped "
                   "date cannot be brought back.", date=local_date(day)),
        confirm_label=_("Yes, skip this date"), danger=False,
        back_url=url_for("recurring.detail", schedule_id=schedule.id), back_label=_("Keep it"))


@bp.route("/<int:schedule_id>/skip", methods=["GET", "POST"])
@login_required
@partner_required
def skip(schedule_id: int):
    schedule = _schedule(schedule_id)
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        flash(_("Choose one of the dates to skip."), "error")
        return redirect(url_for("recurring.detail", schedule_id=schedule_id))
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return confirm_page(skip_confirmation(schedule, day), form)
    return _act(schedule_id, _("%(date)s is skipped.", date=local_date(day)),
                lambda: standing.skip(get_session(), actor(), schedule_id, day, today=_today()))


def cancel_confirmation(schedule) -> Confirmation:
    return Confirmation(
        url=url_for("recurring.cancel", schedule_id=schedule.id), label=_("Cancel standing order"),
        title=_("Cancel this standing order?"),
        question=_("No more orders will be placed from it. The orders it placed and its history "
                   "stay. A cancelled standing order cannot be restarted: set up a new one instead."),
        confirm_label=_("Yes, cancel it"),
        back_url=url_for("recurring.detail", schedule_id=schedule.id), back_label=_("Keep it"))


@bp.route("/<int:schedule_id>/cancel", methods=["GET", "POST"])
@login_required
@partner_required
def cancel(schedule_id: int):
    schedule = _schedule(schedule_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        if schedule.status == "cancelled":
            return redirect(url_for("recurring.detail", schedule_id=schedule_id))
        return confirm_page(cancel_confirmation(schedule), form)
    return _act(schedule_id, _("The standing order is cancelled."),
                lambda: standing.cancel(get_session(), actor(), schedule_id))


@bp.app_template_global()
def standing_origin(order) -> tuple[int, str, date] | None:
    """For an order a standing order made: (schedule id, its name, the date); else None."""
    if getattr(order, "source", None) != "recurring":
        return None
    found = get_session().execute(
        select(RecurringOrder.id, RecurringOrder.name, RecurringRun.occurrence_date)
        .join(RecurringRun, RecurringRun.recurring_order_id == RecurringOrder.id)
        .where(RecurringRun.order_id == order.id, RecurringOrder.partner_id == order.partner_id)).first()
    return (found.id, found.name or _("Standing order #%(id)d", id=found.id), found.occurrence_date) if found else None


from portal.recurring import review_views  # noqa: E402,F401  (its routes are on this blueprint)
