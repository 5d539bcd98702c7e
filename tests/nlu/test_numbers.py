"""Tests of intents.numbers: the sentences in number_cases.json, words_to_number, and properties that must
hold for any input (the parser sees raw chat and voice text, so it must never raise)."""

from __future__ import annotations

import json
from decimal import Decimal, Inexact, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.numbers import NumberMention, find_numbers, money_value, words_to_number

CASES_PATH = Path(__file__).with_name("number_cases.json")
CASES: list[dict[str, Any]] = json.loads(CASES_PATH.read_text(encoding="utf-8"), parse_float=Decimal)


def _found(text: str) -> list[dict[str, Any]]:
    return [{"text": m.text, "value": m.value, "kind": m.kind} for m in find_numbers(text)]


def test_cases_are_many_unique_and_include_negatives() -> None:
    texts = [case["text"] for case in CASES]
    assert len(texts) >= 80
    assert len(set(texts)) == len(texts)
    assert sum(1 for case in CASES if not case["expect"]) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case["text"] for case in CASES])
def test_case(case: dict[str, Any]) -> None:
    expected = [{**e, "value": Decimal(e["value"])} for e in case["expect"]]
    assert _found(case["text"]) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("one point five million", Decimal(1500000)),
        ("seventy five", Decimal(75)),
        ("Seventy-Five", Decimal(75)),
        ("one hundred and twenty five thousand", Decimal(125000)),
        ("twelve hundred", Decimal(1200)),
        ("twenty one hundred", Decimal(2100)),
        ("a hundred", Decimal(100)),
        ("a thousand and one", Decimal(1001)),
        ("two million three hundred thousand", Decimal(2300000)),
        ("three billion", Decimal(3000000000)),
        ("half a million", Decimal(500000)),
        ("a quarter million", Decimal(250000)),
        ("two and a half", Decimal("2.5")),
        ("zero point two five", Decimal("0.25")),
        ("ten fifty", Decimal(1050)),
        ("nineteen ninety nine", Decimal(1999)),
        ("twenty twenty", Decimal(2020)),
        ("one two three", Decimal(123)),
        ("two dozen", Decimal(24)),
        ("fifty k", Decimal(50000)),
        ("fifty thousand dollars", Decimal(50000)),
        ("twenty first", Decimal(21)),
        ("hundredth", Decimal(100)),
        ("50k", Decimal(50000)),
        ("$1.2M", Decimal(1200000)),
        ("1,250.50", Decimal("1250.5")),
        ("  seventy five. ", Decimal(75)),
    ],
)
def test_words_to_number(text: str, value: Decimal) -> None:
    assert words_to_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a",
        "and",
        "hundred",
        "million",
        "half",
        "a half",
        "point five five",
        "five six",
        "seventy five deals",
        "the fifth",
        "q4",
        "555 0100",
        "3pm",
        "12/05",
        "five five five zero one zero zero",
    ],
)
def test_words_to_number_rejects_what_is_not_one_number(text: str) -> None:
    assert words_to_number(text) is None


def test_words_to_number_accepts_only_strings() -> None:
    assert words_to_number(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50k", 50000),
        ("$1.2M", 1200000),
        ("1,250.50 USD", 1250.5),
        ("$2.5k", 2500),
    ],
)
def test_money_value_is_a_plain_json_number(text: str, expected: int | float) -> None:
    (mention,) = find_numbers(text)
    value = money_value(mention)
    assert value == expected
    assert type(value) is type(expected)
    assert json.dumps(value) == json.dumps(expected)


def test_mentions_are_frozen_and_carry_offsets() -> None:
    text = "Acme deal is now 75k, was $50,000"
    first, second = find_numbers(text)
    assert (first.start, first.end, first.text) == (17, 20, "75k")
    assert text[second.start : second.end] == "$50,000"
    with pytest.raises(AttributeError):
        first.value = Decimal(1)  # type: ignore[misc]


def test_caller_decimal_context_does_not_matter() -> None:
    """The parser keeps its own decimal context, so a caller's traps or precision cannot change results."""
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[Inexact] = True
        (mention,) = find_numbers("one hundred twenty three million four hundred fifty six thousand")
    assert mention.value == Decimal(123456000)


def test_long_and_odd_inputs() -> None:
    assert find_numbers("1" * 10_000)[0].value == Decimal("1" * 10_000)
    assert find_numbers("a" * 10_000) == []
    assert find_numbers("a." * 5_000) == []
    assert [m.value for m in find_numbers("\x00 5 \x07 \ud800 ٥ 𝟓 ５")] == [Decimal(5)]


_number_words = st.sampled_from(
    [
        *("a", "and", "one", "two", "five", "ten", "twelve", "twenty", "fifty", "ninety", "hundred"),
        *("thousand", "million", "half", "quarter", "point", "oh", "dozen", "k", "grand", "first", "second"),
        *("twentieth", "hundredth", "dollars", "usd", "$", "€", "-", ",", ".", "50k", "1.5", "1,000"),
        *("3pm", "q4", "555", "0100", "am", "+1", "(", ")", "@", "/", ":", "2b"),
    ]
)
_texts = st.one_of(
    st.text(max_size=300),
    st.lists(_number_words, max_size=30).map(" ".join),
    st.lists(st.one_of(_number_words, st.text(max_size=5)), max_size=30).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_find_numbers_never_raises_and_mentions_are_consistent(text: str) -> None:
    mentions = find_numbers(text)
    assert isinstance(mentions, list)
    previous_end = 0
    for mention in mentions:
        assert isinstance(mention, NumberMention)
        assert 0 <= previous_end <= mention.start < mention.end <= len(text)
        assert text[mention.start : mention.end] == mention.text
        assert mention.kind in ("money", "number", "ordinal")
        assert mention.value.is_finite() and mention.value >= 0
        assert isinstance(money_value(mention), int | float)
        previous_end = mention.end


@settings(max_examples=200, deadline=None)
@given(_texts)
def test_words_to_number_never_raises(text: str) -> None:
    result = words_to_number(text)
    assert result is None or isinstance(result, Decimal)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_plain_and_grouped_digits_round_trip(number: int) -> None:
    for text in (str(number), f"{number:,}"):
        if len(str(number)) >= 10 and "," not in text:
            continue  # a bare run of 10+ digits is read as a phone number
        (mention,) = find_numbers(f"about {text} left")
        assert mention.value == number
        assert mention.kind == "number"
