"""Shared test fixtures: where PostgreSQL is, and a fresh schema on it per test run."""
from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"


def need_postgres() -> str:
    """The PostgreSQL URL, or skip (fail when REQUIRE_POSTGRES=1) when there is none."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests run only when TEST_DATABASE_URL is set")
    return PG_URL


def schema_url(url: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def pg_schema_url():
    """A URL whose connections live in a fresh schema, dropped at the end of the run."""
    yield from _fresh_schema()


@pytest.fixture
def empty_pg_schema_url():
    """Like pg_schema_url, but a new empty schema for one test (migrations, benchmarks)."""
    yield from _fresh_schema()


def _fresh_schema():
    url = need_postgres()
    from sqlalchemy import create_engine, text

    schema = f"trellis_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is not usable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield schema_url(url, schema)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def need_redis() -> str:
    """The test Redis URL (database 15 of the local Redis), or skip when it does not answer
    (fail when REQUIRE_REDIS=1, as CI sets)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable Redis
        if REQUIRE_REDIS:
            pytest.fail(f"REQUIRE_REDIS=1 but Redis at {REDIS_TEST_URL} does not answer: {exc}")
        pytest.skip(f"needs Redis at {REDIS_TEST_URL}: {exc}")
    return REDIS_TEST_URL
