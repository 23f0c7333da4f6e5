"""What the portal tests share: the test configuration, signing in, API credentials, raw counts.

One module every test imports from (tests/portal/factories.py makes the rows).
"""
from __future__ import annotations

import base64

from sqlalchemy import text

from portal.accounts import sessions as auth
from tests.portal import factories
from tests.portal.factories import PASSWORD

BASE_CONFIG = {
    "TRELLIS_ENV": "testing",
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_PROFILE": "cheapest",
    "SECRET_KEY": "test-secret",
}


def sign_in(client, user, password=factories.PASSWORD):
    """Sign in through the real login form; returns the response."""
    return client.post("/login", data={"email": user.email, "password": password})


def session_token_for(app, user, password=factories.PASSWORD) -> str:
    """Open a server-side session through the service and return its token."""
    from portal.db import session_factory

    with app.app_context(), session_factory()() as s:
        _user, token = auth.login(s, user.email, password)
    return token


def attach_token(client, token: str) -> None:
    """Put a session token into the client's cookie, as Flask-Login does at sign-in."""
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True


def raw_count(db, table: str) -> int:
    return db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def basic(email, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def issue(client, user, password=PASSWORD):
    response = client.post("/api/v1/tokens", headers=basic(user.email, password))
    assert response.status_code == 201, response.json
    return response.json["token"]
