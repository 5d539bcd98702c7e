"""Calendar arithmetic (weeks from Monday, months, calendar quarters, business days) and the readers of
the numbers said in time expressions ("twenty first", "a couple of", "'27").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from intents.timeparse.atoms import Period, _Ctx
from intents.timeparse.vocabulary import _HOLIDAYS, _ORD_TEENS, _ORD_UNITS, _TEENS, _TENS, _UNITS


def _month_len(y: int, m: int) -> int:
    """Days in a month (no calendar import needed for this one fact)."""
    if m == 12:
        return 31
    return (date(y, m + 1, 1) - date(y, m, 1)).days


def _add_months(d: date, n: int) -> date:
    """d plus n months, the day clamped to the month's length ("in a month" on Jan 31 is Feb 28/29)."""
    y, m0 = divmod(d.month - 1 + n, 12)
    y += d.year
    return date(y, m0 + 1, min(d.day, _month_len(y, m0 + 1)))


def _monday(d: date) -> date:
    """The Monday of d's week: weeks start on Monday (spec)."""
    return d - timedelta(days=d.weekday())


def _week(today: date, k: int) -> Period:
    """Monday..Sunday of the week k weeks from today's."""
    s = _monday(today) + timedelta(days=7 * k)
    return s, s + timedelta(days=6)


def _month(today: date, k: int) -> Period:
    """First..last day of the month k months from today's."""
    s = _add_months(today.replace(day=1), k)
    return s, s.replace(day=_month_len(s.year, s.month))


def _quarter_of(y: int, q: int) -> Period:
    """Calendar quarter q (1..4) of year y."""
    s = date(y, 3 * (q - 1) + 1, 1)
    e = _add_months(s, 2)
    return s, e.replace(day=_month_len(e.year, e.month))


def _quarter(today: date, k: int) -> Period:
    """The calendar quarter k quarters from today's."""
    s = _add_months(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), 3 * k)
    return _quarter_of(s.year, (s.month - 1) // 3 + 1)


def _year(today: date, k: int) -> Period:
    """Jan 1..Dec 31 of the year k years from today's."""
    return date(today.year + k, 1, 1), date(today.year + k, 12, 31)


_PERIOD_FUNCS: dict[str, Callable[[date, int], Period]] = {
    "week": _week,
    "month": _month,
    "quarter": _quarter,
    "year": _year,
}


def _unit_name(u: str) -> str:
    """Canonical unit name for the many spellings ("wks", "mos", "business days")."""
    u = u.rstrip("s")
    if u.endswith("year"):
        return "year"  # "fiscal year": the calendar year, as no fiscal year start is known here
    if u.startswith(("business", "working")):
        return "bday"
    if u in ("wk", "week"):
        return "week"
    if u in ("mo", "mth", "month"):
        return "month"
    if u in ("yr", "year"):
        return "year"
    if u in ("hr", "hour"):
        return "hour"
    if u in ("min", "minute"):
        return "minute"
    if u == "fortnight":
        return "fortnight"
    if u in ("qtr", "quarter"):
        return "quarter"
    return u  # day


def _shift(d: date, n: int, unit: str) -> date:
    """d moved by n units; business days skip Saturday and Sunday."""
    if unit == "day":
        return d + timedelta(days=n)
    if unit == "week":
        return d + timedelta(days=7 * n)
    if unit == "fortnight":
        return d + timedelta(days=14 * n)
    if unit == "month":
        return _add_months(d, n)
    if unit == "quarter":
        return _add_months(d, 3 * n)
    if unit == "year":
        return _add_months(d, 12 * n)
    if unit == "bday":
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            d += timedelta(days=step)
            if d.weekday() < 5:
                left -= 1
        return d
    raise ValueError(unit)


def _directed(c: _Ctx, make: Callable[[int], date], years: int = 1) -> date:
    """The first of make(0), make(±1)... on the right side of today (inclusive) for the direction."""
    step = 1 if c.future else -1
    for k in range(0, step * 9, step):
        try:
            d = make(k * years)
        except ValueError:
            continue  # Feb 29 in a common year, the 31st in a 30-day month
        if (d >= c.today) if c.future else (d <= c.today):
            return d
    raise ValueError("no such date")


def _bare_weekday(c: _Ctx, wd: int) -> date:
    """The next such weekday after today (future) or the last one before today (past); never today."""
    if c.future:
        return c.today + timedelta(days=(wd - c.today.weekday()) % 7 or 7)
    return c.today - timedelta(days=(c.today.weekday() - wd) % 7 or 7)


def _month_period(c: _Ctx, m: int) -> Period:
    """A month name as a period: the current month, else the next (future) or most recent (past) one."""
    y = c.today.year
    if c.future and m < c.today.month:
        y += 1
    elif not c.future and m > c.today.month:
        y -= 1
    return date(y, m, 1), date(y, m, _month_len(y, m))


def _calendar_day(c: _Ctx, m: int, d: int, year: int | None) -> date:
    """Month and day without a year: the next such date (future) or the last one (past), today included."""
    if year is not None:
        return date(year, m, d)
    return _directed(c, lambda k: date(c.today.year + k, m, d))


def _cardinal(s: str) -> float:
    """Digits or number words ("twenty one", "a couple of") to a number."""
    s = s.strip()
    if s[:1].isdigit():
        return float(s)
    if s in ("a", "an"):
        return 1
    if "couple" in s:
        return 2
    if "few" in s:
        return 3
    total = 0
    for w in re.split(r"[\s-]+", s):
        total += _UNITS.get(w) or _TEENS.get(w) or _TENS.get(w) or 0
    return total


def _ordinal(s: str) -> int:
    """ "15th", "fifteenth", "twenty first", "21" to a day number (0 if not one)."""
    s = s.strip()
    if s[:1].isdigit():
        digits = s.rstrip("stndrh")
        return int(digits) if digits.isdigit() else 0
    total = 0
    for w in re.split(r"[\s-]+", s):
        total += _ORD_UNITS.get(w) or _ORD_TEENS.get(w) or _TENS.get(w) or _UNITS.get(w) or _TEENS.get(w) or 0
    return total


def _year_value(s: str | None) -> int | None:
    """ "2027" -> 2027, "'27" or "27" -> 2027."""
    if not s:
        return None
    s = s.strip("'")
    y = int(s)
    return y + 2000 if y < 100 else y


def _minute_words(words: str | None) -> int:
    """ "thirty" -> 30, "oh five" -> 5, "forty five" -> 45 (minutes said after an hour)."""
    return int(_cardinal(re.sub(r"^oh?[\s-]+", "", words))) if words else 0


def _bare_hour(h: int) -> int:
    """An hour said without am/pm: 1..7 are afternoon hours, 8..11 morning, 12 noon."""
    return h + 12 if 1 <= h <= 7 else h


def _nth_weekday(y: int, m: int, wd: int, n: int) -> date:
    """The nth (1..5, or -1 for the last) weekday wd (0 = Monday) of a month; ValueError if there is none."""
    if n > 0:
        first = date(y, m, 1)
        d = first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (n - 1))
    else:
        last = date(y, m, _month_len(y, m))
        d = last - timedelta(days=(last.weekday() - wd) % 7 + 7 * (-n - 1))
    if d.month != m:
        raise ValueError("no such weekday in the month")
    return d


def _easter(y: int) -> date:
    """Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher")."""
    a, b, c = y % 19, y // 100, y % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(y, month, day + 1)


def _holiday_date(name: str, y: int) -> date:
    """The date of a holiday named in data/holidays.json, in year y."""
    if name in _HOLIDAYS["fixed"]:
        month, day = _HOLIDAYS["fixed"][name]
        return date(y, month, day)
    if name in _HOLIDAYS["nth_weekday"]:
        month, wd, n = _HOLIDAYS["nth_weekday"][name]
        return _nth_weekday(y, month, wd, n)
    if name in _HOLIDAYS["easter"]:
        return _easter(y) + timedelta(days=_HOLIDAYS["easter"][name])
    base, days = _HOLIDAYS["after"][name]
    return _holiday_date(base, y) + timedelta(days=days)
