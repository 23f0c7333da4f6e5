"""The error pages and JSON errors every request can end in, and the foreign-row 404 marker."""
from __future__ import annotations

import logging
from typing import NoReturn

from flask import Flask, abort, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from portal import db
from portal.extensions import login_manager
from portal.web.schemas import error_details

log = logging.getLogger(__name__)


def mark_foreign_row() -> None:
    """This request's 404 is for a row that exists but is another's: the app's error handler
    answers it like any 404 and audits the attempt (``authz_denied``, as a 403 is)."""
    g.foreign_row = True


def not_found(*, foreign: bool = False) -> NoReturn:
    """Answer 404; for another partner's row the answer is the same, but audited."""
    if foreign:
        mark_foreign_row()
    abort(404)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register_errors(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        401: lambda: _("Sign in to continue."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("The upload is too large."),
        422: lambda: _("Some of the data sent is missing or not valid; see the details."),
        429: lambda: _("Too many attempts. Wait a few minutes and try again."),
        500: lambda: _("Something went wrong on our side. It has been logged."),
        503: lambda: _("The service is temporarily unavailable. Try again shortly."),
    }

    def render(code: int, message: str | None = None, error_code: str | None = None,
               details: dict | None = None):
        # A 4xx without its own message is still the client's mistake, never "our side".
        message = message or messages.get(code, messages[400 if code < 500 else 500])()
        if _wants_json():
            body = {"error": {"code": error_code or _error_code(code), "message": message}}
            if details:
                body["error"]["details"] = details
            response = make_response(jsonify(body), code)
            if code == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="trellis"'
            return response
        try:
            page = render_template("web/error.html", code=code, message=message)
        except Exception:  # the page itself broke (a template, the locale): answer anyway
            log.exception("could not render the %s error page", code)
            page = _FALLBACK_PAGE.format(code=code, message=escape(message))
        return make_response(page, code)

    def render_failure(code: int):
        """A 5xx page that cannot fail: the session is discarded and nothing asks the database."""
        try:
            session = g.pop("db_session", None)
            if session is not None:
                session.close()  # rolls back; a broken connection is returned to the pool
        except Exception:
            log.exception("could not discard the request's database session")
        # Render the page for nobody: the signed-in user's attributes would be reloaded from the
        # session just discarded (Flask-Login keeps the request's user in g._login_user).
        g._login_user = login_manager.anonymous_user()
        try:
            return render(code)
        except Exception:
            log.exception("could not render the %s error", code)
            return make_response(_FALLBACK_PAGE.format(code=code, message=""), code)

    @app.before_request
    def refuse_nul():
        # One rule for every form, query string, upload name and basic-auth credential: no text
        # field of the portal can hold a NUL character (PostgreSQL text cannot store one).
        if _carries_nul():
            return render(400, _("The request contains a character that is not allowed (NUL)."),
                          "invalid_character")
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        message = _("The form has expired or was not sent from this site. Reload and try again.")
        return render(400, message, "csrf_failed")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code == 403 or (err.code == 404 and g.pop("foreign_row", False)):
            _audit_denial(err.code)
        data = getattr(err, "data", None) or {}
        # webargs puts validation errors in data["messages"]; services' messages in "message".
        response = render(err.code or 500, data.get("message"), data.get("error_code"),
                          error_details(data.get("errors") or data.get("messages")))
        if err.code == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        if err.code == 429 and getattr(err, "retry_after", None):
            response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.errorhandler(OperationalError)  # connection lost, server down, deadlock, lock timeout
    @app.errorhandler(PoolTimeoutError)  # every connection of the pool busy
    def database_unavailable(err: Exception):
        # Worth retrying, so 503 rather than 500; the traceback says which of the causes it was.
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  getattr(err, "orig", err), exc_info=err)
        return render_failure(503)

    @app.errorhandler(RedisError)
    def limiter_storage_unavailable(err: Exception):
        # The rate limiter's storage is down. Sign-in and token issue answer 503 rather than
        # going on without a limit (RATELIMIT_SWALLOW_ERRORS stays off on purpose): a limiter
        # that silently stops counting would let password guessing through.
        log.error("rate-limit storage unavailable on %s %s: %s", request.method, request.path, err)
        return render_failure(503)

    @app.errorhandler(Exception)
    def unhandled(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_failure(500)


_FALLBACK_PAGE = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Error {code}</title>"
                  "</head><body><h1>{code}</h1><p>{message}</p></body></html>")


def _carries_nul() -> bool:
    texts = [text for pair in (*request.args.items(multi=True), *request.form.items(multi=True))
             for text in pair]
    texts += [f"{name}{file.filename or ''}" for name, file in request.files.items(multi=True)]
    auth = request.authorization
    if auth is not None:
        texts += [auth.username or "", auth.password or ""]
    return any("\x00" in text for text in texts)


def _error_code(status: int) -> str:
    return {
        400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
        405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
        429: "rate_limited", 503: "unavailable",
    }.get(status, "bad_request" if status < 500 else "server_error")


def _audit_denial(status: int) -> None:
    from portal.core import audit

    try:
        api_user = g.get("api_user")  # a bearer-token caller has no Flask-Login user
        actor = (api_user.id if api_user is not None else
                 current_user.id if current_user.is_authenticated else None)
        audit.record_denial(db.get_session(), actor_id=actor, path=request.path,
                            ip=request.remote_addr, status=status)
    except Exception:  # the denial itself must still be answered
        log.exception("could not audit an authorization denial")
