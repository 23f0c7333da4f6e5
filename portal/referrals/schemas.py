"""Schemas of the referrals API."""
from marshmallow import RAISE, Schema, fields, validate

from portal.referrals import intake, pipeline, rewards
from portal.referrals.models import SOURCES, STATUSES
from portal.web.schemas import Money, Text


class ReferralIn(Schema):
    class Meta:
        unknown = RAISE

    company_name = Text(required=True, validate=validate.Length(min=1, max=intake.MAX_NAME))
    contact_name = Text(required=True, validate=validate.Length(min=1, max=intake.MAX_NAME))
    email = Text(required=True, validate=validate.Length(min=3, max=intake.MAX_EMAIL))
    phone = Text(load_default="", validate=validate.Length(max=intake.MAX_PHONE))
    website = Text(load_default="", validate=validate.Length(max=intake.MAX_WEBSITE))
    city = Text(load_default="", validate=validate.Length(max=intake.MAX_CITY))
    note = Text(load_default="", validate=validate.Length(max=intake.MAX_NOTE))
    consent = fields.Boolean(required=True, metadata={
        "description": "The prospect agreed to be contacted; must be true"})


class ReferralQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    status = fields.String(validate=validate.OneOf(("open", *STATUSES)),
                           metadata={"description": "Only referrals in this status (`open`: not yet closed)"})


class ReferralPatch(Schema):
    """Staff: move the referral along, assign it, or both (send only what changes)."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(STATUSES))
    note = Text(load_default="", validate=validate.Length(max=pipeline.MAX_NOTE),
                metadata={"description": "Why (required to reject); without `status`, an internal note"})
    manager_id = fields.Integer(validate=validate.Range(min=1))


class ScoreReason(Schema):
    code = fields.String(required=True)
    points = fields.Integer(required=True)


class RewardOut(Schema):
    state = fields.String(required=True, validate=validate.OneOf(rewards.STATES), metadata={
        "description": "`pending` until the referred partner's orders meet the rule, then `granted` "
                       "(a credit taken off the referrer's next orders), `used` once all spent"})
    amount = Money(required=True, metadata={"description": "The reward, net of VAT"})
    remaining = Money(required=True, metadata={"description": "What the credit has left to spend"})
    granted_at = fields.DateTime(required=True, allow_none=True)


class ReferralOut(Schema):
    id = fields.Integer(required=True)
    company_name = fields.String(required=True)
    contact_name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    website = fields.String(required=True)
    city = fields.String(required=True)
    note = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    duplicate = fields.Boolean(required=True, metadata={"description": "The company was already known"})
    created_at = fields.DateTime(required=True)
    # Staff only: null for partner users (internal to the wholesaler).
    referrer_id = fields.Integer(required=True, allow_none=True, metadata={"description": "Staff only"})
    manager_id = fields.Integer(required=True, allow_none=True, metadata={"description": "Staff only"})
    score = fields.Integer(required=True, allow_none=True,
                           metadata={"description": "Staff only: the lead score, 0-100"})
    score_reasons = fields.List(fields.Nested(ScoreReason), required=True, allow_none=True,
                                metadata={"description": "Staff only: the points behind the score"})
    reject_reason = fields.String(required=True, allow_none=True, metadata={"description": "Staff only"})
    reward = fields.Nested(RewardOut, required=True, allow_none=True, metadata={
        "description": "What the referral earns its referrer once converted (null before)"})


class ReferralPage(Schema):
    items = fields.Nested(ReferralOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class ConvertIn(Schema):
    class Meta:
        unknown = RAISE

    name = Text(required=True, validate=validate.Length(min=1, max=intake.MAX_NAME))
    code = Text(required=True, validate=validate.Length(min=2, max=40))
    invite_email = Text(load_default="", validate=validate.Length(max=intake.MAX_EMAIL),
                        metadata={"description": "Invite this email as the partner's administrator"})
    invite_name = Text(load_default="", validate=validate.Length(max=intake.MAX_NAME))


class ConvertOut(Schema):
    referral = fields.Nested(ReferralOut, required=True)
    partner_id = fields.Integer(required=True)
    partner_code = fields.String(required=True)
    invited = fields.String(required=True, metadata={"description": "The email invited, or empty"})
    invitation_error = fields.String(required=True, metadata={"description": "Why nobody was invited, or empty"})
