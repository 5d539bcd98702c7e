"""Telegram as a channel `crm serve` runs (adapters/platforms.py): the bot listening, chats for the
outbox."""

from __future__ import annotations

from telegram.error import InvalidToken, TelegramError

from adapters.platforms import Idle, PlatformError
from adapters.processes import place
from adapters.telegram.bot import TelegramBot
from adapters.telegram.channel import TelegramChannel
from adapters.telegram.settings import TelegramSettings, TelegramSettingsError
from assistant.channels import Registry
from assistant.engine import Assistant
from assistant.runtime import Runtime


def start(runtime: Runtime, channels: Registry) -> TelegramBot | Idle:
    try:
        settings = TelegramSettings.from_env()
    except TelegramSettingsError as error:
        raise PlatformError(f"Telegram is not configured: {error}", status=2) from error
    here = place()
    if not settings.webhook_url and not here.first:  # the Bot API gives updates to one poller
        print(f"Telegram: polled by process 1 of {here.count}; set CRM_TELEGRAM_WEBHOOK_URL to share it.")
        return Idle()
    bot = TelegramBot(Assistant(runtime), settings)
    try:
        bot.start()
    except InvalidToken as error:
        raise PlatformError(
            "Telegram did not accept TELEGRAM_BOT_TOKEN: ask @BotFather for the token"
        ) from error
    except TelegramError as error:
        raise PlatformError(f"Telegram's Bot API refused to start the bot: {error}") from error
    except TimeoutError as error:
        raise PlatformError(f"Telegram's Bot API did not answer ({settings.api_url})") from error
    except OSError as error:
        raise PlatformError(f"cannot listen on port {settings.port}: {error.strerror}") from error
    channels.register(TelegramChannel(bot))
    print(f"Telegram: @{bot.username}, {settings.mode}.")
    return bot
