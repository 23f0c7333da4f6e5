"""Schemas of the ordering API: products, orders, reorders."""

from marshmallow import RAISE, Schema, fields, validate

from portal.ordering.cart import MAX_LINES, MAX_QUANTITY
from portal.ordering.models import ORDER_SOURCES, ORDER_STATUSES
from portal.ordering.orders import MAX_NOTE
from portal.web.schemas import IdempotencyHeader, Money, Text  # noqa: F401 (the API's header)


class ProductOut(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    unit = fields.String(required=True)
    pack_size = fields.Integer(required=True)
    base_price = Money(required=True)
    price = Money(required=True, metadata={"description": "The caller's price"})


class ProductQuery(Schema):
    # No defaults: absent means no filter (an empty default would make clients send q=).
    q = Text(validate=validate.Length(max=100), metadata={"description": "Words of the name or SKU"})
    category = Text(validate=validate.Length(max=80))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ProductPage(Schema):
    items = fields.Nested(ProductOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class OrderLineOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = Money(required=True)
    line_total = Money(required=True)


def _status():
    return fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))


def _source():
    return fields.String(required=True, validate=validate.OneOf(ORDER_SOURCES))


class OrderOut(Schema):
    id = fields.Integer(required=True)
    status = _status()
    source = _source()
    created_at = fields.DateTime(required=True)
    requested_delivery_date = fields.Date(required=True, allow_none=True)
    promised_date = fields.Date(required=True, allow_none=True)
    note = fields.String(required=True)
    total = Money(required=True)
    lines = fields.Nested(OrderLineOut, many=True, required=True)


class OrderSummaryOut(Schema):
    id = fields.Integer(required=True)
    status = _status()
    source = _source()
    created_at = fields.DateTime(required=True)
    total = Money(required=True)


class OrderQuery(Schema):
    # No defaults: absent means no filter.
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    date_from = fields.Date(metadata={"description": "Placed on or after this day"})
    date_to = fields.Date(metadata={"description": "Placed on or before this day"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class OrderPageOut(Schema):
    items = fields.Nested(OrderSummaryOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class LineIn(Schema):
    class Meta:
        unknown = RAISE

    sku = Text(required=True, validate=validate.Length(min=1, max=40))
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_QUANTITY))


class OrderIn(Schema):
    class Meta:
        unknown = RAISE

    lines = fields.Nested(LineIn, many=True, required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    requested_delivery_date = fields.Date(load_default=None, allow_none=True)
    note = Text(load_default="", validate=validate.Length(max=MAX_NOTE))


class ReorderLineOut(Schema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)


class UnavailableLineOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)


class ReorderOut(Schema):
    order = fields.Nested(OrderOut, required=True)
    reordered = fields.Nested(ReorderLineOut, many=True, required=True)
    unavailable = fields.Nested(UnavailableLineOut, many=True, required=True)

