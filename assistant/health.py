"""`crm doctor`'s checks of the store and the machine, and the `Check` every adapter's own check returns.

A check never raises and never prints: it says what it found (ok, warn, FAIL, or skip for a part that
is not configured), in plain words, with the exact command or setting that fixes it. Secrets never reach
its text: whatever a library's error says passes through `redacted` first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from assistant.runtime import SettingsError, resolve_now, resolve_timezone
from intents.classifier import model_dir
from storage import migrate
from storage.db import DatabaseError, make_engine, resolve_database_url

MB = 1024 * 1024
MIN_FREE_MB = 500  # below this much free space the store is one import away from a full disk
CONNECT_TIMEOUT = 5  # seconds: a doctor that hangs on an unreachable server helps nobody


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"  # not configured: nothing to check, and nothing wrong


@dataclass(frozen=True)
class Check:
    """One line of the report: which part, how it stands, what was found, and what fixes it."""

    name: str
    status: Status
    says: str
    fix: str | None = None

    def line(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{self.status.value:<5} {self.name:<10} {self.says}{fix}"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


def redacted(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret in it replaced, so a library's error message can be shown as it is."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def configuration_check(tz: str | None, now: str | None) -> Check:
    """The settings every command reads besides the store: the time zone and the fixed clock."""
    try:
        zone = resolve_timezone(tz)
        fixed = resolve_now(now, zone)
    except SettingsError as error:
        return Check("settings", Status.FAIL, str(error), "--tz ZONE or CRM_TIMEZONE; --now ISO or CRM_NOW")
    clock = f", the clock fixed at {fixed.isoformat()}" if fixed else ""
    return Check("settings", Status.OK, f"time zone {zone.key}{clock}")


def shown_url(url: str) -> str:
    """The URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def database_check(url: str, same_db: str = "") -> Check:
    """Reachable, and at the head revision of the migrations this code carries."""
    init = f"crm init{same_db}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return Check("database", Status.FAIL, "the database URL cannot be read", "--db or CRM_DATABASE_URL")
    shown = shown_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not Path(parsed.database).is_file():
            return Check("database", Status.FAIL, f"there is no database at {parsed.database} yet", init)
    else:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine: Engine | None = None
    try:
        engine = make_engine(url, **kwargs)
        current = migrate.current_revision(engine)
    except DatabaseError as error:
        return Check("database", Status.FAIL, str(error), "--db or CRM_DATABASE_URL")
    except SQLAlchemyError as error:
        reason = first_line(getattr(error, "orig", None) or error)
        password = parsed.password if isinstance(parsed.password, str) else None
        if parsed.get_backend_name() == "sqlite":
            says, fix = (
                f"cannot use {parsed.database}: {reason}",
                "point --db / CRM_DATABASE_URL at the CRM's file",
            )
        else:
            says = f"cannot reach the database at {shown}: {redacted(reason, [password])}"
            fix = "start the database server, or point --db / CRM_DATABASE_URL at the right one"
        return Check("database", Status.FAIL, says, fix)
    finally:
        if engine is not None:
            engine.dispose()
    head = migrate.head_revision()
    if current is None:
        return Check("database", Status.FAIL, f"{shown} has no CRM schema yet", init)
    if current == head:
        return Check("database", Status.OK, f"{shown} reachable, schema at the newest revision ({head})")
    if current not in migrate.known_revisions():
        return Check(
            "database",
            Status.FAIL,
            f"{shown} is at revision {current}, newer than this version knows ({head})",
            "pip install --upgrade crm-assistant (the store was migrated by a newer version)",
        )
    return Check(
        "database",
        Status.FAIL,
        f"{shown} is at an old schema revision ({current}; this version needs {head})",
        init,
    )


def store_folder(url: str) -> Path | None:
    """The folder a SQLite store lives in; None for a server database (its disk is the server's)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().parent


def disk_check(what: str, folder: Path, min_free_mb: float = MIN_FREE_MB) -> Check:
    """FAIL under `min_free_mb` free where `folder` lives, warn under twice that."""
    existing = folder
    while not existing.exists() and existing != existing.parent:  # a folder not made yet: its disk
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError as error:
        return Check("disk", Status.WARN, f"cannot read the free space of {folder}: {error.strerror}")
    says = f"{free / MB:,.0f} MB free for the {what} ({folder})"
    if free < min_free_mb * MB:
        return Check(
            "disk",
            Status.FAIL,
            f"only {says}; {min_free_mb:g} MB is the minimum",
            f"free space on {existing}",
        )
    if free < 2 * min_free_mb * MB:
        return Check("disk", Status.WARN, f"only {says}", f"free space on {existing}")
    return Check("disk", Status.OK, says)


def cache_folder() -> Path:
    """Where the trained intent and knowledge-base models are cached (CRM_NLU_MODEL_DIR)."""
    return model_dir().parent


def store_checks(
    db: str | None, tz: str | None, now: str | None, min_free_mb: float = MIN_FREE_MB
) -> list[Check]:
    """The settings, the database and its schema, and the free space where the store and the cache live."""
    url = resolve_database_url(db)
    checks = [configuration_check(tz, now), database_check(url, " with the same --db" if db else "")]
    folders = {"cache": cache_folder()}
    if (folder := store_folder(url)) is not None:
        folders = {"database": folder, **folders}
    return checks + [disk_check(what, where, min_free_mb) for what, where in folders.items()]
