"""Conversations as data: each file in conversations/ is turns -> expected reply fragments and store
changes, played against the demo company on SQLite and PostgreSQL (said on Monday 2026-11-23 09:00 UTC).

A conversation may be "spoken": heard by the voice channel, which reads every write back first; or
held on another "channel" (a web visitor: "channel": "web", "as" their visitor id).
A turn may be said by someone else ("as", with "customer": true for a customer): a staff reply and the
customer who reads it are one conversation of the store; two members of staff changing one record are
two conversations of it. A turn may be held on its own "channel", or be "spoken" (on the voice channel).
A turn: {"say": text, "reply": [fragments], "not": [fragments], "intent": name,
         "store": [{"table", "where": {column: value}, "count": n} | {..., "has": {column: value}}],
         "writes": [tables it may change]}.
`where` may use "account" / "contact" / "assignee" / "owner" / "user" with a name instead of an id.
Every turn must make no wrong write (tests/conversation_cases.py says how one is told).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conversation_cases import CASES, audit_mark, changed_since, check_store, reply_text, wrong_writes
from seeded import seed_demo

from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime


@pytest.fixture
def assistant(runtime: Runtime) -> Iterator[Assistant]:
    seed_demo(runtime)
    bot = Assistant(runtime)
    yield bot


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}: {c['name']}" for n, c in CASES])
def test_conversation(assistant: Assistant, runtime: Runtime, name: str, case: dict[str, Any]) -> None:
    for turn in case["turns"]:
        mark = audit_mark(runtime)
        spoken = turn.get("spoken", case.get("spoken", False))  # heard: writes are read back first
        channel = turn.get("channel", case.get("channel", "voice" if spoken else "terminal"))
        sender = turn.get("as", case["as"])
        customer = turn.get("customer", False) if "as" in turn else case.get("customer", False)
        reply = assistant.handle(
            Message(channel, sender, turn["say"], customer=customer, sender_is_email=True, spoken=spoken)
        )
        text = reply_text(reply)
        for fragment in turn.get("reply", []):
            assert fragment.lower() in text.lower(), f"{turn['say']!r} -> {text!r} lacks {fragment!r}"
        for fragment in turn.get("not", []):
            assert fragment.lower() not in text.lower(), f"{turn['say']!r} -> {text!r} has {fragment!r}"
        if "intent" in turn:
            assert reply.intent == turn["intent"], f"{turn['say']!r}: {reply.intent}"
        check_store(runtime, turn.get("store", []), turn["say"])
        wrong = wrong_writes(runtime, turn, changed_since(runtime, mark))
        assert not wrong, f"{turn['say']!r} made wrong writes: {wrong}"
