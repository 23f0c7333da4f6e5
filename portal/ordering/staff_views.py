"""The account manager's (and admin's) view of partners."""
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
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.accounts.models import Partner, User
from portal.core import text as search
from portal.core.errors import NotFound, ServiceError
from portal.db import get_session
from portal.ordering import exports, orders
from portal.ordering.forms import ConfirmForm, OrderFilterForm
from portal.ordering.models import Order
from portal.ordering.views import csv_response, filters_from, page_args, partner_filter
from portal.web.forms import ActionForm
from portal.web.guards import acting_user, get_visible_partner_or_404, scope_partners, staff_required

bp = Blueprint("manage", __name__, url_prefix="/manage")
PAGE_SIZE = 50


@bp.get("/partners")
@login_required
@staff_required
def partners():
    """The partners this staff member looks after (all of them for an admin)."""
    db = get_session()
    query = search.clean(request.args.get("q"))
    stmt = scope_partners(select(Partner), current_user)
    matches = search.contains(query, Partner.name, Partner.code)
    if matches is not None:
        stmt = stmt.where(matches)
    total = db.scalar(select(func.count()).select_from(stmt.subquery()))
    page = min(max(request.args.get("page", 1, type=int), 1), max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))
    rows = db.scalars(
        stmt.order_by(Partner.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template("manage/partners.html", partners=rows, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), q=query)


@bp.get("/partners/<int:partner_id>")
@login_required
@staff_required
def partner(partner_id: int):
    """One partner: its people and order totals."""
    db = get_session()
    partner = get_visible_partner_or_404(db, current_user, partner_id)
    users = db.scalars(select(User).where(User.partner_id == partner.id).order_by(User.email)).all()
    count, total = db.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.partner_id == partner.id, Order.status != "cancelled")
    ).one()
    return render_template("manage/partner.html", partner=partner, users=users,
                           order_count=count, order_total=total)


@bp.get("/orders")
@login_required
@staff_required
def orders_list():
    """Orders of the partners this staff member looks after, with filters."""
    form = OrderFilterForm(request.args)
    filters = filters_from(form, partner_id=partner_filter())
    page = orders.list_orders(get_session(), acting_user(), filters,
                              page=request.args.get("page", 1, type=int))
    return render_template("orders/history.html", page=page, form=form, args=page_args(filters),
                           staff=True,
                           detail_endpoint="manage.order", export_endpoint="manage.orders_export")


@bp.get("/orders/export.csv")
@login_required
@staff_required
def orders_export():
    """The filtered orders as CSV."""
    filters = filters_from(OrderFilterForm(request.args), partner_id=partner_filter())
    stmt = orders.filtered(orders.scoped_orders(acting_user()), filters)
    return csv_response(exports.orders_csv(get_session(), stmt), "orders.csv")


@bp.get("/orders/<int:order_id>")
@login_required
@staff_required
def order(order_id: int):
    """One order, with the next steps of its lifecycle."""
    try:
        found = orders.get_for_staff(get_session(), acting_user(), order_id)
    except NotFound:
        abort(404)
    return render_template("manage/order.html", order=found, action_form=ActionForm(),
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
            orders.advance(get_session(), acting_user(), order_id, action,
                           promised_date=form.promised_date.data)
        except NotFound:
            abort(404)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("Order #%(id)d is %(status)s.", id=order_id,
                    status=orders._status_label(orders.TRANSITIONS[action][1])), "success")
    else:
        flash(_("Enter a valid date."), "error")
    return redirect(url_for("manage.order", order_id=order_id))
