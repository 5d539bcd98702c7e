"""Slot dates ("2026-12-01", "2026-12-01T10:00", local) as aware datetimes in the user's zone, and which
zone that is."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import User

log = logging.getLogger(__name__)

MORNING = time(9, 0)  # a reminder or follow-up on a day without a time goes off at 09:00


def local(value: str, tz: ZoneInfo, default: time = MORNING) -> tuple[datetime, bool]:
    """The moment a slot names, and whether it named a time of day."""
    if "T" in value:
        return datetime.fromisoformat(value).replace(tzinfo=tz), True
    return datetime.combine(date.fromisoformat(value), default, tz), False


def period(value: Any) -> tuple[date, date] | None:
    if isinstance(value, dict) and "start" in value and "end" in value:
        return date.fromisoformat(value["start"]), date.fromisoformat(value["end"])
    return None


def month_of(today: date) -> tuple[date, date]:
    """The calendar month `today` is in, both ends inclusive."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def zone_of(user: User, default: ZoneInfo) -> ZoneInfo:
    """The user's own zone if it is a real one, else the runtime's."""
    if user.timezone:
        try:
            return ZoneInfo(user.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("user %s has an unknown time zone %r; using %s", user.email, user.timezone, default)
    return default


def known_zone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
