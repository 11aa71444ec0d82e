"""Declarative base with a constraint naming convention, column types, engines and sessions.

No Flask here: the request-scoped session is in api/context.py."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from sqlalchemy import (
    DateTime,
    Insert,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return dt.datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; every stored time carries an offset")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, uuid.UUID: Uuid}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def id_column() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=new_id)


def rows_affected(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it touched (atomic claims rely on it)."""
    return cast(CursorResult, session.execute(statement)).rowcount


# psycopg parses a statement of more parameters than this in Python on every call, and never
# caches nor prepares it (psycopg/_queries.py): a multi-row VALUES of 50 check-ins has 1,100.
# Below it, one or two rows, a VALUES costs less than arrays (measured: docs/performance.md).
PSYCOPG_CACHED_PARAMETERS = 50


def insert_new(session: Session, records: Sequence[Base]) -> set:
    """Store new ORM records of one class in one INSERT … ON CONFLICT DO NOTHING … RETURNING
    and answer the primary keys of those stored (one left out: a row already holds one of its
    unique keys). Stored records join the session as persistent, every attribute they were
    given taken as loaded (give them all: one left out is read when first used, and one with a
    default is refused, ValueError)."""
    if not records:
        return set()
    mapper = inspect(type(records[0]))
    [key] = mapper.primary_key
    attribute = mapper.get_property_by_column(key).key
    table = cast(Table, mapper.local_table)
    rows = _rows(records)
    left_out = _defaulted(table) - rows[0].keys()
    if left_out:
        # A default would be worked out once for the whole INSERT … SELECT, not once a row.
        raise ValueError(f"insert_new needs every column with a default given: {sorted(left_out)}")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) * len(rows[0]) > PSYCOPG_CACHED_PARAMETERS:
        # One array a column: one statement, of as many parameters as columns, for any
        # number of rows.
        columns = tuple(rows[0])
        statement = _insert_arrays_or_skip(table, columns)
        stored = set(session.scalars(statement, {c: [row[c] for row in rows] for c in columns}))
    else:
        # The rows as parameters, not in the statement: its compiled form is cached, and
        # SQLAlchemy still sends them as one multi-row INSERT ("insertmanyvalues").
        stored = set(session.scalars(_insert_or_skip(table, dialect), rows))
    for record in records:
        if getattr(record, attribute) in stored:
            make_transient_to_detached(record)
            session.add(record)
    return stored


def insert_rows(session: Session, records: Sequence[Base]) -> None:
    """Write new ORM records of one class in one plain INSERT, without the unit of work: for
    records nothing reads back in the same session (audit events)."""
    if records:
        table = cast(Table, inspect(type(records[0])).local_table)
        session.execute(insert(table), _rows(records))


def _rows(records: Sequence[Base]) -> list[dict]:
    """Each record's given attributes as a row of its table (column name → value)."""
    mapper = inspect(type(records[0]))
    rows = []
    for record in records:
        given = inspect(record).dict
        rows.append({a.columns[0].key: given[a.key] for a in mapper.column_attrs if a.key in given})
    return rows


@functools.cache
def _defaulted(table: Table) -> frozenset[str]:
    """The table's columns with a default worked out in Python."""
    return frozenset(column.key for column in table.columns if column.default is not None)


@functools.cache
def _insert_or_skip(table: Table, dialect: str) -> Insert:
    """INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING the key, for a table and dialect,
    built once."""
    [key] = table.primary_key.columns
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing().returning(key)


@functools.cache
def _insert_arrays_or_skip(table: Table, columns: tuple[str, ...]) -> Insert:
    """PostgreSQL: INSERT … SELECT FROM unnest(one array a column) ON CONFLICT DO NOTHING
    RETURNING the key, built once. Its parameters are as many as the columns whatever the
    number of rows, so psycopg parses it once and PostgreSQL prepares it."""
    [key] = table.primary_key.columns
    arrays = [bindparam(c, type_=ARRAY(_element(table.c[c].type), dimensions=1)) for c in columns]
    new = func.unnest(*arrays).table_valued(*columns).render_derived(name="new")
    return (
        postgresql.insert(table)
        .from_select(list(columns), select(*new.c))
        .on_conflict_do_nothing()
        .returning(key)
    )


def _element(column_type: TypeEngine) -> TypeEngine:
    """An array element's type for a column: a string without its length, since a cast to
    VARCHAR(n)[] would cut a longer value short where the INSERT refuses it."""
    return String() if isinstance(column_type, String) else column_type


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, real transactions and a busy timeout."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy emit BEGIN itself so SAVEPOINTs behave (pysqlite defers BEGIN).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # IMMEDIATE takes the write lock up front, so concurrent writers queue instead of
            # failing later with "database is locked" on lock upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # hide_parameters: an error's text never carries the values of a statement (answers, names).
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


class Database:
    """Holds the engine and the session factory for one application."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.session_factory()

    def dispose(self) -> None:
        self.engine.dispose()
