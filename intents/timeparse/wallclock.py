"""Local wall-clock times: a time that does not exist (the DST gap) moves forward, and "in an hour" is
elapsed time across a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from intents.timeparse.atoms import _Ctx


def _normalise_wall(c: _Ctx, dt: datetime) -> datetime:
    """Move a wall time that does not exist (the DST gap) forward, as the clock on the wall would."""
    if c.tz is None:
        return dt
    try:
        return dt.replace(tzinfo=c.tz).astimezone(UTC).astimezone(c.tz).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return dt


def _after_now(c: _Ctx, delta: timedelta) -> datetime:
    """now + delta in elapsed time (across a DST change), as local wall time to the minute."""
    if c.tz is None or c.now.tzinfo is None:
        dt = c.now.replace(tzinfo=None) + delta
    else:
        dt = (c.now.astimezone(UTC) + delta).astimezone(c.tz).replace(tzinfo=None)
    return dt.replace(second=0, microsecond=0)


def _at(day: date, hour: int, minute: int) -> datetime:
    """A naive wall-clock date-time."""
    return datetime(day.year, day.month, day.day, hour, minute)
