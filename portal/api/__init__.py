"""The JSON API under /api/v1: one OpenAPI document, the same services as the pages."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api as _Api

from portal.extensions import csrf


class Api(_Api):
    """flask-smorest's Api, leaving error responses to the app's one JSON error handler."""

    def _register_error_handlers(self):
        pass


def register_api(app: Flask) -> Api:
    from portal.api import auth, orders

    api = Api(app, spec_kwargs={"info": {"description": "Trellis partner portal API."}})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "A token from POST /api/v1/tokens"}
    )
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    for blp in auth.blueprints + orders.blueprints:
        csrf.exempt(blp)  # CSRF is enforced in authenticate() for cookie-authenticated calls
        api.register_blueprint(blp)
    app.extensions["trellis.api"] = api
    return api
