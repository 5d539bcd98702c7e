"""What every command runs with: the store, the time zone and the clock (`--now`, `--tz`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import migrate
from storage.db import make_engine, resolve_database_url, session_factory

TIMEZONE_ENV = "CRM_TIMEZONE"
NOW_ENV = "CRM_NOW"


class SettingsError(ValueError):
    """A setting (flag or environment variable) with a value that cannot be used."""


def resolve_timezone(name: str | None = None) -> ZoneInfo:
    """--tz, else CRM_TIMEZONE, else the machine's zone, else UTC."""
    name = name or os.environ.get(TIMEZONE_ENV)
    if not name:
        try:
            from tzlocal import get_localzone_name

            name = get_localzone_name() or "UTC"
        except Exception:  # a machine with no zone configured
            name = "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"unknown time zone {name!r}; use a name like Europe/Berlin or UTC") from None


def resolve_now(text: str | None, tz: ZoneInfo) -> datetime | None:
    """--now, else CRM_NOW: a fixed clock for reproducible runs; naive times are in `tz`."""
    text = text or os.environ.get(NOW_ENV)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"--now {text!r} is not an ISO date-time like 2026-11-23T09:00") from None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


@dataclass
class Runtime:
    """The store and the clock of one command; the engine is made on first use."""

    database_url: str
    tz: ZoneInfo
    fixed_now: datetime | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, db: str | None = None, tz: str | None = None, now: str | None = None) -> Runtime:
        zone = resolve_timezone(tz)
        return cls(resolve_database_url(db), zone, resolve_now(now, zone))

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        return self._engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def now(self) -> datetime:
        """The current time in the configured zone (or the fixed `--now`)."""
        return (self.fixed_now or datetime.now(UTC)).astimezone(self.tz)

    def ensure_schema(self) -> None:
        """Creates or upgrades the schema when it is not current, so no command meets an old store."""
        if not migrate.is_current(self.engine):
            migrate.upgrade(self.engine)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
