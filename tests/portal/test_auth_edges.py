"""Sign-in edges: stored hashes kept current, password limits, a proxy's addresses, a lost database."""
from __future__ import annotations

import itertools
import logging

import pytest
from argon2 import PasswordHasher, Type, extract_parameters, profiles
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.accounts import passwords
from portal.core.errors import ServiceError
from portal.models import AuditEvent, User
from tests.portal.factories import PASSWORD
from tests.portal.helpers import BASE_CONFIG, sign_in
from tests.portal.test_app import signed_in_cookie
from tests.portal.test_people import invite

_seq = itertools.count(1)


# --- #18: a hash made with other argon2 parameters is replaced at the next sign-in ----------

# (the app's profile, a hasher of an older deployment, the parameters the app hashes with now)
REHASH_CASES = {
    "weaker-cost-argon2id-upgraded-to-the-production-profile": (
        "default", PasswordHasher.from_parameters(profiles.CHEAPEST), profiles.RFC_9106_LOW_MEMORY,
    ),
    "legacy-argon2i-upgraded-to-argon2id": (
        "cheapest",
        PasswordHasher(time_cost=2, memory_cost=16, parallelism=1, hash_len=16, salt_len=16,
                       type=Type.I),
        profiles.CHEAPEST,
    ),
}


@pytest.mark.parametrize("profile, old_hasher, current", REHASH_CASES.values(), ids=REHASH_CASES)
def test_sign_in_replaces_a_hash_made_with_other_parameters(make_app, f, db, profile, old_hasher,
                                                            current):
    app = make_app(PASSWORD_HASH_PROFILE=profile)
    user = f.user()
    old_hash = old_hasher.hash(PASSWORD)
    assert extract_parameters(old_hash) != current
    user.password_hash = old_hash
    db.commit()

    assert sign_in(app.test_client(), user, "not the password at all").status_code == 401
    db.expire_all()
    assert db.get(User, user.id).password_hash == old_hash  # a failed sign-in rewrites nothing

    assert sign_in(app.test_client(), user).status_code == 302
    db.expire_all()
    new_hash = db.get(User, user.id).password_hash
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    assert extract_parameters(new_hash) == current
    assert not passwords.needs_rehash(new_hash)
    assert passwords.verify_password(new_hash, PASSWORD)
    assert not passwords.verify_password(new_hash, PASSWORD + "x")

    # The same password still signs in, and a current hash is left as it is.
    assert sign_in(app.test_client(), user).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).password_hash == new_hash


# --- #16: the password policy's limits, wherever a password is chosen --------------------------

# The policy (portal.accounts.passwords) written out, so that loosening it fails here.
MIN_LENGTH = 12
MAX_LENGTH = 256


def password_of(length: int) -> str:
    """A password of exactly ``length`` characters, some of them not ASCII."""
    text = ("Zażółć gęślą jaźń, tremble ivory! " * (length // 30 + 1))[:length]
    assert len(text) == length
    return text


def choose_on_the_account_page(app, f, password):
    """A signed-in user changes their password; returns the answer and their email."""
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    response = client.post("/account", data={
        "current_password": PASSWORD, "password": password, "confirm": password,
    })
    return response, user.email


def choose_when_accepting_an_invitation(app, f, password):
    """An invitee sets their first password; returns the answer and their email."""
    owner = f.user(role="partner_admin")
    client = app.test_client()
    sign_in(client, owner)
    email = f"invitee{next(_seq)}@example.test"
    link = invite(client, email=email)
    response = app.test_client().post(link, data={
        "name": "New Colleague", "password": password, "confirm": password,
    })
    return response, email


WHERE = pytest.mark.parametrize("choose", [choose_on_the_account_page, choose_when_accepting_an_invitation],
                                ids=["account-page", "invitation"])


def signs_in(app, email, password) -> bool:
    response = app.test_client().post("/login", data={"email": email, "password": password})
    assert response.status_code in (302, 401), response.status_code
    return response.status_code == 302


def assert_refused(app, response, email, password, *messages):
    assert response.status_code == 422  # the form again, with the message at the field
    assert any(message in response.text for message in messages), response.text
    assert 'class="field-error"' in response.text
    assert not signs_in(app, email, password)


@WHERE
def test_the_shortest_allowed_password_is_accepted(app, f, choose):
    password = password_of(MIN_LENGTH)
    response, email = choose(app, f, password)
    assert response.status_code == 302
    assert signs_in(app, email, password)


@WHERE
def test_a_password_one_character_too_short_is_a_form_error(app, f, choose):
    password = password_of(MIN_LENGTH - 1)
    response, email = choose(app, f, password)
    assert_refused(app, response, email, password, f"Use at least {MIN_LENGTH} characters.")


@WHERE
@pytest.mark.parametrize("length", [64, MAX_LENGTH], ids=["64", "maximum"])
def test_a_long_password_is_kept_whole_and_signs_in(app, f, choose, length):
    password = password_of(length)
    response, email = choose(app, f, password)
    assert response.status_code == 302
    assert signs_in(app, email, password)
    # Every character counts: no silent truncation.
    assert not signs_in(app, email, password[:-1])
    assert not signs_in(app, email, password[:-1] + "#")


@WHERE
def test_a_password_one_character_over_the_maximum_is_a_form_error(app, f, choose):
    password = password_of(MAX_LENGTH + 1)
    response, email = choose(app, f, password)
    # The form's own check (WTForms) or the policy's: either names the limit.
    assert_refused(app, response, email, password, f"cannot be longer than {MAX_LENGTH} characters",
                   f"Use at most {MAX_LENGTH} characters.")


@WHERE
def test_a_password_with_a_nul_character_is_refused_with_a_400(app, f, choose):
    password = "a long pass\x00phrase"
    response, email = choose(app, f, password)
    # One rule for every form (portal.web.errors refuses NUL before any view runs).
    assert response.status_code == 400
    assert "not allowed (NUL)" in response.text
    assert not signs_in(app, email, password.replace("\x00", ""))  # nothing was stored


# --- #15: behind one trusted proxy, the per-address limit keys on what the proxy saw ----------

PROXY = {"REMOTE_ADDR": "10.0.0.1"}  # the proxy's own address: every request comes from it


def failed_sign_in_via_proxy(client, forwarded_for: str) -> int:
    return client.post(
        "/login", data={"email": f"nobody{next(_seq)}@example.test", "password": "x" * 12},
        headers={"X-Forwarded-For": forwarded_for}, environ_base=PROXY,
    ).status_code


def test_spoofed_left_hand_forwarded_for_entries_do_not_give_a_fresh_limit(make_app, db):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT_IP="3 per minute",
                   LOGIN_RATE_LIMIT_EMAIL="100 per minute")
    client = app.test_client()
    # The client makes up the left-hand entry; the proxy appends the address it saw, 10.0.0.9.
    codes = [failed_sign_in_via_proxy(client, f"1.2.3.{n}, 10.0.0.9") for n in range(3)]
    assert codes == [401, 401, 401]
    assert failed_sign_in_via_proxy(client, "203.0.113.77, 10.0.0.9") == 429
    assert failed_sign_in_via_proxy(client, "10.0.0.9") == 429  # no made-up entry: same counter
    assert failed_sign_in_via_proxy(client, "198.51.100.1, 10.0.0.66, 10.0.0.9") == 429
    # Another client behind the same proxy has its own limit.
    assert failed_sign_in_via_proxy(client, "1.2.3.0, 10.0.0.10") == 401
    ips = db.scalars(select(AuditEvent.ip).where(AuditEvent.action == "login_failed")).all()
    assert ips == ["10.0.0.9"] * 3 + ["10.0.0.10"]


# --- #41: a lost database is one logged error and a page without internals -------------------

def app_without_database():
    """As in test_app, but with the tests' settings (no CSRF) so that a sign-in is attempted."""
    return create_app({
        **BASE_CONFIG,
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1",
    })


def page_for_a_signed_in_browser(client):
    signed_in_cookie(client)
    return client.get("/dashboard")


def sign_in_form(client):
    return client.post("/login", data={"email": "someone@example.test", "password": PASSWORD})


def api_call(client):
    return client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"})


@pytest.mark.parametrize("request_", [page_for_a_signed_in_browser, sign_in_form, api_call],
                         ids=["page", "sign-in", "api"])
def test_an_unreachable_database_is_logged_once_with_its_traceback(caplog, request_):
    client = app_without_database().test_client()
    with caplog.at_level(logging.DEBUG):
        response = request_(client)
    assert response.status_code == 503
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    [record] = errors
    assert record.exc_info and isinstance(record.exc_info[1], OperationalError)
    assert "Traceback (most recent call last)" in caplog.text
    assert "unavailable" in record.getMessage()
    body = response.get_data(as_text=True)
    assert "temporarily unavailable" in body
    for internal in ("Traceback", 'File "', "OperationalError", "psycopg", "127.0.0.1", "nowhere"):
        assert internal not in body, internal


def test_guessing_the_current_password_on_the_account_page_is_limited_like_sign_in(make_app, f):
    """Wrong current passwords count against the sign-in limit per email; other mistakes do not."""
    app = make_app(LOGIN_RATE_LIMIT_EMAIL="5 per 10 minutes", LOGIN_RATE_LIMIT_IP="1000 per minute")
    user = f.user()
    client = app.test_client()
    sign_in(client, user)
    short = client.post("/account", data={"current_password": PASSWORD, "password": "short",
                                          "confirm": "short"})
    assert short.status_code == 422  # a policy mistake is no guess
    answers = [client.post("/account", data={"current_password": f"guess number {n}",
                                             "password": "a brand new passphrase",
                                             "confirm": "a brand new passphrase"}).status_code
               for n in range(7)]
    assert answers[:5] == [422] * 5 and answers[5:] == [429, 429]
    # the same counter guards the sign-in form for this email
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("password", ["password1234", "123456789012", "qwertyuiopas", "aaaaaaaaaaaa",
                                      "iloveyou1234", "Password1234"])
def test_common_and_guessable_passwords_are_refused(password):
    with pytest.raises(ServiceError) as refused:
        passwords.check_policy(password)
    assert refused.value.field == "password"


@pytest.mark.parametrize(("password", "email", "name"), [
    ("anna.kowalska-2026", "anna.kowalska@lakeside.test", "Anna Kowalska"),
    ("Kowalska rules the shop", "a.k@example.test", "Anna Kowalska"),
    ("lakeside grocers forever", "owner@lakeside.test", ""),
])
def test_passwords_built_from_the_persons_email_or_name_are_refused(password, email, name):
    with pytest.raises(ServiceError, match="name or email"):
        passwords.check_policy(password, email=email, name=name)


def test_a_few_unrelated_words_are_accepted_and_so_is_the_demo_password():
    passwords.check_policy("quiet orchard lantern", email="anna@lakeside.test", name="Anna Kowalska")
    passwords.check_policy("trellis-demo")


def test_the_account_page_refuses_a_password_built_from_the_users_own_email(app, f):
    user = f.user(email="marta.zielinska@example.test")
    client = app.test_client()
    sign_in(client, user)
    response = client.post("/account", data={"current_password": PASSWORD, "password": "zielinska-12345",
                                             "confirm": "zielinska-12345"})
    assert response.status_code == 422 and "name or email" in response.text
