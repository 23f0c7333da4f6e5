"""Sign-in, sessions and passwords, as a user would meet them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from portal.models import AuditEvent, UserSession
from tests.portal.factories import PASSWORD
from tests.portal.helpers import attach_token, session_token_for, sign_in


def audit_actions(db, action):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_login_with_right_password_reaches_dashboard_and_is_audited(client, f, db):
    user = f.user(name="Ben Buyer")
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert "Hello, Ben Buyer" in page.text
    events = audit_actions(db, "login")
    assert [e.actor_id for e in events] == [user.id]


def test_email_is_case_insensitive_at_login(client, f):
    f.user(email="mixed@example.test")
    response = client.post("/login", data={"email": "  MIXED@Example.TEST ", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_shows_a_message_and_audits_the_failure(client, f, db):
    user = f.user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 401
    assert "Invalid email or password." in response.text
    assert client.get("/dashboard").status_code == 302  # still signed out
    [event] = audit_actions(db, "login_failed")
    assert event.actor_id == user.id and event.detail["reason"] == "bad_credentials"


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, db):
    response = client.post("/login", data={"email": "nobody@example.test", "password": "whatever12345"})
    assert response.status_code == 401
    assert "Invalid email or password." in response.text
    [event] = audit_actions(db, "login_failed")
    assert event.actor_id is None and event.detail["email"] == "nobody@example.test"


def test_inactive_user_cannot_sign_in(client, f):
    user = f.user(active=False)
    assert sign_in(client, user).status_code == 401


def test_user_of_a_paused_partner_cannot_sign_in(client, f):
    user = f.user(partner=f.partner(status="paused"))
    assert sign_in(client, user).status_code == 401


def test_replayed_cookie_after_logout_is_refused(app, f):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("trellis").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("trellis", cookie)
    response = thief.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_rotates_the_session(app, f, db):
    user = f.user()
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    sign_in(client, user)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        first_token = sess["_user_id"]
    client.post("/logout")
    sign_in(client, user)
    with client.session_transaction() as sess:
        assert sess["_user_id"] != first_token


def test_password_change_ends_other_sessions_and_keeps_this_one(app, f):
    user = f.user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    response = laptop.post("/account", data={
        "current_password": PASSWORD, "password": "a brand new passphrase", "confirm": "a brand new passphrase",
    })
    assert response.status_code == 302
    assert laptop.get("/dashboard").status_code == 200
    assert phone.get("/dashboard").status_code == 302
    fresh = app.test_client()
    assert sign_in(fresh, user, "a brand new passphrase").status_code == 302
    assert sign_in(app.test_client(), user, PASSWORD).status_code == 401


def test_password_change_needs_the_current_password(app, f):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    response = client.post("/account", data={
        "current_password": "not my password", "password": "a brand new passphrase",
        "confirm": "a brand new passphrase",
    })
    assert response.status_code == 422
    assert "The current password is not correct." in response.text
    assert sign_in(app.test_client(), user).status_code == 302  # old password still works


def test_too_short_new_password_is_a_form_error(app, f):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    response = client.post("/account", data={
        "current_password": PASSWORD, "password": "short", "confirm": "short",
    })
    assert "at least 12 characters" in response.text


def test_deactivated_user_is_signed_out_on_the_next_request(app, f, db):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    assert client.get("/dashboard").status_code == 200
    user.active = False
    db.commit()
    assert client.get("/dashboard").status_code == 302


def test_session_ends_after_idle_timeout(app, f):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    later = datetime.now(UTC) + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        assert client.get("/dashboard").status_code == 302


def test_session_ends_after_absolute_lifetime_even_when_active(app, f):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    start = datetime.now(UTC)
    hours = app.config["SESSION_MAX_HOURS"]
    # Busy every 30 minutes: never idle, but the session must still end.
    for step in range(1, hours * 2):
        with time_machine.travel(start + timedelta(minutes=30 * step), tick=False):
            assert client.get("/dashboard").status_code == 200
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        assert client.get("/dashboard").status_code == 302


def test_next_parameter_only_redirects_within_the_site(app, f):
    user = f.user()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client = app.test_client()
        response = client.post(f"/login?next={evil}", data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == "/dashboard", evil
    client = app.test_client()
    response = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_login_is_rate_limited_per_email_even_from_new_addresses(make_app, f):
    app = make_app(LOGIN_RATE_LIMIT_EMAIL="3 per 10 minutes", LOGIN_RATE_LIMIT_IP="100 per minute")
    user = f.user()
    client = app.test_client()
    for n in range(3):
        r = client.post("/login", data={"email": user.email, "password": "wrong password"},
                        environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert r.status_code == 401
    r = client.post("/login", data={"email": user.email, "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert r.status_code == 429
    assert "Too many attempts" in r.text
    # Another account on the same address is not locked out.
    other = f.user()
    r = client.post("/login", data={"email": other.email, "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert r.status_code == 302


def test_login_is_rate_limited_per_address(make_app, f):
    app = make_app(LOGIN_RATE_LIMIT_IP="4 per minute")
    client = app.test_client()
    codes = [client.post("/login", data={"email": f"u{n}@example.test", "password": "x" * 12}).status_code
             for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]


def test_spoofed_forwarded_for_does_not_escape_the_limit(make_app):
    app = make_app(LOGIN_RATE_LIMIT_IP="2 per minute")
    client = app.test_client()
    codes = [client.post("/login", data={"email": "a@example.test", "password": "x" * 12},
                         headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert codes[-1] == 429


def test_user_sessions_are_stored_hashed(app, f, db):
    user = f.user()
    token = session_token_for(app, user)
    stored = db.scalars(select(UserSession.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_token_attached_to_a_cookie_signs_in_until_logout(app, f):
    user = f.user()
    token = session_token_for(app, user)
    client = app.test_client()
    attach_token(client, token)
    assert client.get("/dashboard").status_code == 200
