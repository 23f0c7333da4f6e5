"""Schema pieces every API blueprint shares: safe text, exact money, the one error body."""
import re

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class Text(fields.String):
    """A string the database can store: no NUL character and no lone UTF-16 surrogate.

    The document says so too (a pattern without NUL), so a client, or a generator reading the
    document, knows that a query string carrying one is refused (a 400 before any view).
    """

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"pattern": "^[^\\u0000]*$", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

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


# webargs names the body's location "json"; clients see one name for it.
_LOCATIONS = {"json": "body", "form": "body"}
DETAILS_DESCRIPTION = (
    "What was wrong, by where it was sent and which field: "
    '`{"<location>": {"<field>": ["message", ...]}}`. The location is `body`, `query` or '
    "`headers`; a field inside a list or object is a dotted path (`lines.0.quantity`); `_schema` "
    'stands for the request (or body) as a whole. Example: `{"body": {"lines.0.sku": '
    '["Line 1: unknown SKU X-1."]}}`. Present on 422 answers and on other errors about one field.'
)


def error_details(messages) -> dict[str, dict[str, list[str]]] | None:
    """The one shape of an API error's details: {location: {field path: [message, ...]}}.

    ``messages`` is what webargs reports ({location: {field: [..] or nested by index/field}})
    or what a service error reports in the same form; a bare list is about the whole location.
    """
    if not isinstance(messages, dict) or not messages:
        return None
    details: dict[str, dict[str, list[str]]] = {}
    for location, value in messages.items():
        fields_ = details.setdefault(_LOCATIONS.get(str(location), str(location)), {})
        _flatten(value, (), fields_)
    return details


def _flatten(value, path: tuple[str, ...], out: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, path + (str(key),), out)
        return
    if path[1:] and path[-1] == "_schema":
        path = path[:-1]  # lines.0._schema: the item itself (not an object, say) is the problem
    messages = value if isinstance(value, list | tuple) else [value]
    out.setdefault(".".join(path) or "_schema", []).extend(str(m) for m in messages)


class ApiErrorBody(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, for programs: `invalid`, "
                                                  "`not_found`, `conflict`, `rate_limited`, ..."})
    message = fields.String(required=True, metadata={"description": "For people, in the caller's language"})
    details = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.List(fields.String())),
        metadata={"description": DETAILS_DESCRIPTION},
    )


class ApiError(Schema):
    error = fields.Nested(ApiErrorBody, required=True)


class IdempotencyHeader(Schema):
    idempotency_key = Text(
        required=True, data_key="Idempotency-Key", validate=validate.Length(min=1, max=100),
        metadata={"description": "A unique key per request that creates; retries with the same key are safe."},
    )
