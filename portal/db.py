"""Database plumbing: declarative base, engine and the one session factory."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from flask import current_app, g
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

APPLICATION_NAME = "trellis"
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, lock_timeout_ms: int | None = None, **options: Any) -> Engine:
    """Create an engine with the settings every process of Trellis uses.

    ``lock_timeout_ms`` (PostgreSQL): a statement that waits longer than this for a row or
    table lock fails (SQLSTATE 55P03, answered 503 by the app) instead of holding the request.
    """
    # hide_parameters: an error's message and traceback never carry the bound values (password
    # hashes, emails, notes) into the log.
    options = {"hide_parameters": True, **options}
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        engine = create_engine(url, **{**kwargs, **options})
        event.listen(engine, "connect", _sqlite_pragmas)
        if url not in ("sqlite://", "sqlite:///:memory:"):
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    # pre-ping: a connection the server dropped (restart, failover, pg_terminate_backend) is
    # replaced before a request uses it, instead of failing that request (tests/portal/test_faults.py).
    # application_name: the portal's connections are easy to find in pg_stat_activity.
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 1800}
    if "application_name" not in make_url(url).query:  # a name in DATABASE_URL wins
        kwargs["connect_args"] = {"application_name": APPLICATION_NAME}
    engine = create_engine(url, **{**kwargs, **options})
    if lock_timeout_ms:
        event.listen(engine, "connect", partial(_set_lock_timeout, int(lock_timeout_ms)))
    return engine


def _set_lock_timeout(milliseconds: int, dbapi_connection: Any, _record: Any) -> None:
    # A session setting, so it must not be left inside the transaction psycopg would open.
    autocommit, dbapi_connection.autocommit = dbapi_connection.autocommit, True
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {milliseconds}")
    finally:
        dbapi_connection.autocommit = autocommit


def make_session_factory(bind: Engine | Connection) -> sessionmaker[Session]:
    """The session factory shared by web requests, CLI commands and workers."""
    options: dict[str, Any] = {"expire_on_commit": False}
    if isinstance(bind, Connection):
        # Tests bind to a connection inside an outer transaction: commits become savepoints.
        options["join_transaction_mode"] = "create_savepoint"
    return sessionmaker(bind=bind, **options)


def session_factory() -> sessionmaker[Session]:
    """The current app's session factory."""
    return current_app.extensions["trellis.session_factory"]


def get_session() -> Session:
    """The request's (or app context's) session, opened on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the context's session; anything uncommitted is rolled back."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for CLI commands and jobs; services commit, the rest is rolled back."""
    with session_factory()() as session:
        yield session
