"""Trellis: the partner-account portal. ``create_app`` builds the Flask application."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import Connection, Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import db
from portal.config import load_config
from portal.core.labels import label
from portal.core.types import MAX_ROW_ID
from portal.extensions import babel, csrf, limiter, login_manager
from portal.web import errors, formatting
from portal.web.guards import CookieSessionInterface, register_body_limit, register_client_address

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
    register_body_limit(app)  # the first before_request: nothing reads the body before it
    register_database(app)
    register_client_address(app)
    register_extensions(app)
    register_blueprints(app)
    errors.register_errors(app)
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
    formatting.register(app)
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


def _select_locale() -> str | None:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return None  # CLI and jobs: the default locale
    # The signed-in user's own choice (account page or footer), then the footer's choice of a
    # signed-out visitor (kept in the session), then the browser's Accept-Language.
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages)


def register_blueprints(app: Flask) -> None:
    from portal.accounts import api as accounts_api
    from portal.accounts.address_views import bp as addresses_bp
    from portal.accounts.admin_views import bp as admin_bp
    from portal.accounts.people_views import bp as people_bp
    from portal.accounts.views import bp as auth_bp
    from portal.catalog.admin_views import bp as catalog_admin_bp
    from portal.home.views import bp as main_bp
    from portal.ordering import api as ordering_api
    from portal.ordering.shop_views import bp as catalog_bp
    from portal.ordering.staff_views import bp as manage_bp
    from portal.ordering.views import bp as orders_bp
    from portal.recurring import api as recurring_api
    from portal.recurring.staff_views import bp as standing_runs_bp
    from portal.recurring.views import bp as recurring_bp
    from portal.referrals import api as referrals_api
    from portal.referrals.staff_views import bp as referral_pipeline_bp
    from portal.referrals.views import bp as referrals_bp
    from portal.web.api import register_api
    from portal.workspace import api as workspace_api
    from portal.workspace import forecast_api
    from portal.workspace.forecast_views import bp as forecasts_bp
    from portal.workspace.partner_views import bp as workspace_bp
    from portal.workspace.relationship_views import bp as relationship_bp
    from portal.workspace.views import bp as tasks_bp

    for blueprint in (main_bp, auth_bp, people_bp, addresses_bp, catalog_bp, orders_bp, manage_bp,
                      admin_bp, catalog_admin_bp, workspace_bp, tasks_bp, recurring_bp, referrals_bp,
                      referral_pipeline_bp, forecasts_bp, standing_runs_bp, relationship_bp):
        app.register_blueprint(blueprint)
    from portal.accounts import tokens

    # The API base resolves bearer tokens through accounts without importing it.
    app.extensions["trellis.bearer_loader"] = tokens.user_for
    from portal.notifications import outbox

    # Accounts (reset links, invitations) queue emails in the outbox without importing it.
    app.extensions["trellis.queue_email"] = outbox.queue_email
    from portal.referrals import rewards

    # A referred partner's delivered order grants its referrer's reward (ordering calls back).
    rewards.install()
    register_api(app, accounts_api.blueprints + ordering_api.blueprints + recurring_api.blueprints
                 + referrals_api.blueprints + forecast_api.blueprints + workspace_api.blueprints)


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
    from portal.recurring import cli as recurring_cli
    from portal.referrals import cli as referrals_cli
    from portal.workspace import cli as forecasts_cli

    for group in (*accounts_cli.groups, demo_cli.group, ordering_cli.group, notifications_cli.group,
                  recurring_cli.group, referrals_cli.group, forecasts_cli.group):
        app.cli.add_command(group)
