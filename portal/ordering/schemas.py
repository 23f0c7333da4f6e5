"""Schemas of the ordering API: products, orders, reorders."""

from marshmallow import RAISE, Schema, fields, validate

from portal.core.types import MAX_ROW_ID
from portal.ordering.cart import MAX_LINES, MAX_QUANTITY
from portal.ordering.models import ORDER_SOURCES, ORDER_STATUSES
from portal.ordering.orders import MAX_NOTE, MAX_PO_REFERENCE
from portal.web.schemas import IdempotencyHeader, Money, Text  # noqa: F401 (the API's header)


class ProductOut(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    unit = fields.String(required=True)
    pack_size = fields.Integer(required=True, metadata={
        "description": "Sold in whole packs of this many: order quantities are rounded up to them"})
    base_price = Money(required=True, metadata={"description": "List price, net of VAT"})
    price = Money(required=True, metadata={"description": "The caller's price, net of VAT"})
    vat_rate = fields.Integer(required=True, metadata={"description": "VAT rate in percent (23, 8, 5 or 0)"})


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
    unit_price = Money(required=True, metadata={"description": "Net of VAT"})
    line_total = Money(required=True, metadata={"description": "Net of VAT"})
    vat_rate = fields.Integer(required=True, metadata={"description": "VAT rate in percent, as charged"})


class VatRateOut(Schema):
    rate = fields.Integer(required=True, metadata={"description": "VAT rate in percent"})
    net = Money(required=True, metadata={"description": "The net line totals at this rate, added up"})
    vat = Money(required=True, metadata={"description": "VAT on that sum, ROUND_HALF_UP to 0.01"})


class AddressOut(Schema):
    id = fields.Integer(required=True, metadata={
        "description": "The address it was copied from (it may have been changed or removed since)"})
    label = fields.String(required=True)
    recipient = fields.String(required=True)
    street = fields.String(required=True)
    street2 = fields.String(required=True)
    postal_code = fields.String(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    phone = fields.String(required=True)


def _status():
    return fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))


def _source():
    return fields.String(required=True, validate=validate.OneOf(ORDER_SOURCES))


class RoundedLineOut(Schema):
    sku = fields.String(required=True)
    requested = fields.Integer(required=True, metadata={"description": "The quantity asked for"})
    quantity = fields.Integer(required=True, metadata={"description": "The quantity ordered"})
    pack_size = fields.Integer(required=True)


class OrderOut(Schema):
    id = fields.Integer(required=True)
    status = _status()
    source = _source()
    created_at = fields.DateTime(required=True)
    requested_delivery_date = fields.Date(required=True, allow_none=True)
    promised_date = fields.Date(required=True, allow_none=True)
    note = fields.String(required=True)
    po_reference = fields.String(required=True, allow_none=True,
                                 metadata={"description": "The partner's own purchase-order reference"})
    delivery_address = fields.Nested(AddressOut, required=True, allow_none=True, metadata={
        "description": "A copy of the address as delivered to (null: the company had none)"})
    total = Money(required=True, metadata={"description": "Net of VAT (the same as `net_total`)"})
    net_total = Money(required=True, metadata={
        "description": "The sum of the line totals less `credit_applied`"})
    subtotal = Money(required=True, metadata={"description": "The sum of the line totals (net)"})
    credit_applied = Money(required=True, metadata={
        "description": "What the company's credit (a referral reward) took off `subtotal`; 0 without one"})
    vat_total = Money(required=True, metadata={"description": "The sum of `vat[].vat`"})
    gross_total = Money(required=True, metadata={"description": "`net_total` + `vat_total`"})
    vat = fields.Nested(VatRateOut, many=True, required=True,
                        metadata={"description": "VAT per rate, highest rate first"})
    lines = fields.Nested(OrderLineOut, many=True, required=True)
    rounded = fields.Nested(RoundedLineOut, many=True, required=True, metadata={
        "description": "The lines whose quantity was rounded up to whole packs when this answer placed "
                       "the order (the quantity asked for and the one ordered); empty otherwise, "
                       "replays included"})


class OrderSummaryOut(Schema):
    id = fields.Integer(required=True)
    status = _status()
    source = _source()
    created_at = fields.DateTime(required=True)
    po_reference = fields.String(required=True, allow_none=True)
    total = Money(required=True, metadata={"description": "Net of VAT"})
    gross_total = Money(required=True)


class OrderQuery(Schema):
    # No defaults: absent means no filter.
    q = Text(validate=validate.Length(min=1, max=100), metadata={
        "description": "An order number (exactly) or part of a PO reference"})
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
    po_reference = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_PO_REFERENCE),
                        metadata={"description": "Your own purchase-order reference (no control characters)"})
    address_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_ROW_ID), metadata={
                                    "description": "One of your company's delivery addresses; "
                                                   "without it, the default address"})


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

