"""Schemas of the accounts API: tokens and the caller."""
from marshmallow import Schema, fields


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
    partner = fields.Nested(PartnerOut, required=True, allow_none=True,
                            metadata={"description": "null for staff"})
