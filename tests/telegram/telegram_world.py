"""The Telegram world the tests talk to: the demo's staff by their Telegram ids, customers as anyone
else, and the real python-telegram-bot bot polling a fake Bot API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_bot_api import TOKEN, FakeBotApi

from adapters.telegram.bot import TelegramBot
from adapters.telegram.settings import TelegramSettings, derived_secret
from assistant.runtime import Runtime

ALEX = 100000001  # the demo's admin (storage/demo/users.csv)
MARIA = 100000002  # the sales manager
DANIEL = 100000003  # a rep
CUSTOMER = 555000111  # anyone else: a customer of the business
STRANGER = 555000222
GROUP = -100777  # a team group chat
DEMO_STAFF = {
    ALEX: "alex.turner@northwind.example",
    MARIA: "maria.gonzalez@northwind.example",
    DANIEL: "daniel.okafor@northwind.example",
    100000004: "priya.raman@northwind.example",
    100000005: "tom.fischer@northwind.example",
    100000006: "sofia.rossi@northwind.example",
    100000007: "kevin.walsh@northwind.example",
}


def settings_for(fake: FakeBotApi, **extra: Any) -> TelegramSettings:
    return TelegramSettings(token=TOKEN, api_url=fake.base_url, webhook_secret=derived_secret(TOKEN), **extra)


@dataclass
class Telegram:
    """The bot as its users see it: what they send through the fake, what it answered."""

    fake: FakeBotApi
    bot: TelegramBot
    runtime: Runtime

    def say(self, user: int, text: str, chat: int | None = None, timeout: float = 10) -> dict[str, Any]:
        """Sends `text` from `user` (in their private chat unless `chat`) and returns the first
        message the bot sent back."""
        return self.answers(lambda: self.fake.push_text(chat or user, user, text), chat or user, timeout)[0]

    def press(self, user: int, message: dict[str, Any], label: str, timeout: float = 10) -> dict[str, Any]:
        """Presses the button labelled `label` on a message the bot sent; returns the next answer."""
        data = button_data(message, label)
        chat = message["chat"]["id"]
        return self.answers(
            lambda: self.fake.push_callback(chat, user, message["message_id"], data), chat, timeout
        )[0]

    def answers(
        self, send: Callable[[], object], chat: int, timeout: float = 10, count: int = 1
    ) -> list[dict[str, Any]]:
        """What the bot sent to `chat` after `send()`, once it sent at least `count` messages."""
        before = len(self.fake.bot_messages(chat))
        send()
        self.fake.wait_for(lambda calls: len(self.fake.bot_messages(chat)) >= before + count, timeout)
        return self.fake.bot_messages(chat)[before:]


def button_data(message: dict[str, Any], label: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"].casefold() == label.casefold():
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} on {message.get('text')!r}: {message.get('reply_markup')}")


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
