"""Staff pages of orders: every visible partner's orders, one order, and its status changes."""
from __future__ import annotations

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

from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.ordering import exports, orders, queries
from portal.ordering.forms import ConfirmForm, OrderFilterForm
from portal.ordering.views import csv_response, filters_from, page_args, partner_filter
from portal.web.errors import not_found
from portal.web.forms import ActionForm, page_from
from portal.web.guards import actor, staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.get("/orders")
@login_required
@staff_required
def orders_list():
    """Orders of the partners this staff member looks after, with filters."""
    form = OrderFilterForm(request.args)
    filters = filters_from(form, partner_id=partner_filter())
    page = queries.list_orders(get_session(), actor(), filters,
                              page=page_from(request.args))
    return render_template("ordering/history.html", page=page, form=form, args=page_args(filters),
                           staff=True,
                           detail_endpoint="manage.order", export_endpoint="manage.orders_export")


@bp.get("/orders/export.csv")
@login_required
@staff_required
def orders_export():
    """The filtered orders as CSV."""
    filters = filters_from(OrderFilterForm(request.args), partner_id=partner_filter())
    stmt = queries.filtered(queries.scoped_orders(actor()), filters)
    return csv_response(exports.orders_csv(get_session(), stmt), "orders.csv")


@bp.get("/orders/<int:order_id>")
@login_required
@staff_required
def order(order_id: int):
    """One order, with the next steps of its lifecycle."""
    try:
        found = queries.get_for_staff(get_session(), actor(), order_id)
    except NotFound as err:
        not_found(foreign=err.foreign)
    return render_template("ordering/staff_order.html", order=found, action_form=ActionForm(),
                           confirm_form=ConfirmForm(), transitions=orders.TRANSITIONS)


@bp.post("/orders/<int:order_id>/<action>")
@login_required
@staff_required
def advance(order_id: int, action: str):
    """Confirm, ship, deliver or cancel an order (audited)."""
    if action not in orders.TRANSITIONS:
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
