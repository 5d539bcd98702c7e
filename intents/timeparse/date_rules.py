"""The rules for days, dates and periods: each regex proposes an atom through its handler.

They are tried in this file's order (then the clock rules): the order breaks ties between atoms of the
same length at the same place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from intents.timeparse.atoms import Period, Rule, _Atom, _Ctx, _follow_ok, _prev_word, rule_registry
from intents.timeparse.calendar import (
    _PERIOD_FUNCS,
    _bare_weekday,
    _calendar_day,
    _cardinal,
    _directed,
    _holiday_date,
    _monday,
    _month,
    _month_len,
    _month_period,
    _ordinal,
    _quarter_of,
    _shift,
    _unit_name,
    _year,
    _year_value,
)
from intents.timeparse.vocabulary import (
    _ALL_UNITS,
    _CONTEXT_WORDS,
    _DAY_UNITS,
    _HOLIDAY,
    _HOLIDAY_NEEDS,
    _HOLIDAY_NOT_AFTER,
    _HOLIDAY_PATTERNS,
    _MON,
    _MONTHS,
    _NUMERIC_BAD_FOLLOW,
    _NUMW,
    _ORDINAL_CONTEXT,
    _ORDW,
    _QTY,
    _STRONG_MONTHS,
    _TMRW,
    _WD,
    _WEAK_HOLIDAYS,
    _WEAK_WEEKDAY_NOT_AFTER,
    _WEAK_WEEKDAYS,
    _WEEKDAYS,
    _YDAY,
    _YEAR,
)
from intents.timeparse.wallclock import _after_now, _at, _normalise_wall

_DIGITS = tuple("0123456789")  # a pre-filter: rules that need a digit
DATE_RULES: list[Rule] = []
_pattern = rule_registry(DATE_RULES)


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
    weak = (
        not m["mod"]
        and not post
        and m["wd"] in _WEAK_WEEKDAYS
        and _prev_word(c, m.start()) not in _CONTEXT_WORDS  # "on sat at 10" is as good as "on saturday"
        and not _day_at_clause_end(m, c)
    )
    return _Atom(m.start(), m.end(), "date", day=day, weak=weak, weekday=bare, bare_ok=True)


# What may follow an abbreviated day at the end of a clause: the end, punctuation, its own dot ("mon."),
# or a word that starts what the message is about ("phoned nina sat re the invoice", "remind me sat to prep")
_CLAUSE_END = re.compile(
    r"\.?\s*(?:$|[,;:!?)\]]|\.(?![a-z0-9])|[-–—]\s)|\.\s|\s+(?:re|regarding|about|to)\b(?!\s*(?:[,.;!?]|$))"
)


def _day_at_clause_end(m: re.Match[str], c: _Ctx) -> bool:
    """ "call jane sat", "follow up mon.": a word-like day abbreviation ("sat", "sun", "mon", "wed") that
    ends a clause (or the message: "sat?") is a day, unless a subject, an article or a verb comes before it
    ("we sat", "the sun")."""
    if m.start() > 0 and c.lower[m.start() - 1] in "'’-":
        return False  # "c'mon"
    if _CLAUSE_END.match(c.lower, m.end()) is None:
        return False
    return _prev_word(c, m.start()) not in _WEAK_WEEKDAY_NOT_AFTER


@_pattern(rf"\b(?P<wk>next|this|last)\s+week(?:'s)?\s*,?\s*(?:on\s+)?(?P<wd>{_WD})\b", needs=("week",))
def _week_weekday(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "next week friday", "this week's monday"."""
    k = {"next": 1, "this": 0, "last": -1}[m["wk"]]
    day = _monday(c.today) + timedelta(days=7 * k + _WEEKDAYS[m["wd"]])
    return _Atom(m.start(), m.end(), "date", day=day, bare_ok=True)


@_pattern(
    r"\b(?:(?P<the>the)\s+)?(?P<mod>this|next|last|previous|past|coming|following|current|upcoming)\s+"
    r"(?P<unit>week|wk|month|mth|mo|quarter|qtr|(?:fiscal\s+|financial\s+)?year|yr)\b",
    needs=("this", "next", "last", "previous", "past", "coming", "following", "current", "upcoming"),
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


@_pattern(
    r"\b(?:the\s+)?(?P<unit>week|month|year)\s+(?P<rel>after\s+next|before\s+last)\b",
    needs=("after", "before"),
)
def _after_next(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the week after next", "the month before last"."""
    unit = m["unit"]
    k = 2 if m["rel"].startswith("after") else -2
    return _Atom(
        m.start(), m.end(), "period", period=_PERIOD_FUNCS[unit](c.today, k), relative_week=unit == "week"
    )


@_pattern(
    rf"\b(?:(?P<the>the)\s+)?(?P<dir>next|past|last|previous|coming|following|upcoming)\s+(?P<n>{_QTY})\s+"
    r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)\b",
    needs=("next", "past", "last", "previous", "coming", "following", "upcoming"),
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


@_pattern(
    r"\b(?P<w>ytd|mtd|qtd|wtd|(?P<unit>year|month|quarter|week)[\s-]+to[\s-]+date)\b", needs=("td", "date")
)
def _to_date(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ytd / mtd / qtd / wtd: from the start of the current period to today."""
    unit = m["unit"] or {"y": "year", "m": "month", "q": "quarter", "w": "week"}[m["w"][0]]
    return _Atom(m.start(), m.end(), "period", period=(_PERIOD_FUNCS[unit](c.today, 0)[0], c.today))


@_pattern(r"\b(?P<mod>this\s+coming|this|next|last|the|coming|past|previous)\s+weekend\b", needs=("weekend",))
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


@_pattern(r"\b(?:the\s+)?rest\s+of\s+(?:the\s+|this\s+)?(?P<unit>week|month|quarter|year)\b", needs=("rest",))
def _rest_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the rest of the week": today .. the end of the current period."""
    return _Atom(m.start(), m.end(), "period", period=(c.today, _PERIOD_FUNCS[m["unit"]](c.today, 0)[1]))


_QYEAR = rf"(?:\s*,?\s*(?:of\s+)?(?:(?P<ymod>this|next|last)\s+year|(?P<year>{_YEAR})|'(?P<y2>[0-9]{{2}})))?"


@_pattern(
    r"\b(?:(?P<mod>this|next|last|previous)\s+)?(?:the\s+)?(?:q(?P<q>[1-4])|(?P<qo>first|second|third|fourth"
    rf"|1st|2nd|3rd|4th)\s+(?:quarter|qtr))\b{_QYEAR}(?![0-9])",
    needs=("q",),
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
    if not mod and c.future and q < current:
        return y + 1  # "forecast for q1" said in November: the coming Q1
    if not mod and not c.future and q > current:
        return y - 1  # "won in q4" said in February: the Q4 just gone
    return y


@_pattern(rf"\b(?P<year>{_YEAR})\s*-?\s*q(?P<q>[1-4])\b", needs=("q",))
def _year_quarter(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "2027 q1", "2027-Q1"."""
    return _Atom(m.start(), m.end(), "period", period=_quarter_of(int(m["year"]), int(m["q"])))


@_pattern(rf"\bfy\s?'?(?P<y>{_YEAR}|[0-9]{{2}})\b", needs=("fy",))
def _fiscal_year(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "fy27": the calendar year, since no fiscal year start is configured here."""
    y = _year_value(m["y"]) or c.today.year
    return _Atom(m.start(), m.end(), "period", period=(date(y, 1, 1), date(y, 12, 31)))


_YEAR_CONTEXT = frozenset({"in", "during", "for", "of", "by", "until", "till", "since", "through"})


@_pattern(rf"\b(?P<year>{_YEAR})\b(?![/.:-]?[0-9])", needs=("19", "20"))
def _year_alone(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "in 2027", "during 2026": a year after a preposition, and not before a noun; or a year that ends the
    sentence after a word ("monthly wins 2026"), where nothing is left for it to count."""
    closing = not c.lower[m.end() :].strip(" .!?") and _prev_word(c, m.start()).isalpha()
    if _prev_word(c, m.start()) not in _YEAR_CONTEXT and not closing:
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
    rf"{_YEAR_TAIL}",
    needs=_DIGITS,
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
    rf"\b(?:the\s+)?(?P<day>{_DAYNUM})\s+(?:of\s+(?:the\s+)?(?P<mod>this|next|last|following|the)|(?P<mod2>this|next))"
    r"\s+month\b",
    needs=("month",),
)
def _day_of_month(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the 15th of next month", "the 1st of the month", "the 20th next month"."""
    d = _ordinal(m["day"])
    if not 1 <= d <= 31 or (m["mod2"] and m["day"].isdigit()):
        return None  # "5 next month" is no day; "the 20th next month" is
    mod = m["mod"] or m["mod2"]
    if mod == "the":
        day = _directed(c, lambda k: _month(c.today, k)[0].replace(day=d))
    else:
        k = {"this": 0, "next": 1, "following": 1, "last": -1}[mod]
        day = _month(c.today, k)[0].replace(day=d)
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


@_pattern(
    r"(?<![0-9/.\-$:])(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?(?![0-9/]|\.[0-9])",
    needs=("/",),
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
    r"(?:t(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?)?(?![0-9])",
    needs=("19", "20"),
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
    elif words or (prev not in _ORDINAL_CONTEXT and prev not in _WEEKDAYS):
        return None  # "sun 29th" is a date (the weekday merges into it), "the 2nd call" is not
    day = _directed(c, lambda k: _month(c.today, k)[0].replace(day=d))
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True)


_END_TARGET = (
    r"(?:the\s+)?(?:(?P<mod>this|next|last|previous|current|coming|following)\s+)?"
    rf"(?:(?P<unit>week|wk|month|mth|quarter|qtr|(?:fiscal\s+|financial\s+)?year)|(?P<mon>{_MON})(?:\s*,?\s*(?P<year>{_YEAR}))?"
    rf"|q(?P<q>[1-4])(?:\s*(?P<qyear>{_YEAR}))?|(?P<yr>{_YEAR}))\b"
)


@_pattern(
    r"\b(?:the\s+)?(?:(?P<w1>end|beginning|start|middle)\s+of\s+|(?P<w2>mid|early|late)(?:\s+of\s+|\s*-\s*|\s+))"
    + _END_TARGET,
    needs=("end", "beginning", "start", "middle", "mid", "early", "late"),
)
def _end_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """end/beginning/start/middle of a week, month, quarter, year or named month; mid/early/late month."""
    which = (m["w1"] or m["w2"]).replace("beginning", "start").replace("middle", "mid")
    return _edge_atom(m, c, which)


@_pattern(
    r"\b(?:(?P<mod>this|next|last)\s+)?(?:(?P<abbr>eom|eoq|eoy|eow)|(?:(?P<unit>month|quarter|qtr|year)|q(?P<q>[1-4]))"
    r"[\s-]?end)\b",
    needs=("eom", "eoq", "eoy", "eow", "end"),
)
def _end_short(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """eom, eoq, eoy, eow, "month end", "quarter-end", "next year end"."""
    return _edge_atom(m, c, "end")


@_pattern(r"\bmid[\s-]?(?P<unit>month|week)\b", needs=("mid",))
def _mid_unit(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "mid-month" (the 15th), "midweek" (Wednesday)."""
    return _edge_atom(m, c, "mid")


@_pattern(
    rf"\b(?:(?P<mod>this|next|last|coming|past|previous)\s+)?(?P<name>{_HOLIDAY})(?![\w'’])"
    rf"(?:\s*,?\s*(?:(?P<year>{_YEAR})(?![0-9:])|(?P<ymod>this|next|last)\s+year\b))?",
    needs=_HOLIDAY_NEEDS,
)
def _holiday(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "christmas eve", "new year's day", "thanksgiving", "good friday", "black friday 2027": the holidays of
    data/holidays.json. Not a greeting ("merry christmas") nor an adjective ("the christmas party")."""
    if _prev_word(c, m.start()) in _HOLIDAY_NOT_AFTER or not _follow_ok(c, m.end()):
        return None
    name = next(n for regex, n in _HOLIDAY_PATTERNS if regex.fullmatch(m["name"]))
    year = _year_value(m["year"])
    if m["ymod"]:
        year = c.today.year + {"this": 0, "next": 1, "last": -1}[m["ymod"]]
    mod = m["mod"]
    if year is None and mod == "this":
        year = c.today.year
    if year is not None:
        day = _holiday_date(name, year)
    elif mod in ("next", "coming"):  # the next one after today
        day = min(d for d in (_holiday_date(name, c.today.year + k) for k in (0, 1)) if d > c.today)
    elif mod in ("last", "past", "previous"):  # the last one before today
        day = max(d for d in (_holiday_date(name, c.today.year - k) for k in (0, 1)) if d < c.today)
    else:
        day = _directed(c, lambda k: _holiday_date(name, c.today.year + k))
    weak = name in _WEAK_HOLIDAYS and not (mod or m["year"] or m["ymod"])
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True, bare_ok=True, weak=weak)


_NTH = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
        "5th": 5, "last": -1, "final": -1, "second-to-last": -2, "penultimate": -2}  # fmt: skip


@_pattern(
    rf"\b(?:the\s+)?(?P<n>{'|'.join(sorted(_NTH, key=len, reverse=True))})\s+"
    rf"(?P<what>{_WD}|(?:(?P<bday>business|working|work|week)\s*)?day|(?P<week>week|wk))\s+(?:of|in)\s+"
    rf"(?:(?P<each>each|every)\s+(?:week|month|quarter|year)\b|{_END_TARGET})",
    needs=tuple(_NTH),
)
def _nth_in_period(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the first tuesday of october", "last monday of march", "second friday of next month", "the last
    day of the month", "the first business day of q1": counted from the start (or the end) of a period. "the
    first week of january" is the 1st..7th, "the last week of december" the 25th..31st."""
    if m["each"] or _prev_word(c, m.start()) in ("every", "each"):
        return _Atom(m.start(), m.end(), "none")  # recurring: no date, and no "monday" inside it either
    n, what = _NTH[m["n"]], m["what"]
    wd = _WEEKDAYS.get(what)

    def pick(period: Period) -> date:
        first, last = period
        if m["week"]:  # the first day of the nth (or the last) seven days
            if not (1 <= n <= 4 or n == -1):
                raise ValueError("only the first four weeks and the last one are whole")
            return first + timedelta(days=7 * (n - 1)) if n > 0 else last - timedelta(days=6)
        step = timedelta(days=1 if n > 0 else -1)
        d, left = (first if n > 0 else last), abs(n)
        while first <= d <= last:
            if (d.weekday() == wd) if wd is not None else (not m["bday"] or d.weekday() < 5):
                left -= 1
                if not left:
                    return d
            d += step
        raise ValueError("no such day in the period")  # "the fifth monday" of a month that has four

    try:
        day = _target_day(m, c, pick)
    except ValueError:
        return _Atom(m.start(), m.end(), "none")  # "the fifth monday of next month" when it has four
    if m["week"]:
        return _Atom(m.start(), m.end(), "period", period=(day, day + timedelta(days=6)))
    return _Atom(m.start(), m.end(), "date", day=day, absolute=True, bare_ok=True)


def _target_day(m: re.Match[str], c: _Ctx, pick: Callable[[Period], date]) -> date:
    """The day `pick` chooses in the period _END_TARGET names; without this/next/a year, the first such day
    on the right side of today for the direction ("the first monday of october" said in November)."""
    mod, unit = m["mod"], m["unit"]
    if unit:
        funcs = _PERIOD_FUNCS[_unit_name(unit)]
        if mod:
            return pick(funcs(c.today, {"this": 0, "current": 0, "last": -1, "previous": -1}.get(mod, 1)))
        return _directed(c, lambda k: pick(funcs(c.today, k)))
    if m["mon"]:
        mon = _MONTHS[m["mon"]]
        year = _year_value(m["year"])
        if year is None and mod:
            cur = c.today.month
            year = c.today.year + {"this": 0, "current": 0}.get(mod, 0)
            if mod in ("next", "coming", "following") and mon <= cur:
                year += 1
            elif mod in ("last", "previous") and mon >= cur:
                year -= 1
        if year is not None:
            return pick((date(year, mon, 1), date(year, mon, _month_len(year, mon))))
        return _directed(c, lambda k: pick((date(c.today.year + k, mon, 1), _last_of(c.today.year + k, mon))))
    if m["q"]:
        q, qyear = int(m["q"]), _year_value(m["qyear"])
        if qyear is not None:
            return pick(_quarter_of(qyear, q))
        return _directed(c, lambda k: pick(_quarter_of(c.today.year + k, q)))
    return pick(_year(date(int(m["yr"]), 1, 1), 0))


def _last_of(y: int, mon: int) -> date:
    """The last day of a month."""
    return date(y, mon, _month_len(y, mon))


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
        q, qyear = int(groups["q"]), _year_value(groups.get("qyear"))
        if qyear is None and mod:  # "next q1 end": the year of "next q1"
            current = (c.today.month - 1) // 3 + 1
            qyear = c.today.year
            if mod in ("next", "coming", "following") and q <= current:
                qyear += 1
            elif mod in ("last", "previous") and q >= current:
                qyear -= 1
        if qyear is not None:
            value = _edge_date("quarter", which, _quarter_of(qyear, q))
        else:  # "end of q1" said in November is the coming one (or the last one, looking back)

            def make_q(k: int) -> date:
                edge = _edge_date("quarter", which, _quarter_of(c.today.year + k, q))
                assert isinstance(edge, date)
                return edge

            value = _directed(c, make_q)
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
    rf"(?P<unit>{_ALL_UNITS})(?P<andhalf>\s+and\s+a\s+half)?)\b(?:['’]?s?['’]?\s+time\b)?",
    needs=("in",),
)
def _in_offset(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "in 3 days", "in two weeks", "in a month" (dates); "in an hour", "in 30 minutes" (date-times)."""
    if m["half"]:
        return _offset_atom(m, c, 30, "minute", 1)
    n = _cardinal(m["n"]) + (0.5 if m["andhalf"] else 0)
    return _offset_atom(m, c, n, _unit_name(m["unit"]), 1)


@_pattern(
    rf"\b(?:(?P<half>half\s+an|a\s+half)\s+hour|(?P<n>[0-9]{{1,3}}(?:\.[0-9]+)?|{_QTY})\s+(?P<unit>{_ALL_UNITS}))"
    r"\s+(?P<rel>ago|back|from\s+now)\b",
    needs=("ago", "back", "from"),
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


@_pattern(
    rf"\b(?:(?P<n>{_QTY})\s+(?P<unit>{_DAY_UNITS})|the\s+day|(?P<fn>fortnight))\s+(?:(?P<rel>from|after|before|on)\b"
    rf"|(?=(?:today|{_TMRW})\b))",
    needs=("day", "week", "wk", "fortnight", "month", "mth", "mo", "year", "yr"),
)
def _offset_prefix(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "a week from" / "3 days before" / "the day after": applied to the date that follows ("a week from
    friday", "the day after christmas"; British "a week on friday", "a fortnight today"); with no date
    after it, it is dropped."""
    if not m["n"]:  # "the day after", "fortnight today"
        unit = "fortnight" if m["fn"] else "day"
        return _Atom(m.start(), m.end(), "offset", offset=(-1 if m["rel"] == "before" else 1, unit))
    n = int(_cardinal(m["n"]))
    if n <= 0 or n > 1000:
        return None
    sign = -1 if m["rel"] == "before" else 1
    return _Atom(m.start(), m.end(), "offset", offset=(sign * n, _unit_name(m["unit"])))


@_pattern(r"\b(?:the\s+)?week\s+(?:of|(?P<rel>before|after))\b", needs=("week",))
def _week_of(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "the week of dec 7": the Monday..Sunday week around the date that follows; "the week before
    christmas" the week before that one."""
    k = {"before": -1, "after": 1}.get(m["rel"] or "", 0)
    return _Atom(m.start(), m.end(), "weekof", offset=(k, "week"))


@_pattern(r"\b(?:the\s+)?next\s+(?:business|working|work)\s+day\b", needs=("next",))
def _next_business_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "next business day": the next Monday..Friday after today."""
    return _Atom(m.start(), m.end(), "date", day=_shift(c.today, 1, "bday"), bare_ok=True)
