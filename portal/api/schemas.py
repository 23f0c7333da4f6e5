"""Marshmallow schemas shared by the API blueprints."""
from marshmallow import Schema, fields


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
