"""Forgotten passwords: a single-use link that expires, by email through the outbox; the same
answer for every email; every session and token ended; rate-limited and audited."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from flask_babel import force_locale, gettext
from sqlalchemy import select

from portal.accounts.models import PasswordReset
from portal.models import AuditEvent, Notification, User
from portal.notifications import outbox
from tests.portal.factories import PASSWORD
from tests.portal.helpers import bearer, issue, sign_in
from tests.portal.test_notifications import FakeMailer

NEW = "new quiet orchard lantern"


def ask(client, email, **kw):
    return client.post("/forgot-password", data={"email": email}, **kw)


def delivered(app, db) -> list[tuple[list[str], str, str]]:
    """Run the sender (as `flask notifications send` does) and return what it emailed."""
    mailer = FakeMailer()
    # End this test session's own read first: on PostgreSQL the app's commits live inside the
    # test's outer transaction, and the sender's opening rollback would otherwise undo them.
    db.commit()
    with app.app_context():
        outbox.send_pending(db, mailer=mailer)
    db.expire_all()
    return mailer.sent


def link_in(body: str) -> str:
    return re.search(r"http://127\.0\.0\.1:5000(/reset-password/[\w-]+)", body).group(1)


def request_link(app, db, user) -> str:
    assert ask(app.test_client(), user.email).status_code == 302
    [(to, _subject, body)] = delivered(app, db)
    assert to == [user.email]
    return link_in(body)


def choose(client, link, password=NEW, confirm=None):
    return client.post(link, data={"password": password, "confirm": confirm or password})


def test_the_sign_in_page_offers_a_reset(client):
    page = client.get("/login").text
    assert 'href="/forgot-password"' in page and "Forgot your password?" in page


def test_a_link_by_email_sets_a_new_password_once_and_the_user_signs_in_with_it(app, f, db):
    user = f.user()
    link = request_link(app, db, user)
    browser = app.test_client()
    assert "Choose a new password" in browser.get(link).text
    response = choose(browser, link)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Sign in with your new password" in browser.get("/login").text
    assert sign_in(app.test_client(), user, NEW).status_code == 302
    assert sign_in(app.test_client(), user, PASSWORD).status_code == 401
    # Single use: the link is spent, for a look and for a second try.
    assert browser.get(link).status_code == 404
    again = choose(app.test_client(), link, "another fine passphrase")
    assert again.status_code == 404 and "not valid any more" in again.text
    assert sign_in(app.test_client(), user, NEW).status_code == 302
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "password_reset_requested" in actions and "password_reset" in actions
    assert actions.count("password_reset_failed") == 2


def test_only_a_hash_of_the_token_is_stored_and_the_sent_email_forgets_the_link(app, f, db):
    user = f.user()
    link = request_link(app, db, user)
    token = link.rsplit("/", 1)[1]
    [reset] = db.scalars(select(PasswordReset)).all()
    assert token not in reset.token_hash and len(reset.token_hash) == 64
    [notification] = db.scalars(select(Notification)).all()
    assert notification.status == "sent" and token not in str(notification.payload)


def test_the_link_expires_after_an_hour(app, f, db):
    user = f.user()
    link = request_link(app, db, user)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        page = app.test_client().get(link)
        assert page.status_code == 404 and "Ask for a new link" in page.text
        assert choose(app.test_client(), link).status_code == 404
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "password_reset_failed")).all()
    assert {e.detail["reason"] for e in failed} == {"expired"} and failed[0].actor_id == user.id


def test_a_new_request_makes_the_earlier_link_worthless(app, f, db):
    user = f.user()
    first = request_link(app, db, user)
    second = request_link(app, db, user)
    assert choose(app.test_client(), first).status_code == 404
    assert choose(app.test_client(), second).status_code == 302


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(app, f, db):
    user = f.user()
    inactive = f.user(active=False)
    answers = []
    for email in (user.email, "nobody@example.test", inactive.email):
        client = app.test_client()
        posted = ask(client, email)
        page = client.get(posted.headers["Location"])
        answers.append((posted.status_code, posted.headers["Location"], page.status_code,
                        page.text.split("<main", 1)[1].split("</main>", 1)[0]))
    assert answers[0] == answers[1] == answers[2]
    assert "If the address belongs to an account" in answers[0][3]
    # Only the account that may sign in gets an email; every request is audited.
    assert [to for to, _s, _b in delivered(app, db)] == [[user.email]]
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "password_reset_requested")
                        .order_by(AuditEvent.id)).all()
    assert [(e.detail["sent"], e.detail.get("reason")) for e in events] == [
        (True, None), (False, "unknown_email"), (False, "user_inactive")]


def test_a_new_password_ends_every_session_and_api_token_of_the_user(app, f, db):
    user = f.user()
    signed_in = app.test_client()
    sign_in(signed_in, user)
    api = app.test_client()
    token = issue(api, user)
    link = request_link(app, db, user)
    assert choose(app.test_client(), link).status_code == 302
    assert signed_in.get("/dashboard").status_code == 302  # back to the sign-in page
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "password_reset")).all()
    assert event.detail == {"sessions_ended": 1, "api_tokens_revoked": 1}


def test_the_new_password_follows_the_policy(app, f, db):
    user = f.user(email="anna.kowalska@example.test")
    link = request_link(app, db, user)
    client = app.test_client()
    for password, message in (("short", "at least 12"), ("kowalska2024!!", "name or email"),
                              ("password1234", "most commonly used")):
        response = choose(client, link, password)
        assert response.status_code == 422 and message in response.text, password
    assert choose(client, link, NEW, confirm="something else").status_code == 422
    assert choose(client, link).status_code == 302  # the link survived the refusals


def test_a_deactivated_users_link_stops_working(app, f, db):
    user = f.user()
    link = request_link(app, db, user)
    db.get(User, user.id).active = False
    db.commit()
    assert choose(app.test_client(), link).status_code == 404


def test_requests_are_limited_per_email_and_per_address(make_app, f):
    app = make_app(RESET_RATE_LIMIT_EMAIL="2 per hour", RESET_RATE_LIMIT_IP="100 per hour")
    user = f.user()
    client = app.test_client()
    codes = [ask(client, user.email, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
             for n in range(3)]
    assert codes == [302, 302, 429]
    limited = ask(client, user.email.upper(), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert limited.status_code == 429 and "Too many attempts" in limited.text
    assert ask(client, "other@example.test").status_code == 302  # another email is not held up
    assert client.post("/forgot-password", data={"email": ""}).status_code == 422  # typos don't count
    by_address = make_app(RESET_RATE_LIMIT_IP="2 per hour").test_client()
    assert [ask(by_address, f"u{n}@example.test").status_code for n in range(3)] == [302, 302, 429]


def test_the_email_is_in_the_users_language_and_the_link_on_public_url(make_app, f, db):
    app = make_app(PUBLIC_URL="https://portal.example.test")
    user = f.user(locale="pl")
    assert ask(app.test_client(), user.email, base_url="http://evil.example").status_code == 302
    [(_to, subject, body)] = delivered(app, db)
    with app.test_request_context(), force_locale("pl"):
        assert subject == gettext("Set a new password for Trellis") != "Set a new password for Trellis"
    assert "https://portal.example.test/reset-password/" in body and "evil.example" not in body
    assert "Dzień dobry" in body


def test_a_reset_email_never_goes_to_the_company_admins_instead(app, f, db):
    """Deactivated between the request and the sending: the link is undeliverable, not passed on."""
    owner = f.user(role="partner_admin")
    buyer = f.user(partner=owner.partner)
    assert ask(app.test_client(), buyer.email).status_code == 302
    db.get(User, buyer.id).active = False
    db.commit()
    assert delivered(app, db) == []
