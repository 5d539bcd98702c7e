"""The parser takes anything a person (or a script) can type and always answers with a valid parse:
arbitrary unicode, control characters, huge strings. It never raises."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st

from intents.catalogue import catalogue
from intents.names import StaticNames
from intents.parser import Parse, Parser


def demo_names() -> StaticNames:
    """The demo company's names, as tests/nlu/conftest.py reads them for its parser."""
    path = Path(__file__).resolve().parents[1] / "nlu" / "conftest.py"
    spec = importlib.util.spec_from_file_location("nlu_demo_names", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names: StaticNames = module.demo_names()
    return names


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROLES = ["rep", "manager", "admin", "customer"]
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\u200b\u202e\ufeff\u2028")
WORDS = st.sampled_from(
    ["log", "call", "with", "acme", "deal", "50k", "next", "friday", "move", "to", "won", "jane", "undo", "$"]
)
PIECES = WORDS | st.text(alphabet=CONTROL, max_size=3) | st.text(max_size=8)
MIXED = st.lists(PIECES, max_size=40).map(" ".join)


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser.build(demo_names())


def assert_valid(parse: Parse, role: str) -> None:
    assert parse.intent in catalogue().allowed(role)
    assert 0.0 <= parse.confidence <= 1.0
    assert isinstance(parse.slots, dict)
    assert all(isinstance(name, str) and value is not None for name, value in parse.slots.items())


@budget(60)
@given(text=st.text(max_size=200), role=st.sampled_from(ROLES))
@example(text="\x00\x00\x00", role="rep")
@example(text="\ud7ff\U0010ffff\u0301\u0301", role="customer")
def test_any_unicode_gets_a_valid_parse(parser: Parser, text: str, role: str) -> None:
    assert_valid(parser.parse(text, NOW, role), role)


@budget(60)
@given(text=MIXED, role=st.sampled_from(ROLES))
@example(text="log call with acme \x1b[31m next friday \u202e 50k", role="rep")
def test_crm_words_mixed_with_control_characters_get_a_valid_parse(
    parser: Parser, text: str, role: str
) -> None:
    assert_valid(parser.parse(text, NOW, role), role)


@budget(8, deadline_ms=5_000)
@given(unit=MIXED.filter(bool), times=st.integers(100, 2_000))
def test_huge_input_gets_a_valid_parse_in_bounded_time(parser: Parser, unit: str, times: int) -> None:
    text = (unit + " ") * times
    assert_valid(parser.parse(text[:100_000], NOW, "rep"), "rep")
