"""Web-chat frames and tokens as anyone on the internet can send them: missing keys, wrong types, huge
text, forged or garbled tokens. The chat answers with a Refusal (a JSON error the widget shows) or a
turn, never an exception, and writes no CRM record for a frame it refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st
from payloads import JUNK, TEXT, payload, records

from adapters.web.server import Chat, Refusal
from adapters.web.settings import WebSettings
from adapters.web.tokens import Signer
from assistant import admin
from assistant.engine import Assistant
from assistant.runtime import Runtime

SECRET = "fuzz-secret-0123456789-abcdefghij"
TOKENS = JUNK | st.text(max_size=250) | st.builds(lambda a, b: f"v-{a}.{b}", st.text(max_size=70), st.text())


@pytest.fixture
def chat(runtime: Runtime) -> Chat:
    admin.seed_demo(runtime)
    settings = WebSettings(secret=SECRET, origins=frozenset({"https://shop.test"}), rate_burst=10_000)
    return Chat(Assistant(runtime), settings)


@budget(80)
@given(token=TOKENS)
@example(token="v-aaaaaaaaaaaaaaaaaaaa.é")  # a non-ASCII signature: TypeError from hmac.compare_digest
@example(token="v-aaaaaaaaaaaaaaaaaaaa\n.0")  # "$" let a trailing newline pass the id check
def test_any_token_is_a_visitor_or_refused(token: object) -> None:
    visitor = Signer(SECRET).visitor(token)
    assert visitor is None  # no forged token is ever accepted


def test_the_control_an_issued_token_names_its_visitor() -> None:
    signer = Signer(SECRET)
    visitor, token = signer.issue()
    assert signer.visitor(token) == visitor and Signer("another-secret-0123456789").visitor(token) is None


@budget(40, deadline_ms=5_000)
@given(data=JUNK | payload({"text": TEXT, "id": st.text(max_size=80), "type": st.just("message")}))
@example(data={"text": "x" * 2_001})
@example(data={"text": "   "})
def test_any_frame_is_a_turn_or_a_refusal(chat: Chat, runtime: Runtime, data: Any) -> None:
    visitor, _ = chat.signer.issue()
    before = records(runtime)
    try:
        answer = asyncio.run(chat.turn(visitor, data))
    except Refusal as refusal:
        assert refusal.status in (400, 413, 429) and refusal.text
        assert records(runtime) == before
    else:
        assert answer["type"] == "turn" and answer["replies"]


@budget(30, deadline_ms=5_000)
@given(token=TOKENS)
def test_a_session_with_any_token_is_opened_or_refused(chat: Chat, token: object) -> None:
    try:
        session = asyncio.run(chat.session(token))
    except Refusal as refusal:
        assert refusal.code == "bad_token"
    else:
        assert not token and session["type"] == "session"  # only no token at all opens a new session
