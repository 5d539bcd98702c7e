"""Find the dates, date-times and periods in an utterance and resolve them against a reference time.

The contract is "Time semantics" in shared/spec/intents.md and the "Dates" section of tests/nlu/README.md.
Rules are precompiled regular expressions over an ASCII-lowercased copy of the text (same length, so the
offsets stay valid); `dateparser` is only a fallback for absolute date phrases the rules do not resolve.

Pipeline: 1. every pattern proposes "atoms" (a date, a period, a clock time, a part of day, an offset ...);
2. the longest non-overlapping atoms win; 3. neighbouring atoms merge ("a week from" + "friday",
"friday" + "at 3pm", "between dec 1" + "and dec 5"); 4. weak atoms ("may", "sat", "march" alone) that found
no support are dropped; 5. the survivors become `TimeMention`s.

Decisions where the contract is silent (tests/nlu/time_cases.json pins each one down):
- "next N days/weeks/months" is today+1 .. today+N units; "past/last N days" and "the last two weeks" end
  today (today-N+1 .. today). "the past week", "the last week", "the past month" (with "the"/"past") are
  rolling like that; "last week"/"last month" are calendar periods. "the next week" is rolling too.
- "end of the week"/"eow" is the Friday of that week; "start of the week" its Monday, "mid-week" Wednesday.
- "early <month>" is the 1st..10th, "late <month>" the 21st..last day, "mid <month>" the 15th.
- Unmodified "end/start of the month/quarter/year/week" follows the direction when the date would be on the
  wrong side of today (future: "start of the month" said on the 23rd is the 1st of next month).
- "the 15th", "dec 5", "12/05" in future mode may be today; a weekday never is (the spec excludes today).
- A time alone is today; future mode moves it to tomorrow if it has passed, past mode to yesterday if it is
  still to come. "tonight"/"last night"/"friday night" stay dates, but make "at 8" 20:00.
- "friday after next" is the Friday of the following calendar week, exactly like "next friday" (spec).
- "next weekend" is the weekend of next calendar week (like "next friday"); "the weekend" is the coming one
  in future mode and the last one in past mode.
- "next <month>" is the first such month after the current one; "this <month>" is the one of this year.
- "q1".."q4" are this year's calendar quarters ("next q1" / "q1 next year" the following year); "fy27" is the
  calendar year 2027 (no fiscal year start is known here).
- Ranges: "between A and B", "A - B", "A through B", "from A until B" give one period. "from A to B" is
  left as two mentions, because "push it from dec 5 to dec 20" is a move, not a range.
- Recurring days ("every monday", "mondays") are not dates. Zone names after a time ("3pm est") are ignored.
- Ambiguous words need support: "may", "march", "april", "june", "august" and month abbreviations alone need
  a preposition before them ("in may", "by march", "closing june") or a day/year; "mon", "wed", "sat", "sun"
  need "on/by/next..." or an attached time or date.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

__all__ = ["TimeMention", "find_time_mentions"]

Kind = Literal["date", "datetime", "period"]
Period = tuple[date, date]


@dataclass(frozen=True)
class TimeMention:
    """One time expression found in the text, resolved against the reference time."""

    start: int  # char offsets into the text given
    end: int
    kind: Literal["date", "datetime", "period"]
    # datetime: naive local wall time in now's zone; a period's ends are inclusive
    value: date | datetime | tuple[date, date]
    text: str  # text[start:end]
    relative_week: bool = False  # "next week"/"this week"-style whole weeks (caller may use the Monday)


# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------


def _load_words() -> dict[str, Any]:
    """The vocabulary lives in time_words.json next to this module: data, not code."""
    return json.loads(Path(__file__).with_name("time_words.json").read_text(encoding="utf-8"))


_WORDS = _load_words()
_UNITS: dict[str, int] = _WORDS["units"]
_TEENS: dict[str, int] = _WORDS["teens"]
_TENS: dict[str, int] = _WORDS["tens"]
_ORD_UNITS: dict[str, int] = _WORDS["ordinal_units"]
_ORD_TEENS: dict[str, int] = _WORDS["ordinal_teens"]
_MONTHS: dict[str, int] = _WORDS["months"]
_STRONG_MONTHS: frozenset[str] = frozenset(_WORDS["strong_months"])
_WEEKDAYS: dict[str, int] = _WORDS["weekdays"]
_WEAK_WEEKDAYS: frozenset[str] = frozenset(_WORDS["weak_weekdays"])
_TOMORROW: list[str] = _WORDS["tomorrow"]
_YESTERDAY: list[str] = _WORDS["yesterday"]
_CONTEXT_WORDS: frozenset[str] = frozenset(_WORDS["context_words"])
_ORDINAL_CONTEXT = _CONTEXT_WORDS - {"of", "this", "next", "last", "for"}
_PART_HOURS = {"morning": 9, "afternoon": 14, "evening": 18}


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest first, so that "tues" is tried before "tue"."""
    return "|".join(sorted((re.escape(str(w)) for w in words), key=len, reverse=True))


_U = _alt(_UNITS)
_T = _alt(_TEENS)
_TY = _alt(_TENS)
_NUMW = rf"(?:(?:{_TY})(?:[\s-]?(?:{_U}))?|{_T}|{_U})"
_ORDW = rf"(?:(?:twenty|thirty)[\s-]?(?:{_alt(_ORD_UNITS)})|{_alt(_ORD_TEENS)}|{_alt(_ORD_UNITS)})"
_QTY = rf"(?:[0-9]{{1,3}}|{_NUMW}|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few|an?)"
_MON = _alt(_MONTHS)
_WD = _alt(_WEEKDAYS)
_TMRW = _alt(_TOMORROW)
_YDAY = _alt(_YESTERDAY)
_HOURW = _alt([*list(_UNITS), "ten", "eleven", "twelve"])
_MINW = rf"(?:oh[\s-]?(?:{_U})|o[\s-](?:{_U})|(?:twenty|thirty|forty|fourty|fifty)(?:[\s-]?(?:{_U}))?|{_T})"
_MER = r"(?P<mer>\s*(?:a\.?\s?m\b\.?|p\.?\s?m\b\.?)|[ap](?![a-z0-9]))"
_MER_SPACED = r"(?P<mer>\s*(?:a\.?\s?m\b\.?|p\.?\s?m\b\.?))"
_DAY_UNITS = r"business\s+days?|working\s+days?|days?|weeks?|wks?|fortnights?|months?|mths?|mos?|years?|yrs?"
_ALL_UNITS = _DAY_UNITS + r"|hours?|hrs?|minutes?|mins?"
_YEAR = r"(?:19|20)[0-9]{2}"

_FOLLOW_WORDS = [*_WORDS["follow_words"], *_TOMORROW, *_YESTERDAY, *_WEEKDAYS, *_MONTHS]
# What may follow a bare number read as a time ("at 3") or a bare ordinal ("the 15th"): not a noun.
_FOLLOW_OK = re.compile(rf"\s*(?:$|[^\w\s%/$€£#&+=*^|~<>@]|(?:{_alt(_FOLLOW_WORDS)})\b)")
_NUMERIC_BAD_FOLLOW = re.compile(
    r"\s*(?:%|of\b|(?:hours?|hrs?|days?|weeks?|months?|years?|times?|cups?|miles?|inch(?:es)?|x|pages?)\b)"
)
_PREV_WORD = re.compile(r"([a-z0-9'@]+)[\s,]*$")
_EXTEND_DATE = re.compile(r"(?<![\w@])(?:on|at)\s+$|@\s*$")
_EXTEND_PERIOD = re.compile(r"(?<![\w@])in\s+$")


# ---------------------------------------------------------------------------------------------------------
# Atoms and context
# ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Atom:
    """A piece of a time expression before merging; `role` says which fields matter."""

    start: int
    end: int
    role: str  # date | period | clock | part | dt | offset | weekof
    day: date | None = None
    period: Period | None = None
    dt: datetime | None = None
    hour: int = 0
    minute: int = 0
    explicit: bool = False  # clock hour is already 0..23 (am/pm, 24h, noon), no guessing
    part: str | None = None  # morning | afternoon | evening | night
    prefixed: bool = False  # clock/part started with "at"/"in the": may not make a weak day strong
    weak: bool = False
    weekday: bool = False  # a bare weekday ("friday"): an adjacent absolute date wins over it
    bare_ok: bool = False  # "tomorrow 10": a bare number after this atom may be an hour
    relative_week: bool = False
    offset: tuple[int, str] | None = None  # signed amount and unit for "a week from"
    absolute: bool = False  # a calendar date ("dec 5", "the 15th"), not a relative word


@dataclass(slots=True)
class _Ctx:
    """The reference time and the text being parsed."""

    lower: str
    now: datetime  # as given (aware, or naive taken as local)
    now_min: datetime  # naive local wall time, truncated to the minute
    today: date
    future: bool
    tz: tzinfo | None


def _lower(text: str) -> str:
    """ASCII-only lowercase: keeps the length (str.lower() may not), so offsets stay valid."""
    return text.translate(_LOWER_TABLE)


_LOWER_TABLE = {c: c + 32 for c in range(65, 91)}


def _prev_word(c: _Ctx, pos: int) -> str:
    """The word just before pos: weak words and bare ordinals need a preposition there."""
    m = _PREV_WORD.search(c.lower, max(0, pos - 24), pos)
    return m.group(1) if m else ""


def _follow_ok(c: _Ctx, pos: int) -> bool:
    """True when no noun follows pos, so "at 3" is a time but "at 3 deals" is not."""
    return _FOLLOW_OK.match(c.lower, pos) is not None


# ---------------------------------------------------------------------------------------------------------
# Calendar helpers
# ---------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------
# Patterns and their handlers
# ---------------------------------------------------------------------------------------------------------

Handler = Callable[[re.Match[str], _Ctx], "_Atom | None"]
_PATTERNS: list[tuple[re.Pattern[str], Handler]] = []


def _pattern(regex: str) -> Callable[[Handler], Handler]:
    """Register a handler for a regex; the regex is compiled once, at import."""

    def register(fn: Handler) -> Handler:
        _PATTERNS.append((re.compile(regex), fn))
        return fn

    return register


@_pattern(
    rf"\b(?:(?P<dat>(?:the\s+)?day\s+after\s+(?:{_TMRW}))|(?P<dby>(?:the\s+)?day\s+before\s+(?:{_YDAY}))"
    rf"|this\s+(?P<part>morning|afternoon|evening)|(?P<night>(?:last|tomorrow|{_TMRW})\s+night|tonight|tonite)"
    rf"|(?P<today>today)|(?P<tmrw>{_TMRW})|(?P<yday>{_YDAY}))\b"
)
def _relative_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """today, tonight, tomorrow (and typos), yesterday, the day after tomorrow, this morning, last night."""
    offset, part = 0, None
    if m["dat"]:
        offset = 2
    elif m["dby"]:
        offset = -2
    elif m["part"]:
        part = m["part"]
    elif m["night"]:
        part = "night"
        word = m["night"].split()[0]
        offset = -1 if word == "last" else (0 if word.startswith("toni") else 1)
    elif m["tmrw"]:
        offset = 1
    elif m["yday"]:
        offset = -1
    day = c.today + timedelta(days=offset)
    return _Atom(m.start(), m.end(), "date", day=day, part=part, bare_ok=True)


@_pattern(
    rf"\b(?:(?P<mod>this\s+coming|this|next|last|coming|previous|past)\s+)?(?P<wd>{_WD})\b"
    r"(?:\s*,?\s+(?:of\s+)?(?P<post>next\s+week|this\s+week|last\s+week|(?:the\s+)?week\s+after\s+next"
    r"|after\s+next))?"
)
def _weekday(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """Weekdays: bare/this (next after today), next/after next (next calendar week), last (previous week)."""
    if _prev_word(c, m.start()) in ("every", "each", "other"):
        return None  # recurring, not a date
    wd = _WEEKDAYS[m["wd"]]
    mod = m["mod"].split()[-1] if m["mod"] else ""
    post = " ".join((m["post"] or "").split())
    bare = False
    if post:
        k = {"this week": 0, "last week": -1, "week after next": 2, "the week after next": 2}.get(post, 1)
        day = _monday(c.today) + timedelta(days=7 * k + wd)
    elif mod == "next":
        day = _monday(c.today) + timedelta(days=7 + wd)
    elif mod in ("last", "previous"):
        day = _monday(c.today) + timedelta(days=-7 + wd)
    elif mod == "coming":
        day = c.today + timedelta(days=(wd - c.today.weekday()) % 7 or 7)
    elif mod == "past":
        day = c.today - timedelta(days=(c.today.weekday() - wd) % 7 or 7)
    else:
        day = _bare_weekday(c, wd)
        bare = True
    weak = not m["mod"] and not post and m["wd"] in _WEAK_WEEKDAYS
    return _Atom(m.start(), m.end(), "date", day=day, weak=weak, weekday=bare, bare_ok=True)


@_pattern(rf"\b(?P<wk>next|this|last)\s+week(?:'s)?\s*,?\s*(?:on\s+)?(?P<wd>{_WD})\b")
def _week_weekday(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "next week friday", "this week's monday"."""
    k = {"next": 1, "this": 0, "last": -1}[m["wk"]]
    day = _monday(c.today) + timedelta(days=7 * k + _WEEKDAYS[m["wd"]])
    return _Atom(m.start(), m.end(), "date", day=day, bare_ok=True)


@_pattern(
    r"\b(?:(?P<the>the)\s+)?(?P<mod>this|next|last|previous|past|coming|following|current|upcoming)\s+"
    r"(?P<unit>week|month|quarter|qtr|year|yr)\b"
)
def _unit_period(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """this/next/last week, month, quarter, year; "the past week" and "the next month" are rolling."""
    unit = _unit_name(m["unit"])
    mod = m["mod"]
    rolling_back = mod == "past" or (m["the"] and mod == "last")
    rolling_fwd = m["the"] and mod == "next"
    if rolling_back:
        start = _shift(c.today, -1, unit) + timedelta(days=1)
        return _Atom(m.start(), m.end(), "period", period=(start, c.today))
    if rolling_fwd:
        return _Atom(
            m.start(), m.end(), "period", period=(c.today + timedelta(days=1), _shift(c.today, 1, unit))
        )
    k = {"this": 0, "current": 0, "last": -1, "previous": -1}.get(mod, 1)
    period = _PERIOD_FUNCS[unit](c.today, k)
    return _Atom(m.start(), m.end(), "period", period=period, relative_week=unit == "week")


@_pattern(r"\b(?:the\s+)?(?P<unit>week|month|year)\s+(?P<rel>after\s+next|before\s+last)\b")
def _after_next(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the week after next", "the month before last"."""
    unit = m["unit"]
    k = 2 if m["rel"].startswith("after") else -2
    return _Atom(
        m.start(), m.end(), "period", period=_PERIOD_FUNCS[unit](c.today, k), relative_week=unit == "week"
    )


@_pattern(
    rf"\b(?:(?P<the>the)\s+)?(?P<dir>next|past|last|previous|coming|following|upcoming)\s+(?P<n>{_QTY})\s+"
    r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)\b"
)
def _rolling(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the last two weeks" (ending today), "next 30 days" (today+1 .. today+30)."""
    n = int(_cardinal(m["n"]))
    if n <= 0 or n > 3660:
        return None
    unit = _unit_name(m["unit"])
    if m["dir"] in ("past", "last", "previous"):
        start = _shift(c.today, -n, unit) + timedelta(days=1)
        return _Atom(m.start(), m.end(), "period", period=(start, c.today))
    return _Atom(m.start(), m.end(), "period", period=(c.today + timedelta(days=1), _shift(c.today, n, unit)))


@_pattern(r"\b(?P<w>ytd|mtd|qtd|wtd|(?P<unit>year|month|quarter|week)[\s-]+to[\s-]+date)\b")
def _to_date(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ytd / mtd / qtd / wtd: from the start of the current period to today."""
    unit = m["unit"] or {"y": "year", "m": "month", "q": "quarter", "w": "week"}[m["w"][0]]
    return _Atom(m.start(), m.end(), "period", period=(_PERIOD_FUNCS[unit](c.today, 0)[0], c.today))


@_pattern(r"\b(?P<mod>this\s+coming|this|next|last|the|coming|past|previous)\s+weekend\b")
def _weekend(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """Saturday..Sunday: this/next/last weekend; "the weekend" follows the direction."""
    mod = m["mod"].split()[-1]
    sat = _monday(c.today) + timedelta(days=5)
    if mod == "next":
        sat += timedelta(days=7)
    elif mod in ("last", "previous") or (
        c.today.weekday() < 5 and (mod == "past" or (mod == "the" and not c.future))
    ):
        sat -= timedelta(days=7)
    return _Atom(m.start(), m.end(), "period", period=(sat, sat + timedelta(days=1)))


@_pattern(r"\b(?:the\s+)?rest\s+of\s+(?:the\s+|this\s+)?(?P<unit>week|month|quarter|year)\b")
def _rest_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the rest of the week": today .. the end of the current period."""
    return _Atom(m.start(), m.end(), "period", period=(c.today, _PERIOD_FUNCS[m["unit"]](c.today, 0)[1]))


_QYEAR = rf"(?:\s*,?\s*(?:of\s+)?(?:(?P<ymod>this|next|last)\s+year|(?P<year>{_YEAR})|'(?P<y2>[0-9]{{2}})))?"


@_pattern(
    r"\b(?:(?P<mod>this|next|last|previous)\s+)?(?:the\s+)?(?:q(?P<q>[1-4])|(?P<qo>first|second|third|fourth"
    rf"|1st|2nd|3rd|4th)\s+(?:quarter|qtr))\b{_QYEAR}(?![0-9])"
)
def _quarter_name(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """q1..q4 (this year's), "q1 next year", "next q1", "the fourth quarter of 2027"."""
    q = int(m["q"]) if m["q"] else _ordinal(m["qo"])
    return _Atom(m.start(), m.end(), "period", period=_quarter_of(_quarter_year(m, c, q), q))


def _quarter_year(m: re.Match[str], c: _Ctx, q: int) -> int:
    """The year of a named quarter: explicit, "next year", or relative to the current quarter ("next q1")."""
    y = c.today.year
    if m["year"] or m["y2"]:
        return _year_value(m["year"] or m["y2"]) or y
    if m["ymod"]:
        return y + {"this": 0, "next": 1, "last": -1}[m["ymod"]]
    current = (c.today.month - 1) // 3 + 1
    mod = m.groupdict().get("mod")
    if mod == "next" and q <= current:
        return y + 1
    if mod in ("last", "previous") and q >= current:
        return y - 1
    return y


@_pattern(rf"\b(?P<year>{_YEAR})\s*-?\s*q(?P<q>[1-4])\b")
def _year_quarter(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "2027 q1", "2027-Q1"."""
    return _Atom(m.start(), m.end(), "period", period=_quarter_of(int(m["year"]), int(m["q"])))


@_pattern(rf"\bfy\s?'?(?P<y>{_YEAR}|[0-9]{{2}})\b")
def _fiscal_year(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "fy27": the calendar year, since no fiscal year start is configured here."""
    y = _year_value(m["y"]) or c.today.year
    return _Atom(m.start(), m.end(), "period", period=(date(y, 1, 1), date(y, 12, 31)))


_YEAR_CONTEXT = frozenset({"in", "during", "for", "of", "by", "until", "till", "since", "through"})


@_pattern(rf"\b(?P<year>{_YEAR})\b(?![/.:-]?[0-9])")
def _year_alone(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "in 2027", "during 2026": a year only after a preposition, and not before a noun."""
    if _prev_word(c, m.start()) not in _YEAR_CONTEXT:
        return None
    if not _follow_ok(c, m.end()):
        return None
    y = int(m["year"])
    return _Atom(m.start(), m.end(), "period", period=(date(y, 1, 1), date(y, 12, 31)))


@_pattern(
    rf"\b(?:(?P<mod>this|next|last|coming|past|previous)\s+)?(?P<mon>{_MON})\b"
    rf"(?:\s*,?\s*(?P<year>{_YEAR})(?![0-9])|\s*'(?P<y2>[0-9]{{2}})\b)?"
)
def _month_name(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """A month as a period: "december", "in january", "next march", "december 2026"."""
    mon = _MONTHS[m["mon"]]
    year = _year_value(m["year"] or m["y2"])
    mod = m["mod"]
    cur = c.today.month
    if year is not None:
        y = year
    elif mod in ("next", "coming"):
        y = c.today.year + (1 if mon <= cur else 0)
    elif mod in ("last", "past", "previous"):
        y = c.today.year - (1 if mon >= cur else 0)
    elif mod == "this":
        y = c.today.year
    else:
        start, end = _month_period(c, mon)
        weak = m["mon"] not in _STRONG_MONTHS
        return _Atom(m.start(), m.end(), "period", period=(start, end), weak=weak)
    return _Atom(m.start(), m.end(), "period", period=(date(y, mon, 1), date(y, mon, _month_len(y, mon))))


_DAYNUM = rf"[0-9]{{1,2}}(?:st|nd|rd|th)?|{_ORDW}"
_ORDW_RE = re.compile(_ORDW)
_YEAR_TAIL = rf"(?:\s*,?\s*(?P<year>{_YEAR})(?![0-9:])|\s*'(?P<y2>[0-9]{{2}})\b)?"


@_pattern(
    rf"\b(?P<mon>{_MON})\b\.?\s*,?\s*(?:the\s+)?(?P<day>{_DAYNUM}|{_NUMW})\b(?![:.][0-9]|/){_YEAR_TAIL}"
)
def _month_then_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "december 5th", "dec 5", "december fifth", "jan 10 2027", "december the 5th"."""
    day_s = m["day"]
    d = _ordinal(day_s)
    if not 1 <= d <= 31:
        return None
    weak = m["mon"] not in _STRONG_MONTHS and not day_s[:1].isdigit() and _ORDW_RE.fullmatch(day_s) is None
    day = _calendar_day(c, _MONTHS[m["mon"]], d, _year_value(m["year"] or m["y2"]))
    return _Atom(m.start(), m.end(), "date", day=day, weak=weak, absolute=True)


@_pattern(
    rf"\b(?P<mon>{_MON})\b\.?\s*(?P<d1>[0-9]{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|to|through|thru|until|till)\s*"
    r"(?P<d2>[0-9]{1,2})(?:st|nd|rd|th)?\b(?![:.][0-9]|\s*(?:am|pm|a\.m|p\.m|[ap]\b))"
    rf"{_YEAR_TAIL}"
)
def _month_day_range(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "dec 1-15", "december 1st to 15th": a period inside one month."""
    mon, d1, d2 = _MONTHS[m["mon"]], int(m["d1"]), int(m["d2"])
    if not 1 <= d1 < d2 <= 31:
        return None
    year = _year_value(m["year"] or m["y2"])
    first = _calendar_day(c, mon, d1, year) if c.future else _calendar_day(c, mon, d2, year)
    y = first.year
    return _Atom(m.start(), m.end(), "period", period=(date(y, mon, d1), date(y, mon, d2)))


@_pattern(
    rf"\b(?:(?P<the>the)\s+)?(?P<day>{_DAYNUM})(?P<sep>\s+of\s+|-|\s*)(?P<mon>{_MON})\b"
    rf"(?:\.?(?:\s*,?\s*|-)(?P<year>{_YEAR})(?![0-9:]))?"
)
def _day_then_month(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "5 dec", "5th of december", "the twenty first of december", "5-dec-2026"."""
    day_s = m["day"]
    d = _ordinal(day_s)
    if not 1 <= d <= 31:
        return None
    if m["sep"] == "" and not day_s[:1].isdigit():
        return None  # "fifthmay"
    weak = day_s.isdigit() and "of" not in m["sep"] and not m["the"] and not m["year"] and m["mon"] == "may"
    day = _calendar_day(c, _MONTHS[m["mon"]], d, _year_value(m["year"]))
    return _Atom(m.start(), m.end(), "date", day=day, weak=weak, absolute=True)


@_pattern(
    rf"\b(?:the\s+)?(?P<day>{_DAYNUM})\s+of\s+(?:the\s+)?(?P<mod>this|next|last|following|the)\s+month\b"
)
def _day_of_month(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the 15th of next month", "the 1st of the month"."""
    d = _ordinal(m["day"])
    if not 1 <= d <= 31:
        return None
    mod = m["mod"]
    if mod == "the":
        day = _directed(c, lambda k: _month(c.today, k)[0].replace(day=d))
    else:
        k = {"this": 0, "next": 1, "following": 1, "last": -1}[mod]
        day = _month(c.today, k)[0].replace(day=d)
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


@_pattern(
    r"(?<![0-9/.\-$:])(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?(?![0-9/]|\.[0-9])"
)
def _numeric_date(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "12/05", "12/5", "12/5/2026": US month/day; without a year the direction picks it."""
    if _NUMERIC_BAD_FOLLOW.match(c.lower, m.end()):
        return None  # "3/4 of the team", "1/2 hour"
    mon, d = int(m["a"]), int(m["b"])
    if not (1 <= mon <= 12 and 1 <= d <= 31):
        return None
    day = _calendar_day(c, mon, d, _year_value(m["y"]))
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


@_pattern(
    rf"(?<![0-9])(?P<y>{_YEAR})(?P<s>[-/])(?P<m>[0-9]{{1,2}})(?P=s)(?P<d>[0-9]{{1,2}})"
    r"(?:t(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?)?(?![0-9])"
)
def _iso_date(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "2026-12-05", "2026/12/05", "2026-12-05T15:30"."""
    day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    if m["h"]:
        dt = _at(day, int(m["h"]), int(m["mi"]))
        return _Atom(m.start(), m.end(), "dt", dt=_normalise_wall(c, dt))
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


@_pattern(rf"\b(?:(?P<the>the)\s+)?(?P<day>[0-9]{{1,2}}(?:st|nd|rd|th)|{_ORDW})\b")
def _ordinal_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the 15th", "on the 19th", "by 1st", "the fifteenth": the next (or last) such day of a month."""
    d = _ordinal(m["day"])
    if not 1 <= d <= 31 or not _follow_ok(c, m.end()):
        return None
    words = not m["day"][:1].isdigit()
    prev = _prev_word(c, m.start())
    if m["the"]:
        if words and d <= 3 and prev not in _ORDINAL_CONTEXT:
            return None  # "the first deal", "the second one"
    elif words or prev not in _ORDINAL_CONTEXT:
        return None
    day = _directed(c, lambda k: _month(c.today, k)[0].replace(day=d))
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


_END_TARGET = (
    r"(?:the\s+)?(?:(?P<mod>this|next|last|previous|current|coming|following)\s+)?"
    rf"(?:(?P<unit>week|month|quarter|qtr|year)|(?P<mon>{_MON})(?:\s*,?\s*(?P<year>{_YEAR}))?"
    rf"|q(?P<q>[1-4])(?:\s*(?P<qyear>{_YEAR}))?|(?P<yr>{_YEAR}))\b"
)


@_pattern(
    r"\b(?:the\s+)?(?:(?P<w1>end|beginning|start|middle)\s+of\s+|(?P<w2>mid|early|late)(?:\s+of\s+|\s*-\s*|\s+))"
    + _END_TARGET
)
def _end_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """end/beginning/start/middle of a week, month, quarter, year or named month; mid/early/late month."""
    which = (m["w1"] or m["w2"]).replace("beginning", "start").replace("middle", "mid")
    return _edge_atom(m, c, which)


@_pattern(
    r"\b(?:(?P<mod>this|next|last)\s+)?(?:(?P<abbr>eom|eoq|eoy|eow)|(?P<unit>month|quarter|qtr|year)[\s-]?end)\b"
)
def _end_short(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """eom, eoq, eoy, eow, "month end", "quarter-end", "next year end"."""
    return _edge_atom(m, c, "end")


@_pattern(r"\bmid[\s-]?(?P<unit>month|week)\b")
def _mid_unit(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "mid-month" (the 15th), "midweek" (Wednesday)."""
    return _edge_atom(m, c, "mid")


def _edge_date(unit: str, which: str, period: Period) -> date | Period | None:
    """The start/end/mid day of a period, or the early/late part of a month (None if not meaningful)."""
    start, end = period
    if which == "start":
        return start
    if which == "end":
        return end - timedelta(days=2) if unit == "week" else end
    if which == "mid":
        return {"week": start + timedelta(days=2), "month": start.replace(day=15)}.get(unit)
    if unit != "month":
        return None
    if which == "early":
        return start, start.replace(day=10)
    return start.replace(day=21), end  # late


def _edge_atom(m: re.Match[str], c: _Ctx, which: str) -> _Atom | None:
    """Shared by "end of ...", "eom" and "mid-month": find the period, then its edge."""
    groups = m.groupdict()
    value: date | Period | None
    if groups.get("abbr"):
        unit = {"eom": "month", "eoq": "quarter", "eoy": "year", "eow": "week"}[groups["abbr"]]
    else:
        unit = _unit_name(groups["unit"]) if groups.get("unit") else ""
    mod = groups.get("mod")
    if unit:
        if mod:
            k = {"this": 0, "current": 0, "last": -1, "previous": -1}.get(mod, 1)
            value = _edge_date(unit, which, _PERIOD_FUNCS[unit](c.today, k))
        else:
            value = _edge_date(unit, which, _PERIOD_FUNCS[unit](c.today, 0))
            if value is not None and (_side(value, c) != 0):
                value = _edge_date(unit, which, _PERIOD_FUNCS[unit](c.today, 1 if c.future else -1))
    elif groups.get("mon"):
        mon = _MONTHS[groups["mon"]]
        year = _year_value(groups.get("year"))
        base = (date(year, mon, 1), date(year, mon, _month_len(year, mon))) if year else None
        if which in ("early", "late"):
            value = _edge_date("month", which, base or _month_period(c, mon))
        elif base:
            value = _edge_date("month", which, base)
        else:

            def make(k: int) -> date:
                y = c.today.year + k
                edge = _edge_date("month", which, (date(y, mon, 1), date(y, mon, _month_len(y, mon))))
                assert isinstance(edge, date)
                return edge

            value = _directed(c, make)
    elif groups.get("q"):
        q = int(groups["q"])
        value = _edge_date("quarter", which, _quarter_of(_year_value(groups.get("qyear")) or c.today.year, q))
    elif groups.get("yr"):
        value = _edge_date("year", which, _year(date(int(groups["yr"]), 1, 1), 0))
    else:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return _Atom(m.start(), m.end(), "period", period=value)
    return _Atom(m.start(), m.end(), "date", day=value, bare_ok=True)


def _side(value: date | Period, c: _Ctx) -> int:
    """-1/1 when an unmodified edge date lies on the wrong side of today for the direction, else 0."""
    first, last = value if isinstance(value, tuple) else (value, value)
    if c.future and last < c.today:
        return -1
    if not c.future and first > c.today:
        return 1
    return 0


@_pattern(
    rf"\bin\s+(?:(?P<half>half\s+an|a\s+half)\s+hour|(?P<n>[0-9]{{1,3}}(?:\.[0-9]+)?|{_QTY})\s+"
    rf"(?P<unit>{_ALL_UNITS})(?P<andhalf>\s+and\s+a\s+half)?)\b(?:['’]?s?['’]?\s+time\b)?"
)
def _in_offset(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "in 3 days", "in two weeks", "in a month" (dates); "in an hour", "in 30 minutes" (date-times)."""
    if m["half"]:
        return _offset_atom(m, c, 30, "minute", 1)
    n = _cardinal(m["n"]) + (0.5 if m["andhalf"] else 0)
    return _offset_atom(m, c, n, _unit_name(m["unit"]), 1)


@_pattern(
    rf"\b(?:(?P<half>half\s+an|a\s+half)\s+hour|(?P<n>[0-9]{{1,3}}(?:\.[0-9]+)?|{_QTY})\s+(?P<unit>{_ALL_UNITS}))"
    r"\s+(?P<rel>ago|back|from\s+now)\b"
)
def _ago(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3 days ago", "two weeks back", "an hour from now"."""
    sign = 1 if m["rel"].startswith("from") else -1
    if m["half"]:
        return _offset_atom(m, c, 30, "minute", sign)
    return _offset_atom(m, c, _cardinal(m["n"]), _unit_name(m["unit"]), sign)


def _offset_atom(m: re.Match[str], c: _Ctx, n: float, unit: str, sign: int) -> _Atom | None:
    """Hours and minutes move now (a date-time); days and longer move today (a date)."""
    if n <= 0 or n > 1000:
        return None
    if unit in ("hour", "minute"):
        minutes = round(n * (60 if unit == "hour" else 1))
        return _Atom(m.start(), m.end(), "dt", dt=_after_now(c, timedelta(minutes=sign * minutes)))
    if n != int(n):
        return None
    return _Atom(m.start(), m.end(), "date", day=_shift(c.today, sign * int(n), unit), bare_ok=True)


@_pattern(rf"\b(?P<n>{_QTY})\s+(?P<unit>{_DAY_UNITS})\s+(?P<rel>from|after|before)\b")
def _offset_prefix(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "a week from" / "3 days before": applied to the date that follows ("a week from friday")."""
    n = int(_cardinal(m["n"]))
    if n <= 0 or n > 1000:
        return None
    sign = -1 if m["rel"] == "before" else 1
    return _Atom(m.start(), m.end(), "offset", offset=(sign * n, _unit_name(m["unit"])))


@_pattern(r"\b(?:the\s+)?week\s+of\b")
def _week_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the week of dec 7": the Monday..Sunday week around the date that follows."""
    return _Atom(m.start(), m.end(), "weekof")


@_pattern(r"\b(?:the\s+)?next\s+(?:business|working|work)\s+day\b")
def _next_business_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "next business day": the next Monday..Friday after today."""
    return _Atom(m.start(), m.end(), "date", day=_shift(c.today, 1, "bday"), bare_ok=True)


# --- times of day ----------------------------------------------------------------------------------------

_PRE = r"(?:(?P<pre>at|around|by|before|after|until|till|til|from)\s*|(?P<at>@)\s*)"
_PRE_REQ = r"(?:(?P<pre>at|around|by|before|until|till|til)\s+|(?P<at>@)\s*)"


def _clock_atom(
    m: re.Match[str], c: _Ctx, h: int, mi: int, explicit: bool, guard: bool = False
) -> _Atom | None:
    """A clock time; "by"/"before"/"until" stay outside the span (they are the caller's business)."""
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        return None
    if guard and not _follow_ok(c, m.end()):
        return None  # "at 3 deals"
    groups = m.groupdict()
    pre = groups.get("pre")
    start = m.start()
    if pre and pre not in ("at", "around"):
        start = m.start("pre") + len(pre)
        while c.lower[start : start + 1].isspace():
            start += 1
    prefixed = bool(pre or groups.get("at"))
    return _Atom(start, m.end(), "clock", hour=h, minute=mi, explicit=explicit, prefixed=prefixed)


def _meridiem(h: int, mer: str | None) -> int | None:
    """Apply am/pm to an hour 1..12 (12am is midnight, 12pm noon); None for "0pm"."""
    if not mer:
        return h
    if not 1 <= h <= 12:
        return h if h > 12 else None
    return h % 12 + (12 if mer.strip()[0] == "p" else 0)


@_pattern(rf"(?<![\w@]){_PRE}?(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?{_MER}")
def _clock_meridiem(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3pm", "3 pm", "3p", "10am", "3:30 p.m."."""
    h = _meridiem(int(m["h"]), m["mer"])
    return None if h is None else _clock_atom(m, c, h, int(m["m"] or 0), True)


@_pattern(rf"(?<![\w@:.]){_PRE}?(?P<h>[0-9]{{1,2}}):(?P<m>[0-9]{{2}})(?![0-9]|:[0-9])(?:\s*(?:h|hrs)\b)?")
def _clock_colon(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "15:30", "at 3:30" (15:30: the bare-hour rule), "07:30" (a leading zero means 24-hour)."""
    h = int(m["h"])
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), int(m["m"]), explicit)


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}(?P<h>[0-9]{{1,2}})(?![0-9]|[:.,/][0-9]|\s*%)(?P<oc>\s*o['’]?\s?clock\b)?(?:\s+sharp\b)?"
)
def _clock_bare(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at 3" (15:00), "at 10" (10:00), "by 5", "@ 3": hours 1..7 are pm, 8..11 am, 12 noon."""
    h = int(m["h"])
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), 0, explicit, guard=True)


@_pattern(rf"(?<![\w@])(?P<h>[0-9]{{1,2}}|{_HOURW})\s*o['’]?\s?clock\b")
def _clock_oclock(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3 o'clock", "ten oclock"."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    return _clock_atom(m, c, h if h > 12 else _bare_hour(h), 0, h > 12 or m["h"].startswith("0"))


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}(?P<hw>{_HOURW})(?:[\s-]+(?P<mw>{_MINW}))?\b{_MER_SPACED}?"
    r"(?P<oc>\s+o['’]?\s?clock\b)?"
)
def _clock_words(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at ten", "at ten thirty", "at three pm" (speech-recogniser text)."""
    return _word_clock(m, c, guard=not (m["mer"] or m["oc"]))


@_pattern(
    rf"(?<![\w@])(?P<hw>{_HOURW})(?:[\s-]+(?P<mw>{_MINW}))?\b(?:{_MER_SPACED}|(?P<oc>\s+o['’]?\s?clock\b))"
)
def _clock_words_meridiem(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "three pm", "ten thirty am": no "at" needed when am/pm is said."""
    return _word_clock(m, c, guard=False)


def _word_clock(m: re.Match[str], c: _Ctx, guard: bool) -> _Atom | None:
    """A clock time said in words, as speech recognisers write it."""
    h = int(_cardinal(m["hw"]))
    mi = _minute_words(m["mw"])
    if m["mer"]:
        hm = _meridiem(h, m["mer"])
        return None if hm is None else _clock_atom(m, c, hm, mi, True, guard)
    return _clock_atom(m, c, _bare_hour(h), mi, False, guard)


@_pattern(
    rf"(?<![\w@])(?:(?P<pre>at|around|by|before|until|till)\s+)?(?P<q>half|(?:a\s+)?quarter|five|ten|twenty"
    rf"(?:[\s-]five)?)\s+(?P<rel>past|after|to|till|til|of)\s+(?P<h>[0-9]{{1,2}}|{_HOURW})\b(?![:.][0-9]){_MER_SPACED}?"
)
def _clock_past(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "half past three", "quarter to four", "ten past 9"."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    q = m["q"]
    mins = 30 if q == "half" else 15 if "quarter" in q else int(_cardinal(q))
    if m["rel"] in ("to", "till", "til", "of"):
        h, mins = h - 1, 60 - mins
        if q == "half":
            return None  # "half to" is not a time
    if not m["mer"] and not _follow_ok(c, m.end()):
        return None
    hh = _meridiem(h % 12 or 12, m["mer"]) if m["mer"] else _bare_hour(h if h > 0 else 12)
    return None if hh is None else _clock_atom(m, c, hh, mins, bool(m["mer"]))


@_pattern(
    r"(?<![\w@])(?:(?P<pre>at|around|by|before|until|till)\s+)?(?:12\s*)?"
    r"(?P<w>noon|midday|mid-day|noontime|lunchtime|midnight)\b"
)
def _noon(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """noon, midday, lunchtime (12:00), midnight (00:00 of the day)."""
    return _clock_atom(m, c, 0 if m["w"] == "midnight" else 12, 0, True)


@_pattern(
    r"(?<![\w@])(?:(?P<pre>by|before|until|till)\s+)?(?:the\s+)?(?:eod|eob|cob|end\s+of\s+(?:the\s+)?"
    r"(?:business\s+|work(?:ing)?\s+)?day|close\s+of\s+(?:business|play)|end\s+of\s+business)\b"
)
def _end_of_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """eod / end of day / cob / close of business: 17:00."""
    return _clock_atom(m, c, 17, 0, True)


@_pattern(r"\bfirst\s+thing(?:\s+in\s+the\s+morning)?\b")
def _first_thing(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "first thing (tomorrow)": 09:00."""
    return _Atom(m.start(), m.end(), "clock", hour=9, minute=0, explicit=True)


@_pattern(r"\b(?:(?P<pre>in|during)\s+the\s+|at\s+(?=night))?(?P<part>morning|afternoon|evening|night)\b")
def _part_of_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """morning (09:00), afternoon (14:00), evening (18:00); "night" only modifies a clock time."""
    if _prev_word(c, m.start()) == "good":
        return None  # a greeting
    return _Atom(m.start(), m.end(), "part", part=m["part"], prefixed=m.start() != m.start("part"))


# ---------------------------------------------------------------------------------------------------------
# Wall-clock helpers
# ---------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------
# Selection and merging
# ---------------------------------------------------------------------------------------------------------


def _collect(c: _Ctx) -> list[_Atom]:
    """Every atom every pattern proposes, overlapping ones included."""
    atoms: list[_Atom] = []
    for regex, handler in _PATTERNS:
        for m in regex.finditer(c.lower):
            try:
                atom = handler(m, c)
            except (ValueError, OverflowError, KeyError, IndexError, AssertionError):
                atom = None  # an impossible date ("feb 30") or an out-of-range year is simply no mention
            if atom is not None and atom.end > atom.start:
                atoms.append(atom)
    return atoms


def _select(atoms: list[_Atom]) -> list[_Atom]:
    """Longest first, then leftmost; keep only atoms that overlap nothing already kept."""
    atoms.sort(key=lambda a: (a.start - a.end, a.start))
    starts: list[int] = []
    kept: list[_Atom] = []
    for a in atoms:
        i = bisect.bisect_right(starts, a.start)
        if i > 0 and kept[i - 1].end > a.start:
            continue
        if i < len(kept) and kept[i].start < a.end:
            continue
        starts.insert(i, a.start)
        kept.insert(i, a)
    return kept


_GAP_TIGHT = re.compile(r"[\s,]*")
_GAP_GROUP = re.compile(r"\s*(?:,\s*)?(?:(?:at|@|on|around|by|before|after|until|till|from|-)\s*)?")
_GAP_WEEKDAY_DATE = re.compile(r"\s*,?\s*(?:the\s+)?")
_GAP_RANGE = re.compile(r"\s*(?P<c>-|–|—|through|thru|and|until|till|til)\s*")
_GAP_TIME_RANGE = re.compile(r"\s*(?:-|–|—|to|until|till|or)\s*")
_RANGE_OPEN = re.compile(r"(?<![\w])(?P<w>between|from)\s+$")
_BARE_HOUR = re.compile(
    rf"[\s,]+(?P<h>[0-9]{{1,2}})(?::(?P<m>[0-9]{{2}}))?(?![0-9:./])|[\s,]+(?P<hw>{_HOURW})"
    rf"(?:[\s-]+(?P<mw>{_MINW}))?\b"
)


def _gap(c: _Ctx, a: _Atom, b: _Atom, regex: re.Pattern[str]) -> bool:
    """True when the text between two atoms is only the connector regex allows."""
    return regex.fullmatch(c.lower, a.end, b.start) is not None


def _apply_prefixes(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "a week from" + date, "the week of" + date; a prefix with no date after it is dropped."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        if a.role in ("offset", "weekof"):
            b = atoms[i + 1] if i + 1 < len(atoms) else None
            if b is not None and b.role == "date" and b.day and _gap(c, a, b, _GAP_TIGHT):
                try:
                    if a.role == "offset" and a.offset:
                        day = _shift(b.day, a.offset[0], a.offset[1])
                        out.append(_Atom(a.start, b.end, "date", day=day, bare_ok=True))
                    else:
                        out.append(_Atom(a.start, b.end, "period", period=_week(b.day, 0)))
                except (ValueError, OverflowError):
                    pass
                i += 2
                continue
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def _add_bare_hours(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "tomorrow 10", "friday 3": a bare number right after a day word is an hour (if no noun follows)."""
    out: list[_Atom] = []
    for i, a in enumerate(atoms):
        out.append(a)
        if not (a.role == "date" and a.bare_ok):
            continue
        m = _BARE_HOUR.match(c.lower, a.end)
        if not m or (i + 1 < len(atoms) and atoms[i + 1].start < m.end()) or not _follow_ok(c, m.end()):
            continue
        if m["h"]:
            h, mi, start = int(m["h"]), int(m["m"] or 0), m.start("h")
            explicit = m["h"].startswith("0") or h > 12
        else:
            h, mi, start = int(_cardinal(m["hw"])), _minute_words(m["mw"]), m.start("hw")
            explicit = False
        if (not explicit and not 1 <= h <= 12) or h > 23 or mi > 59:
            continue
        hour = h if explicit else _bare_hour(h)
        out.append(_Atom(start, m.end(), "clock", hour=hour, minute=mi, explicit=explicit))
    return out


def _merge_weekday_dates(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "tuesday, december 1st", "friday the 27th": the absolute date wins over the bare weekday."""
    out: list[_Atom] = []
    for a in atoms:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.weekday
            and a.role == "date"
            and a.absolute
            and not a.weak
            and _gap(c, prev, a, _GAP_WEEKDAY_DATE)
        ):
            out[-1] = _Atom(prev.start, a.end, "date", day=a.day, bare_ok=True)
            continue
        out.append(a)
    return out


def _span_dates(a: _Atom) -> Period | None:
    """The first and last day an atom covers, for ranges."""
    if a.role == "date" and a.day:
        return a.day, a.day
    if a.role == "period" and a.period:
        return a.period
    return None


def _merge_ranges(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "between dec 1 and dec 5", "dec 1 - dec 5", "monday through friday", "from may until june"."""
    out: list[_Atom] = []
    for b in atoms:
        a = out[-1] if out else None
        sa, sb = (_span_dates(a) if a else None), _span_dates(b)
        m = _GAP_RANGE.fullmatch(c.lower, a.end, b.start) if a and sa and sb else None
        if a is None or sa is None or sb is None or m is None:
            out.append(b)
            continue
        opener = _RANGE_OPEN.search(c.lower, max(0, a.start - 10), a.start)
        word = opener["w"] if opener else ""
        conn = m["c"]
        if (conn == "and" and word != "between") or (conn in ("until", "till", "til") and word != "from"):
            out.append(b)
            continue
        start, end = sa[0], sb[1]
        if end < start and b.weekday and end.year < 9999:
            end += timedelta(days=7)
        if end < start or (a.weak and b.weak and not word):
            out.append(b)
            continue
        out[-1] = _Atom(opener.start() if opener else a.start, b.end, "period", period=(start, end))
    return out


def _resolve_group(c: _Ctx, group: list[_Atom], inherited: date | None = None) -> _Atom | None:
    """A day, a clock and a part of day that belong together become one date or date-time.

    `inherited` is the day of the time range's first half: "tomorrow 2-4pm" puts 4pm tomorrow too.
    """
    day_atom = next((a for a in group if a.role == "date"), None)
    clock = next((a for a in group if a.role == "clock"), None)
    part_atom = next((a for a in group if a.role == "part"), None)
    part = part_atom.part if part_atom else (day_atom.part if day_atom else None)
    start, end = group[0].start, group[-1].end
    if clock is not None:
        h = clock.hour
        if not clock.explicit:
            raw = h - 12 if 13 <= h <= 19 else h  # undo the bare-hour guess; the part of day decides
            if part in ("afternoon", "evening", "night") and 1 <= raw <= 11:
                h = raw + 12
            elif part == "morning":
                h = raw
        minute = clock.minute
    elif part in _PART_HOURS:
        h, minute = _PART_HOURS[part or ""], 0
    else:
        if day_atom is None:
            return None  # "at night" alone
        return _Atom(start, end, "date", day=day_atom.day)
    if day_atom is not None and day_atom.day is not None:
        return _Atom(start, end, "dt", dt=_normalise_wall(c, _at(day_atom.day, h, minute)))
    if inherited is not None:
        return _Atom(start, end, "dt", dt=_normalise_wall(c, _at(inherited, h, minute)))
    dt = _at(c.today, h, minute)
    if c.future and dt < c.now_min:
        dt += timedelta(days=1)
    elif not c.future and dt > c.now_min:
        dt -= timedelta(days=1)
    return _Atom(start, end, "dt", dt=_normalise_wall(c, dt))


def _at(day: date, hour: int, minute: int) -> datetime:
    """A naive wall-clock date-time."""
    return datetime(day.year, day.month, day.day, hour, minute)


def _group(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """Join neighbouring day, clock and part atoms ("tomorrow at 10", "at 10 tomorrow", "friday 3pm")."""
    out: list[_Atom] = []
    group: list[_Atom] = []
    inherited: date | None = None

    def flush() -> None:
        if not group:
            return
        only = group[0]
        if len(group) == 1 and only.role == "date" and only.part not in _PART_HOURS:
            out.append(only)
        elif len(group) == 1 and only.role == "part" and not only.prefixed and not _follow_ok(c, only.end):
            pass  # "morning standup": an adjective, not a time
        else:
            weak = [a for a in group if a.weak]
            try:
                resolved = _resolve_group(c, group, inherited)
            except OverflowError:  # "tomorrow at 3" said on 9999-12-31
                resolved = None
            if resolved is not None:
                out.append(resolved)
            elif weak:
                out.extend(weak)
        group.clear()

    for a in atoms:
        if a.role not in ("date", "clock", "part"):
            flush()
            out.append(a)
            continue
        if group and _joinable(c, group, a):
            group.append(a)
            continue
        carry = None
        if group and a.role == "clock" and _gap(c, group[-1], a, _GAP_TIME_RANGE):
            carry = next((g.day for g in group if g.role == "date"), None)
        flush()
        inherited = carry
        group.append(a)
    flush()
    return out


def _joinable(c: _Ctx, group: list[_Atom], a: _Atom) -> bool:
    """Whether a joins the day/clock/part group before it; a weak day only joins a tight, bare time."""
    last = group[-1]
    roles = {g.role for g in group}
    if a.role in roles:
        return False
    if (a.role == "part" and any(g.part for g in group)) or (a.role == "date" and a.part and "part" in roles):
        return False  # "this morning" already has its part
    weak = next((g for g in [*group, a] if g.weak), None)
    if weak is not None:
        other = a if weak is not a else last
        return not other.prefixed and _gap(c, last, a, _GAP_TIGHT)
    return _gap(c, last, a, _GAP_GROUP)


# ---------------------------------------------------------------------------------------------------------
# dateparser fallback
# ---------------------------------------------------------------------------------------------------------

_DP_TOKEN = rf"(?:[0-9]{{1,4}}(?:st|nd|rd|th)?|the|of|{_WD})"
_DP_CANDIDATE = re.compile(
    rf"(?<![\w./-])(?:[0-9]{{1,4}}[./-][0-9]{{1,2}}[./-][0-9]{{2,4}}|(?:{_DP_TOKEN}[\s,./'-]+){{0,3}}(?:{_MON})\b\.?"
    rf"(?:[\s,./'-]+{_DP_TOKEN}){{0,3}})(?![\w/-])"
)
_DP_TRIM = re.compile(rf"(?:[\s,./'-]+(?:of|the|{_WD}))+$")
_DP_MAX_CALLS = 3


def _dateparser_atoms(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """Absolute date phrases the rules did not resolve ("12-05-2026", "3 jan 27"), parsed by dateparser."""
    found: list[_Atom] = []
    calls = 0
    starts = [a.start for a in atoms]
    for m in _DP_CANDIDATE.finditer(c.lower):
        start, end = m.start(), m.start() + len(_DP_TRIM.sub("", m.group()))
        if not any(ch.isdigit() for ch in c.lower[start:end]) or end - start > 40:
            continue
        i = bisect.bisect_left(starts, end)
        if any(a.start < end and a.end > start for a in atoms[max(0, i - 3) : i]):
            continue  # the rules already say something about these words
        if calls >= _DP_MAX_CALLS:
            break
        calls += 1
        day = _dateparser_date(c, c.lower[start:end])
        if day is not None:
            found.append(_Atom(start, end, "date", day=day, absolute=True))
    return found


def _dateparser_date(c: _Ctx, phrase: str) -> date | None:
    """dateparser on one short candidate phrase, never on the whole sentence (it costs milliseconds)."""
    try:
        import dateparser  # lazy: importing it takes ~100 ms, and most utterances never need it
    except ImportError:  # pragma: no cover - dateparser is a dependency, but the rules work without it
        return None
    settings = {
        "RELATIVE_BASE": c.now_min,
        "PREFER_DATES_FROM": "future" if c.future else "past",
        "REQUIRE_PARTS": ["day", "month"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        result = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; it is only a fallback
        return None
    if result is None or not 1900 <= result.year <= 2199:
        return None
    return result.date()


# ---------------------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------------------


def _keep(c: _Ctx, a: _Atom) -> bool:
    """Weak atoms ("may", "sat", "march" alone) count only after a preposition such as "in" or "on"."""
    return not a.weak or _prev_word(c, a.start) in _CONTEXT_WORDS


def _to_mention(text: str, c: _Ctx, a: _Atom, prev_end: int) -> TimeMention | None:
    """The public form; a leading "on"/"at" (dates) or "in" (periods) joins the span, for text cleanup."""
    start = a.start
    if a.role == "period" and a.period:
        kind: Kind = "period"
        value: date | datetime | Period = a.period
        ext = _EXTEND_PERIOD.search(c.lower, max(prev_end, start - 8), start)
    elif a.role == "dt" and a.dt:
        kind, value = "datetime", a.dt
        ext = _EXTEND_DATE.search(c.lower, max(prev_end, start - 8), start)
    elif a.role == "date" and a.day:
        kind, value = "date", a.day
        ext = _EXTEND_DATE.search(c.lower, max(prev_end, start - 8), start)
    else:
        return None
    if ext is not None:
        start = ext.start()
    return TimeMention(start, a.end, kind, value, text[start : a.end], a.relative_week)


def _find(text: str, now: datetime, direction: str) -> list[TimeMention]:
    """The whole pipeline, without the safety net (tests call this one so that bugs surface)."""
    if not text:
        return []
    tz = now.tzinfo
    local = now.replace(tzinfo=None)
    c = _Ctx(
        lower=_lower(text),
        now=now,
        now_min=local.replace(second=0, microsecond=0),
        today=local.date(),
        future=direction != "past",
        tz=tz,
    )
    atoms = _select(_collect(c))
    extra = _dateparser_atoms(c, atoms)
    if extra:
        atoms = sorted([*atoms, *extra], key=lambda a: a.start)
    atoms = _apply_prefixes(c, atoms)
    atoms = _add_bare_hours(c, atoms)
    atoms = _merge_weekday_dates(c, atoms)
    atoms = _merge_ranges(c, atoms)
    atoms = _group(c, atoms)
    mentions: list[TimeMention] = []
    prev_end = 0
    for a in atoms:
        if not _keep(c, a):
            continue
        mention = _to_mention(text, c, a, prev_end)
        if mention is not None:
            mentions.append(mention)
            prev_end = mention.end
    return mentions


def find_time_mentions(
    text: str, now: datetime, direction: Literal["future", "past"] = "future"
) -> list[TimeMention]:
    """Non-overlapping mentions, longest first then left to right, sorted by start.

    `now` is an aware datetime in the user's zone (a naive one is taken as local wall time). `direction`
    is "past" for an activity that happened, "future" for reminders, due dates, close dates and queries.
    Any string is accepted; a bug in a rule costs the mentions of that text, never an exception.
    """
    if not isinstance(now, datetime):
        raise TypeError("now must be a datetime")
    if not isinstance(text, str):
        return []
    try:
        return _find(text, now, direction)
    except Exception:  # the parser must never take a conversation down; tests exercise _find directly
        return []
