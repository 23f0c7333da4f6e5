"""Standing orders for API clients: the same use cases as the pages, partner-scoped like orders."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort

from portal.catalog import browse as catalog
from portal.core.access import Actor
from portal.core.errors import ServiceError
from portal.core.paging import Page
from portal.db import get_session
from portal.recurring import engine, ledger, standing
from portal.recurring.schemas import (
    PageQuery,
    PauseIn,
    RunPage,
    ScheduleIn,
    ScheduleOut,
    SchedulePage,
    SchedulePatch,
    SkipIn,
)
from portal.web.api import Blueprint, authenticate, fail, page_json
from portal.web.guards import actor
from portal.web.schemas import ApiError, IdempotencyHeader

blp = Blueprint("recurring_api", __name__, url_prefix="/api/v1/recurring-orders",
                description="Standing orders: placed on schedule, exactly once")
blueprints = [blp]
SECURITY = [{"bearerAuth": []}]
PER_PAGE = 50
_FIELDS = {"idempotency_key": ("headers", "Idempotency-Key")}


@blp.before_request
def _authenticate():
    authenticate()


def _errors(*statuses: int):
    """Declare the error answers an operation can give (the document test checks every one)."""
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=ApiError)(view)
        return view
    return decorate


def _partner() -> Actor:
    me = actor()
    if me.partner_id is None:
        abort(403, message=_("Only partner users can use this endpoint."))
    return me


def _today() -> date:
    return engine.today_in(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _json(schedule) -> dict:
    return {
        "id": schedule.id, "name": schedule.name, "cadence": schedule.cadence,
        "start_date": schedule.start_date, "end_date": schedule.end_date, "mode": schedule.mode,
        "status": schedule.status, "paused_until": schedule.paused_until, "note": schedule.note,
        "po_pattern": schedule.po_pattern, "address_id": schedule.address_id,
        "next_dates": standing.next_dates(get_session(), schedule, _today()),
        "lines": [{"sku": line.product.sku, "name": line.product.name, "quantity": line.quantity,
                   "sold": line.product.active} for line in schedule.lines],
    }


def _data(body: dict, base: standing.ScheduleData | None = None) -> standing.ScheduleData:
    """The body as a schedule; SKUs become products at the partner's catalog (unknown: 422)."""
    values = {k: v for k, v in body.items() if k != "lines"}
    if "lines" in body:
        products = catalog.priced_by_sku(get_session(), actor().partner, [line["sku"] for line in body["lines"]])
        unknown = [line["sku"] for line in body["lines"] if line["sku"] not in products]
        if unknown:
            raise ServiceError(_("Unknown SKU: %(skus)s.", skus=", ".join(unknown)), field="lines")
        values["lines"] = [(products[line["sku"]].id, line["quantity"]) for line in body["lines"]]
    if base is not None:
        return replace(base, **values)
    return standing.ScheduleData(**values)


def _get(schedule_id: int):
    try:
        return standing.get(get_session(), _partner(), schedule_id)
    except ServiceError as err:
        fail(err)


@blp.route("")
class Schedules(MethodView):
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, SchedulePage)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="listRecurringOrders")
    def get(self, args):
        """The company's standing orders (active first)."""
        rows = ledger.overview(get_session(), _partner(), _today())
        page = Page(rows[(args["page"] - 1) * PER_PAGE:args["page"] * PER_PAGE],
                    min(args["page"], max(1, -(-len(rows) // PER_PAGE))), PER_PAGE, len(rows))
        return page_json([_json(row.schedule) for row in page.items], page, args["page"])

    @blp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
    @blp.arguments(ScheduleIn())
    @blp.response(201, ScheduleOut)
    @blp.alt_response(200, schema=ScheduleOut, description="Replay: the standing order first made with this key")
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="The key was used for a different standing order")
    @blp.alt_response(422, schema=ApiError)
    @_errors(400, 413)
    @blp.doc(security=SECURITY, operationId="createRecurringOrder")
    def post(self, body, idempotency_key):
        """Set up a standing order. Retrying with the same Idempotency-Key never makes a second one."""
        me = _partner()
        try:
            schedule, created = standing.create(get_session(), me, _data(body), today=_today(),
                                                key=idempotency_key)
        except ServiceError as err:
            fail(err, _FIELDS)
        return _json(standing.get(get_session(), me, schedule.id)), 201 if created else 200


@blp.route("/<int:schedule_id>")
class Schedule(MethodView):
    @blp.response(200, ScheduleOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="getRecurringOrder")
    def get(self, schedule_id):
        """One standing order with its lines and next dates."""
        return _json(_get(schedule_id))

    @blp.arguments(SchedulePatch())
    @blp.response(200, ScheduleOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="The standing order is cancelled")
    @blp.alt_response(422, schema=ApiError)
    @_errors(400, 413)
    @blp.doc(security=SECURITY, operationId="updateRecurringOrder")
    def patch(self, body, schedule_id):
        """Change lines, cadence, dates or note from the next date on (send only what changes)."""
        schedule = _get(schedule_id)
        base = standing.ScheduleData(
            name=schedule.name, cadence=schedule.cadence, start_date=schedule.start_date,
            end_date=schedule.end_date, mode=schedule.mode, note=schedule.note,
            po_pattern=schedule.po_pattern, address_id=schedule.address_id,
            lines=[(line.product_id, line.quantity) for line in schedule.lines])
        try:
            standing.update_schedule(get_session(), _partner(), schedule_id, _data(body, base), today=_today())
        except ServiceError as err:
            fail(err)
        return _json(_get(schedule_id))

    @blp.response(204)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Already cancelled")
    @blp.doc(security=SECURITY, operationId="cancelRecurringOrder")
    def delete(self, schedule_id):
        """Cancel for good: nothing more is placed; its orders and ledger stay."""
        _get(schedule_id)
        try:
            standing.cancel(get_session(), _partner(), schedule_id)
        except ServiceError as err:
            fail(err)


def _action(schedule_id: int, act) -> dict:
    _get(schedule_id)
    try:
        act()
    except ServiceError as err:
        fail(err)
    return _json(_get(schedule_id))


@blp.route("/<int:schedule_id>/pause")
class Pause(MethodView):
    @blp.arguments(PauseIn())
    @blp.response(200, ScheduleOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError)
    @blp.alt_response(422, schema=ApiError)
    @_errors(400, 401, 403, 413)
    @blp.doc(security=SECURITY, operationId="pauseRecurringOrder")
    def post(self, body, schedule_id):
        """Pause from today; dates inside the pause are neither placed nor caught up."""
        return _action(schedule_id, lambda: standing.pause(
            get_session(), _partner(), schedule_id, until=body["until"], today=_today()))


@blp.route("/<int:schedule_id>/resume")
class Resume(MethodView):
    @blp.response(200, ScheduleOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="It is not paused")
    @_errors(401, 403)
    @blp.doc(security=SECURITY, operationId="resumeRecurringOrder")
    def post(self, schedule_id):
        """Resume now."""
        return _action(schedule_id, lambda: standing.resume(get_session(), _partner(), schedule_id, today=_today()))


@blp.route("/<int:schedule_id>/skip")
class Skip(MethodView):
    @blp.arguments(SkipIn())
    @blp.response(200, ScheduleOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Already skipped")
    @blp.alt_response(422, schema=ApiError, description="Not one of its coming dates")
    @_errors(400, 401, 403, 413)
    @blp.doc(security=SECURITY, operationId="skipRecurringOrderDate")
    def post(self, body, schedule_id):
        """Skip one coming date (only that one)."""
        return _action(schedule_id, lambda: standing.skip(
            get_session(), _partner(), schedule_id, body["date"], today=_today()))


@blp.route("/<int:schedule_id>/runs")
class Runs(MethodView):
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, RunPage)
    @blp.alt_response(404, schema=ApiError)
    @_errors(401, 403)
    @blp.doc(security=SECURITY, operationId="listRecurringOrderRuns")
    def get(self, args, schedule_id):
        """What became of each date so far, newest first."""
        _get(schedule_id)
        page = ledger.runs(get_session(), _partner(), schedule_id, page=args["page"])
        items = [{"occurrence_date": run.occurrence_date, "outcome": run.outcome, "reason": run.reason,
                  "order_id": run.order_id,
                  "unavailable": [line["sku"] for line in (run.detail or {}).get("unavailable", [])]}
                 for run in page.items]
        return page_json(items, page, args["page"])


from portal.recurring import draft_api  # noqa: E402,F401  (its routes are on this blueprint)
