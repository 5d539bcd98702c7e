"""Each Telegram update is answered once: across a restart (the stored cursor), across two processes
behind one webhook (the assistant's message ids), and in a flood of 500, in order within each chat.

Replies name what they answer ("There is no ticket #90017."), so order and once-ness are read from them.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_bot_api import TOKEN, FakeBotApi, post_webhook
from seeded import seed_demo
from telegram_world import CUSTOMER, DANIEL, DEMO_STAFF, MARIA, settings_for

from adapters.telegram.bot import TelegramBot
from adapters.telegram.settings import TelegramSettings
from assistant import cursors
from assistant.engine import Assistant
from assistant.runtime import Runtime

CURSOR = f"telegram:{TOKEN.split(':')[0]}"
NUMBER = re.compile(r"#(\d+)")
STAFF = sorted(DEMO_STAFF)  # the demo's seven staff, 100000001-100000007
CUSTOMERS = [555_100_000 + n for n in range(11)]
STAFF_EACH = 40  # staff are not rate limited
CUSTOMER_EACH = 20  # a customer's burst (assistant/limits.py): all 20 answered, none refused


def staff_asks(number: int) -> str:
    return f"show ticket {number}"  # "There is no ticket #N."


def customer_asks(number: int) -> str:
    return f"any update on ticket {number}?"  # "I can't find a ticket #N for you. ..." (not a miss)


def answered_number(message: dict[str, Any]) -> int:
    found = NUMBER.search(str(message.get("text")))
    assert found, f"a reply that names no ticket: {message.get('text')!r}"
    return int(found.group(1))


def until(condition: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
    """Waits for state the fake does not see (a bot's lanes): polls, bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_on(runtime: Runtime, settings: TelegramSettings) -> TelegramBot:
    return TelegramBot(Assistant(runtime), settings, host="127.0.0.1").start()


@pytest.fixture
def demo(runtime: Runtime) -> Runtime:
    seed_demo(runtime)
    return runtime


# --- a restart --------------------------------------------------------------------------------------


def test_an_update_served_again_after_a_restart_is_confirmed_not_answered(
    demo: Runtime, fake: FakeBotApi
) -> None:
    first = bot_on(demo, settings_for(fake))
    update = fake.text_update(DANIEL, DANIEL, staff_asks(90001))
    try:
        fake.push_raw(dict(update))
        fake.wait_for(lambda calls: len(fake.bot_messages(DANIEL)) >= 1)
    finally:
        first.close()
    assert [answered_number(m) for m in fake.bot_messages(DANIEL)] == [90001]
    assert cursors.last_handled(demo, CURSOR) == update["update_id"], "close stores what was handled"

    # the process died before Telegram heard the confirmation: Telegram serves the update again
    confirmed = fake.updates_confirmed().count(update["update_id"])
    fake.push_raw(dict(update))
    second = bot_on(demo, settings_for(fake))
    try:
        fake.wait_for(lambda calls: fake.updates_confirmed().count(update["update_id"]) > confirmed)
        assert update["update_id"] not in [u["update_id"] for u in fake.pending()]
        later = fake.push_text(DANIEL, DANIEL, staff_asks(90002))
        fake.wait_for(lambda calls: len(fake.bot_messages(DANIEL)) >= 2)
        until(lambda: second.lanes.done_through >= later, what="the later update done")
    finally:
        second.close()
    assert [answered_number(m) for m in fake.bot_messages(DANIEL)] == [90001, 90002]
    assert cursors.last_handled(demo, CURSOR) == later


# --- two processes behind one webhook ---------------------------------------------------------------


@pytest.fixture
def two_webhook_bots(demo: Runtime, fake: FakeBotApi) -> Iterator[list[tuple[TelegramBot, str]]]:
    bots: list[tuple[TelegramBot, str]] = []
    try:
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram"
            bots.append((bot_on(demo, settings_for(fake, webhook_url=url, port=port)), url))
        yield bots
    finally:
        for bot, _ in bots:
            bot.close()


def post_to_all(bots: list[tuple[TelegramBot, str]], update: dict[str, Any], secret: str | None) -> list[int]:
    """The same update to every process at once, as a retrying Telegram or a proxy might."""
    statuses: list[int] = [0] * len(bots)

    def post(index: int) -> None:
        statuses[index] = post_webhook(bots[index][1], update, secret).status

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bots))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return statuses


def test_two_processes_given_the_same_updates_answer_each_once(
    fake: FakeBotApi, two_webhook_bots: list[tuple[TelegramBot, str]]
) -> None:
    secret = two_webhook_bots[0][0].settings.webhook_secret
    asked = []
    for n, (chat, text) in enumerate([(DANIEL, staff_asks(90100 + k)) for k in range(5)]):
        update = fake.text_update(chat, chat, text)
        assert post_to_all(two_webhook_bots, update, secret) == [200, 200], n
        asked.append(update["update_id"])
    customer = fake.text_update(CUSTOMER, CUSTOMER, customer_asks(70100))
    assert post_to_all(two_webhook_bots, customer, secret) == [200, 200]
    asked.append(customer["update_id"])
    for bot, _ in two_webhook_bots:
        until(lambda bot=bot: bot.lanes.done_through >= max(asked), what="both processes done")
    assert [answered_number(m) for m in fake.bot_messages(DANIEL)] == [90100 + k for k in range(5)]
    assert [answered_number(m) for m in fake.bot_messages(CUSTOMER)] == [70100]


@pytest.mark.parametrize("secret", ["not-the-secret", None], ids=["wrong", "missing"])
def test_a_webhook_post_without_the_secret_is_refused_and_never_handled(
    fake: FakeBotApi, two_webhook_bots: list[tuple[TelegramBot, str]], secret: str | None
) -> None:
    bot, url = two_webhook_bots[0]
    forged = fake.text_update(MARIA, MARIA, staff_asks(90200))
    assert post_webhook(url, forged, secret).status == 403
    genuine = fake.text_update(MARIA, MARIA, staff_asks(90201))
    assert post_webhook(url, genuine, bot.settings.webhook_secret).status == 200
    fake.wait_for(lambda calls: len(fake.bot_messages(MARIA)) >= 1)
    until(lambda: bot.lanes.done_through >= genuine["update_id"], what="the genuine update done")
    assert [answered_number(m) for m in fake.bot_messages(MARIA)] == [90201]


def test_an_update_the_bot_cannot_read_is_acknowledged_skipped_and_the_next_answered(
    fake: FakeBotApi, two_webhook_bots: list[tuple[TelegramBot, str]], caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram sends again whatever is not answered 2xx: a 400 would bring the same update back for
    ever. The webhook acknowledges it and says so in the log, as polling does; the secret still holds."""
    bot, url = two_webhook_bots[0]
    secret = bot.settings.webhook_secret
    unreadable = fake.text_update(DANIEL, DANIEL, staff_asks(90400))
    unreadable["message"]["date"] = "yesterday"  # a shape python-telegram-bot cannot read
    assert post_webhook(url, unreadable, "not-the-secret").status == 403
    assert post_webhook(url, unreadable, secret).status == 200
    assert post_webhook(url, {"not": "an update"}, secret).status == 200
    good = fake.text_update(DANIEL, DANIEL, staff_asks(90401))
    assert post_webhook(url, good, secret).status == 200
    fake.wait_for(lambda calls: len(fake.bot_messages(DANIEL)) >= 1)
    until(lambda: bot.lanes.done_through >= good["update_id"], what="the good update done")
    assert [answered_number(m) for m in fake.bot_messages(DANIEL)] == [90401]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == [
        f"skipped Telegram update {unreadable['update_id']}: unreadable (TypeError)",
        "skipped a Telegram webhook delivery: unreadable (TypeError)",
    ]


def test_an_update_delivered_after_a_later_one_is_still_answered(
    fake: FakeBotApi, two_webhook_bots: list[tuple[TelegramBot, str]]
) -> None:
    """Telegram's webhook delivers over up to 40 connections at once (and retries a failed delivery),
    so an update can reach the process after a later one of another chat has been handled."""
    bot, url = two_webhook_bots[0]
    secret = bot.settings.webhook_secret
    earlier = fake.text_update(DANIEL, DANIEL, staff_asks(90300))
    later = fake.text_update(MARIA, MARIA, staff_asks(90301))
    assert post_webhook(url, later, secret).status == 200
    fake.wait_for(lambda calls: len(fake.bot_messages(MARIA)) >= 1)
    until(lambda: bot.lanes.done_through >= later["update_id"], what="the later update done")
    assert post_webhook(url, earlier, secret).status == 200
    fake.wait_for(lambda calls: len(fake.bot_messages(DANIEL)) >= 1)
    assert [answered_number(m) for m in fake.bot_messages(DANIEL)] == [90300]


# --- a flood ----------------------------------------------------------------------------------------


def flood(fake: FakeBotApi, seed: int = 7) -> tuple[dict[int, list[int]], int]:
    """500 updates, chats interleaved at random: 7 staff x 40 and 11 customers x 20 (each within its
    burst). Returns, per chat, the ticket numbers asked in the order they were pushed; and the last
    update_id."""
    asks = [(chat, True) for chat in STAFF for _ in range(STAFF_EACH)]
    asks += [(chat, False) for chat in CUSTOMERS for _ in range(CUSTOMER_EACH)]
    random.Random(seed).shuffle(asks)
    pushed: dict[int, list[int]] = {}
    last = 0
    for n, (chat, staff) in enumerate(asks):
        number = (90_000 if staff else 70_000) + n
        last = fake.push_text(chat, chat, staff_asks(number) if staff else customer_asks(number))
        pushed.setdefault(chat, []).append(number)
    return pushed, last


def test_a_flood_of_500_updates_is_answered_once_each_in_order_per_chat(
    demo: Runtime, fake: FakeBotApi
) -> None:
    bot = bot_on(demo, settings_for(fake))
    try:
        pushed, last = flood(fake)
        total = sum(len(numbers) for numbers in pushed.values())
        assert total == 500
        fake.wait_for(total, timeout=50)
        until(lambda: bot.lanes.done_through >= last, timeout=20, what="every update done")
    finally:
        bot.close()
    assert len(fake.sent()) == total, "one message each, none twice"
    for chat, numbers in pushed.items():
        assert [answered_number(m) for m in fake.bot_messages(chat)] == numbers, chat
    assert cursors.last_handled(demo, CURSOR) == last
