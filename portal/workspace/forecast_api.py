"""Staff API of forecasts: a partner's latest forecast, and adjusting it (manager-scoped:
another manager's partner is 404, as on the pages). Stored figures only; nothing is fitted."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort
from marshmallow import RAISE, Schema, fields, validate

from portal.core.errors import ServiceError
from portal.db import get_session
from portal.web.api import Blueprint, authenticate, fail
from portal.web.guards import actor
from portal.web.schemas import ApiError, IdempotencyHeader, Money, Text
from portal.workspace import forecast_store
from portal.workspace.forecast_models import FORECAST_STATUSES

blp = Blueprint("forecasts_api", __name__, url_prefix="/api/v1/partners",
                description="Next-year forecasts per partner, and the managers' adjustments")
blueprints = [blp]
SECURITY = [{"bearerAuth": []}]
_FIELDS = {"idempotency_key": ("headers", "Idempotency-Key")}


class ForecastMonthOut(Schema):
    month = fields.Date(required=True, metadata={"description": "First day of the month"})
    mean = Money(required=True)
    lower_80 = Money(required=True)
    upper_80 = Money(required=True)
    lower_95 = Money(required=True)
    upper_95 = Money(required=True)
    adjusted = Money(required=True, allow_none=True,
                     metadata={"description": "The adjusted figure; null without adjustments"})


class ForecastBacktestOut(Schema):
    mase = fields.Float(required=True, allow_none=True,
                        metadata={"description": "MASE of the method on the partner's past"})
    naive_mase = fields.Float(required=True, allow_none=True,
                              metadata={"description": "MASE of seasonal naive (repeating last year)"})
    relative_mase = fields.Float(required=True, allow_none=True,
                                 metadata={"description": "mase / naive_mase: below 1 is better"})
    coverage_80 = fields.Float(required=True, allow_none=True)
    coverage_95 = fields.Float(required=True, allow_none=True)
    windows = fields.Integer(required=True)
    trust = fields.String(required=True, metadata={"description": "`better`, `no_better` or `unknown`"})


class ForecastAdjustmentOut(Schema):
    id = fields.Integer(required=True)
    month = fields.Date(required=True, allow_none=True, metadata={"description": "null: the next-year total"})
    amount = Money(required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)


class ForecastRunOut(Schema):
    id = fields.Integer(required=True)
    finished_at = fields.DateTime(required=True)
    first_month = fields.Date(required=True)
    library_version = fields.String(required=True)


class ForecastOut(Schema):
    partner_id = fields.Integer(required=True)
    run = fields.Nested(ForecastRunOut, required=True, allow_none=True,
                        metadata={"description": "null: no forecast made yet"})
    status = fields.String(required=True, allow_none=True, validate=validate.OneOf(FORECAST_STATUSES),
                           metadata={"description": "`ok`, `fallback` or `failed`; null without a forecast"})
    model = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    total = Money(required=True, allow_none=True)
    total_lower_80 = Money(required=True, allow_none=True)
    total_upper_80 = Money(required=True, allow_none=True)
    total_lower_95 = Money(required=True, allow_none=True)
    total_upper_95 = Money(required=True, allow_none=True)
    adjusted_total = Money(required=True, allow_none=True)
    months = fields.List(fields.Nested(ForecastMonthOut), required=True)
    backtest = fields.Nested(ForecastBacktestOut, required=True, allow_none=True)
    adjustments = fields.List(fields.Nested(ForecastAdjustmentOut), required=True,
                              metadata={"description": "In effect, newest first"})


class ForecastAdjustmentIn(Schema):
    class Meta:
        unknown = RAISE

    amount = Money(required=True, metadata={"description": "Net, zero or more"})
    note = Text(required=True, validate=validate.Length(min=1, max=forecast_store.MAX_NOTE))
    month = fields.Date(load_default=None, allow_none=True,
                        metadata={"description": "A forecast month (any day of it); omit for the next-year total"})


@blp.before_request
def _authenticate():
    authenticate()


def _staff():
    me = actor()
    if not me.is_staff:
        abort(403, message=_("Only staff can use this endpoint."))
    return me


def _adjustment_json(a) -> dict:
    return {"id": a.id, "month": a.month, "amount": a.amount, "note": a.note,
            "created_at": a.created_at, "created_by_id": a.created_by_id}


def forecast_json(view: forecast_store.PartnerForecastView) -> dict:
    fc = view.forecast
    adjusted = dict(view.adjusted or [])
    out = {"partner_id": view.partner.id, "months": [], "adjustments": [_adjustment_json(a) for a in view.adjustments],
           "run": None, "backtest": None, "adjusted_total": view.adjusted_total}
    if view.run is not None:
        out["run"] = {"id": view.run.id, "finished_at": view.run.finished_at,
                      "first_month": view.run.first_month, "library_version": view.run.library_version}
    if fc is not None:
        out.update({key: getattr(fc, key) for key in ("status", "model", "reason", "total", "total_lower_80",
                                                      "total_upper_80", "total_lower_95", "total_upper_95")})
        out["months"] = [{"month": m.month, "mean": m.mean, "lower_80": m.lower_80, "upper_80": m.upper_80,
                          "lower_95": m.lower_95, "upper_95": m.upper_95, "adjusted": adjusted.get(m.month)}
                         for m in fc.months]
        out["backtest"] = {"mase": fc.mase, "naive_mase": fc.naive_mase, "relative_mase": fc.relative_mase,
                           "coverage_80": fc.coverage_80, "coverage_95": fc.coverage_95,
                           "windows": fc.backtest_windows, "trust": view.trust}
    return out


def _view(partner_id: int) -> forecast_store.PartnerForecastView:
    try:
        return forecast_store.partner_forecast(get_session(), _staff(), partner_id)
    except ServiceError as err:
        fail(err)


@blp.route("/<int:partner_id>/forecast")
class PartnerForecast(MethodView):
    @blp.response(200, ForecastOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="getPartnerForecast")
    def get(self, partner_id):
        """The partner's forecast in the latest complete run: months, bounds, total, model,
        backtest and the adjustments in effect."""
        return forecast_json(_view(partner_id))


@blp.route("/<int:partner_id>/forecast/adjustments")
class Adjustments(MethodView):
    @blp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
    @blp.arguments(ForecastAdjustmentIn())
    @blp.response(201, ForecastAdjustmentOut)
    @blp.alt_response(200, schema=ForecastAdjustmentOut, description="Replay: the adjustment first made with this key")
    @blp.alt_response(400, schema=ApiError)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="The key was used for a different adjustment")
    @blp.alt_response(413, schema=ApiError)
    @blp.alt_response(422, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="createForecastAdjustment")
    def post(self, body, idempotency_key, partner_id):
        """Override the next-year total (no `month`) or one forecast month, with a required note
        (audited; kept across refreshes until cleared on the partner page)."""
        me = _staff()
        try:
            adjustment, created = forecast_store.add_adjustment(
                get_session(), me, partner_id, amount=body["amount"], note=body["note"],
                month=body["month"], key=idempotency_key)
        except ServiceError as err:
            fail(err, _FIELDS)
        return _adjustment_json(adjustment), 201 if created else 200
