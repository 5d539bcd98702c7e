"""The one table of number words (intents/data/number_words.json) and what its loader promises."""

from __future__ import annotations

import pytest

from intents import number_words
from intents.numbers import words_to_number


def test_cardinals_and_ordinals_cover_each_group() -> None:
    assert number_words.CARDINALS["zero"] == 0
    assert number_words.CARDINALS["fourty"] == 40
    assert number_words.CARDINALS["thousand"] == 1000
    assert number_words.ORDINALS["second"] == 2
    assert number_words.ORDINALS["thirtieth"] == 30
    assert set(number_words.CARDINALS).isdisjoint(number_words.ORDINALS)


@pytest.mark.parametrize("word", sorted(number_words.SCALES))
def test_numbers_reads_every_scale_after_a(word: str) -> None:
    assert words_to_number(f"a {word}") == number_words.SCALES[word]


def test_the_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        number_words.CARDINALS["eleventy"] = 110  # type: ignore[index]


SAID_ALONE = {**number_words.UNITS, **number_words.TEENS, **number_words.TENS}  # "hundred" needs "a"


@pytest.mark.parametrize(("word", "value"), sorted(SAID_ALONE.items()))
def test_numbers_reads_every_word_said_alone(word: str, value: int) -> None:
    assert words_to_number(word) == value
