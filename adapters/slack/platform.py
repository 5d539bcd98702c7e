"""Slack as a channel `crm serve` runs (adapters/platforms.py): the app listening, DMs for the outbox."""

from __future__ import annotations

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from adapters.platforms import PlatformError
from adapters.slack.app import InboundRecovery, SlackBot
from adapters.slack.channel import SupportRoom
from adapters.slack.server import HttpServer, SocketMode
from adapters.slack.server import start as listen
from adapters.slack.settings import SlackSettings, SlackSettingsError
from assistant.channels import Registry
from assistant.engine import Assistant
from assistant.runtime import Runtime


def start(runtime: Runtime, channels: Registry) -> HttpServer | SocketMode:
    try:
        settings = SlackSettings.from_env()
    except SlackSettingsError as error:
        raise PlatformError(f"Slack is not configured: {error}", status=2) from error
    try:
        bot = SlackBot(Assistant(runtime), settings)
        server = listen(bot, settings)
    except BoltError as error:  # auth.test refused the bot token, or Slack is unreachable
        raise PlatformError(f"Slack did not accept the bot token: {error}") from error
    except SlackApiError as error:
        raise PlatformError(f"Slack refused the app token: {error.response.get('error')}") from error
    except OSError as error:
        raise PlatformError(f"cannot listen on port {settings.port}: {error.strerror}") from error
    channels.register(bot.channel)
    channels.register(InboundRecovery(bot))  # messages whose process died before their reply was out
    if settings.support_channel:
        channels.register(SupportRoom(bot.channel, settings.support_channel))
    support = f"; new tickets go to {settings.support_channel}" if settings.support_channel else ""
    print(f"Slack: {settings.mode}{support}.")
    return server
