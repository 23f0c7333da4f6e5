"""API authentication: bearer tokens (issued for HTTP basic credentials) and /me."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, request
from flask_babel import gettext as _

from portal.accounts import tokens
from portal.accounts.schemas import MeOut, TokenOut
from portal.core.errors import AuthError
from portal.db import get_session
from portal.extensions import limiter
from portal.web.api import Blueprint, api_user, authenticate, bearer_token
from portal.web.schemas import ApiError

tokens_blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens",
                       description="Issue and revoke bearer tokens")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller")
blueprints = [tokens_blp, me_blp]


@tokens_blp.route("", methods=["POST"])
@tokens_blp.response(201, TokenOut)
@tokens_blp.alt_response(401, schema=ApiError)
@tokens_blp.alt_response(429, schema=ApiError)
@tokens_blp.doc(security=[{"basicAuth": []}], operationId="issueToken")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_IP"])
@limiter.failed_sign_ins_per_email(
    lambda: request.authorization.username if request.authorization else "", success_status=201
)
def issue_token():
    """Exchange HTTP basic credentials (email, password) for a bearer token."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        abort(401)
    lifetime = timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    try:
        token, row = tokens.issue(get_session(), auth.username, auth.password,
                                  lifetime=lifetime, ip=request.remote_addr)
    except AuthError:
        abort(401)
    return {"token": token, "expires_at": row.expires_at}


@tokens_blp.route("", methods=["DELETE"])
@tokens_blp.response(204)
@tokens_blp.alt_response(401, schema=ApiError)
@tokens_blp.doc(security=[{"bearerAuth": []}], operationId="revokeToken")
def revoke_token():
    """Revoke the bearer token used for this call."""
    token = bearer_token()
    if not token or not tokens.revoke(get_session(), token):
        abort(401)
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]  # no body, so no (JSON) content type either
    return response


@me_blp.route("", methods=["GET"])
@me_blp.response(200, MeOut)
@me_blp.alt_response(401, schema=ApiError)
@me_blp.doc(security=[{"bearerAuth": []}], operationId="getMe")
def me():
    """Who the caller is, and their company."""
    authenticate()
    user = api_user()
    return {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "locale": user.locale, "partner": user.partner,
    }


__all__ = ["authenticate", "api_user", "_"]
