"""The partner's cart, checkout and order history."""
from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from wtforms import SelectChoice

from portal.accounts import addresses
from portal.core.errors import NotFound, ServiceError
from portal.core.types import MAX_ROW_ID
from portal.db import get_session
from portal.ordering import cart, exports, orders, packs, queries, reorders
from portal.ordering.forms import CheckoutForm, OrderFilterForm, QuantityForm, QuickOrderForm
from portal.ordering.models import ORDER_STATUSES
from portal.web.confirm import Confirmation, ConfirmForm, confirm_page
from portal.web.errors import not_found
from portal.web.forms import ActionForm, UploadError, form_status, page_from, read_upload, show_service_error
from portal.web.guards import actor, partner_required

bp = Blueprint("orders", __name__)


# Quick order's failed lines travel to the cart page in the (cookie) session: a few lines and
# reasons, never the whole paste (a cookie holds about 4 KB, shared with the sign-in).
QUICK_KEPT_LINES = 20
QUICK_KEPT_CHARS = 1500


def _cart_page(quick: QuickOrderForm | None = None, status: int = 200, **extra):
    kept = session.pop("quick_order", None) if request.method == "GET" else None
    if quick is None:
        quick = QuickOrderForm()
        if kept:
            quick.lines.data = kept.get("text", "")
    return render_template(
        "ordering/cart.html", view=cart.view(get_session(), actor()), quick=quick,
        quantity_form=QuantityForm(), action_form=ActionForm(),
        bad_lines=[cart.BadLine(*bad) for bad in kept["errors"]] if kept else [],
        more_bad_lines=kept.get("more", 0) if kept else 0, **extra,
    ), status


def _keep_failed_lines(errors: list[cart.BadLine]) -> None:
    """Carry the lines that failed, with their reasons, to the cart page (size-limited)."""
    kept, used = [], 0
    for bad in errors[:QUICK_KEPT_LINES]:
        item = (bad.line_no, bad.text[:80], bad.reason[:200])
        used += len(item[1]) + len(item[2]) + 8
        if used > QUICK_KEPT_CHARS:
            break
        kept.append(item)
    session["quick_order"] = {"errors": kept, "more": len(errors) - len(kept),
                              "text": "\n".join(text for _n, text, _r in kept)}


def flash_rounded(rounded: list[packs.Rounded], limit: int = 5) -> None:
    """Say which quantities the pack rule rounded up (the first few, and how many more)."""
    for change in rounded[:limit]:
        flash(change.note(), "info")
    if len(rounded) > limit:
        flash(ngettext("%(num)d more line was rounded up to whole packs.",
                       "%(num)d more lines were rounded up to whole packs.", len(rounded) - limit), "info")


@bp.get("/cart")
@login_required
@partner_required
def cart_page():
    """The cart with today's prices, quick order and the way to checkout."""
    return _cart_page()


@bp.post("/cart/<int:product_id>/quantity")
@login_required
@partner_required
def set_quantity(product_id: int):
    """Change a cart line's quantity (rounded up to whole packs)."""
    form = QuantityForm()
    if not form.validate_on_submit():
        flash(_("Quantity must be a whole number from 1 to %(max)d.", max=cart.MAX_QUANTITY), "error")
    else:
        try:
            rounded = cart.set_quantity(get_session(), actor(), product_id, form.quantity.data)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash_rounded([rounded] if rounded else [])
    return redirect(url_for("orders.cart_page"))


@bp.post("/cart/<int:product_id>/remove")
@login_required
@partner_required
def remove(product_id: int):
    """Take a product out of the cart."""
    if ActionForm().validate_on_submit():
        cart.remove(get_session(), actor(), product_id)
    return redirect(url_for("orders.cart_page"))


@bp.post("/cart/quick")
@login_required
@partner_required
def quick_order():
    """Paste `SKU quantity` lines or upload a CSV: valid lines go to the cart, then back to the
    cart (Post/Redirect/Get: a refresh adds nothing twice), where the box keeps only the lines
    that failed, with their reasons."""
    form = QuickOrderForm()
    if not form.validate_on_submit():
        flash(_("The pasted text is too long."), "error")
        return redirect(url_for("orders.cart_page"))
    try:
        text = read_upload(form.file.data)
    except UploadError as err:  # nothing was added: the form stays as it was
        form.file.errors = [*form.file.errors, str(err)]
        return _cart_page(form, 422)
    if text is None:
        text = form.lines.data or ""
    if not text.strip():
        form.lines.errors = [*form.lines.errors, _("Paste lines of SKU and quantity, or choose a CSV file.")]
        return _cart_page(form, 422)
    try:
        result = cart.quick_order(get_session(), actor(), text)
    except ServiceError as err:  # too many lines: nothing was added
        form.lines.errors = [*form.lines.errors, str(err)]
        return _cart_page(form, 422)
    if result.added:
        flash(ngettext("%(num)d line added to your cart.", "%(num)d lines added to your cart.",
                       len(result.added)), "success")
    flash_rounded(result.rounded)
    if result.errors:
        _keep_failed_lines(result.errors)
    return redirect(url_for("orders.cart_page"))


def _address_choices(form: CheckoutForm, addresses_list) -> None:
    form.address_id.choices = [SelectChoice(a.id, address_label(a)) for a in addresses_list]


def address_label(address) -> str:
    """One line naming an address in a select: "Main shop — Rynek 1, 00-950 Warszawa"."""
    return f"{address.label} — {address.street}, {address.postal_code} {address.city}"


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
@partner_required
def checkout():
    """Review the cart, pick the delivery address and place the order exactly once (the form
    carries an idempotency key)."""
    db = get_session()
    me = actor()
    form = CheckoutForm()
    choices = addresses.list_for(db, me, me.partner_id)
    _address_choices(form, choices)
    refused = False
    if form.validate_on_submit():
        try:
            result = orders.checkout(db, me, key=form.idempotency_key.data,
                                     requested_delivery_date=form.requested_delivery_date.data,
                                     note=form.note.data or "", po_reference=form.po_reference.data,
                                     address_id=form.address_id.data if choices else None,
                                     expected_gross=_amount(form.expected_total.data))
        except ServiceError as err:
            refused = True
            show_service_error(form, err)
        else:
            if result.message:
                flash(result.message, "info")
            if result.created:
                flash_rounded(result.rounded)
                return redirect(url_for("orders.thank_you", order_id=result.order.id))
            return redirect(url_for("orders.detail", order_id=result.order.id))
    elif request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        default = next((a for a in choices if a.is_default), None)
        form.address_id.data = default.id if default else None
    view = cart.view(db, me)
    if request.method == "GET" and not view.items:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("orders.cart_page"))
    form.expected_total.data = str(view.vat.gross)  # what this page shows, as asked again
    status = 422 if refused else form_status(form)
    return render_template("ordering/checkout.html", form=form, view=view, addresses=choices), status


def _amount(text: str | None) -> Decimal | None:
    """The expected total the checkout page carried (None: not sent, or not an amount)."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@bp.get("/orders/<int:order_id>/thank-you")
@login_required
@partner_required
def thank_you(order_id: int):
    """The order just placed, with thanks (warmer after the first order and every tenth)."""
    order = _owned(order_id)
    number = queries.order_number_of(get_session(), order)
    return render_template("ordering/thank_you.html", order=order, number=number)


def _owned(order_id: int):
    try:
        return queries.get_order(get_session(), actor().partner_id, order_id)
    except NotFound as err:
        not_found(foreign=err.foreign)


def filters_from(form: OrderFilterForm, partner_id: int | None = None) -> queries.OrderFilters:
    """The list filters from a bound filter form; invalid ones are ignored (the form says why)."""
    form.status.choices = [SelectChoice("", _("Any status"))] + [
        SelectChoice(s, orders._status_label(s)) for s in ORDER_STATUSES
    ]
    if not form.validate():
        return queries.OrderFilters(partner_id=partner_id)
    return queries.OrderFilters(status=form.status.data or "", date_from=form.date_from.data,
                               date_to=form.date_to.data, partner_id=partner_id,
                               q=(form.q.data or "").strip())


def partner_filter() -> int | None:
    """The ``partner`` filter of the address bar; one no row id can match is no filter."""
    partner_id = request.args.get("partner", type=int)
    return partner_id if partner_id is not None and 1 <= partner_id <= MAX_ROW_ID else None


def page_args(filters: orders.OrderFilters) -> dict[str, str | int]:
    """The query arguments of the page links: only the validated filters, never raw input
    (``endpoint`` or ``_method`` in the address bar would otherwise reach ``url_for``)."""
    args = {"q": filters.q, "status": filters.status, "partner": filters.partner_id,
            "date_from": filters.date_from.isoformat() if filters.date_from else None,
            "date_to": filters.date_to.isoformat() if filters.date_to else None}
    return {key: value for key, value in args.items() if value}


def csv_response(rows, filename: str) -> Response:
    """Stream CSV text chunks as a download."""
    return Response(stream_with_context(rows), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/orders")
@login_required
@partner_required
def history():
    """The company's orders with filters and pages."""
    form = OrderFilterForm(request.args)
    filters = filters_from(form)
    page = queries.list_orders(get_session(), actor(), filters,
                              page=page_from(request.args))
    return render_template("ordering/history.html", page=page, form=form, args=page_args(filters),
                           action_form=ActionForm())


@bp.get("/orders/export.csv")
@login_required
@partner_required
def export():
    """The filtered order history as CSV (one row per line)."""
    filters = filters_from(OrderFilterForm(request.args))
    stmt = queries.filtered(queries.scoped_orders(actor()), filters)
    return csv_response(exports.orders_csv(get_session(), stmt), "orders.csv")


def cancel_confirmation(order) -> Confirmation:
    """How a buyer is asked before cancelling: on the order's page (dialog) and on its own."""
    return Confirmation(
        url=url_for("orders.cancel", order_id=order.id), label=_("Cancel order"),
        title=_("Cancel order #%(id)d?", id=order.id),
        question=_("The order will not be confirmed or delivered, and cannot be placed again "
                   "from here: to order the same goods later, use Reorder."),
        confirm_label=_("Yes, cancel the order"),
        back_url=url_for("orders.detail", order_id=order.id), back_label=_("Keep the order"),
    )


@bp.get("/orders/<int:order_id>")
@login_required
@partner_required
def detail(order_id: int):
    """One order with its lines as charged."""
    order = _owned(order_id)
    return render_template("ordering/detail.html", order=order, action_form=ActionForm(),
                           cancel=cancel_confirmation(order) if order.status == "submitted" else None)


@bp.route("/orders/<int:order_id>/cancel", methods=["GET", "POST"])
@login_required
@partner_required
def cancel(order_id: int):
    """Cancel an order that is still submitted, once the buyer has confirmed it."""
    order = _owned(order_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        if order.status != "submitted" and request.method == "GET":
            flash(_("Only a submitted order can be cancelled; this one is %(status)s.",
                    status=orders._status_label(order.status)), "error")
            return redirect(url_for("orders.detail", order_id=order_id))
        return confirm_page(cancel_confirmation(order), form)
    try:
        orders.cancel(get_session(), actor(), order_id)
    except ServiceError as err:
        flash(str(err), "error")
    else:
        flash(_("The order is cancelled."), "success")
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.post("/orders/<int:order_id>/reorder")
@login_required
@partner_required
def reorder(order_id: int):
    """Fill the cart with a past order's products at today's prices."""
    _owned(order_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("orders.detail", order_id=order_id))
    result = reorders.reorder_into_cart(get_session(), actor(), order_id)
    _flash_reorder(result)
    return redirect(url_for("orders.cart_page"))


@bp.post("/orders/reorder-last")
@login_required
@partner_required
def reorder_last():
    """Fill the cart with the company's last order."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("main.dashboard"))
    order_id = queries.last_order_id(get_session(), actor().partner_id)
    if order_id is None:
        flash(_("There is no order to repeat yet."), "info")
        return redirect(url_for("catalog.index"))
    _flash_reorder(reorders.reorder_into_cart(get_session(), actor(), order_id))
    return redirect(url_for("orders.cart_page"))


def _flash_reorder(result: reorders.ReorderResult) -> None:
    added = len(result.reordered)
    if added and result.already_in_cart:
        # "3 products added to the 2 already in your cart": two counts, two plurals.
        flash(_("%(added)s %(already)s", added=ngettext(
            "%(num)d product added at today's prices", "%(num)d products added at today's prices", added),
            already=ngettext("to the %(num)d already in your cart.", "to the %(num)d already in your cart.",
                             result.already_in_cart)), "success")
    elif added:
        flash(ngettext("%(num)d product added to your cart at today's prices.",
                       "%(num)d products added to your cart at today's prices.", added), "success")
    flash_rounded(result.rounded)
    for sku, name, quantity in result.unavailable:
        flash(_("%(name)s (%(sku)s, %(quantity)d) cannot be ordered any more and was not added.",
                name=name, sku=sku, quantity=quantity), "error")
    for sku, name, reason in result.refused:
        flash(_("%(name)s (%(sku)s) was not added: %(reason)s", name=name, sku=sku, reason=reason), "error")
