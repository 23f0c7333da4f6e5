"""The JSON API under /api/v1: one OpenAPI document, the same services as the pages."""
from __future__ import annotations

import json
from typing import Any

from apispec import BasePlugin
from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest import abort as smorest_abort
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from portal.core.errors import Conflict, NotFound
from portal.db import get_session
from portal.extensions import csrf
from portal.web.errors import mark_foreign_row
from portal.web.schemas import ApiError


class Api(_Api):
    """flask-smorest's Api, leaving error responses to the app's one JSON error handler.

    That handler answers {"error": {"code", "message", "details"}}, so the document's default
    and 422 responses describe that body rather than flask-smorest's own error schema.
    """

    ERROR_SCHEMA = ApiError

    def _register_error_handlers(self):
        pass

    def _register_pagination_header(self):
        pass  # no X-Pagination here (pages are in the body); it would add an unused schema

    def _init_spec(self, **kwargs):
        super()._init_spec(extra_plugins=[_ErrorHeaders()], **kwargs)
        self.ma_plugin.converter.add_attribute_function(nullable_reference)


def nullable_reference(self, field, ret: dict) -> dict:
    """A nullable nested schema as OpenAPI 3.0 tools read it: {allOf: [{$ref}], nullable: true}.

    apispec writes anyOf [{type: object, nullable: true}, {$ref}] instead, which also admits any
    object, so generated clients type the field as a free-form dict. No `type` beside nullable:
    openapi-python-client then drops the null (it reads allOf + type object as an object).
    """
    any_of = ret.get("anyOf")
    if (self.openapi_version.major, self.openapi_version.minor) != (3, 0) or not field.allow_none \
            or not isinstance(any_of, list) or {"type": "object", "nullable": True} not in any_of:
        return {}
    refs = [schema for schema in any_of if set(schema) == {"$ref"}]
    if len(refs) != 1 or len(any_of) != 2:
        return {}
    del ret["anyOf"]
    return {"nullable": True, "allOf": refs}


class _ErrorHeaders(BasePlugin):
    """Document the headers the error handler adds: WWW-Authenticate on 401, Retry-After on 429."""

    HEADERS = {
        "401": {"WWW-Authenticate": {
            "description": 'The scheme to authenticate with: `Bearer realm="trellis"`.',
            "schema": {"type": "string"}}},
        "429": {"Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0}}},
    }

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                headers = self.HEADERS.get(str(status))
                if headers and isinstance(response, dict) and "$ref" not in response:
                    response.setdefault("headers", {}).update(headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class JsonParser(FlaskParser):
    """webargs' parser, with a 400 for every body that is not standard JSON.

    Python's json module accepts NaN and Infinity, and raises RecursionError (deep nesting) or a
    plain ValueError (integers over 4300 digits) that webargs would let through as a 500.
    """

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        if not raw:
            return core.missing
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError too
            abort(400, exc=err, message=_("The request body is not valid JSON."),
                  messages={"json": [str(err)[:200]]})


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint with the strict JSON parser."""

    ARGUMENTS_PARSER = JsonParser()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate():
    """Resolve the caller from a bearer token, or from the session cookie plus CSRF token."""
    token = bearer_token()
    if token:
        user = current_app.extensions["trellis.bearer_loader"](get_session(), token)
        if user is None:
            abort(401)
        g.api_user = user
        return None
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # cookies are ambient, so cookie-authenticated writes need CSRF
        g.api_user = current_user._get_current_object()
        return None
    abort(401)


def api_user():
    return g.api_user


DESCRIPTION = (
    "Trellis partner portal API. Lists answer `{items, total, page, pages}`; a `page` past the "
    "last one answers 200 with no items and the same totals. Errors answer "
    "`{\"error\": {\"code\", \"message\", \"details\"}}`; `details` is always "
    '`{"<location>": {"<field>": ["message", ...]}}` (see ApiErrorBody).'
)


def register_api(app: Flask, blueprints: list[Blueprint]) -> Api:
    """The API at /api/v1 with the features' blueprints (the factory passes them in)."""
    if "trellis.bearer_loader" not in app.extensions:
        raise RuntimeError("register a bearer-token loader (app.extensions['trellis.bearer_loader']) first")
    api = Api(app, spec_kwargs={"info": {"description": DESCRIPTION}})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "A token from POST /api/v1/tokens"}
    )
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    for blp in blueprints:
        csrf.exempt(blp)  # CSRF is enforced in authenticate() for cookie-authenticated calls
        api.register_blueprint(blp)
    app.extensions["trellis.api"] = api
    return api


def fail(err, fields: dict[str, tuple[str, str]] | None = None, status: int = 422):
    """Answer a ServiceError as the API's one error body: 404 (a foreign row audited), 409 for a
    conflict, else 422 with ``details`` in the schema errors' shape ({location: {field: [...]}}).
    ``fields`` maps a service field to where the client sent it (e.g. a header)."""
    if isinstance(err, NotFound):
        status = 404
        if err.foreign:
            mark_foreign_row()
    elif isinstance(err, Conflict):
        status = 409
    details = None
    if err.field or status == 422:
        location, field = (fields or {}).get(err.field, ("body", err.field or "_schema"))
        details = {location: {field: [str(err)]}}
    smorest_abort(status, message=str(err), error_code=err.code, errors=details)


def page_json(items, page, asked: int) -> dict:
    """A page as answered: past the last page, no items (the use cases answer the last page)."""
    if asked > page.page:
        return {"items": [], "total": page.total, "page": asked, "pages": page.pages}
    return {"items": items, "total": page.total, "page": page.page, "pages": page.pages}
