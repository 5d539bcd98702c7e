"""The recogniser's n-best list re-read by the parser: a weak transcript gives way to a clear command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.voice.nbest import Reader
from intents.names import NamedRecord, StaticNames
from intents.parser import Parser


@pytest.fixture(scope="module")
def reader() -> Reader:
    names = StaticNames([NamedRecord("account", "Hooli"), NamedRecord("contact", "Jane Doe")])
    return Reader(Parser.build(names))


def never_read() -> Iterator[str]:
    raise AssertionError("a sure transcript's alternatives were read")
    yield ""


def test_a_transcript_read_as_no_command_gives_way_to_an_alternative_that_is_one(reader: Reader) -> None:
    heard = ["do we about new lead", "do we about new lead", "tell me about hooli"]
    assert reader.pick("do we about new lead", iter(heard)) == "tell me about hooli"
    assert reader.pick("", iter(["", "yes"])) == "yes"


def test_a_sure_command_is_kept_without_reading_its_alternatives(reader: Reader) -> None:
    assert reader.pick("tell me about hooli", never_read()) == "tell me about hooli"


def test_a_question_out_of_scope_stays_one_when_no_alternative_is_a_command(reader: Reader) -> None:
    said = "what's the weather like"
    assert reader.pick(said, iter(["what's the weather light", "what the weather like"])) == said


def test_an_answer_to_a_read_back_is_kept_for_the_dialogue_to_read(reader: Reader) -> None:
    assert reader.pick("actually next friday", never_read()) == "actually next friday"
    assert reader.pick("no thursday", never_read()) == "no thursday"
