"""The public entry point: the whole pipeline from text to `TimeMention`s, behind a safety net."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from intents.timeparse.atoms import Kind, Period, TimeMention, _Atom, _Ctx, _lower, _prev_word
from intents.timeparse.fallback import _dateparser_atoms
from intents.timeparse.merging import (
    _add_bare_hours,
    _apply_prefixes,
    _collect,
    _group,
    _merge_ranges,
    _merge_weekday_dates,
    _select,
)
from intents.timeparse.vocabulary import _CONTEXT_WORDS, _EXTEND_DATE, _EXTEND_PERIOD


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
    text: object, now: datetime, direction: Literal["future", "past"] = "future"
) -> list[TimeMention]:
    """Non-overlapping mentions, longest first then left to right, sorted by start.

    `now` is an aware datetime in the user's zone (a naive one is taken as local wall time). `direction`
    is "past" for an activity that happened, "future" for reminders, due dates, close dates and queries.
    Any string is accepted, and anything else has no mentions; a bug in a rule costs the mentions of that
    text, never an exception.
    """
    if not isinstance(now, datetime):
        raise TypeError("now must be a datetime")
    if not isinstance(text, str):
        return []
    try:
        return _find(text, now, direction)
    except Exception:  # the parser must never take a conversation down; tests exercise _find directly
        return []
