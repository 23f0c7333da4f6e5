"""The database drops the portal's connections (restart, failover, an administrator): PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.db import Base, make_engine
from tests.portal.factories import Factories
from tests.portal.helpers import BASE_CONFIG, bearer, issue

pytestmark = pytest.mark.postgres


def _app_with_pooled_connection(url: str, **engine_options):
    """An app on a real engine, a user's token, and one answered request (a connection pooled)."""
    name = f"trellis-test-{uuid.uuid4().hex[:8]}"
    engine = make_engine(url, connect_args={"application_name": name}, **engine_options)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine})
    with app.extensions["trellis.session_factory"]() as db:
        user = Factories(db).user()
    client = app.test_client()
    token = issue(client, user)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    return engine, client, token, name


def _terminate(url: str, application_name: str) -> int:
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
            ), {"name": application_name}).all())
    finally:
        admin.dispose()


def test_the_first_request_after_the_server_dropped_the_pooled_connections_succeeds(empty_pg_schema_url):
    engine, client, token, name = _app_with_pooled_connection(empty_pg_schema_url)
    try:
        assert _terminate(empty_pg_schema_url, name) >= 1
        me = client.get("/api/v1/me", headers=bearer(token))
        assert me.status_code == 200, me.get_data(as_text=True)
        # and the replacement connection keeps working
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    finally:
        engine.dispose()


def test_control_without_pre_ping_that_request_fails_with_a_503(empty_pg_schema_url):
    """Shows the test above can fail: the same steps on an engine without pre-ping."""
    engine, client, token, name = _app_with_pooled_connection(empty_pg_schema_url, pool_pre_ping=False)
    try:
        assert _terminate(empty_pg_schema_url, name) >= 1
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 503
        # the broken connection was thrown away: the next request is answered
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    finally:
        engine.dispose()


def test_the_portals_connections_are_named_in_pg_stat_activity(empty_pg_schema_url):
    engine = make_engine(empty_pg_schema_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW application_name")).scalar() == "trellis"
    finally:
        engine.dispose()


def test_an_application_name_in_the_database_url_is_kept(empty_pg_schema_url):
    engine = make_engine(empty_pg_schema_url + "&application_name=trellis-worker")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW application_name")).scalar() == "trellis-worker"
    finally:
        engine.dispose()


@pytest.mark.timeout(20)
def test_a_request_stuck_behind_a_row_lock_gets_a_503_after_the_lock_timeout(empty_pg_schema_url):
    import time

    from portal.models import Order

    engine = make_engine(empty_pg_schema_url, lock_timeout_ms=1000)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine})
    try:
        with app.extensions["trellis.session_factory"]() as db:
            f = Factories(db)
            user = f.user()
            f.product(sku="BEV-001")
        client = app.test_client()
        token = issue(client, user)
        placed = client.post("/api/v1/orders", json={"lines": [{"sku": "BEV-001", "quantity": 2}]},
                             headers={**bearer(token), "Idempotency-Key": "locked-1"})
        assert placed.status_code == 201
        order_id = placed.json["id"]
        with engine.connect() as other:  # another process holds the order's row
            other.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
            started = time.monotonic()
            stuck = client.post(f"/api/v1/orders/{order_id}/cancel", headers=bearer(token))
            waited = time.monotonic() - started
            other.rollback()
        assert stuck.status_code == 503 and stuck.is_json, stuck.get_data(as_text=True)
        assert 0.9 <= waited < 2.0
        with app.extensions["trellis.session_factory"]() as db:
            assert db.get(Order, order_id).status == "submitted"  # nothing half-done
        # once the lock is gone the same request succeeds
        assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=bearer(token)).status_code == 200
    finally:
        engine.dispose()


def test_the_lock_timeout_comes_from_the_configuration(empty_pg_schema_url):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_pg_schema_url, "DB_LOCK_TIMEOUT_MS": 1500})
    engine = app.extensions["trellis.engine"]
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "1500ms"
            conn.rollback()
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "1500ms"  # not undone
    finally:
        engine.dispose()
