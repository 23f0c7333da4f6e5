"""Factory, configuration, health check, error pages and security headers."""
from __future__ import annotations

import os
import stat

import pytest

from portal import create_app
from portal.config import ConfigError


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"TRELLIS_ENV": "production", "DATABASE_URL": "sqlite://"})


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 31)
    with pytest.raises(ConfigError, match="SECRET_KEY is too short for production: 31 characters, at least 32"):
        create_app({"TRELLIS_ENV": "production", "DATABASE_URL": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert create_app({"TRELLIS_ENV": "production", "DATABASE_URL": "sqlite://",
                       "PUBLIC_URL": "https://portal.example.test"}).config["SECRET_KEY"] == "k" * 32


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="TRELLIS_ENV"):
        create_app({"TRELLIS_ENV": "staging", "DATABASE_URL": "sqlite://"})


def test_development_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"TRELLIS_ENV": "development", "DATABASE_URL": "sqlite://"})
    second = create_app({"TRELLIS_ENV": "development", "DATABASE_URL": "sqlite://"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_development_key_file_is_private_from_the_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)  # no tightening afterwards
    old_umask = os.umask(0)
    try:
        create_app({"TRELLIS_ENV": "development", "DATABASE_URL": "sqlite://"})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode) == 0o600


def test_an_empty_development_key_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="secret_key is empty; delete it"):
        create_app({"TRELLIS_ENV": "development", "DATABASE_URL": "sqlite://"})


def test_environment_variables_configure_the_app(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = create_app({"TRELLIS_ENV": "testing"})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["DATABASE_URL"] == "sqlite://"


def test_production_cookies_and_headers(db_bind, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    app = create_app({"TRELLIS_ENV": "production", "DB_BIND": db_bind, "PASSWORD_HASH_PROFILE": "cheapest",
                      "PUBLIC_URL": "https://portal.example.test"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    response = app.test_client().get("/login", base_url="https://portal.example")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "charset=utf-8" in headers["Content-Type"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "rate_limit_storage": "ok"}


def app_without_database():
    return create_app({
        "TRELLIS_ENV": "testing",
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1",
    })


def signed_in_cookie(client):
    with client.session_transaction() as sess:
        sess["_user_id"] = "a-session-token"


def test_healthz_is_503_when_the_database_is_unreachable():
    response = app_without_database().test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


def test_healthz_is_503_for_a_signed_in_browser_when_the_database_is_unreachable():
    client = app_without_database().test_client()
    signed_in_cookie(client)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


def test_pages_say_unavailable_when_the_database_is_unreachable():
    client = app_without_database().test_client()
    signed_in_cookie(client)
    page = client.get("/dashboard")
    assert page.status_code == 503
    assert "temporarily unavailable" in page.text and "OperationalError" not in page.text
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"})
    assert api.status_code == 503 and api.json["error"]["code"] == "unavailable"


def test_a_pool_with_no_free_connection_answers_503(make_app):
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/busy")
    def busy():
        raise PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached")

    response = app.test_client().get("/busy")
    assert response.status_code == 503 and "temporarily unavailable" in response.text
    assert "QueuePool" not in response.text


def test_404_page_leaks_nothing(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "This page does not exist." in response.text and "Traceback" not in response.text


def test_500_page_is_generic(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Something went wrong" in response.text


def test_pages_are_translated_to_polish(client):
    response = client.get("/login", headers={"Accept-Language": "pl"})
    assert "Zaloguj się" in response.text


def test_signed_in_pages_are_not_cached(client, f):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    user = f.user()
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_cookie_sessions_are_verified_but_cookieless_requests_skip_the_signer(app, monkeypatch):
    signers = []
    interface = app.session_interface
    build = interface.get_signing_serializer
    monkeypatch.setattr(interface, "get_signing_serializer", lambda a: signers.append(1) or build(a))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert signers == []  # no cookie: nothing to verify
    with client.session_transaction() as session:
        session["probe"] = "kept"
    name = app.config["SESSION_COOKIE_NAME"]
    assert signers and client.get_cookie(name) is not None
    with client.session_transaction() as session:
        assert session.get("probe") == "kept"
    client.set_cookie(name, client.get_cookie(name).value[:-2] + "xx")  # tampered
    with client.session_transaction() as session:
        assert "probe" not in session


def test_production_needs_an_https_public_url(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    production = {"TRELLIS_ENV": "production", "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigError, match="PUBLIC_URL must be set in production"):
        create_app(production)
    with pytest.raises(ConfigError, match="PUBLIC_URL must use https"):
        create_app({**production, "PUBLIC_URL": "http://portal.example.test"})
    with pytest.raises(ConfigError, match="PUBLIC_URL must be an http"):
        create_app({**production, "PUBLIC_URL": "portal.example.test"})
    app = create_app({**production, "PUBLIC_URL": "https://portal.example.test/"})
    assert app.config["PUBLIC_URL"] == "https://portal.example.test"
