"""What the rules hand to the resolution: atoms (pieces of a time expression before merging), the
context they are read in, the shape of a rule, and the public `TimeMention` the pipeline ends with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

from intents.timeparse.vocabulary import _FOLLOW_OK, _PREV_WORD

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


@dataclass(slots=True)
class _Atom:
    """A piece of a time expression before merging; `role` says which fields matter."""

    start: int
    end: int
    role: str  # date | period | clock | part | dt | offset | weekof | none (words that are no time)
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
    today: bool = False  # a clock time that, said without a day, is today in either direction ("eod")


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


Handler = Callable[[re.Match[str], _Ctx], _Atom | None]
Rule = tuple[re.Pattern[str], Handler, tuple[str, ...]]


def rule_registry(rules: list[Rule]) -> Callable[..., Callable[[Handler], Handler]]:
    """A decorator that appends a handler and its regex (compiled once, at import) to `rules`, in order:
    the order breaks ties between equally long atoms. `needs`, when given, are substrings of which the
    lowercased text must hold one for the regex to be tried at all (a cheap pre-filter)."""

    def pattern(regex: str, needs: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            rules.append((re.compile(regex), fn, needs))
            return fn

        return register

    return pattern
