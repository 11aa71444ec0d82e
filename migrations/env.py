"""Alembic environment: the URL comes from the caller's config or DATABASE_URL."""

import os

from alembic import context

from api.db import Base, UTCDateTime, make_engine
from api.models import *  # noqa: F403  (registers every table on Base.metadata)

config = context.config
connection = config.attributes.get("connection")


def render_item(type_, obj, autogen_context):
    """Render our UTC timestamp type as a plain DateTime so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "DATABASE_URL", "sqlite:///instance/interval.db"
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
