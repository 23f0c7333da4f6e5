"""Portal fixtures: an app per test on a fresh database (SQLite, and PostgreSQL when set)."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.db import Base, make_engine
from tests.portal import factories
from tests.portal.factories import Factories
from tests.portal.helpers import BASE_CONFIG


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def pg_engine(pg_schema_url):
    engine = make_engine(pg_schema_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_bind(backend, request):
    """A fresh, empty database for one test."""
    if backend == "sqlite":
        engine = make_engine("sqlite://")
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    # SQLAlchemy's "join an external transaction" recipe: every commit is a savepoint and the
    # whole test is rolled back at the end.
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def make_app(db_bind):
    def make(**config):
        return create_app({**BASE_CONFIG, "DB_BIND": db_bind, **config})

    return make


@pytest.fixture
def app(make_app):
    # No app context stays pushed: each test request gets its own context, session and `g`,
    # as in production.
    return make_app()


@pytest.fixture
def db(app):
    """The test's own session (requests use theirs); expire_all() before re-reading."""
    session = app.extensions["trellis.session_factory"]()
    yield session
    session.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def f(db):
    """Factories bound to the test's session: f.partner(), f.user(role=...), ..."""
    return factories.Factories(db)


@pytest.fixture
def live_pg_app(empty_pg_schema_url):
    """An app on a real PostgreSQL schema where commits are real (no wrapping transaction),
    with a pool big enough for the race tests' threads."""
    engine = make_engine(empty_pg_schema_url, pool_size=12)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine})
    yield app
    engine.dispose()


@pytest.fixture
def live(backend, tmp_path, request):
    """Trellis served on a free port; yields (base URL, factories on its database)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'trellis.db'}"
    else:
        url = request.getfixturevalue("empty_pg_schema_url")
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    app = create_app({**BASE_CONFIG, "DB_BIND": engine})
    session = app.extensions["trellis.session_factory"]()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", Factories(session)
    finally:
        server.shutdown()
        thread.join()
        session.close()
        engine.dispose()
