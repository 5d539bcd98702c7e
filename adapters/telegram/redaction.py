"""The bot token and the webhook secret kept out of log lines: the Bot API puts the token in every URL,
httpx logs each request's URL (at INFO), and python-telegram-bot logs each call's parameters (at DEBUG),
setWebhook's secret among them. Free of python-telegram-bot imports, so `crm doctor` can use it on a
machine without the Telegram extra."""

from __future__ import annotations

import logging

# a logger's filter sees only the records logged on it, not on its children: each that logs URLs or secrets
LOGGERS_WITH_URLS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
)


class _Hidden(logging.Filter):
    """The Bot API puts the token in every URL, and httpx logs each request's URL (at INFO); the bot
    logs each call's parameters (at DEBUG), setWebhook's secret among them: both are taken out of those
    lines before any handler sees them."""

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        self.secrets = secrets  # value -> what is written instead

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(secret in text for secret in self.secrets):
            for secret, shown in self.secrets.items():
                text = text.replace(secret, shown)
            record.msg, record.args = text, None
        return True


def hide_secrets(token: str, webhook_secret: str) -> None:
    """Keeps the bot token and the webhook secret out of the log lines of the bot and its HTTP client."""
    secrets = {v: shown for v, shown in ((token, "<bot token>"), (webhook_secret, "<webhook secret>")) if v}
    for name in LOGGERS_WITH_URLS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Hidden) and f.secrets == secrets for f in logger.filters):
            logger.addFilter(_Hidden(secrets))
