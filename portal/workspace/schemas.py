"""Schemas of the staff partners API (the portfolio with its KPIs) and of partner feedback."""
from marshmallow import RAISE, Schema, fields, validate

from portal.accounts.models import PARTNER_STATUSES, STAGES
from portal.core.text import MAX_QUERY
from portal.web.schemas import Money, Text
from portal.workspace.feedback import MAX_COMMENT
from portal.workspace.portfolio_table import DIRECTIONS, SORTS, TRUSTS
from portal.workspace.rhythm import RISKS


class PartnerQuery(Schema):
    class Meta:
        unknown = RAISE

    q = Text(validate=validate.Length(max=MAX_QUERY),
             metadata={"description": "In the name or code (no NUL: the portal answers 400 to any)",
                       "pattern": "^[^\\u0000]*$"})
    stage = fields.String(validate=validate.OneOf(STAGES))
    risk = fields.String(validate=validate.OneOf(RISKS), metadata={"description": "Churn risk"})
    overdue = fields.Boolean(metadata={"description": "Only partners past their own rhythm"})
    trust = fields.String(validate=validate.OneOf(TRUSTS), metadata={
        "description": "Forecast trust: `better` (than repeating last year), `no_better`, `unknown`"})
    manager = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "Admins: one account manager's partners (ignored for managers)"})
    sort = fields.String(load_default="risk", validate=validate.OneOf(SORTS))
    dir = fields.String(load_default="desc", validate=validate.OneOf(DIRECTIONS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class YearSalesOut(Schema):
    year = fields.Integer(required=True)
    net_sales = Money(required=True)


class KpisOut(Schema):
    order_count = fields.Integer(required=True, metadata={"description": "Orders not cancelled, all time"})
    net_sales = Money(required=True)
    revenue_by_year = fields.Nested(YearSalesOut, many=True, required=True)
    average_order_value = Money(required=True, allow_none=True)
    net_sales_last_12_months = Money(required=True)
    net_sales_previous_12_months = Money(required=True)
    growth = fields.Decimal(required=True, allow_none=True, as_string=True,
                            metadata={"description": "Last 12 months / the 12 before − 1"})
    retained = fields.Boolean(required=True, metadata={"description": "Ordered in both of the last two years"})
    on_time_rate = fields.Decimal(required=True, allow_none=True, as_string=True,
                                  metadata={"description": "Delivered by the promised date, of those with one"})
    lifetime_value = Money(required=True, metadata={"description": "AOV × orders a year × 5 years (net)"})
    standing_orders = fields.Integer(required=True)
    referrals_made = fields.Integer(required=True, metadata={"description": "Duplicates left out"})
    referrals_converted = fields.Integer(required=True)
    days_since_last_order = fields.Integer(required=True, allow_none=True)
    usual_gap_days = fields.Float(required=True, allow_none=True, metadata={"description": "Median gap"})
    overdue_after_days = fields.Float(required=True, allow_none=True, metadata={"description": "90th percentile gap"})
    overdue = fields.Boolean(required=True)
    churn_risk = fields.String(required=True, allow_none=True, validate=validate.OneOf(RISKS))
    latest_nps = fields.Integer(required=True, allow_none=True)
    nps = fields.Integer(required=True, allow_none=True, metadata={"description": "Last 12 months, −100..100"})


class PartnerForecastOut(Schema):
    status = fields.String(required=True, metadata={"description": "The latest complete run's outcome"})
    expected = Money(required=True, allow_none=True, metadata={
        "description": "Next 12 months as the portfolio counts it: the manager's adjustment, else `total`"})
    total = Money(required=True, allow_none=True, metadata={"description": "Statistical, net"})
    lower_80 = Money(required=True, allow_none=True)
    upper_80 = Money(required=True, allow_none=True)
    adjusted_total = Money(required=True, allow_none=True, metadata={"description": "null: not adjusted"})
    trust = fields.String(required=True, validate=validate.OneOf(TRUSTS), metadata={
        "description": "The backtest against seasonal naive: `better`, `no_better`, `unknown`"})


class PortfolioPartnerOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PARTNER_STATUSES))
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    suggested_stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    account_manager_id = fields.Integer(required=True, allow_none=True)
    kpis = fields.Nested(KpisOut, required=True)
    forecast = fields.Nested(PartnerForecastOut, required=True, allow_none=True, metadata={
        "description": "Next year's forecast of the latest complete run (null: none yet); the full "
                       "forecast is at `/partners/{id}/forecast`"})


class PortfolioPartnerPage(Schema):
    items = fields.Nested(PortfolioPartnerOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class FeedbackIn(Schema):
    class Meta:
        unknown = RAISE

    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10))
    comment = Text(load_default="", validate=validate.Length(max=MAX_COMMENT))


class FeedbackOut(Schema):
    id = fields.Integer(required=True)
    score = fields.Integer(required=True)
    comment = fields.String(required=True)
    quarter = fields.String(required=True, metadata={"description": "e.g. 2026Q4"})
    created_at = fields.DateTime(required=True)
    follow_up = fields.Boolean(required=True, metadata={"description": "A score of 6 or less: the manager follows up"})
