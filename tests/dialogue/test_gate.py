"""The write gate's question exists for every write of the contract: a new write intent that the gate
could not put into words would fail the turn with an apology instead of asking."""

from __future__ import annotations

from datetime import date

import pytest

from assistant import gate
from intents.catalogue import catalogue
from intents.parse import Parse

SLOTS = {
    "reply_ticket": {"ticket": 1042, "message": "we fixed the export"},
    "close_ticket": {"ticket": 1042},
    "assign_ticket": {"ticket": 1042, "assignee": "Priya Raman"},
    "log_activity": {"activity_type": "call", "account": "Acme Corporation"},
}


@pytest.mark.parametrize("intent", sorted(catalogue().writes))
def test_every_write_can_be_confirmed(intent: str) -> None:
    slots = SLOTS.get(intent, {})
    question = gate.confirmation(Parse("...", intent, 0.5, slots), date(2026, 11, 23))
    assert question.endswith("?")
    for value in slots.values():
        assert str(value) in question


def test_a_ticket_reply_is_confirmed_with_its_words() -> None:
    parse = Parse("...", "reply_ticket", 0.5, SLOTS["reply_ticket"])
    asked = gate.confirmation(parse, date(2026, 11, 23))
    assert asked == 'Send a reply on ticket #1042 ("we fixed the export")?'
