"""The Telegram settings, from the environment only: the token never comes from a file or a flag and is
kept out of `repr`, since the Bot API takes it in every URL."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

API_URL = "https://api.telegram.org/bot"  # python-telegram-bot's base_url: the token is appended
DEFAULT_PORT = 8443
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram allows in X-Telegram-Bot-Api-Secret-Token


class TelegramSettingsError(Exception):
    """The environment does not describe a runnable Telegram bot; the message says what to set."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(repr=False)
    api_url: str = API_URL
    webhook_url: str | None = None  # None: long polling
    port: int = DEFAULT_PORT
    webhook_secret: str = field(default="", repr=False)

    @property
    def file_url(self) -> str:
        """Where files are downloaded: the Bot API's `/file/bot` beside its `/bot`."""
        base = self.api_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path.lstrip("/") if self.webhook_url else ""

    @property
    def mode(self) -> str:
        if self.webhook_url:
            return f"webhook on port {self.port} ({self.webhook_url})"
        return "long polling"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TelegramSettings:
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        problems = []
        if not token:
            problems.append("TELEGRAM_BOT_TOKEN (the token @BotFather gave, 123456:ABC...) is not set")
        elif not _TOKEN.match(token):
            problems.append(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters)"
            )
        api_url = env.get("CRM_TELEGRAM_API_URL", "").strip() or API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append(f"CRM_TELEGRAM_API_URL must be an http(s) URL, not {api_url!r}")
        webhook = env.get("CRM_TELEGRAM_WEBHOOK_URL", "").strip() or None
        if webhook is not None and not webhook.startswith("https://") and not _local(webhook):
            problems.append(f"CRM_TELEGRAM_WEBHOOK_URL must be a public https URL, not {webhook!r}")
        port_text = env.get("CRM_TELEGRAM_PORT", "").strip() or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            problems.append(f"CRM_TELEGRAM_PORT must be a port number, not {port_text!r}")
        secret = env.get("CRM_TELEGRAM_WEBHOOK_SECRET", "").strip()
        if secret and not _SECRET.match(secret):
            problems.append("CRM_TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and - (1-256)")
        if problems:
            raise TelegramSettingsError("; ".join(problems))
        return cls(
            token=token,
            api_url=api_url,
            webhook_url=webhook,
            port=int(port_text),
            webhook_secret=secret or derived_secret(token),
        )


def derived_secret(token: str) -> str:
    """The webhook's secret when none is set: the same in every process of one bot, unguessable
    without the token, and not the token itself."""
    return hashlib.sha256(b"crm-telegram-webhook:" + token.encode()).hexdigest()


def _local(url: str) -> bool:
    """An http URL on this machine (a reverse proxy's own hop, or the tests)."""
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
