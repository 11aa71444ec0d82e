"""Upgrade from empty matches the models; downgrade and upgrade round-trip."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from api.db import Base, make_engine
from api.migrate import downgrade, upgrade


@pytest.fixture
def empty_engine(database_url, tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(database_url)
    engine.update_execution_options(schema_translate_map=None)

    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET search_path TO {schema}")
        cursor.close()
        dbapi_connection.commit()

    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def pending_changes(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def test_upgrade_from_empty_matches_the_models(empty_engine):
    with empty_engine.begin() as connection:
        upgrade(connection)
    with empty_engine.connect() as connection:
        assert pending_changes(connection) == []


def test_downgrade_and_upgrade_round_trip(empty_engine):
    with empty_engine.begin() as connection:
        upgrade(connection)
    with empty_engine.begin() as connection:
        downgrade(connection, "base")
    with empty_engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    with empty_engine.begin() as connection:
        upgrade(connection)
    with empty_engine.connect() as connection:
        assert pending_changes(connection) == []


def test_constraints_follow_the_naming_convention(empty_engine):
    with empty_engine.begin() as connection:
        upgrade(connection)
    with empty_engine.connect() as connection:
        inspector = inspect(connection)
        for table in Base.metadata.tables:
            for fk in inspector.get_foreign_keys(table):
                assert fk["name"].startswith(f"fk_{table}_"), fk
            for unique in inspector.get_unique_constraints(table):
                assert unique["name"].startswith(f"uq_{table}_"), unique
