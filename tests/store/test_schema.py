"""The schema: migrations create it, running them again changes nothing, and they match the models."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from assistant.runtime import Runtime
from assistant.undone import not_undone
from storage import migrate
from storage.db import make_engine
from storage.models import AuditEntry, Base


def test_migrations_are_idempotent_and_current(runtime: Runtime) -> None:
    assert migrate.is_current(runtime.engine)
    assert migrate.upgrade(runtime.engine) == (migrate.head_revision(),) * 2


def test_the_models_and_the_migrations_agree(runtime: Runtime) -> None:
    """A model change without a migration fails here: add one with alembic revision --autogenerate."""
    with runtime.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_questions_managers_ask_are_indexed(runtime: Runtime) -> None:
    inspector = inspect(runtime.engine)
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("deals")}
    for columns in [("close_date",), ("amount",), ("owner_id", "stage"), ("last_activity_at",)]:
        assert columns in indexed, columns
    assert ("stage", "close_date") in indexed


def _empty_store(database_url: str) -> Engine:
    """The store with no schema at all: a fresh SQLite file, or the run's PostgreSQL database with every
    table dropped (the fixture's next test migrates it back, as TRUNCATE alone would not)."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        engine.dispose()
        Path(make_url(database_url).database or "").unlink()
        engine = make_engine(database_url)
    return engine


def test_a_0007_store_with_staff_upgrades_to_telegram_linking(database_url: str) -> None:
    """`crm init` (and every command's ensure_schema) brings a store from before Telegram up to date:
    the new tables exist and existing identities keep their owner, with voice replies at the default."""
    engine = _empty_store(database_url)
    try:
        command.upgrade(migrate.alembic_config(engine), "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (name, email, role, created_at, updated_at) "
                    "VALUES ('Dana', 'dana@example.test', 'rep', :t, :t)"
                ),
                {"t": "2026-11-23 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO channel_identities (channel, external_id, user_id, created_at) "
                    "VALUES ('telegram', '42', 1, :t)"
                ),
                {"t": "2026-11-23 09:00:00"},
            )
        assert migrate.current_revision(engine) == "0007"
        runtime = Runtime(database_url, ZoneInfo("UTC"), _engine=engine)
        runtime.ensure_schema()
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"link_codes", "channel_cursors"} <= tables
        with engine.connect() as connection:
            row = connection.execute(text("SELECT user_id, voice_replies FROM channel_identities")).one()
        assert tuple(row) == (1, None)
    finally:
        if engine.dialect.name == "postgresql":
            migrate.upgrade(engine)  # leave the shared database as the other tests expect it
        engine.dispose()


def test_a_0008_store_keeps_what_was_undone_when_the_audit_log_becomes_append_only(database_url: str) -> None:
    """Before 0010 undo marked the rows it reverted (undone_at) and appended its own "undo" rows; the
    upgrade drops the mark, and the same groups are still undone, now read from the undo rows alone."""
    engine = _empty_store(database_url)
    try:
        command.upgrade(migrate.alembic_config(engine), "0008")
        rows = [  # (change_group, action, undone): g1 was undone, g2 was not
            ("g1", "create", True),
            ("undo-g1", "undo", True),
            ("g2", "update", False),
        ]
        with engine.begin() as connection:
            for group, action, undone in rows:
                connection.execute(
                    text(
                        "INSERT INTO audit_log (at, channel, change_group, action, entity, entity_id, "
                        "undone_at) VALUES (:t, 'terminal', :group, :action, 'deals', 1, :undone)"
                    ),
                    {
                        "t": "2026-11-23 09:00:00",
                        "group": group,
                        "action": action,
                        "undone": "2026-11-23 09:05:00" if undone else None,
                    },
                )
        command.upgrade(migrate.alembic_config(engine), "head")
        assert "undone_at" not in {c["name"] for c in inspect(engine).get_columns("audit_log")}
        with Session(engine) as session:
            live = session.scalars(
                select(AuditEntry.change_group).where(AuditEntry.action != "undo", not_undone())
            ).all()
        assert live == ["g2"]
    finally:
        if engine.dialect.name == "postgresql":
            migrate.upgrade(engine)  # leave the shared database as the other tests expect it
        engine.dispose()
