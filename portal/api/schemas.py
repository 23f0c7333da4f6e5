"""Marshmallow schemas shared by the API blueprints."""
import re

from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from portal.models import ORDER_STATUSES
from portal.services.cart import MAX_LINES, MAX_QUANTITY
from portal.services.orders import MAX_NOTE

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class Text(fields.String):
    """A string the database can store: no NUL character and no lone UTF-16 surrogate."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise ValidationError(_("Contains a character that is not allowed."))
        return text


class Money(fields.Decimal):
    """An amount of money, sent as a string with two decimals ("18.00") so that it stays exact."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+\.[0-9]{2}$",
                    "example": "18.00", **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)


class ApiErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ApiError(Schema):
    error = fields.Nested(ApiErrorBody, required=True)


class TokenOut(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class PartnerOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class MeOut(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    locale = fields.String(required=True)
    partner = fields.Nested(PartnerOut, allow_none=True)


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
    q = Text(load_default="", validate=validate.Length(max=100))
    category = Text(load_default="", validate=validate.Length(max=80))
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


class OrderOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    source = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    requested_delivery_date = fields.Date(allow_none=True)
    promised_date = fields.Date(allow_none=True)
    note = fields.String(required=True)
    total = Money(required=True)
    lines = fields.Nested(OrderLineOut, many=True, required=True)


class OrderSummaryOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    source = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    total = Money(required=True)


class OrderQuery(Schema):
    status = fields.String(load_default="", validate=validate.OneOf(["", *ORDER_STATUSES]))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
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


class IdempotencyHeader(Schema):
    idempotency_key = Text(
        required=True, data_key="Idempotency-Key", validate=validate.Length(min=1, max=100),
        metadata={"description": "A unique key per order; retries with the same key are safe."},
    )
