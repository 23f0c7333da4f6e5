"""CSRF: every state-changing route refuses a request without a token."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.portal.helpers import attach_token, session_token_for


def _fill(rule) -> str:
    values = {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "x"
              for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


CSRF_MESSAGE = "The form has expired or was not sent from this site."
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# API routes that never look at the session cookie: credentials travel in the request itself.
API_WITHOUT_COOKIE_AUTH = {("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens")}


def _write_routes(app, *, api: bool):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") == api:
            for method in sorted(rule.methods & WRITES):
                yield method, rule


def test_every_post_route_without_token_is_refused(csrf_app, f, db):
    admin = f.user(role="admin")
    client = csrf_app.test_client()
    attach_token(client, session_token_for(csrf_app, admin))
    checked = 0
    for method, rule in _write_routes(csrf_app, api=False):
        response = client.open(_fill(rule), method=method, data={"x": "1"})
        assert response.status_code == 400, f"{method} {rule.rule} -> {response.status_code}"
        assert CSRF_MESSAGE in response.text, f"{method} {rule.rule}: not the CSRF error page"
        checked += 1
    assert checked >= 6


def test_every_cookie_authenticated_api_write_without_token_is_refused(csrf_app, f):
    buyer = f.user()
    client = csrf_app.test_client()
    attach_token(client, session_token_for(csrf_app, buyer))
    checked = 0
    for method, rule in _write_routes(csrf_app, api=True):
        response = client.open(_fill(rule), method=method, json={"lines": []},
                               headers={"Idempotency-Key": "k" * 20})
        if (method, rule.rule) in API_WITHOUT_COOKIE_AUTH:
            # The cookie alone does not count as credentials here.
            assert response.status_code == 401, f"{method} {rule.rule} -> {response.status_code}"
            continue
        assert response.status_code == 400, f"{method} {rule.rule} -> {response.status_code}"
        assert response.json["error"]["code"] == "csrf_failed", f"{method} {rule.rule}: {response.json}"
        checked += 1
    assert checked >= 3


def test_cookie_authenticated_api_write_with_the_csrf_header_gets_past_the_check(csrf_app, f):
    buyer = f.user()
    client = csrf_app.test_client()
    attach_token(client, session_token_for(csrf_app, buyer))
    page = client.get("/account").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/api/v1/orders/999999/cancel", headers={"X-CSRFToken": token})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_login_form_without_token_is_refused(csrf_app, f):
    user = f.user()
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "x"})
    assert response.status_code == 400
    assert "expired" in response.text


def test_logout_needs_a_post_with_token(csrf_app, f):
    user = f.user()
    client = csrf_app.test_client()
    attach_token(client, session_token_for(csrf_app, user))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200  # still signed in


def test_login_with_token_from_the_form_works(csrf_app, f):
    user = f.user()
    client = csrf_app.test_client()
    page = client.get("/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.status_code == 302
