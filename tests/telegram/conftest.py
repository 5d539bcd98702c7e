"""A Telegram bot on the demo store, polling a fake Bot API on 127.0.0.1 with python-telegram-bot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_bot_api import FakeBotApi
from seeded import seed_demo
from telegram_world import Telegram, settings_for

from adapters.telegram.bot import TelegramBot
from assistant.engine import Assistant
from assistant.runtime import Runtime


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def telegram(runtime: Runtime, fake: FakeBotApi) -> Iterator[Telegram]:
    seed_demo(runtime)
    bot = TelegramBot(Assistant(runtime), settings_for(fake), host="127.0.0.1").start()
    yield Telegram(fake, bot, runtime)
    bot.close()
