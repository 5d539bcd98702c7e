"""Creates or upgrades the schema with Alembic; the migrations live in storage/migrations.

Checking that a store is current must be cheap (every command does it), so the head revision is read
from the migration files and the current one with one SELECT; Alembic is imported only to upgrade.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this code has a migration for; a store at any other revision is newer than it."""
    found = (_REVISION.search(p.read_text("utf-8")) for p in (MIGRATIONS / "versions").glob("*.py"))
    return frozenset(match.group(1) for match in found if match)


@cache
def head_revision() -> str | None:
    """The newest revision: the one no other migration names as its down_revision."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text("utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if (down := _DOWN.search(source)) and down.group(1):
            parents.add(down.group(1))
    heads = sorted(revisions - parents)
    return heads[0] if heads else None


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Brings the schema to the newest revision; returns (before, after). Safe to run again."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
