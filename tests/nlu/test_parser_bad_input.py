"""Any input gets a parse and no exception: empty, huge, emoji, HTML, SQL, control characters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.catalogue import catalogue
from intents.parser import Parser

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NASTY = [
    "",
    "   ",
    "a" * 10_000,
    "log call with acme " * 600,
    "🎉🎉🎉 🙂",
    "<script>alert('x')</script> log a call",
    "'; DROP TABLE deals; --",
    "\x00\x01\x02 call \x1b[31m acme",
    "¿Qué tiempo hace hoy?",
    "明天天气怎么样",
    "$$$ 999999999999999999999999 k m",
    "12/45/2026 at 99:99 on the 45th",
]


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_input_gets_a_parse(parser: Parser, text: str) -> None:
    parse = parser.parse(text, NOW)
    assert parse.intent in catalogue().intents
    assert 0.0 <= parse.confidence <= 1.0


def test_out_of_scope_is_not_a_crm_action(parser: Parser) -> None:
    for text in ("what's the weather", "tell me a joke", ""):
        assert parser.parse(text, NOW).intent == "out_of_scope", text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), role=st.sampled_from(["rep", "manager", "customer"]))
def test_any_text_parses_within_the_role_gate(parser: Parser, text: str, role: str) -> None:
    parse = parser.parse(text, NOW, role)
    assert parse.intent in catalogue().allowed(role)
    assert isinstance(parse.slots, dict)
    assert all(value is not None for value in parse.slots.values())
