"""The schema: migrations create it, running them again changes nothing, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from assistant.runtime import Runtime
from storage import migrate
from storage.models import Base


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
