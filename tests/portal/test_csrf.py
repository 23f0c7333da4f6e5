"""CSRF: every state-changing route refuses a request without a token."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.portal.conftest import attach_token, session_token_for


def _fill(rule) -> str:
    values = {name: 1 if isinstance(rule._converters[name], IntegerConverter) else "x"
              for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_every_post_route_without_token_is_refused(csrf_app, f, db):
    admin = f.user(role="admin")
    client = csrf_app.test_client()
    attach_token(client, session_token_for(csrf_app, admin))
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        methods = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if not methods or rule.rule.startswith("/api/"):
            continue  # the API is covered below: bearer tokens, not cookies
        for method in methods:
            response = client.open(_fill(rule), method=method, data={"x": "1"})
            assert response.status_code == 400, f"{method} {rule.rule} -> {response.status_code}"
            checked += 1
    assert checked >= 6


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
