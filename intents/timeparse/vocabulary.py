"""The words of time expressions and the regex fragments built from them, compiled once at import.

The word tables are data (intents/data/time_words.json, and the number words of
intents/data/number_words.json); this module only turns them into alternations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from intents import number_words
from intents.datafiles import read_json

_WORDS: dict[str, Any] = read_json("time_words.json")
# Number words come from the one table (data/number_words.json): "zero" is no day, hour or count, and a
# day of the month is at most the thirty-first.
_UNITS: Mapping[str, int] = {w: v for w, v in number_words.UNITS.items() if v}
_TEENS: Mapping[str, int] = number_words.TEENS
_TENS: Mapping[str, int] = number_words.TENS
_ORD_UNITS: Mapping[str, int] = {w: v for w, v in number_words.ORDINAL_UNITS.items() if v}
_ORD_TEENS: Mapping[str, int] = {
    **number_words.ORDINAL_TEENS,
    **{w: v for w, v in number_words.ORDINAL_TENS.items() if v <= 30},
}
_MONTHS: dict[str, int] = _WORDS["months"]
_STRONG_MONTHS: frozenset[str] = frozenset(_WORDS["strong_months"])
_WEEKDAYS: dict[str, int] = _WORDS["weekdays"]
_WEAK_WEEKDAYS: frozenset[str] = frozenset(_WORDS["weak_weekdays"])
_WEAK_WEEKDAY_NOT_AFTER: frozenset[str] = frozenset(_WORDS["weak_weekday_not_after"])
_TOMORROW: list[str] = _WORDS["tomorrow"]
_YESTERDAY: list[str] = _WORDS["yesterday"]
_CONTEXT_WORDS: frozenset[str] = frozenset(_WORDS["context_words"])
_ORDINAL_CONTEXT = _CONTEXT_WORDS - {"of", "this", "next", "last", "for"}
_PART_HOURS = {"morning": 9, "afternoon": 14, "evening": 18}
_HOLIDAYS: dict[str, Any] = read_json("holidays.json")
_HOLIDAY_NOT_AFTER: frozenset[str] = frozenset(_HOLIDAYS["not_after"])
_WEAK_HOLIDAYS: frozenset[str] = frozenset(_HOLIDAYS["weak"])


def _holiday_regex(name: str) -> str:
    """A holiday's name as a regex: "'s" may be said as "s" (or, inside the name, not at all), "st" as
    "st." or "saint", and words may be joined by spaces or hyphens ("new-year's-eve")."""
    words = []
    for i, word in enumerate(name.split()):
        last = i == len(name.split()) - 1
        if word == "st":
            words.append(r"(?:st\.?|saint)")
        elif word.endswith("'s"):
            words.append(re.escape(word[:-2]) + (r"['’]?s" if last else r"(?:['’]?s)?"))
        elif word.endswith("s'"):
            words.append(re.escape(word[:-1]) + r"['’]?")
        else:
            words.append(re.escape(word))
    return r"[\s-]+".join(words)


_HOLIDAY_NAMES: list[str] = [
    n for kind in ("fixed", "nth_weekday", "easter", "after") for n in _HOLIDAYS[kind]
]
# longest first, so that "christmas eve" is tried before "christmas"
_HOLIDAY = "|".join(_holiday_regex(n) for n in sorted(_HOLIDAY_NAMES, key=len, reverse=True))
# a pre-filter: the longest word of each name, without its "'s" ("year" for "new year's eve")
_HOLIDAY_NEEDS: tuple[str, ...] = tuple(
    sorted({re.sub(r"['’]s?$", "", max(n.split(), key=len)) for n in _HOLIDAY_NAMES})
)
_HOLIDAY_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_holiday_regex(n)), n) for n in sorted(_HOLIDAY_NAMES, key=len, reverse=True)
]


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
_MER = r"(?P<mer>\s*(?:a\.?\s?m(?:\b|(?=ish\b))\.?|p\.?\s?m(?:\b|(?=ish\b))\.?)|[ap](?![a-z0-9]))"
_MER_SPACED = r"(?P<mer>\s*(?:a\.?\s?m(?:\b|(?=ish\b))\.?|p\.?\s?m(?:\b|(?=ish\b))\.?))"
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
