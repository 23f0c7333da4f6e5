"""English or Polish: signed-out pages follow Accept-Language or the footer's choice; a user's
choice is kept on the account, across sessions and devices, over Accept-Language."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEvent, User
from tests.portal.helpers import sign_in

POLISH = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}
SIGN_IN_PL = "Zaloguj się"


def test_signed_out_pages_follow_accept_language(client):
    assert SIGN_IN_PL in client.get("/login", headers=POLISH).text
    assert '<html lang="pl">' in client.get("/login", headers=POLISH).text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert "Sign in" in english and SIGN_IN_PL not in english


def test_the_footer_switcher_works_signed_out_and_goes_back(client):
    page = client.get("/login?next=/orders").text
    assert 'action="/language"' in page and 'value="pl"' in page
    response = client.post("/language", data={"locale": "pl", "next": "/login?next=/orders"})
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/orders"
    assert SIGN_IN_PL in client.get("/login").text  # and it beats Accept-Language
    assert SIGN_IN_PL in client.get("/login", headers={"Accept-Language": "en"}).text
    client.post("/language", data={"locale": "en", "next": "/login"})
    assert SIGN_IN_PL not in client.get("/login", headers=POLISH).text


def test_the_switcher_goes_back_only_to_this_site_and_ignores_unknown_languages(app, client):
    odd = client.post("/language", data={"locale": "de", "next": "/login"})
    assert odd.status_code == 302 and odd.headers["Location"] == "/login"
    assert "Sign in" in client.get("/login").text
    away = client.post("/language", data={"locale": "pl", "next": "https://evil.example/"})
    assert away.headers["Location"] == "/"
    assert client.post("/language", data={"locale": "pl", "next": "//evil.example"}).headers["Location"] == "/"
    assert SIGN_IN_PL in client.get("/login").text


def test_the_switcher_needs_the_csrf_token(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    client.get("/login")
    assert client.post("/language", data={"locale": "pl", "next": "/login"}).status_code == 400


def test_a_users_choice_is_kept_audited_and_overrides_accept_language(app, f, db):
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    assert 'id="locale"' in client.get("/account").text
    response = client.post("/language", data={"locale": "pl", "next": "/account"})
    assert response.headers["Location"] == "/account"
    page = client.get("/account", headers={"Accept-Language": "en"}).text
    assert "Twoje konto" in page and "Język zapisany" in page
    db.expire_all()
    assert db.get(User, user.id).locale == "pl"
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "locale_changed")).all()
    assert event.actor_id == user.id and event.detail == {"previous": "en", "locale": "pl"}
    # Another device, another session, a browser asking for English: Polish still.
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    assert "Twoje konto" in elsewhere.get("/account", headers={"Accept-Language": "en"}).text
    # Signing out keeps the sign-in page in the user's language.
    elsewhere.post("/logout")
    assert SIGN_IN_PL in elsewhere.get("/login", headers={"Accept-Language": "en"}).text


def test_the_footer_switcher_changes_a_signed_in_users_language_too(app, f, db):
    user = f.user(locale="pl")
    client = app.test_client()
    sign_in(client, user)
    client.post("/language", data={"locale": "en", "next": "/dashboard"})
    db.expire_all()
    assert db.get(User, user.id).locale == "en"
    assert "Your account" in client.get("/account", headers={"Accept-Language": "pl"}).text


def test_a_choice_made_signed_out_survives_signing_in_failed_attempts(client, f):
    client.post("/language", data={"locale": "pl", "next": "/login"})
    assert SIGN_IN_PL in client.post("/login", data={"email": "x@example.test", "password": "y" * 12}).text
