"""Products and orders for API clients (the same services as the pages)."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort

from portal.catalog import browse as catalog
from portal.core.access import Actor
from portal.core.errors import ServiceError
from portal.db import get_session
from portal.ordering import orders, queries, reorders
from portal.ordering.schemas import (
    IdempotencyHeader,
    OrderIn,
    OrderOut,
    OrderPageOut,
    OrderQuery,
    ProductPage,
    ProductQuery,
    ReorderOut,
)
from portal.web.api import Blueprint, authenticate, fail, page_json
from portal.web.guards import actor
from portal.web.schemas import ApiError

products_blp = Blueprint("products", __name__, url_prefix="/api/v1/products",
                         description="The catalog at the caller's prices")
orders_blp = Blueprint("orders_api", __name__, url_prefix="/api/v1/orders",
                       description="The caller's company's orders")
blueprints = [products_blp, orders_blp]
SECURITY = [{"bearerAuth": []}]


@products_blp.before_request
@orders_blp.before_request
def _authenticate():
    authenticate()


def _partner_user() -> Actor:
    me = actor()
    if me.partner_id is None:
        abort(403, message=_("Only partner users can use this endpoint."))
    return me


# Service fields that the API takes from elsewhere than the body.
_FIELDS = {"idempotency_key": ("headers", "Idempotency-Key")}


def _fail(err: ServiceError):
    fail(err, _FIELDS)
PAST_THE_END = ("A `page` past the last one answers 200 with no `items` and the same `total` and "
                "`pages`, so a client can page until it gets an empty page.")


def _order_json(order) -> dict:
    return {
        "id": order.id, "status": order.status, "source": order.source,
        "created_at": order.created_at, "requested_delivery_date": order.requested_delivery_date,
        "promised_date": order.promised_date, "note": order.note,
        "po_reference": order.po_reference, "delivery_address": order.delivery_address,
        "total": order.total, "net_total": order.total, "subtotal": order.subtotal,
        "credit_applied": order.credit_applied, "vat_total": order.vat_total,
        "gross_total": order.gross_total,
        "vat": [{"rate": r.rate, "net": r.net, "vat": r.vat} for r in order.vat_summary.rates],
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                   "unit_price": line.unit_price, "line_total": line.line_total,
                   "vat_rate": line.vat_rate}
                  for line in order.lines],
        "rounded": [],
    }


def _placed_json(result: orders.PlaceResult) -> dict:
    return {**_order_json(result.order), "rounded": [
        {"sku": r.sku, "requested": r.asked, "quantity": r.quantity, "pack_size": r.pack_size}
        for r in result.rounded]}


@products_blp.route("")
class Products(MethodView):
    @products_blp.arguments(ProductQuery(), location="query")
    @products_blp.response(200, ProductPage)
    @products_blp.alt_response(401, schema=ApiError)
    @products_blp.doc(security=SECURITY, operationId="listProducts", description=PAST_THE_END)
    def get(self, args):
        """Orderable products with the caller's price (list price for staff)."""
        page = catalog.browse(get_session(), actor().partner, q=args.get("q", ""),
                              category=args.get("category", ""), page=args["page"],
                              per_page=args["per_page"])
        return page_json(page.items, page, args["page"])


@orders_blp.route("")
class Orders(MethodView):
    @orders_blp.arguments(OrderQuery(), location="query")
    @orders_blp.response(200, OrderPageOut)
    @orders_blp.alt_response(401, schema=ApiError)
    @orders_blp.alt_response(403, schema=ApiError)
    @orders_blp.doc(security=SECURITY, operationId="listOrders", description=PAST_THE_END)
    def get(self, args):
        """The company's orders, newest first."""
        user = _partner_user()
        filters = queries.OrderFilters(status=args.get("status", ""), date_from=args.get("date_from"),
                                       date_to=args.get("date_to"), q=args.get("q", ""))
        page = queries.list_orders(get_session(), user, filters, page=args["page"],
                                  per_page=args["per_page"])
        return page_json([order for order, _code, _name in page.orders], page, args["page"])

    @orders_blp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
    @orders_blp.arguments(OrderIn())
    @orders_blp.response(201, OrderOut)
    @orders_blp.alt_response(200, schema=OrderOut, description="Replay: the order first placed with this key")
    @orders_blp.alt_response(400, schema=ApiError, description="The body is not valid JSON")
    @orders_blp.alt_response(401, schema=ApiError)
    @orders_blp.alt_response(403, schema=ApiError)
    @orders_blp.alt_response(404, schema=ApiError,
                             description="`address_id` is not one of the company's delivery addresses")
    @orders_blp.alt_response(409, schema=ApiError, description="The key was used for a different order")
    @orders_blp.alt_response(413, schema=ApiError, description="The body is over the size limit")
    @orders_blp.alt_response(422, schema=ApiError)
    @orders_blp.doc(security=SECURITY, operationId="placeOrder")
    def post(self, body, idempotency_key):
        """Place an order. Retrying with the same Idempotency-Key never creates a second order.

        Quantities are rounded up to whole packs of each product's `pack_size` (the pages do
        the same); `rounded` lists each line changed, with the quantity asked for.
        """
        user = _partner_user()
        lines = [orders.LineRequest(line["sku"], line["quantity"]) for line in body["lines"]]
        try:
            result = orders.place_order(
                get_session(), user, lines, key=idempotency_key,
                requested_delivery_date=body["requested_delivery_date"], note=body["note"],
                source="api", strict_key=True, po_reference=body["po_reference"],
                address_id=body["address_id"],
            )
        except ServiceError as err:
            _fail(err)
        return _placed_json(result), 201 if result.created else 200


@orders_blp.route("/<int:order_id>")
class OrderDetail(MethodView):
    @orders_blp.response(200, OrderOut)
    @orders_blp.alt_response(401, schema=ApiError)
    @orders_blp.alt_response(403, schema=ApiError)
    @orders_blp.alt_response(404, schema=ApiError)
    @orders_blp.doc(security=SECURITY, operationId="getOrder")
    def get(self, order_id):
        """One order with its lines as charged."""
        user = _partner_user()
        try:
            return _order_json(queries.get_order(get_session(), user.partner_id, order_id))
        except ServiceError as err:
            _fail(err)


@orders_blp.route("/<int:order_id>/cancel")
class OrderCancel(MethodView):
    @orders_blp.response(200, OrderOut)
    @orders_blp.alt_response(401, schema=ApiError)
    @orders_blp.alt_response(403, schema=ApiError)
    @orders_blp.alt_response(404, schema=ApiError)
    @orders_blp.alt_response(409, schema=ApiError, description="The order is past `submitted`")
    @orders_blp.doc(security=SECURITY, operationId="cancelOrder")
    def post(self, order_id):
        """Cancel an order that is still submitted."""
        user = _partner_user()
        try:
            return _order_json(orders.cancel(get_session(), user, order_id))
        except ServiceError as err:
            _fail(err)


@orders_blp.route("/<int:order_id>/reorder")
class OrderReorder(MethodView):
    @orders_blp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
    @orders_blp.response(201, ReorderOut)
    @orders_blp.alt_response(200, schema=ReorderOut, description="Replay of the same key")
    @orders_blp.alt_response(401, schema=ApiError)
    @orders_blp.alt_response(403, schema=ApiError)
    @orders_blp.alt_response(404, schema=ApiError)
    @orders_blp.alt_response(409, schema=ApiError)
    @orders_blp.alt_response(422, schema=ApiError, description="Nothing in the order can be ordered now")
    @orders_blp.doc(security=SECURITY, operationId="reorderOrder")
    def post(self, order_id, idempotency_key):
        """Place a new order with a past order's products at today's prices.

        The answer lists the lines reordered and those that could not be (no longer sold).
        """
        user = _partner_user()
        db = get_session()
        try:
            lines, outcome = reorders.reorder_lines(db, user, order_id)
            if not lines:
                raise ServiceError(_("None of this order's products can be ordered any more."))
            result = orders.place_order(db, user, lines, key=idempotency_key, source="reorder",
                                        strict_key=True, operation=f"reorder:{order_id}")
        except ServiceError as err:
            _fail(err)
        body = {
            "order": _placed_json(result),
            "reordered": [{"sku": sku, "quantity": qty} for sku, qty in outcome.reordered],
            "unavailable": [{"sku": sku, "name": name, "quantity": qty}
                            for sku, name, qty in outcome.unavailable],
        }
        return body, 201 if result.created else 200
