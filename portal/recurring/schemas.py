"""Schemas of the standing-orders API."""
from marshmallow import RAISE, Schema, fields, validate

from portal.ordering.cart import MAX_QUANTITY
from portal.recurring.models import MAX_LINES, MODES, OUTCOMES, STATUSES
from portal.recurring.schedules import CADENCES
from portal.recurring.standing import MAX_NAME, MAX_NOTE
from portal.web.schemas import Text


class ScheduleLineIn(Schema):
    class Meta:
        unknown = RAISE

    sku = Text(required=True, validate=validate.Length(min=1, max=40))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))


class ScheduleIn(Schema):
    class Meta:
        unknown = RAISE

    name = Text(load_default="", validate=validate.Length(max=MAX_NAME))
    cadence = fields.String(required=True, validate=validate.OneOf(tuple(CADENCES)))
    start_date = fields.Date(required=True, metadata={"description": "The first date (occurrence 0)"})
    end_date = fields.Date(load_default=None, allow_none=True, metadata={"description": "The last date, inclusive"})
    mode = fields.String(load_default="auto", validate=validate.OneOf(MODES),
                         metadata={"description": "`auto`: placed on the day; `review`: a draft appears the "
                                   "partner's review lead days before (default 3) to change or confirm, "
                                   "and is placed on the day if left alone"})
    note = Text(load_default="", validate=validate.Length(max=MAX_NOTE))
    po_pattern = Text(load_default="", validate=validate.Length(max=35), metadata={
        "description": "The PO reference of each order; placeholders {date}, {year}, {month}, {day}, "
                       "{week}, {name} (`PO-{year}-{month}`)"})
    address_id = fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": "One of the company's delivery addresses (absent or null: the default address)"})
    lines = fields.Nested(ScheduleLineIn, many=True, required=True, validate=validate.Length(min=1, max=MAX_LINES))


class SchedulePatch(ScheduleIn):
    """A PATCH sends only what changes; the rest stays."""

    class Meta:
        unknown = RAISE

    cadence = fields.String(validate=validate.OneOf(tuple(CADENCES)))
    start_date = fields.Date()
    lines = fields.Nested(ScheduleLineIn, many=True, validate=validate.Length(min=1, max=MAX_LINES))
    name = Text(validate=validate.Length(max=MAX_NAME))
    mode = fields.String(validate=validate.OneOf(MODES))
    note = Text(validate=validate.Length(max=MAX_NOTE))
    end_date = fields.Date(allow_none=True)
    po_pattern = Text(validate=validate.Length(max=35))
    address_id = fields.Integer(allow_none=True, strict=True)


class ScheduleLineOut(Schema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    sold = fields.Boolean(required=True, metadata={"description": "False: no longer sold, left out of orders"})


class ScheduleOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    cadence = fields.String(required=True, validate=validate.OneOf(tuple(CADENCES)))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True, allow_none=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    paused_until = fields.Date(required=True, allow_none=True)
    note = fields.String(required=True)
    po_pattern = fields.String(required=True)
    address_id = fields.Integer(required=True, allow_none=True)
    next_dates = fields.List(fields.Date(), required=True,
                             metadata={"description": "The next dates that will be placed (up to six)"})
    lines = fields.Nested(ScheduleLineOut, many=True, required=True)


class SchedulePage(Schema):
    items = fields.Nested(ScheduleOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class PauseIn(Schema):
    class Meta:
        unknown = RAISE

    until = fields.Date(load_default=None, allow_none=True,
                        metadata={"description": "Resume by itself on this day (absent: until resumed)"})


class SkipIn(Schema):
    class Meta:
        unknown = RAISE

    date = fields.Date(required=True, metadata={"description": "One of the schedule's coming dates"})


class RunOut(Schema):
    occurrence_date = fields.Date(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(required=True)
    order_id = fields.Integer(required=True, allow_none=True)
    unavailable = fields.List(fields.String(), required=True,
                              metadata={"description": "SKUs left out because they are no longer sold"})


class RunPage(Schema):
    items = fields.Nested(RunOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


DRAFT_STATES = ("open", "placed", "closed")


class DraftPatch(Schema):
    class Meta:
        unknown = RAISE

    lines = fields.Nested(ScheduleLineIn, many=True, required=True,
                          validate=validate.Length(min=1, max=MAX_LINES),
                          metadata={"description": "The order of this date only, in full (a SKU left out is "
                                    "left out this time)"})
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1), metadata={
        "description": "The draft's `version` you read; changed by someone else since: 409 `draft_changed`"})


class DraftConfirmIn(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1),
                             metadata={"description": "Place it only if the draft still has this version "
                                       "(else 409 `draft_changed`); absent: as it stands"})


class DraftOut(Schema):
    id = fields.Integer(required=True)
    recurring_order_id = fields.Integer(required=True)
    occurrence_date = fields.Date(required=True, metadata={"description": "The date it is placed on"})
    status = fields.String(required=True, validate=validate.OneOf(DRAFT_STATES), metadata={
        "description": "`open`: to review (change, confirm, skip); `placed`: its order is `order_id`; "
                       "`closed`: the date was skipped, paused or failed, or is no longer a date of the "
                       "standing order"})
    lines = fields.Nested(ScheduleLineOut, many=True, required=True)
    changed = fields.Boolean(required=True, metadata={"description": "Changed for this date (the standing "
                                                      "order's own lines no longer reach it)"})
    changed_at = fields.DateTime(required=True, allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "Send it back with a change"})
    order_id = fields.Integer(required=True, allow_none=True)


class DraftPage(Schema):
    items = fields.Nested(DraftOut, many=True, required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
