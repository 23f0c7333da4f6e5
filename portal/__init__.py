"""Trellis: the partner-account portal. ``create_app`` builds the Flask application."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    g,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
    session,
)
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import db
from portal.config import load_config
from portal.core.labels import label
from portal.core.types import MAX_ROW_ID
from portal.extensions import babel, csrf, limiter, login_manager
from portal.web.guards import CookieSessionInterface
from portal.web.schemas import error_details

log = logging.getLogger(__name__)


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: only ids a PostgreSQL INTEGER key can hold match.

    A larger number in a URL is then no such page (404), not a query the database refuses
    (a 500). flask-smorest documents the bound (``maximum``) in the OpenAPI document.
    """

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass a mapping)."""
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"), instance_relative_config=True)
    app.config.update(load_config(Path(app.instance_path), config))
    app.session_interface = CookieSessionInterface()
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    register_database(app)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_security_headers(app)
    register_commands(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def register_database(app: Flask) -> None:
    bind: Engine | Connection | None = app.config.get("DB_BIND")
    if bind is None:
        bind = db.make_engine(app.config["DATABASE_URL"], lock_timeout_ms=app.config["DB_LOCK_TIMEOUT_MS"])
    app.extensions["trellis.engine"] = bind if isinstance(bind, Engine) else bind.engine
    app.extensions["trellis.session_factory"] = db.make_session_factory(bind)
    app.teardown_appcontext(db.close_session)


def register_extensions(app: Flask) -> None:
    from portal.accounts import passwords
    from portal.accounts import sessions as auth

    passwords.configure(app.config["PASSWORD_HASH_PROFILE"])
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    app.jinja_env.filters["money"] = _money
    app.jinja_env.filters["label"] = label

    @app.context_processor
    def template_globals():
        return {"lang": str(get_locale() or "en")}
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    policy = auth.SessionPolicy(
        idle=_minutes(app.config["SESSION_IDLE_MINUTES"]),
        absolute=_minutes(app.config["SESSION_MAX_HOURS"] * 60),
    )
    app.extensions["trellis.session_policy"] = policy

    @login_manager.user_loader
    def load_user(token: str):
        return auth.load_user(db.get_session(), token, policy=policy)


def _minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)


def _money(value) -> str:
    from flask import current_app

    return format_currency(value, current_app.config["CURRENCY"])


def _select_locale() -> str | None:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return None  # CLI and jobs: the default locale
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages)


def register_blueprints(app: Flask) -> None:
    from portal.accounts import api as accounts_api
    from portal.accounts.admin_views import bp as admin_bp
    from portal.accounts.people_views import bp as people_bp
    from portal.accounts.views import bp as auth_bp
    from portal.catalog.admin_views import bp as catalog_admin_bp
    from portal.home.views import bp as main_bp
    from portal.ordering import api as ordering_api
    from portal.ordering.shop_views import bp as catalog_bp
    from portal.ordering.staff_views import bp as manage_bp
    from portal.ordering.views import bp as orders_bp
    from portal.web.api import register_api
    from portal.workspace.views import bp as tasks_bp

    for blueprint in (main_bp, auth_bp, people_bp, catalog_bp, orders_bp, manage_bp, admin_bp,
                      catalog_admin_bp, tasks_bp):
        app.register_blueprint(blueprint)
    from portal.accounts import tokens

    # The API base resolves bearer tokens through accounts without importing it.
    app.extensions["trellis.bearer_loader"] = tokens.user_for
    register_api(app, accounts_api.blueprints + ordering_api.blueprints)


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
        return make_response(render_template("error.html", code=code, message=message), code)

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
        if "_login_user" not in g:
            # The user could not be loaded; render the page for nobody rather than asking the
            # database again (Flask-Login keeps the request's user in g._login_user).
            g._login_user = login_manager.anonymous_user()
        return render(503)

    @app.errorhandler(Exception)
    def unhandled(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render(500)


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


def register_security_headers(app: Flask) -> None:
    production = app.config["TRELLIS_ENV"] == "production"
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if production:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Private answers: a signed-in browser (the session cookie, not current_user: loading
        # the user here would query the database after the view, and a failing database must
        # not turn /healthz's 503 into a 500) or an API call with credentials.
        if session.get("_user_id") or request.authorization is not None:
            response.headers["Cache-Control"] = "no-store"
        return response


def register_commands(app: Flask) -> None:
    from portal.accounts import cli as accounts_cli
    from portal.demo import cli as demo_cli
    from portal.notifications import cli as notifications_cli
    from portal.ordering import cli as ordering_cli

    for group in (*accounts_cli.groups, demo_cli.group, ordering_cli.group, notifications_cli.group):
        app.cli.add_command(group)
