"""The workspace API: the staff portfolio with its KPIs (manager-scoped), and partner feedback."""
from __future__ import annotations

from datetime import datetime

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort

from portal.accounts.models import Partner
from portal.core import access
from portal.core.errors import ServiceError
from portal.core.paging import Page
from portal.db import get_session
from portal.web.api import Blueprint, authenticate, fail, page_json
from portal.web.guards import actor
from portal.web.schemas import ApiError
from portal.workspace import feedback, forecast_portfolio, kpis, portfolio_table
from portal.workspace.relationship_page import zone
from portal.workspace.schemas import FeedbackIn, FeedbackOut, PartnerQuery, PortfolioPartnerOut, PortfolioPartnerPage

partners_blp = Blueprint("partners_api", __name__, url_prefix="/api/v1/partners",
                         description="Staff: the partners an account manager looks after, with their KPIs")
feedback_blp = Blueprint("feedback_api", __name__, url_prefix="/api/v1/feedback",
                         description="Partner users: the quarterly NPS question")
blueprints = [partners_blp, feedback_blp]
SECURITY = [{"bearerAuth": []}]
PER_PAGE = 50


@partners_blp.before_request
@feedback_blp.before_request
def _authenticate():
    authenticate()


def _staff():
    me = actor()
    if not me.is_staff:
        abort(403, message=_("Only staff can use this endpoint."))
    return me


def _forecast(f) -> dict | None:
    if f is None:
        return None
    failed = f.status == "failed"
    return {"status": f.status, "expected": None if failed else f.expected, "total": f.total,
            "lower_80": f.lower_80, "upper_80": f.upper_80, "adjusted_total": f.adjusted_total,
            "trust": "unknown" if failed else f.trust}


def _json(partner: Partner, k: kpis.Kpis, f=None) -> dict:
    r = k.rhythm
    return {"forecast": _forecast(f),
        "id": partner.id, "code": partner.code, "name": partner.name, "status": partner.status,
        "stage": partner.stage, "suggested_stage": k.suggested_stage,
        "account_manager_id": partner.account_manager_id,
        "kpis": {
            "order_count": k.order_count, "net_sales": k.net_sales,
            "revenue_by_year": [{"year": y, "net_sales": v} for y, v in k.revenue_by_year.items()],
            "average_order_value": k.average_order_value, "net_sales_last_12_months": k.last_12,
            "net_sales_previous_12_months": k.previous_12,
            "growth": None if k.growth is None else round(k.growth, 4), "retained": k.retained,
            "on_time_rate": None if k.on_time_rate is None else round(k.on_time_rate, 4),
            "lifetime_value": k.lifetime_value, "standing_orders": k.standing_orders,
            "referrals_made": k.referrals_made, "referrals_converted": k.referrals_converted,
            "days_since_last_order": r.days_since, "usual_gap_days": r.usual_gap,
            "overdue_after_days": r.overdue_after, "overdue": r.overdue, "churn_risk": k.churn_risk,
            "latest_nps": k.latest_nps, "nps": k.nps,
        },
    }


@partners_blp.route("")
class Partners(MethodView):
    @partners_blp.arguments(PartnerQuery(), location="query")
    @partners_blp.response(200, PortfolioPartnerPage)
    @partners_blp.alt_response(401, schema=ApiError)
    @partners_blp.alt_response(403, schema=ApiError)
    @partners_blp.doc(security=SECURITY, operationId="listPartners")
    def get(self, args):
        """The portfolio: the partners the caller looks after (admin: all) with their KPIs, sorted
        and filtered as the portfolio page is."""
        me = _staff()
        filters = portfolio_table.Filters(
            q=(args.get("q") or "").strip(), stage=args.get("stage"), risk=args.get("risk"),
            overdue=bool(args.get("overdue")), trust=args.get("trust"),
            manager_id=args.get("manager") if me.sees_all else None,
            sort=args["sort"], direction=args["dir"])
        found = portfolio_table.portfolio(get_session(), me, filters, page=args["page"], per_page=PER_PAGE,
                                          zone=zone())
        page = Page(found.rows, found.page, PER_PAGE, found.total)
        return page_json([_json(r.partner, r.k, r.f) for r in found.rows], page, args["page"])


@partners_blp.route("/<int:partner_id>")
class OnePartner(MethodView):
    @partners_blp.response(200, PortfolioPartnerOut)
    @partners_blp.alt_response(401, schema=ApiError)
    @partners_blp.alt_response(403, schema=ApiError)
    @partners_blp.alt_response(404, schema=ApiError)
    @partners_blp.doc(security=SECURITY, operationId="getPartner")
    def get(self, partner_id: int):
        """One partner the caller looks after, with its KPIs (another manager's partner: 404)."""
        me = _staff()
        db = get_session()
        try:
            partner = access.get_visible(db, me, Partner, partner_id, partner_of=lambda p: p.id,
                                         message=_("No such partner."))
        except ServiceError as err:
            fail(err)
        figure = forecast_portfolio.forecast_of(db, {partner.id: partner.name}).partners.get(partner.id)
        return _json(partner, kpis.compute(db, [partner.id], zone=zone())[partner.id], figure)


@feedback_blp.route("")
class GiveFeedback(MethodView):
    @feedback_blp.arguments(FeedbackIn())
    @feedback_blp.response(201, FeedbackOut)
    @feedback_blp.alt_response(400, schema=ApiError)
    @feedback_blp.alt_response(401, schema=ApiError)
    @feedback_blp.alt_response(403, schema=ApiError)
    @feedback_blp.alt_response(409, schema=ApiError, description="Answered this quarter already")
    @feedback_blp.alt_response(413, schema=ApiError)
    @feedback_blp.alt_response(422, schema=ApiError)
    @feedback_blp.doc(security=SECURITY, operationId="giveFeedback")
    def post(self, body):
        """Answer the NPS question (0–10, a comment): once a quarter per user, after a delivered
        order; a score of 6 or less opens a follow-up for the account manager. A retry after
        success answers 409 (the quarter rule makes it safe), so no Idempotency-Key is needed."""
        me = actor()
        if not me.is_partner_user:
            abort(403, message=_("Only partner users can use this endpoint."))
        try:
            answer = feedback.give(get_session(), me, score=body["score"], comment=body["comment"],
                                   today=datetime.now(zone()).date())
        except ServiceError as err:
            fail(err)
        return {"id": answer.id, "score": answer.score, "comment": answer.comment, "quarter": answer.quarter,
                "created_at": answer.created_at, "follow_up": answer.task_id is not None}
