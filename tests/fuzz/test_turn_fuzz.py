"""An assistant turn with any text: the person always gets a plain reply, never a traceback; a turn that
fails rolls back whole, so the store holds nothing of it."""

from __future__ import annotations

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st
from payloads import records

from assistant import admin
from assistant.engine import Assistant
from assistant.messages import Message, Reply
from assistant.replies import say
from assistant.runtime import Runtime
from assistant.support_desk import HANDED_OFF
from assistant.turn import Turn

REP = "daniel.okafor@northwind.example"
WORDS = st.sampled_from(
    [
        "log",
        "a call",
        "with",
        "acme",
        "new deal",
        "50k",
        "move",
        "globex",
        "to",
        "won",
        "remind me",
        "tomorrow",
        "undo",
        "yes",
        "no",
        "jane",
        "'; drop table deals; --",
        "\x00",
        "\u202e",
        "🎉",
        "$1e309",
        "99/99/9999",
    ]
)
TEXT = st.text(max_size=200) | st.lists(WORDS, max_size=15).map(" ".join)


@pytest.fixture
def assistant(runtime: Runtime) -> Assistant:
    admin.seed_demo(runtime)
    return Assistant(runtime)


def assert_plain(reply: Reply) -> None:
    # the one silence by design: a customer handed off to a person, whose staff answer comes instead
    assert reply.text or reply.intent == HANDED_OFF
    assert "Traceback" not in reply.text and 'File "' not in reply.text


@budget(50, deadline_ms=5_000)
@given(text=TEXT, customer=st.booleans())
@example(text="log a call with acme about $1e309", customer=False)
@example(text="new deal for acme 99999999999999999999999999k", customer=False)
def test_any_text_gets_a_plain_reply(assistant: Assistant, text: str, customer: bool) -> None:
    sender = "visitor-fuzz" if customer else REP
    reply = assistant.handle(
        Message(
            "web" if customer else "terminal", sender, text, customer=customer, sender_is_email=not customer
        )
    )
    assert_plain(reply)


@budget(15, deadline_ms=5_000)
@given(text=st.lists(WORDS, min_size=1, max_size=8).map(" ".join))
def test_a_turn_that_fails_midway_rolls_back_and_says_so_plainly(
    assistant: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Whatever the turn wrote before the failure (an activity, an audit entry, the conversation) is gone."""
    policy = assistant.policy

    def fail_after_the_skill(turn: Turn, said: str) -> Reply:
        type(policy).respond(policy, turn, said)
        turn.session.flush()
        raise RuntimeError("the disk is full")

    before = records(runtime)
    monkeypatch.setattr(policy, "respond", fail_after_the_skill)
    reply = assistant.handle(Message("terminal", REP, f"log a call with acme {text}", sender_is_email=True))
    monkeypatch.undo()
    assert reply.text == say("error") and reply.intent is None
    assert records(runtime) == before
    assert assistant.handle(Message("terminal", REP, "hi", sender_is_email=True)).intent == "greet"
