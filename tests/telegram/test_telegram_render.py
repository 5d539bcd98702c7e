"""How a reply looks on Telegram, and how the bot reads its settings: pure functions, no network."""

from __future__ import annotations

import re

import pytest

from adapters.telegram.render import (
    CALLBACK_LIMIT,
    CHOSEN,
    MESSAGE_LIMIT,
    ButtonValues,
    chosen_keyboard,
    chunks,
    pressed_label,
)
from adapters.telegram.settings import API_URL, TelegramSettings, TelegramSettingsError
from assistant.messages import Button, Reply, Table

TOKEN = "123456789:AAFakeTokenForCrmAssistantTests00"


def shown(html: str) -> str:
    return re.sub(r"</?(b|pre)>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_bold_becomes_html_and_stored_text_is_escaped() -> None:
    [chunk] = chunks(Reply("Moved *Acme <Renewal> & Co* to proposal."), ButtonValues())
    assert chunk.html == "Moved <b>Acme &lt;Renewal&gt; &amp; Co</b> to proposal."
    assert chunk.keyboard is None


def test_a_table_is_monospaced_under_the_text() -> None:
    table = Table(("Deal", "Amount"), (("Acme Renewal", "$12,000"), ("Globex Pilot", "$8,500")))
    [chunk] = chunks(Reply("Top deals:", table=table), ButtonValues())
    assert chunk.html.startswith("Top deals:\n<pre>Deal")
    assert chunk.html.endswith("</pre>")
    assert "Acme Renewal  $12,000" in chunk.html


def test_a_long_reply_is_split_at_line_ends_within_telegrams_limit() -> None:
    rows = tuple((f"Deal number {n} <&>", f"${n * 1000:,}") for n in range(600))
    buttons = [Button("Undo", "undo", "undo")]
    parts = chunks(
        Reply("All deals:", table=Table(("Deal", "Amount"), rows), buttons=buttons), ButtonValues()
    )
    assert len(parts) > 1
    assert all(len(p.html) <= MESSAGE_LIMIT for p in parts)
    assert all(p.html.count("<pre>") == p.html.count("</pre>") for p in parts)  # each part parses
    assert [p.keyboard is not None for p in parts] == [False] * (len(parts) - 1) + [True]
    together = "\n".join(shown(p.html) for p in parts)
    assert all(f"Deal number {n} <&>" in together for n in range(600))  # nothing lost at a split


def test_a_line_longer_than_a_message_is_cut_but_kept_whole() -> None:
    text = "note: " + "word & " * 1500
    parts = chunks(Reply(text), ButtonValues())
    assert all(len(p.html) <= MESSAGE_LIMIT for p in parts)
    assert "".join(shown(p.html) for p in parts) == text


def test_short_buttons_share_a_row_and_long_ones_take_one_each() -> None:
    values = ButtonValues()
    [yes_no] = chunks(
        Reply("Create it?", buttons=[Button("Yes", "yes", "confirm"), Button("No", "no")]), values
    )
    assert yes_no.keyboard is not None and len(yes_no.keyboard.inline_keyboard) == 1
    choices = [Button(f"Globex Custom Dashboard Services {n}", str(n)) for n in range(1, 4)]
    [chosen] = chunks(Reply("Which deal?", buttons=choices), values)
    assert chosen.keyboard is not None and len(chosen.keyboard.inline_keyboard) == 3


def test_a_value_too_long_for_callback_data_still_comes_back_whole() -> None:
    values = ButtonValues()
    value = "create the account Vandelay Industries International Import Export Limited"
    data = values.data(value)
    assert len(data.encode()) <= CALLBACK_LIMIT and values.value(data) == value
    assert values.data("yes") == "yes" and values.value("yes") == "yes"
    assert values.value(CHOSEN) is None and values.value("#forgotten") is None


def test_a_pressed_keyboard_shows_what_was_chosen() -> None:
    values = ButtonValues()
    [chunk] = chunks(Reply("Create it?", buttons=[Button("Yes", "yes"), Button("No", "no")]), values)
    assert pressed_label(chunk.keyboard, "no") == "No"
    [[only]] = chosen_keyboard("No").inline_keyboard
    assert only.text == "✓ No" and only.callback_data == CHOSEN


def test_settings_come_from_the_environment() -> None:
    settings = TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.api_url == API_URL and settings.file_url == "https://api.telegram.org/file/bot"
    assert settings.webhook_url is None and settings.mode == "long polling"
    assert TOKEN not in repr(settings) and settings.webhook_secret not in repr(settings)
    hooked = TelegramSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "CRM_TELEGRAM_WEBHOOK_URL": "https://crm.example.com/telegram/hook",
            "CRM_TELEGRAM_PORT": "9000",
            "CRM_TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
        }
    )
    assert hooked.webhook_path == "telegram/hook" and hooked.port == 9000
    assert hooked.file_url == "http://127.0.0.1:8081/file/bot"
    assert hooked.webhook_secret == settings.webhook_secret  # every process of one bot agrees


@pytest.mark.parametrize(
    "env,says",
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "xoxb-not-telegram"}, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CRM_TELEGRAM_WEBHOOK_URL": "http://crm.example.com/t"}, "https"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CRM_TELEGRAM_PORT": "70000"}, "CRM_TELEGRAM_PORT"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "CRM_TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "WEBHOOK_SECRET"),
    ],
)
def test_bad_settings_say_what_to_set(env: dict[str, str], says: str) -> None:
    with pytest.raises(TelegramSettingsError, match=says) as raised:
        TelegramSettings.from_env(env)
    assert TOKEN not in str(raised.value)


def test_a_reply_with_nothing_to_say_sends_nothing() -> None:
    assert chunks(Reply("", intent="handed_off"), ButtonValues()) == []
    [only] = chunks(Reply("", buttons=[Button("Yes", "yes")]), ButtonValues())
    assert only.html and only.keyboard is not None
