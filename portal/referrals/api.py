"""Referrals for API clients: partner users send and follow theirs; staff work the pipeline."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_smorest import abort
from sqlalchemy import select

from portal.accounts.mail import queue_email_from
from portal.accounts.models import Partner
from portal.core.access import Actor
from portal.core.errors import NotFound, ServiceError
from portal.core.paging import paginate
from portal.db import get_session
from portal.referrals import conversion, intake, pipeline, rewards
from portal.referrals.limits import per_user_limit
from portal.referrals.models import OPEN_STATUSES, Referral
from portal.referrals.schemas import (
    ConvertIn,
    ConvertOut,
    ReferralIn,
    ReferralOut,
    ReferralPage,
    ReferralPatch,
    ReferralQuery,
)
from portal.web.api import Blueprint, authenticate, fail, page_json
from portal.web.guards import actor, public_url
from portal.web.schemas import ApiError, IdempotencyHeader

blp = Blueprint("referrals_api", __name__, url_prefix="/api/v1/referrals",
                description="Referrals: retailers recommended by partners, tracked to new partners")
blueprints = [blp]
SECURITY = [{"bearerAuth": []}]
_FIELDS = {"idempotency_key": ("headers", "Idempotency-Key")}


@blp.before_request
def _authenticate():
    authenticate()


def _json(referral: Referral, me: Actor, reward: rewards.RewardView | None | bool = False) -> dict:
    """The referral as the caller may see it; ``reward`` read here unless given (lists pass it)."""
    if reward is False:
        reward = rewards.for_referrals(get_session(), [referral.id]).get(referral.id)
    out = {key: getattr(referral, key) for key in (
        "id", "company_name", "contact_name", "email", "phone", "website", "city", "note", "source",
        "status", "created_at")}
    out["duplicate"] = referral.status == "duplicate"
    out["reward"] = None if reward is None else {
        "state": reward.state, "amount": reward.amount, "remaining": reward.remaining,
        "granted_at": reward.granted_at}
    out.update(referrer_id=None, manager_id=None, score=None, score_reasons=None, reject_reason=None)
    if me.is_staff:
        out.update(referrer_id=referral.referrer_id, manager_id=referral.manager_id, score=referral.score,
                   reject_reason=referral.reject_reason,
                   score_reasons=[{"code": code, "points": points} for code, points in referral.score_reasons])
    return out


def _staff() -> Actor:
    me = actor()
    if not me.is_staff:
        abort(403, message=_("Only account managers and administrators work on referrals."))
    return me


def _get(referral_id: int) -> Referral:
    me = actor()
    try:
        if me.is_staff:
            return pipeline.get(get_session(), me, referral_id)
        referral = get_session().scalar(pipeline.visible(select(Referral), me).where(Referral.id == referral_id))
        if referral is None:
            raise NotFound(_("No such referral."),
                                    foreign=get_session().get(Referral, referral_id) is not None)
        return referral
    except ServiceError as err:
        fail(err)


@blp.route("")
class Referrals(MethodView):
    decorators = [per_user_limit()]  # POST only: shared with the signed-in form
    @blp.arguments(ReferralQuery(), location="query")
    @blp.response(200, ReferralPage)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(422, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="listReferrals")
    def get(self, args):
        """Partner users: their company's referrals. Staff: the referrals they work on."""
        me = actor()
        stmt = pipeline.visible(select(Referral), me)
        status = args.get("status")
        if status == "open":
            stmt = stmt.where(Referral.status.in_(OPEN_STATUSES))
        elif status:
            stmt = stmt.where(Referral.status == status)
        page = paginate(get_session(), stmt.order_by(Referral.created_at.desc(), Referral.id.desc()),
                        page=args["page"], per_page=pipeline.PER_PAGE)
        earned = rewards.for_referrals(get_session(), [r.id for r in page.items])
        return page_json([_json(r, me, earned.get(r.id)) for r in page.items], page, args["page"])

    @blp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
    @blp.arguments(ReferralIn())
    @blp.response(201, ReferralOut)
    @blp.alt_response(200, schema=ReferralOut, description="Replay: the referral first sent with this key")
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="The key was used for a different referral")
    @blp.alt_response(422, schema=ApiError)
    @blp.alt_response(400, schema=ApiError)
    @blp.alt_response(413, schema=ApiError)
    @blp.alt_response(429, schema=ApiError, description="Too many referrals from this user (REFERRAL_RATE_LIMIT_USER)")
    @blp.doc(security=SECURITY, operationId="createReferral")
    def post(self, body, idempotency_key):
        """Recommend a retailer. Retrying with the same Idempotency-Key never sends a second one.

        A company already known (a partner, or an open referral) is stored with status
        `duplicate`."""
        me = actor()
        if me.partner_id is None:
            abort(403, message=_("Only partner users can use this endpoint."))
        db = get_session()
        try:
            referral, created = intake.submit(
                db, db.get(Partner, me.partner_id), intake.ReferralData(**body), key=idempotency_key,
                source="api", submitted_by_id=me.user_id)
        except ServiceError as err:
            fail(err, _FIELDS)
        return _json(referral, me), 201 if created else 200


@blp.route("/<int:referral_id>")
class OneReferral(MethodView):
    @blp.response(200, ReferralOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="getReferral")
    def get(self, referral_id):
        """One referral (internal notes are never shown to partner users)."""
        return _json(_get(referral_id), actor())

    @blp.arguments(ReferralPatch())
    @blp.response(200, ReferralOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(422, schema=ApiError, description="An illegal transition, a rejection without reason")
    @blp.alt_response(400, schema=ApiError)
    @blp.alt_response(413, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="updateReferral")
    def patch(self, body, referral_id):
        """Staff: change the status (with a note; required to reject) and/or assign a manager; a
        note without a status is kept as an internal note."""
        me, db = _staff(), get_session()
        _get(referral_id)
        if "manager_id" in body and body["manager_id"] not in {m.id for m in pipeline.managers(db)}:
            fail(ServiceError(_("Choose an active account manager."), field="manager_id"))
        try:  # the manager is checked first, so a refused status leaves the assignment unmade too
            if "status" in body:
                pipeline.change_status(db, me, referral_id, body["status"], note=body["note"])
            if "manager_id" in body:
                pipeline.assign(db, me, referral_id, body["manager_id"])
            if "status" not in body and body["note"].strip():  # a note alone: an internal note
                pipeline.add_note(db, me, referral_id, body["note"])
        except ServiceError as err:
            fail(err)
        return _json(pipeline.get(db, me, referral_id), me)


@blp.route("/<int:referral_id>/convert")
class Convert(MethodView):
    @blp.arguments(ConvertIn())
    @blp.response(201, ConvertOut)
    @blp.alt_response(401, schema=ApiError)
    @blp.alt_response(403, schema=ApiError)
    @blp.alt_response(404, schema=ApiError)
    @blp.alt_response(409, schema=ApiError, description="Not open any more, or the partner code is taken")
    @blp.alt_response(422, schema=ApiError)
    @blp.alt_response(400, schema=ApiError)
    @blp.alt_response(413, schema=ApiError)
    @blp.doc(security=SECURITY, operationId="convertReferral")
    def post(self, body, referral_id):
        """Staff: make the referral's company a partner, credited to the referrer (once only)."""
        me, db = _staff(), get_session()
        _get(referral_id)
        try:
            done = conversion.convert(
                db, me, referral_id, conversion.NewPartner(**body),
                link_for=lambda token: public_url("auth.accept_invitation", token=token),
                queue_email=queue_email_from(current_app), locale=str(get_locale() or "en"))
        except ServiceError as err:
            fail(err)
        return {"referral": _json(pipeline.get(db, me, referral_id), me), "partner_id": done.partner.id,
                "partner_code": done.partner.code, "invited": done.invited,
                "invitation_error": done.invitation_error}, 201
