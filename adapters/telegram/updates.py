"""Updates as they reach the bot, by polling or by the webhook: one python-telegram-bot cannot read is
skipped with a log line, never asked for or sent again and again.

The webhook is served here (tornado, as python-telegram-bot's own) rather than by its `Updater`, whose
handler answers 400 to an update it cannot read: Telegram retries any answer but a 2xx, so that update
would come back for ever. Here it is acknowledged and, like a polled one, passed on as an empty update
with its id, which the bot skips. A request without the webhook's secret token is refused (403).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import socket
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Bot, Update
from tornado.httpserver import HTTPServer

from adapters.telegram.settings import TelegramSettings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def readable(update: Any, bot: Bot) -> Any:
    """The update as it came when python-telegram-bot can read it, else only its id."""
    try:
        Update.de_json(update, bot)
    except Exception as error:
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise  # without an id the update cannot even be skipped: Telegram never sends one
        log.warning("skipped Telegram update %s: unreadable (%s)", update["update_id"], type(error).__name__)
        return {"update_id": update["update_id"]}
    return update


class _Delivery(tornado.web.RequestHandler):
    """One POST of Telegram's webhook: an update, queued for the bot's `Application`."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: Bot, queue: asyncio.Queue[object], secret: str) -> None:
        self.bot = bot
        self.queue = queue
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(readable(json.loads(self.request.body), self.bot), self.bot)
        except Exception as error:  # not even an id: Telegram would only send the same again
            log.warning("skipped a Telegram webhook delivery: unreadable (%s)", type(error).__name__)
            return
        await self.queue.put(update)


def _unlogged(handler: tornado.web.RequestHandler) -> None:
    """Requests are not logged one by one (nor were they by python-telegram-bot's server)."""


async def serve_webhook(
    bot: Bot,
    queue: asyncio.Queue[object],
    settings: TelegramSettings,
    listening: socket.socket,
    allowed_updates: list[str],
) -> HTTPServer:
    """Serves the webhook on `listening`, then tells Telegram its URL and secret; returns the server,
    for `stop_webhook`."""
    assert settings.webhook_url is not None
    shared = {"bot": bot, "queue": queue, "secret": settings.webhook_secret}
    routes = [(rf"/{re.escape(settings.webhook_path)}/?", _Delivery, shared)]
    server = HTTPServer(tornado.web.Application(routes, log_function=_unlogged))
    server.add_socket(listening)
    try:
        await bot.set_webhook(
            settings.webhook_url, allowed_updates=allowed_updates, secret_token=settings.webhook_secret
        )
    except BaseException:
        await stop_webhook(server)
        raise
    return server


async def stop_webhook(server: HTTPServer) -> None:
    """Takes no more deliveries; those under way were queued or are answered."""
    server.stop()
    await server.close_all_connections()
