"""Alembic environment: plain Alembic, configured in pyproject.toml."""
import logging
import os

from alembic import context
from sqlalchemy import create_engine, pool

import portal.models  # noqa: F401  (registers every table on Base.metadata)
from portal.core.types import Money, UTCDateTime
from portal.db import Base

config = context.config
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("alembic").setLevel(logging.INFO)
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Render the app's column types as plain SQLAlchemy types, so migrations never import them."""
    if type_ == "type" and isinstance(obj, Money):
        return "sa.Numeric(precision=12, scale=2)"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def get_url() -> str:
    url = config.get_alembic_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if url:
        return url
    os.makedirs("instance", exist_ok=True)
    return f"sqlite:///{os.path.abspath('instance/trellis.db')}"


def run_migrations_offline() -> None:
    context.configure(url=get_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, render_as_batch=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # tests hand over a connection (e.g. inside a schema)
        _run(connection)
        return
    with create_engine(get_url(), poolclass=pool.NullPool).connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
