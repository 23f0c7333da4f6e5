"""Schema pieces every API blueprint shares: safe text, exact money, the one error body."""
import re

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields

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
