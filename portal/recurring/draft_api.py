"""Review drafts for API clients: exactly what the review pages allow (change the order of one
date, confirm it, skip its date), through the same use cases as the pages (``recurring.drafts``,
``recurring.standing.skip``), partner-scoped like the rest of /api/v1/recurring-orders."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _

from portal.catalog import browse as catalog
from portal.core.errors import ServiceError
from portal.core.paging import Page
from portal.db import get_session
from portal.recurring import drafts, standing
from portal.recurring.api import PER_PAGE, SECURITY, _errors, _get, _partner, _today, blp
from portal.recurring.schemas import DraftConfirmIn, DraftOut, DraftPage, DraftPatch, PageQuery
from portal.web.api import fail, page_json
from portal.web.schemas import ApiError


def _draft(schedule_id: int, draft_id: int):
    try:
        return drafts.get(get_session(), _partner(), schedule_id, draft_id)[1]
    except ServiceError as err:
        fail(err)


def _json(draft, status: str | None = None, order_id: int | None = None) -> dict:
    if status is None:
        status, order_id = drafts.state(get_session(), _partner(), draft, _today())
    return {
        "id": draft.id, "recurring_order_id": draft.recurring_order_id,
        "occurrence_date": draft.occurrence_date, "status": status, "order_id": order_id,
        "changed": draft.changed_at is not None, "changed_at": draft.changed_at, "version": draft.version,
        "lines": [{"sku": product.sku, "name": product.name, "quantity": quantity, "sold": product.active}
                  for product, quantity in drafts.lines_of(get_session(), draft)],
    }


def _lines(body: dict) -> list[tuple[int, int]]:
    """SKUs of the partner's catalog still sold, as the draft page takes them (others: 422)."""
    skus = [line["sku"] for line in body["lines"]]
    products = catalog.priced_by_sku(get_session(), _partner().partner, skus)
    unknown = [sku for sku in skus if sku not in products or not products[sku].active]
    if unknown:
        fail(ServiceError(_("Not in the catalog: %(skus)s.", skus=", ".join(unknown)), field="lines"))
    return [(products[line["sku"]].id, line["quantity"]) for line in body["lines"]]


@blp.route("/<int:schedule_id>/drafts")
class Drafts(MethodView):
    @blp.arguments(PageQuery(), location="query")
    @blp.response(200, DraftPage)
    @blp.alt_response(404, schema=ApiError)
    @_errors(401, 403)
    @blp.doc(security=SECURITY, operationId="listRecurringOrderDrafts")
    def get(self, args, schedule_id):
        """The drafts waiting for review (review mode), soonest first: usually one, the next date's."""
        _get(schedule_id)
        rows = drafts.pending(get_session(), _partner(), _today(), schedule_ids=[schedule_id])
        page = Page(rows[(args["page"] - 1) * PER_PAGE:args["page"] * PER_PAGE],
                    min(args["page"], max(1, -(-len(rows) // PER_PAGE))), PER_PAGE, len(rows))
        return page_json([_json(draft, "open") for _schedule, draft in page.items], page, args["page"])


@blp.route("/<int:schedule_id>/drafts/<int:draft_id>")
class Draft(MethodView):
    @blp.response(200, DraftOut)
    @blp.alt_response(404, schema=ApiError)
    @_errors(401, 403)
    @blp.doc(security=SECURITY, operationId="getRecurringOrderDraft")
    def get(self, schedule_id, draft_id):
        """One draft with its lines, its version and where it stands."""
        return _json(_draft(schedule_id, draft_id))

    @blp.arguments(DraftPatch())
    @blp.response(200, DraftOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Changed by someone else since `version` "
                      "(`draft_changed`), already placed, skipped or no longer a date")
    @blp.alt_response(422, schema=ApiError)
    @_errors(400, 401, 403, 413)
    @blp.doc(security=SECURITY, operationId="changeRecurringOrderDraft")
    def patch(self, body, schedule_id, draft_id):
        """Change the order of this date only (the standing order stays as it is); send all its lines
        and the `version` you read."""
        _draft(schedule_id, draft_id)
        try:
            draft = drafts.change(get_session(), _partner(), schedule_id, draft_id, _lines(body),
                                  today=_today(), version=body["version"])
        except ServiceError as err:
            fail(err)
        return _json(draft)


@blp.route("/<int:schedule_id>/drafts/<int:draft_id>/confirm")
class Confirm(MethodView):
    @blp.arguments(DraftConfirmIn())
    @blp.response(200, DraftOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Changed since `version`, already placed, not "
                      "the next date, or the standing order is paused")
    @blp.alt_response(422, schema=ApiError, description="The order was refused (the reason is in its runs)")
    @_errors(400, 401, 403, 413)
    @blp.doc(security=SECURITY, operationId="confirmRecurringOrderDraft")
    def post(self, body, schedule_id, draft_id):
        """Place the next date's order now with this draft's lines (once: the same order as on the day)."""
        _draft(schedule_id, draft_id)
        try:
            run = drafts.confirm(get_session(), _partner(), schedule_id, draft_id, today=_today(),
                                 version=body["version"])
        except ServiceError as err:
            fail(err)
        return _json(_draft(schedule_id, draft_id), "placed", run.order_id)


@blp.route("/<int:schedule_id>/drafts/<int:draft_id>/skip")
class Skip(MethodView):
    @blp.response(200, DraftOut)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Already skipped")
    @blp.alt_response(422, schema=ApiError, description="Its date has already been handled")
    @_errors(401, 403)
    @blp.doc(security=SECURITY, operationId="skipRecurringOrderDraft")
    def post(self, schedule_id, draft_id):
        """Skip this draft's date (only that one; as skipping it on the standing order's page)."""
        draft = _draft(schedule_id, draft_id)
        try:
            standing.skip(get_session(), _partner(), schedule_id, draft.occurrence_date, today=_today())
        except ServiceError as err:
            fail(err)
        return _json(_draft(schedule_id, draft_id))
