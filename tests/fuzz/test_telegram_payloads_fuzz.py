"""Telegram updates as a broken client, a forged webhook or a future Bot API could send them: keys
missing, values of the wrong type, huge text, update kinds the bot does not know, button presses with
data it never issued. Each one goes through the fake Bot API into the real running bot (python-telegram-
bot polling it): no exception escapes (no error is logged), nothing is written to the store, the lanes
pass the update, and the bot still answers a normal message afterwards."""

from __future__ import annotations

import itertools
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st
from payloads import HUGE, JUNK, TEXT, payload, records

sys.path.insert(0, str(Path(__file__).parents[1] / "telegram"))
from fake_bot_api import FakeBotApi
from telegram_world import DANIEL, Telegram, settings_for

from adapters.telegram.bot import TelegramBot
from assistant import admin
from assistant.engine import Assistant
from assistant.limits import MAX_MESSAGE_CHARS
from assistant.runtime import Runtime

MESSAGE_IDS = st.integers(10**9, 2**31 - 1)  # far from the ids the fake gives the normal messages
IDS = st.sampled_from([DANIEL, -100777, 0, -1, 2**53]) | st.integers()
USER = payload(
    {"id": IDS, "is_bot": st.booleans(), "first_name": st.text(max_size=30), "username": st.text()}
)
CHAT = payload(
    {
        "id": IDS,
        "type": st.sampled_from(["private", "group", "supergroup", "channel", "secret"]),
        "title": st.text(max_size=30),
    }
)
ENTITY = payload(
    {
        "type": st.sampled_from(["mention", "bot_command", "url", "bold", "new_kind"]),
        "offset": st.integers(-5, 10**6),
        "length": st.integers(-5, 10**6),
    }
)
MESSAGE = payload(
    {
        "message_id": MESSAGE_IDS,
        "date": st.integers(0, 2**33),
        "chat": CHAT,
        "from": USER,
        "text": TEXT,
        "entities": st.lists(ENTITY, max_size=3),
        "voice": payload(
            {"file_id": st.text(max_size=20), "duration": st.integers(), "file_size": st.integers()}
        ),
        "reply_to_message": payload(
            {"message_id": MESSAGE_IDS, "chat": CHAT, "from": USER, "date": st.just(0)}
        ),
    }
)
CALLBACK = payload(
    {
        "id": st.text(max_size=20),
        "from": USER,
        "message": MESSAGE,
        "chat_instance": st.text(max_size=20),
        "data": st.text(max_size=80) | st.sampled_from(["undo", "v1:999999", "chosen", "", "\x00"]),
    }
)
KINDS = st.sampled_from(
    ["edited_message", "channel_post", "my_chat_member", "inline_query", "poll", "message_reaction", "novel"]
)
UPDATES = (
    st.fixed_dictionaries({"message": MESSAGE | JUNK})
    | st.fixed_dictionaries({"callback_query": CALLBACK | JUNK})
    | st.dictionaries(KINDS, MESSAGE | JUNK, min_size=1, max_size=2)
    | st.just({})
)
FRESH_IDS = itertools.count(2 * 10**9)  # a huge message is new each time, never a repeat of the last one
WELL_FORMED_BUT_HUGE = st.builds(
    lambda text: {
        "message": {
            "message_id": next(FRESH_IDS),
            "date": 1_700_000_000,
            "chat": {"id": DANIEL, "type": "private", "first_name": "Daniel"},
            "from": {"id": DANIEL, "is_bot": False, "first_name": "Daniel"},
            "text": text,
        }
    },
    HUGE.filter(lambda text: len(text.strip()) > MAX_MESSAGE_CHARS),  # the adapter strips the ends
)
# the bot and its adapter are the same on both stores, and the store checks only counts rows
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
LOGGED = ("adapters", "telegram", "assistant", "httpx")


class Errors(logging.Handler):
    """Every error logged while it is attached: how an exception that escaped a handler shows."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Errors:
        for name in LOGGED:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in LOGGED:
            logging.getLogger(name).removeHandler(self)


def until(condition: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.01)


@pytest.fixture
def telegram(runtime: Runtime) -> Iterator[Telegram]:
    """The demo store and the bot, started once for all of a test's examples."""
    admin.seed_demo(runtime)
    with FakeBotApi() as fake:
        bot = TelegramBot(Assistant(runtime), settings_for(fake), host="127.0.0.1").start()
        try:
            yield Telegram(fake, bot, runtime)
        finally:
            bot.close()


def _pushed_and_passed(telegram: Telegram, update: dict[str, Any]) -> list[str]:
    """Pushes `update`, waits until the bot is past it, checks what it did meanwhile; returns what the
    bot said to DANIEL about it."""
    before, said = records(telegram.runtime), len(telegram.fake.bot_messages(DANIEL))
    with Errors() as errors:
        pushed = telegram.fake.push_raw(update)
        until(lambda: telegram.bot.lanes.done_through >= pushed, f"the lanes pass update {pushed}")
    assert [r.getMessage() for r in errors.records] == []
    assert records(telegram.runtime) == before
    answers = [m["text"] for m in telegram.fake.bot_messages(DANIEL)[said:]]
    answer = telegram.say(DANIEL, "hi", timeout=5)
    assert "Daniel" in answer["text"], answer["text"]
    return answers


@budget(60, deadline_ms=8_000)
@given(update=UPDATES)
@example(update={"message": {"message_id": 10**9, "date": 0, "chat": {"id": DANIEL, "type": "private"}}})
@example(update={"callback_query": {"id": "1", "from": {"id": DANIEL, "is_bot": False, "first_name": "D"}}})
@example(update={"edited_message": {"text": "hi"}})
@example(update={"message": "hi"})
def test_any_update_is_passed_without_an_error_or_a_write(telegram: Telegram, update: dict[str, Any]) -> None:
    _pushed_and_passed(telegram, update)


@budget(5, deadline_ms=8_000)
@given(update=WELL_FORMED_BUT_HUGE)
def test_huge_text_from_staff_is_refused_and_writes_nothing(
    telegram: Telegram, update: dict[str, Any]
) -> None:
    (refusal,) = _pushed_and_passed(telegram, update)
    assert "too long" in refusal


def test_the_control_a_normal_message_is_answered(telegram: Telegram) -> None:
    """The harness can see an answer: the same check passes for a well-formed update from staff."""
    answer = telegram.say(DANIEL, "hi", timeout=5)
    assert "Daniel" in answer["text"]
