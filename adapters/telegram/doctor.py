"""`crm doctor`'s Telegram line: the settings `crm serve --telegram` reads, and one getMe with the token.

python-telegram-bot is imported inside `check`, so a machine without the Telegram extra still gets a
report. PTB puts the token in its InvalidToken message and in every URL, so nothing it says is shown
unredacted."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from adapters.telegram.redaction import hide_secrets
from adapters.telegram.settings import TelegramSettings, TelegramSettingsError
from assistant.health import Check, Status, first_line, redacted

NAME = "telegram"
TIMEOUT = 10.0  # seconds to connect, and to read getMe's answer
FIX_TOKEN = "TELEGRAM_BOT_TOKEN: the token @BotFather gives (send it /token)"


async def _get_me(settings: TelegramSettings) -> Any:
    """The bot's own user, from one getMe through the same base URL the bot uses."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    request = HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT)
    bot = Bot(settings.token, base_url=settings.api_url, request=request)
    await request.initialize()
    try:
        return await bot.get_me()
    finally:
        await request.shutdown()


def check(env: Mapping[str, str] = os.environ) -> Check:
    if not env.get("TELEGRAM_BOT_TOKEN", "").strip():
        return Check(NAME, Status.SKIP, "not configured")
    try:
        settings = TelegramSettings.from_env(env)
    except TelegramSettingsError as error:
        return Check(NAME, Status.FAIL, f"the settings cannot be used: {error}", "README: Telegram")
    secrets = [settings.token, settings.webhook_secret]
    try:
        from telegram.error import InvalidToken, TelegramError
    except ModuleNotFoundError:
        return Check(
            NAME,
            Status.FAIL,
            "Telegram is configured but python-telegram-bot is not installed",
            "pip install 'crm-assistant[telegram]'",
        )
    try:
        hide_secrets(settings.token, settings.webhook_secret)
        me = asyncio.run(_get_me(settings))
    except InvalidToken:
        return Check(NAME, Status.FAIL, "Telegram refused the bot token", FIX_TOKEN)
    except (TelegramError, OSError) as error:  # NetworkError and TimedOut are TelegramErrors
        reason = redacted(first_line(error), secrets)
        return Check(
            NAME,
            Status.FAIL,
            f"no answer from Telegram's Bot API at {settings.api_url}: {reason}",
            "check the network and proxy, or CRM_TELEGRAM_API_URL",
        )
    return Check(NAME, Status.OK, redacted(f"the bot token works (@{me.username}); {settings.mode}", secrets))
