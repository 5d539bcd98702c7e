"""Parsing and printing the plain values of CSV files: ISO dates and times, amounts."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueProblem(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def parse_datetime(text: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """An aware datetime and whether a time of day was given; naive values are in `tz`."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueProblem(f"{text!r} is not an ISO date or date-time (YYYY-MM-DD[THH:MM])") from None
    has_time = "T" in text or " " in text.strip()
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value, has_time


def parse_amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(f"{text!r} is not a plain number (like 50000 or 1250.50)") from None
    if not value.is_finite() or value < 0:
        raise ValueProblem(f"{text!r} is not a positive amount")
    if value >= Decimal("1e12"):
        raise ValueProblem(f"{text!r} is too large for an amount")
    return value


def format_amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    normalized = value.quantize(Decimal("0.01"))
    return (
        str(normalized.to_integral_value())
        if normalized == normalized.to_integral_value()
        else str(normalized)
    )


def format_datetime(value: datetime | None, tz: ZoneInfo, has_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(tz)
    if not has_time and local.time() == time(0):
        return local.date().isoformat()
    return local.isoformat(timespec="minutes")
