"""Staff pages of orders: every visible partner's orders, one order, and its status changes."""
from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from portal.core.access import PartnerRef
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.ordering import exports, orders, queries, staff
from portal.ordering.forms import ConfirmForm, StaffOrderFilterForm
from portal.ordering.views import csv_response, filters_from, page_args, partner_filter
from portal.web.confirm import Confirmation, confirm_page
from portal.web.confirm import ConfirmForm as ReasonForm
from portal.web.errors import not_found
from portal.web.forms import ActionForm, page_from
from portal.web.guards import actor, staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")


def chosen_partner(partner_id: int | None) -> PartnerRef | None:
    """The partner of the address bar's ``partner``, if it is one the user looks after; any
    other id in range is the 404 of a missing partner (audited when it is another's)."""
    if partner_id is None:
        return None
    try:
        return staff.chosen_partner(get_session(), actor(), partner_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def _staff_filters() -> tuple[StaffOrderFilterForm, queries.OrderFilters, PartnerRef | None]:
    """The list's filters: the partner is checked first, and kept whatever else is wrong."""
    partner = chosen_partner(partner_filter())
    form = StaffOrderFilterForm(request.args)
    form.partner.choices = [SelectChoice("", _("All partners"))] + [
        SelectChoice(p.id, f"{p.name} ({p.code})") for p in staff.visible_partners(get_session(), actor())
    ]
    filters = filters_from(form, partner_id=partner.id if partner else None)
    if not form.errors:
        filters = replace(filters, q=(form.q.data or "").strip())
    return form, filters, partner


def list_args(filters: queries.OrderFilters, sort: queries.OrderSort | None = None) -> dict:
    """The query arguments that keep this list as it is: validated filters and sort only."""
    args = page_args(filters)
    if filters.q:
        args["q"] = filters.q
    if sort is not None and sort != queries.OrderSort():
        args.update(sort=sort.key, dir=sort.direction)
    return args


@bp.get("/orders")
@login_required
@staff_required
def orders_list():
    """Orders of the partners this staff member looks after, with filters, search and sorting."""
    form, filters, partner = _staff_filters()
    sort = queries.OrderSort.parse(request.args.get("sort"), request.args.get("dir"))
    page = queries.list_orders(get_session(), actor(), filters, page=page_from(request.args),
                               sort=sort)
    return render_template("ordering/staff_orders.html", page=page, form=form, partner=partner,
                           filters=filters, sort=sort, args=list_args(filters, sort),
                           filter_args=list_args(filters))


@bp.get("/orders/export.csv")
@login_required
@staff_required
def orders_export():
    """The filtered orders as CSV."""
    _form, filters, _partner = _staff_filters()
    stmt = queries.filtered(queries.scoped_orders(actor()), filters)
    return csv_response(exports.orders_csv(get_session(), stmt), "orders.csv")


def _order(order_id: int):
    try:
        return queries.get_for_staff(get_session(), actor(), order_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def cancel_confirmation(order) -> Confirmation:
    """How staff are asked before cancelling an order, with room for a reason."""
    return Confirmation(
        url=url_for("manage.cancel", order_id=order.id), label=_("Cancel order"),
        title=_("Cancel order #%(id)d of %(partner)s?", id=order.id, partner=order.partner.name),
        question=_("The order will not be confirmed, shipped or delivered, and the partner sees it "
                   "as cancelled. This cannot be undone."),
        confirm_label=_("Yes, cancel the order"),
        back_url=url_for("manage.order", order_id=order.id), back_label=_("Keep the order"),
        reason=True,
    )


@bp.get("/orders/<int:order_id>")
@login_required
@staff_required
def order(order_id: int):
    """One order, with the next steps of its lifecycle."""
    found = _order(order_id)
    may_cancel = found.status in orders.TRANSITIONS["cancel"][0]
    return render_template("ordering/staff_order.html", order=found, action_form=ActionForm(),
                           confirm_form=ConfirmForm(), transitions=orders.TRANSITIONS,
                           cancel=cancel_confirmation(found) if may_cancel else None,
                           history=staff.order_history(get_session(), found))


@bp.route("/orders/<int:order_id>/cancel", methods=["GET", "POST"])
@login_required
@staff_required
def cancel(order_id: int):
    """Cancel an order, once staff have confirmed it; the optional reason goes into the audit trail."""
    found = _order(order_id)
    form = ReasonForm()
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "GET" and found.status not in orders.TRANSITIONS["cancel"][0]:
            flash(_("An order that is %(status)s cannot be cancelled.",
                    status=orders._status_label(found.status)), "error")
            return redirect(url_for("manage.order", order_id=order_id))
        return confirm_page(cancel_confirmation(found), form)
    try:
        orders.advance(get_session(), actor(), order_id, "cancel", reason=form.reason_text)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(_("Order #%(id)d is cancelled.", id=order_id), "success")
    return redirect(url_for("manage.order", order_id=order_id))


@bp.post("/orders/<int:order_id>/<action>")
@login_required
@staff_required
def advance(order_id: int, action: str):
    """Confirm, ship or deliver an order (audited); cancelling asks first (``cancel``)."""
    if action not in orders.TRANSITIONS or action == "cancel":
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            orders.advance(get_session(), actor(), order_id, action,
                           promised_date=form.promised_date.data)
        except NotFound as err:
            not_found(foreign=err.foreign)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("Order #%(id)d is %(status)s.", id=order_id,
                    status=orders._status_label(orders.TRANSITIONS[action][1])), "success")
    else:
        flash(_("Enter a valid date."), "error")
    return redirect(url_for("manage.order", order_id=order_id))
