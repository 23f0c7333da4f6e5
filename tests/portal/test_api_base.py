"""The JSON API base: tokens, /me, JSON errors, the OpenAPI document."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from portal.models import ApiToken
from tests.portal.factories import PASSWORD
from tests.portal.helpers import basic, bearer, issue, sign_in


def test_token_is_issued_for_basic_credentials_and_identifies_the_caller(client, f, db):
    user = f.user(name="Api Buyer")
    token = issue(client, user)
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["email"] == user.email and me.json["partner"]["code"] == user.partner.code
    stored = db.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_answers_to_token_holders_are_not_cached(client, f):
    token = issue(client, f.user())
    assert client.get("/api/v1/me", headers=bearer(token)).headers["Cache-Control"] == "no-store"


def test_wrong_credentials_get_a_json_401(client, f):
    user = f.user()
    response = client.post("/api/v1/tokens", headers=basic(user.email, "wrong password"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_without_credentials_is_401_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert set(response.json["error"]) >= {"code", "message"}


def test_revoked_token_stops_working(client, f):
    token = issue(client, f.user())
    assert client.delete("/api/v1/tokens", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.delete("/api/v1/tokens", headers=bearer(token)).status_code == 401


def test_token_expires(app, client, f):
    token = issue(client, f.user())
    later = datetime.now(UTC) + timedelta(hours=app.config["API_TOKEN_HOURS"], minutes=1)
    with time_machine.travel(later, tick=False):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_token_of_a_deactivated_user_stops_working(client, f, db):
    user = f.user()
    token = issue(client, user)
    user.active = False
    db.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/tokens", "/api/v1/me"} <= set(spec["paths"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_cookie_session_also_works_for_api_reads(client, f):
    user = f.user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/api/v1/me").json["email"] == user.email


def test_password_change_revokes_api_tokens_issued_before(app, client, f):
    user = f.user()
    token = issue(client, user)
    browser = app.test_client()
    sign_in(browser, user)
    response = browser.post("/account", data={
        "current_password": PASSWORD, "password": "a brand new passphrase", "confirm": "a brand new passphrase",
    })
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    fresh = issue(client, user, "a brand new passphrase")
    assert client.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_token_of_a_user_deactivated_by_their_partner_admin_stays_dead_after_reactivation(app, client, f):
    owner = f.user(role="partner_admin")
    colleague = f.user(partner=owner.partner)
    token = issue(client, colleague)
    admin_client = app.test_client()
    sign_in(admin_client, owner)
    assert admin_client.post(f"/company/users/{colleague.id}/deactivate").status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert admin_client.post(f"/company/users/{colleague.id}/activate").status_code == 302
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(issue(client, colleague))).status_code == 200


def test_token_requests_are_limited_per_email_even_from_new_addresses(make_app, f):
    app = make_app(LOGIN_RATE_LIMIT_IP="100 per minute")  # LOGIN_RATE_LIMIT_EMAIL: 5 per 10 minutes
    user = f.user()
    client = app.test_client()
    codes = [client.post("/api/v1/tokens", headers=basic(user.email, "wrong password"),
                         environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    response = client.post("/api/v1/tokens", headers=basic(user.email.upper(), PASSWORD),
                           environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    # Another account is not locked out.
    other = f.user()
    assert client.post("/api/v1/tokens", headers=basic(other.email, PASSWORD),
                       environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 201


def test_issued_tokens_do_not_count_against_the_email(make_app, f):
    app = make_app(LOGIN_RATE_LIMIT_EMAIL="2 per 10 minutes")
    user = f.user()
    client = app.test_client()
    for _n in range(4):
        issue(client, user)


def test_failed_token_requests_and_web_sign_ins_share_the_per_email_limit(make_app, f):
    app = make_app(LOGIN_RATE_LIMIT_EMAIL="3 per 10 minutes", LOGIN_RATE_LIMIT_IP="100 per minute")
    user = f.user()
    client = app.test_client()
    for n in range(3):
        assert client.post("/api/v1/tokens", headers=basic(user.email, "wrong password"),
                           environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code == 401
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.99"})
    assert response.status_code == 429
