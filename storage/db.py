"""Engines and sessions: SQLite by default (WAL, foreign keys on), PostgreSQL by URL, the same code."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, Insert, create_engine, event, exc, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

DATABASE_URL_ENV = "CRM_DATABASE_URL"
IDLE_PING_SECONDS = 5.0  # a pooled PostgreSQL connection unused this long is pinged before it is used


class DatabaseError(Exception):
    """A database that cannot be reached or used, with a message fit for a person."""


def default_database_url() -> str:
    data_dir = Path(user_data_dir("crm-assistant", appauthor=False))
    return f"sqlite:///{data_dir / 'crm.sqlite3'}"


def resolve_database_url(url: str | None = None) -> str:
    """--db, else CRM_DATABASE_URL, else a SQLite file in the user's data directory."""
    return url or os.environ.get(DATABASE_URL_ENV) or default_database_url()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA mmap_size=268435456")  # large aggregates read the file through the page cache
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Every transaction takes the write lock up front, so a read-then-write turn never fails half way
    with SQLITE_BUSY when another process wrote in between; waiting is bounded by busy_timeout."""
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # each statement commits by itself: a BEGIN here would be rolled back when it is returned
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection that sat idle may have been closed under it (a server restart, a proxy's or
    firewall's idle timeout): it is pinged before use, and a dead one is replaced (the pool retries the
    checkout on DisconnectionError). A connection back from use a moment ago is not: pinging every
    checkout, as `pool_pre_ping` does, costs every transaction a round trip, two on every chat turn."""
    idle_since = record.info.get("idle_since")  # none: made for this checkout
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as error:
        raise exc.DisconnectionError(f"a pooled connection is gone: {error}") from error


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    resolved = make_url(resolve_database_url(url))
    if resolved.get_backend_name() == "sqlite":
        if resolved.database and resolved.database != ":memory:":
            Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if resolved.get_backend_name() == "postgresql":
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "checkin", _checked_in)
        event.listen(engine, "checkout", _ping_if_idle)
        return engine
    raise DatabaseError(
        f"unsupported database {resolved.get_backend_name()!r}: use a sqlite:/// or postgresql+psycopg:// URL"
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed if the block finishes, rolled back whole if it raises."""
    with factory() as session, session.begin():
        yield session


def insert_or_skip(where: Session | Connection, model: type[DeclarativeBase], unique: list[str]) -> Insert:
    """INSERT ... ON CONFLICT (unique) DO NOTHING, on either engine: a row that exists (or that another
    transaction is creating) is left as it is, and the statement does not fail. `where` is the session
    or the plain connection it runs on."""
    dialect = where.get_bind().dialect if isinstance(where, Session) else where.dialect
    return _insert_or_skip(dialect.name, model, tuple(unique))


@cache
def _insert_or_skip(dialect: str, model: type[DeclarativeBase], unique: tuple[str, ...]) -> Insert:
    """Built once per table: the inbox runs it before every acknowledgement."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).on_conflict_do_nothing(index_elements=list(unique))
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing(index_elements=list(unique))


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


def settle(engine: Engine, tables: tuple[str, ...] = ()) -> None:
    """PostgreSQL, after a bulk load has committed: VACUUM (ANALYZE) the tables (all by default), as
    autovacuum does to any store minutes later (or never, where it is off).

    Rows just written are not yet marked all-visible, so every index-only scan still reads the table
    (a million heap fetches for "pipeline by stage"), and the planner plans for the old row counts.
    VACUUM cannot run in a transaction. SQLite has nothing to settle.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}".rstrip()))
