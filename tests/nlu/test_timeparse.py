"""Tests of intents/timeparse/: the cases in time_cases.json, plus properties that must hold for any text.

The cases are data so that a new phrasing is one line of JSON; their expected values were computed with
datetime arithmetic. Properties run the internal `_find` (no safety net), so a bug shows as an exception.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.parser import Parser
from intents.timeparse import TimeMention, calendar, fallback, find_time_mentions, merging, vocabulary
from intents.timeparse.resolution import _find

CASES_FILE = Path(__file__).with_name("time_cases.json")
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
DEFAULT_NOW = "2026-11-23T09:00"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))


def _case_id(index: int, case: dict[str, Any]) -> str:
    """A readable, unique test id: number, direction and the words."""
    words = re.sub(r"[^a-z0-9]+", "-", case["text"].lower()).strip("-")[:40] or "blank"
    return f"{index:03d}-{case['direction'][0]}-{words}"


def _expected_value(value: str | dict[str, str]) -> date | datetime | tuple[date, date]:
    if isinstance(value, dict):
        return date.fromisoformat(value["start"]), date.fromisoformat(value["end"])
    if "T" in value:
        return datetime.fromisoformat(value)
    return date.fromisoformat(value)


def _shown(mentions: list[TimeMention]) -> list[dict[str, Any]]:
    return [{"text": m.text, "kind": m.kind, "value": m.value} for m in mentions]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 120
    assert sum(1 for c in CASES if not c["expect"]) >= 10, "negative cases matter as much as positive ones"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(i, c) for i, c in enumerate(CASES)])
def test_case(case: dict[str, Any]) -> None:
    now = datetime.fromisoformat(case.get("now", DEFAULT_NOW)).replace(tzinfo=ZoneInfo(case.get("tz", "UTC")))
    mentions = _find(case["text"], now, case["direction"])
    expected = [
        {"text": e["text"], "kind": e["kind"], "value": _expected_value(e["value"])} for e in case["expect"]
    ]
    assert _shown(mentions) == expected, case.get("note", "")
    for m, e in zip(mentions, case["expect"], strict=True):
        assert case["text"][m.start : m.end] == m.text
        if "relative_week" in e:
            assert m.relative_week is e["relative_week"]


def test_public_function_matches_internal() -> None:
    text = "remind me to call Bob Smith tomorrow at 10"
    assert find_time_mentions(text, NOW) == _find(text, NOW, "future")
    assert find_time_mentions(text, NOW)[0] == TimeMention(
        28, 42, "datetime", datetime(2026, 11, 24, 10, 0), "tomorrow at 10", False
    )


def test_value_types_follow_kind() -> None:
    for m in find_time_mentions("today, tomorrow at 3pm, next week and q1", NOW):
        if m.kind == "period":
            assert isinstance(m.value, tuple)
        elif m.kind == "datetime":
            assert isinstance(m.value, datetime) and m.value.tzinfo is None
        else:
            assert type(m.value) is date


def test_rules_never_call_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """dateparser costs milliseconds: the everyday phrasings must be resolved by the rules alone."""

    def forbidden(*args: object) -> None:
        raise AssertionError("dateparser was called")

    monkeypatch.setattr(fallback, "_dateparser_date", forbidden)
    for case in CASES:
        if "dateparser" in case.get("note", ""):
            continue
        now = datetime.fromisoformat(case.get("now", DEFAULT_NOW)).replace(
            tzinfo=ZoneInfo(case.get("tz", "UTC"))
        )
        _find(case["text"], now, case["direction"])


def test_long_and_odd_input() -> None:
    long_text = "call bob on friday at 3pm about the dec 5 deal 🙂 <b>x</b> \x00\x1b " * 200
    mentions = find_time_mentions(long_text, NOW)
    assert len(mentions) == 400  # "on friday at 3pm" and "dec 5", 200 times
    assert find_time_mentions("", NOW) == []
    assert find_time_mentions("\u0130stanbul TOMORROW", NOW)[0].text == "TOMORROW"


def test_naive_now_is_local_time() -> None:
    naive = datetime(2026, 11, 23, 9, 0)
    assert find_time_mentions("tomorrow at 10", naive)[0].value == datetime(2026, 11, 24, 10, 0)


EXTRA_WORDS = [
    [
        "today",
        "tonight",
        "tomorrow",
        "tmrw",
        "yesterday",
        "q1",
        "q4",
        "ytd",
        "eom",
        "eod",
        "noon",
        "midnight",
    ],
    ["next", "last", "this", "past", "the", "a", "an", "of", "in", "on", "at", "by", "from", "to", "between"],
    ["and", "through", "end", "start", "mid", "early", "late", "week", "weeks", "month", "months", "quarter"],
    [
        "year",
        "days",
        "day",
        "ago",
        "hours",
        "minutes",
        "half",
        "morning",
        "evening",
        "night",
        "pm",
        "am",
        "p",
    ],
    ["3", "10", "12", "15", "31", "0", "00", "99", "15:30", "12/5", "2026", "2027", "1st", "15th", "2nd"],
    [
        "fifth",
        "twenty",
        "first",
        "one",
        "two",
        "ten",
        "thirty",
        "o'clock",
        "weekend",
        "rest",
        "fy27",
        "every",
    ],
    ["-", ",", ".", "🙂", "\x00", "'", "business", "other", "good"],
]
VOCAB = sorted(
    {*vocabulary._MONTHS, *vocabulary._WEEKDAYS, *vocabulary._TOMORROW}.union(*map(set, EXTRA_WORDS))
)
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati")]
nows = st.builds(
    lambda minutes, zone: datetime(2020, 1, 1, tzinfo=zone) + timedelta(minutes=minutes),
    st.integers(min_value=0, max_value=60 * 24 * 366 * 20),
    st.sampled_from(ZONES),
)


def _check_invariants(text: str, mentions: list[TimeMention]) -> None:
    end = 0
    for m in mentions:
        assert end <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
        if m.kind == "period":
            assert isinstance(m.value, tuple) and m.value[0] <= m.value[1]
        end = m.end


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), now=nows, direction=st.sampled_from(["future", "past"]))
def test_any_text_never_raises_and_never_overlaps(text: str, now: datetime, direction: str) -> None:
    _check_invariants(text, _find(text, now, direction))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=10),
    seps=st.lists(st.sampled_from([" ", "  ", ", ", "-", "/", ""]), min_size=10, max_size=10),
    upper=st.booleans(),
    now=nows,
    direction=st.sampled_from(["future", "past"]),
)
def test_time_vocabulary_soup_never_raises(
    words: list[str], seps: list[str], upper: bool, now: datetime, direction: str
) -> None:
    """Random mixes of the words the rules look for reach far more code than random characters."""
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    text = text.upper() if upper else text
    _check_invariants(text, _find(text, now, direction))


def _case_texts() -> list[str]:
    return [c["text"].lower() for c in CASES]


def test_rule_pre_filters_are_sound() -> None:
    """A rule's `needs` only skips texts it could not match: every match holds one of its substrings."""
    for regex, handler, needs in merging._RULES:
        if needs is None:
            continue
        for text in _case_texts():
            for m in regex.finditer(text):
                assert needs.search(text), (handler.__name__, text, m.group())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from([*VOCAB, "half", "3ish", "15h30", "christmas", "first", "of"]), max_size=8)
)
def test_rule_pre_filters_hold_for_word_soup(words: list[str]) -> None:
    text = " ".join(words).lower()
    for regex, handler, needs in merging._RULES:
        if needs is not None and regex.search(text):
            assert needs.search(text), (handler.__name__, text)


def test_easter_and_every_holiday_resolve() -> None:
    """The computus agrees with dateutil's; every holiday of data/holidays.json has a date every year."""
    from dateutil.easter import easter

    for year in range(1900, 2200):
        assert calendar._easter(year) == easter(year)
    names = [n for kind in ("fixed", "nth_weekday", "easter", "after") for n in vocabulary._HOLIDAYS[kind]]
    for name in names:
        for year in range(2000, 2101):
            assert calendar._holiday_date(name, year).year == year
        assert any(regex.fullmatch(name) for regex, _ in vocabulary._HOLIDAY_PATTERNS), name


Q1_2027 = {"start": "2027-01-01", "end": "2027-03-31"}
Q3_2026 = {"start": "2026-07-01", "end": "2026-09-30"}


@pytest.mark.parametrize(
    ("said", "slot", "value"),
    [
        ("forecast for Q1", "period", Q1_2027),  # forecasts and close dates look forward
        ("pipeline for q1", "period", Q1_2027),
        ("deals closing in march", "period", {"start": "2027-03-01", "end": "2027-03-31"}),
        ("new deal for acme 50k closing end of q1", "close_date", "2027-03-31"),
        ("what did we win in q3", "period", Q3_2026),  # closed deals look back
        ("list the deals we won in q3", "period", Q3_2026),
        ("win rate for q3", "period", Q3_2026),
        ("how many deals did we win in q3", "period", Q3_2026),
    ],
)
def test_the_parser_reads_quarters_in_the_direction_of_the_question(
    parser: Parser, said: str, slot: str, value: object
) -> None:
    """Said on Monday 2026-11-23: the slot code picks the forward or backward reading by intent and metric."""
    assert parser.parse(said, NOW).slots[slot] == value
